package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/bench"
	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/requests"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/internal/version"
	"github.com/kspbench/kspbench/internal/worker"
	"github.com/kspbench/kspbench/serve"
)

// The operations a worker serves. Each has one argument type and one result
// type, below; Serve is the worker's side and Client the parent's.
const (
	opHello = "hello" // no args; worker.Hello
	opCases = "cases" // no args; []string, the suite's case names in order
	opRun   = "run"   // SuiteArgs; results.CaseResult
	opBench = "bench" // BenchArgs; BenchResult
	opFault = "fault" // string; only with KSPBENCH_TEST_FAULTS=1
	// opAnswer makes one request to a route of the plugin, on a fresh
	// instance and store: AnswerArgs; Answer (answers.go).
	opAnswer = "answer"
)

// AnswerArgs is the "answer" operation's argument: one request to one route
// of the plugin in PluginDir.
type AnswerArgs struct {
	PluginDir string           `json:"plugin_dir"`
	ABI       string           `json:"abi,omitempty"`
	TempDir   string           `json:"temp_dir"`
	Request   requests.Request `json:"request"`
}

// Answer is a route's answer to a request on one engine configuration.
type Answer struct {
	Status int    `json:"status,omitempty"`
	Body   []byte `json:"body,omitempty"`
	// Error is why the call failed: a trap, the call's deadline, a plugin
	// that does not load. Empty when the guest answered.
	Error string `json:"error,omitempty"`
	// HostCalls counts the host imports the handler called.
	HostCalls int `json:"host_calls"`
}

// BenchArgs is the "bench" operation's argument: one workload, run once.
type BenchArgs struct {
	Workload    string `json:"workload"`
	PluginDir   string `json:"plugin_dir"`
	ABI         string `json:"abi,omitempty"`
	TempDir     string `json:"temp_dir"`
	BenchTimeNS int64  `json:"bench_time_ns,omitempty"`
	Instances   int    `json:"instances,omitempty"`
	// Bench is the --bench pattern: the worker skips the figures it does
	// not select where the workload can. Empty selects every figure.
	Bench string `json:"bench,omitempty"`
	// SafetyOnly limits the workload to the price-of-safety figures
	// (results.PriceOfSafety).
	SafetyOnly bool `json:"safety_only,omitempty"`
	// BindingOnly limits the workload to the binding-cost figures
	// (results.BindingCost).
	BindingOnly bool `json:"binding_only,omitempty"`
	// Requests are the Route workload's requests (bench.Config.Requests).
	Requests []requests.Request `json:"requests,omitempty"`
}

// only returns the figure selection of a, for bench.Config.Only.
func (a BenchArgs) only() (func(string) bool, error) {
	var f *Filter
	if a.Bench != "" {
		var err error
		if f, err = NewFilter(a.Bench); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}
	if f == nil && !a.SafetyOnly && !a.BindingOnly {
		return nil, nil
	}
	return func(name string) bool {
		return (f == nil || f.matchFigure(name)) && (!a.SafetyOnly || results.PriceOfSafety(name)) &&
			(!a.BindingOnly || results.BindingCost(name))
	}, nil
}

// BenchResult is the "bench" operation's result: the samples of the figures
// measured and the figures that failed while timed, left out of Samples.
type BenchResult struct {
	Samples []results.Sample  `json:"samples"`
	Failed  []results.Failure `json:"failed,omitempty"`
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

// LinkedBindings lists the cgo engine bindings linked into this binary, from
// its own build information.
func LinkedBindings() []string {
	var out []string
	cgo := catalog.CgoModules()
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if name, ok := cgo[d.Path]; ok {
				out = append(out, name+" ("+d.Path+" "+d.Version+")")
			}
		}
	}
	return out
}

// Serve is the worker's side: it serves the operations for one engine
// configuration over stdin and stdout until stdin ends. id names it as
// --engines does: "wazero", or "wazero:no-deadline"; every engine the worker
// opens, for workloads and conformance cases alike, gets the configuration
// laid over what it asks for (catalog.Configuration.Apply).
func Serve(ctx context.Context, id string, stdin io.Reader, stdout io.Writer) error {
	if linked := LinkedBindings(); len(linked) > 1 {
		return fmt.Errorf("worker: this binary links %s; a process may link at most one cgo engine", strings.Join(linked, " and "))
	}
	conf, err := catalog.ParseConfiguration(id)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if ok, why := conf.RunsOn(runtime.GOOS, runtime.GOARCH); !ok {
		return fmt.Errorf("worker: %s", why)
	}
	name := conf.Engine
	open := func(cfg engines.Config) (engines.Engine, error) { return engines.Open(name, conf.Apply(cfg)) }
	probe, err := open(engines.Config{})
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	info := probe.Info()
	probe.Close(ctx)

	ops := map[string]worker.Op{
		opHello: func(context.Context, json.RawMessage) (any, error) {
			return worker.Hello{Protocol: worker.ProtocolVersion, Kspbench: version.Get().Short(),
				Engine: info.Name, Config: conf.Name, Version: info.Version, Mode: info.Mode, Notes: info.Notes,
				PID: os.Getpid(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Linked: LinkedBindings()}, nil
		},
		opCases: func(context.Context, json.RawMessage) (any, error) {
			var names []string
			for _, c := range conformance.Cases() {
				names = append(names, c.Name)
			}
			return names, nil
		},
		opRun: func(ctx context.Context, raw json.RawMessage) (any, error) {
			var a SuiteArgs
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, fmt.Errorf("run: %w", err)
			}
			c, ok := conformance.Lookup(a.Case)
			if !ok {
				return nil, fmt.Errorf("run: no conformance case %q", a.Case)
			}
			cfg := conformance.Config{Engine: name, Open: open, ClusterMonitorDir: a.ClusterMonitorDir,
				TempDir: a.TempDir, CacheDir: a.CacheDir, Deadline: time.Duration(a.DeadlineMS) * time.Millisecond}
			return conformance.RunCase(ctx, cfg, c), nil
		},
		opBench: func(ctx context.Context, raw json.RawMessage) (any, error) {
			var a BenchArgs
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
			w, ok := bench.Lookup(a.Workload)
			if !ok {
				return nil, fmt.Errorf("bench: no workload %q", a.Workload)
			}
			only, err := a.only()
			if err != nil {
				return nil, err
			}
			others, err := bench.GuestLanguages(a.PluginDir, a.TempDir)
			if err != nil {
				return nil, err
			}
			samples, err := w.Run(ctx, bench.Config{Open: open, PluginDir: a.PluginDir, Others: others, ABI: a.ABI, Reference: conformance.Guest("reference"),
				TempDir: a.TempDir, BenchTime: time.Duration(a.BenchTimeNS), Instances: a.Instances, Only: only, Requests: a.Requests})
			var ff *bench.FiguresFailed
			if errors.As(err, &ff) {
				return BenchResult{Samples: samples, Failed: ff.Failures}, nil
			}
			if err != nil {
				return nil, err
			}
			return BenchResult{Samples: samples}, nil
		},
	}
	ops[opSightglass] = sightglassOp(open)
	ops[opAnswer] = answerOp(open)
	maps.Copy(ops, serve.WorkerOps(open))
	if os.Getenv("KSPBENCH_TEST_FAULTS") == "1" {
		ops[opFault] = fault
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

// Worker is the parent's view of one engine's worker: the operations above,
// typed. Client is the real one; tests of the run loop use their own.
type Worker interface {
	Engine() string
	Hello() worker.Hello
	Cases(ctx context.Context) ([]string, error)
	RunCase(ctx context.Context, a SuiteArgs) (results.CaseResult, error)
	Bench(ctx context.Context, a BenchArgs) ([]results.Sample, error)
	// Restart ends the process and starts a new one.
	Restart(ctx context.Context) error
	// Binary is the executable the worker runs (for the HTTP workload's
	// servers and the footprint's binary size).
	Binary() string
	Close() error
}

// Client is a worker process, driven through its typed operations.
type Client struct {
	*worker.Process
	id  string
	bin string
}

// StartClient starts the worker binary bin for an engine configuration, named
// as --engines names it: "wazero" (its default) or "wazero:no-deadline".
func StartClient(ctx context.Context, id, bin string, env ...string) (*Client, error) {
	conf, err := catalog.ParseConfiguration(id)
	if err != nil {
		return nil, err
	}
	args := []string{"worker", "--engine", conf.Engine}
	if !conf.IsDefault() {
		args = append(args, "--config", conf.Name)
	}
	p, err := worker.Start(ctx, worker.Spec{Engine: conf.Engine, Config: conf.Name, Path: bin, Args: args, Env: env})
	if err != nil {
		return nil, err
	}
	return &Client{Process: p, id: conf.ID(), bin: bin}, nil
}

// Engine implements Worker: the configuration's ID ("wazero:no-deadline"),
// under which its results and its column of the matrix are filed.
func (c *Client) Engine() string { return c.id }

// Binary implements Worker.
func (c *Client) Binary() string { return c.bin }

// Cases implements Worker.
func (c *Client) Cases(ctx context.Context) ([]string, error) {
	var names []string
	err := c.Call(ctx, opCases, nil, &names)
	return names, err
}

// RunCase implements Worker. A worker that died or was killed fails the case
// with its signal and last output; the next call restarts it.
func (c *Client) RunCase(ctx context.Context, a SuiteArgs) (results.CaseResult, error) {
	var r results.CaseResult
	err := c.Call(ctx, opRun, a, &r)
	return r, err
}

// Bench implements Worker. Figures that failed while timed come back as a
// *bench.FiguresFailed error beside the samples of the others.
func (c *Client) Bench(ctx context.Context, a BenchArgs) ([]results.Sample, error) {
	var r BenchResult
	if err := c.Call(ctx, opBench, a, &r); err != nil {
		return nil, err
	}
	if len(r.Failed) > 0 {
		return r.Samples, &bench.FiguresFailed{Failures: r.Failed}
	}
	return r.Samples, nil
}

// Answer makes one request to a route of the plugin (opAnswer).
func (c *Client) Answer(ctx context.Context, a AnswerArgs) (Answer, error) {
	var r Answer
	err := c.Call(ctx, opAnswer, a, &r)
	return r, err
}

// Fault asks a worker started with KSPBENCH_TEST_FAULTS=1 to die as kind says
// ("abort", "exit", "hang"), for tests of crash containment.
func (c *Client) Fault(ctx context.Context, kind string) error {
	return c.Call(ctx, opFault, kind, nil)
}

var _ Worker = (*Client)(nil)

// errDied reports whether err is a worker that died.
func errDied(err error) (*worker.DiedError, bool) {
	var d *worker.DiedError
	ok := errors.As(err, &d)
	return d, ok
}
