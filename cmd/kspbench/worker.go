package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/kspbench/kspbench/bench"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/worker"
)

// cgoBindings are the Go modules of the cgo engines, which must never be
// linked together.
var cgoBindings = map[string]string{
	"github.com/bytecodealliance/wasmtime-go/v39": "wasmtime",
	"github.com/wasmerio/wasmer-go":               "wasmer",
}

// linkedBindings lists the cgo engine bindings linked into this binary, from
// its own build information.
func linkedBindings() []string {
	var out []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if name, ok := cgoBindings[d.Path]; ok {
				out = append(out, name+" ("+d.Path+" "+d.Version+")")
			}
		}
	}
	return out
}

// BenchArgs is the "bench" operation's argument: one workload, run once.
type BenchArgs struct {
	Workload    string `json:"workload"`
	PluginDir   string `json:"plugin_dir"`
	TempDir     string `json:"temp_dir"`
	BenchTimeNS int64  `json:"bench_time_ns,omitempty"`
	Instances   int    `json:"instances,omitempty"`
}

// SuiteArgs is the "run" operation's argument: one conformance case and where
// the suite finds its inputs.
type SuiteArgs struct {
	Case              string `json:"case"`
	ClusterMonitorDir string `json:"cluster_monitor_dir"`
	TempDir           string `json:"temp_dir"`
	CacheDir          string `json:"cache_dir,omitempty"`
	DeadlineMS        int    `json:"deadline_ms,omitempty"`
}

func runWorker(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("engine", "", "engine to serve: one of "+strings.Join(engines.Drivers(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("worker: --engine is required")
	}
	if linked := linkedBindings(); len(linked) > 1 {
		return fmt.Errorf("worker: this binary links %s; a process may link at most one cgo engine", strings.Join(linked, " and "))
	}
	open := func(cfg engines.Config) (engines.Engine, error) { return engines.Open(*name, cfg) }
	probe, err := open(engines.Config{})
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	info := probe.Info()
	probe.Close(ctx)

	ops := map[string]worker.Op{
		"hello": func(context.Context, json.RawMessage) (any, error) {
			return worker.Hello{Engine: info.Name, Version: info.Version, Mode: info.Mode, Notes: info.Notes,
				PID: os.Getpid(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Linked: linkedBindings()}, nil
		},
		"cases": func(context.Context, json.RawMessage) (any, error) {
			var names []string
			for _, c := range conformance.Cases() {
				names = append(names, c.Name)
			}
			return names, nil
		},
		"run": func(ctx context.Context, raw json.RawMessage) (any, error) {
			var a SuiteArgs
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, fmt.Errorf("run: %w", err)
			}
			c, ok := conformance.Lookup(a.Case)
			if !ok {
				return nil, fmt.Errorf("run: no conformance case %q", a.Case)
			}
			cfg := conformance.Config{Engine: *name, Open: open, ClusterMonitorDir: a.ClusterMonitorDir,
				TempDir: a.TempDir, CacheDir: a.CacheDir, Deadline: time.Duration(a.DeadlineMS) * time.Millisecond}
			return conformance.RunCase(ctx, cfg, c), nil
		},
	}
	ops["bench"] = func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a BenchArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		w, ok := bench.Lookup(a.Workload)
		if !ok {
			return nil, fmt.Errorf("bench: no workload %q", a.Workload)
		}
		return w.Run(ctx, bench.Config{Open: open, PluginDir: a.PluginDir, Reference: conformance.Guest("reference"),
			TempDir: a.TempDir, BenchTime: time.Duration(a.BenchTimeNS), Instances: a.Instances})
	}
	if os.Getenv("KSPBENCH_TEST_FAULTS") == "1" {
		ops["fault"] = fault
	}
	return worker.Serve(ctx, stdin, stdout, ops)
}

// fault ends the process the way a crashing engine does. It exists only for
// the tests of crash containment and is served only when
// KSPBENCH_TEST_FAULTS=1.
func fault(_ context.Context, raw json.RawMessage) (any, error) {
	var kind string
	if err := json.Unmarshal(raw, &kind); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "test fault: %s\n", kind)
	switch kind {
	case "abort":
		debug.SetTraceback("crash") // the runtime re-raises the signal, so the process dies by it
		syscall.Kill(os.Getpid(), syscall.SIGABRT)
		time.Sleep(10 * time.Second)
	case "exit":
		os.Exit(3)
	case "hang":
		select {}
	}
	return nil, fmt.Errorf("fault: unknown kind %q", kind)
}
