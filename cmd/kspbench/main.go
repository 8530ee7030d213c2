package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/kspbench/kspbench/engines"
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
	"compare":      {"compare two runs' reports with benchstat (regression check)", runCompare},
	"worker":       {"serve one engine over JSON lines on stdin/stdout", runWorker},
	"load":         {"drive HTTP load at a URL; print requests/s and latency percentiles as JSON", runLoad},
	"native-serve": {"serve a plugin's answers from plain Go: the ceiling of the HTTP benchmark", runNativeServe},
	"inspect":      {"print a plugin's manifest summary, wasm size, exports and imports", runInspect},
	"engines":      {"list the engines linked into this binary", runEngines},
	"serve":        {"serve plugins over HTTP on one engine (the plugin host of the seed README)", runServe},
}

func kspbench(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) error {
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

func runEngines(_ context.Context, _ io.Reader, stdout, _ io.Writer, _ []string) error {
	for _, name := range engines.Drivers() {
		eng, err := engines.Open(name, engines.Config{})
		if err != nil {
			fmt.Fprintf(stdout, "%s\terror: %v\n", name, err)
			continue
		}
		i := eng.Info()
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", i.Name, i.Version, i.Mode, strings.TrimSpace(i.Notes))
		eng.Close(context.Background())
	}
	return nil
}
