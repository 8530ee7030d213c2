package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/version"
	"github.com/kspbench/kspbench/internal/workerbin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := kspbench(ctx, os.Stdin, os.Stdout, os.Stderr, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: usage printed, not a failure
		}
		fmt.Fprintln(os.Stderr, "kspbench:", err)
		os.Exit(1)
	}
}

type command struct {
	summary string
	run     func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) error
}

var commands = map[string]command{
	"run":          {"benchmark every engine, each in its own process; write reports/<run>/", runRun},
	"report":       {"write a run folder's summary.md and charts again from its results", runReport},
	"compare":      {"compare two runs with benchstat's test: a verdict, the tables, exit 1 on a regression", runCompare},
	"worker":       {"serve one engine over JSON lines on stdin/stdout", runWorker},
	"load":         {"drive HTTP load at a URL; print requests/s and latency percentiles as JSON", runLoad},
	"native-serve": {"serve a plugin's answers from plain Go: the ceiling of the HTTP benchmark", runNativeServe},
	"inspect":      {"print a plugin's manifest summary, wasm size, exports and imports", runInspect},
	"engines":      {"list the engines kspbench knows and those linked into this binary", runEngines},
	"workers":      {"build the worker binary of every engine (and the libraries they load) into a folder", runWorkers},
	"version":      {"print kspbench's version: the module version and, where recorded, the commit", runVersion},
	"serve":        {"serve plugins over HTTP on one engine (the plugin host of the seed README)", runServe},
}

func kspbench(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) error {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		return runVersion(ctx, stdin, stdout, stderr, nil)
	}
	if len(args) >= 2 && args[0] == "help" {
		// kspbench help run: that command's own help.
		return kspbench(ctx, stdin, stdout, stderr, []string{args[1], "--help"})
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errors.New("no command")
		}
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, stdin, stdout, stderr, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: kspbench <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
}

func runEngines(_ context.Context, _ io.Reader, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("engines", flag.ContinueOnError)
	fs.SetOutput(stderr)
	names := fs.Bool("names", false, "print only the names of the engines that link on this platform, one line, space-separated (for scripts and the Makefile)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: kspbench engines [--names]

Lists every engine kspbench knows (the engine catalog): its build tag, whether it
needs cgo, whether it links on this platform, for the engines linked into this
binary the version and mode the binding reports, and every configuration of it
that kspbench run --engines accepts (engine or engine:config): what it changes
and what it costs in safety.

examples:
  kspbench engines
  kspbench engines --names      # wazero wasmtime wasmer

flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *names {
		fmt.Fprintln(stdout, strings.Join(catalog.On(runtime.GOOS, runtime.GOARCH), " "))
		return nil
	}
	linked := engines.Drivers()
	for _, e := range catalog.Engines {
		tag := e.Tag
		if tag == "" {
			tag = "(always linked)"
		}
		status := "not linked into this binary: kspbench runs it in its own worker binary"
		if ok, why := e.Supported(runtime.GOOS, runtime.GOARCH); !ok {
			status = "not available on " + runtime.GOOS + "/" + runtime.GOARCH + ": " + why
		} else if slices.Contains(linked, e.Name) {
			if eng, err := engines.Open(e.Name, engines.Config{}); err != nil {
				status = "linked; error: " + err.Error()
			} else {
				i := eng.Info()
				status = fmt.Sprintf("linked: %s, %s; %s", i.Version, i.Mode, strings.TrimSpace(i.Notes))
				eng.Close(context.Background())
			}
		}
		fmt.Fprintf(stdout, "%-9s tag %-16s cgo %-5v %s\n          %s\n", e.Name, tag, e.Cgo, e.Doc, status)
		for _, c := range catalog.ConfigurationsOf(e.Name) {
			line := c.Doc
			if c.Safety != "" {
				line += "; safety: " + c.Safety
			}
			if ok, why := c.RunsOn(runtime.GOOS, runtime.GOARCH); !ok {
				line += " [not on " + runtime.GOOS + "/" + runtime.GOARCH + ": " + why + "]"
			}
			fmt.Fprintf(stdout, "          --engines %-22s %s\n", c.ID(), line)
		}
	}
	return nil
}

func runVersion(_ context.Context, _ io.Reader, stdout, _ io.Writer, _ []string) error {
	in := version.Get()
	fmt.Fprintf(stdout, "kspbench %s (%s, %s/%s)\n", in, in.Go, runtime.GOOS, runtime.GOARCH)
	return nil
}

func runWorkers(ctx context.Context, _ io.Reader, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("workers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", filepath.Join("build", "bin"), "folder for kspbench-<engine> and the libraries they load")
	engs := fs.String("engines", strings.Join(catalog.On(runtime.GOOS, runtime.GOARCH), ","), "engines to build")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: kspbench workers [--out DIR] [--engines LIST]

Builds, from this source tree, the kspbench binary that links each engine
(kspbench-<engine>), stamped with the tree's commit, and copies the shared
library an engine loads (libwasmer) beside it. kspbench run --workers DIR and
kspbench serve --workers DIR use them.

example:
  kspbench workers --out build/bin

flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := workerbin.RepoRoot()
	if err != nil {
		return fmt.Errorf("workers: %w", err)
	}
	for _, name := range strings.Split(*engs, ",") {
		bin, err := workerbin.Build(ctx, workerbin.GoTool(), root, strings.TrimSpace(name), *out)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, bin)
	}
	return nil
}
