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
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/version"
	"github.com/kspbench/kspbench/internal/workerbin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := kspbench(ctx, os.Stdin, os.Stdout, os.Stderr, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kspbench:", err)
		os.Exit(1)
	}
}

// invocation is what a command's action gets once cobra has parsed its flags.
type invocation struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	args           []string               // positional arguments, flags removed
	raw            []string               // the command's arguments as given (serve re-executes with them; run records them)
	changed        func(name string) bool // whether a flag was given on the command line
}

// action runs a command once its flags are parsed.
type action func(ctx context.Context, inv *invocation) error

// command is one subcommand. Its flags are defined on a standard
// flag.FlagSet, which cobra parses (through pflag's AddGoFlagSet), shows in
// the command's help and completes.
type command struct {
	name    string
	args    string // what follows the name in the usage line, e.g. "[flags] OLD NEW"
	short   string
	long    string
	example string
	hidden  bool
	noArgs  bool // positional arguments are an error
	flags   func(fs *flag.FlagSet) action
}

var commands = []command{
	{name: "run", args: "[flags]", short: "benchmark every engine, each in its own process; write reports/<run>/", long: runLong, example: runExample, flags: runRun},
	{name: "report", args: "RUN-FOLDER", short: "write a run folder's summary.md and charts again from its results", long: reportLong, example: reportExample, flags: runReport},
	{name: "compare", args: "[flags] OLD NEW", short: "compare two runs with benchstat's test: a verdict, the tables, exit 1 on a regression", long: compareLong, example: compareExample, flags: runCompare},
	{name: "worker", args: "--engine NAME [--config CONFIG]", short: "serve one engine over JSON lines on stdin/stdout (for kspbench itself)", long: workerLong, example: workerExample, hidden: true, noArgs: true, flags: runWorker},
	{name: "load", args: "--url URL [flags]", short: "drive HTTP load at a URL; print requests/s and latency percentiles as JSON", long: loadLong, example: loadExample, noArgs: true, flags: runLoad},
	{name: "native-serve", args: "--plugin DIR [flags]", short: "serve a plugin's answers from plain Go: the ceiling of the HTTP benchmark", long: nativeLong, example: nativeExample, noArgs: true, flags: runNativeServe},
	{name: "inspect", args: "[flags] PLUGIN-FOLDER|FILE.wasm", short: "print a plugin's manifest summary, wasm size, exports and imports", long: inspectLong, example: inspectExample, flags: runInspect},
	{name: "engines", args: "[--names]", short: "list the engines kspbench knows and those linked into this binary", long: enginesLong, example: enginesExample, noArgs: true, flags: runEngines},
	{name: "workers", args: "[--out DIR] [--engines LIST]", short: "build the worker binary of every engine (and the libraries they load) into a folder", long: workersLong, example: workersExample, noArgs: true, flags: runWorkers},
	{name: "version", short: "print kspbench's version: the module version and, where recorded, the commit", long: versionLong, example: versionExample, noArgs: true, flags: runVersion},
	{name: "attack", args: "--url URL [flags]", short: "check a live serve on loopback survives slow bodies, idle connections and keeps acknowledged writes", long: attackLong, example: attackExample, noArgs: true, flags: runAttack},
	{name: "compact", args: "--data FILE", short: "give back the space deleted data left in serve's storage file (which serve does at start when half of it is free)", long: compactLong, example: compactExample, noArgs: true, flags: runCompact},
	{name: "serve", args: "[flags]", short: "serve plugins over HTTP on one engine (the plugin host of the seed README)", long: serveLong, example: serveExample, flags: runServe},
}

// kspbench runs the command line args (without the program's name): the
// testable main.
func kspbench(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) error {
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	root := newRoot(stdin, stdout, stderr, args)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// newRoot makes the cobra command tree; args are the command line, from
// which each command takes its raw arguments.
func newRoot(stdin io.Reader, stdout, stderr io.Writer, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "kspbench",
		Short: "measure and compare WebAssembly engines that host kspbench plugins",
		Long: `kspbench measures and compares WebAssembly engines that host kspbench plugins
(wazero, wasmtime-go, wasmer-go): kspbench run benchmarks every engine, each in
a worker process of its own, and writes benchstat-compatible reports; compare
gates a run against another; serve hosts plugins over HTTP on one engine.`,
		Example: `  kspbench run --quick
  kspbench help run
  kspbench completion bash > /etc/bash_completion.d/kspbench`,
		Version: versionLine(),
		// An error prints one line (main adds "kspbench: "), not the usage.
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(stderr, cmd.UsageString())
			return errors.New("no command")
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return flagError(cmd, err, args)
	})
	for _, c := range commands {
		root.AddCommand(c.cobraCommand(stdin, stdout, stderr, args))
	}
	return root
}

// cobraCommand makes c's cobra command.
func (c command) cobraCommand(stdin io.Reader, stdout, stderr io.Writer, cmdline []string) *cobra.Command {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	act := c.flags(fs)
	cmd := &cobra.Command{
		Use:     strings.TrimSpace(c.name + " " + c.args),
		Short:   c.short,
		Long:    c.long,
		Example: c.example,
		Hidden:  c.hidden,
		RunE: func(cmd *cobra.Command, args []string) error {
			return act(cmd.Context(), &invocation{
				stdin: stdin, stdout: stdout, stderr: stderr,
				args: args, raw: rawArgs(cmdline, c.name), changed: cmd.Flags().Changed,
			})
		},
	}
	if c.noArgs {
		cmd.Args = func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%s: unexpected argument %q", c.name, args[0])
			}
			return nil
		}
	}
	cmd.Flags().AddGoFlagSet(fs)
	// A flag whose usage says its default in words ("(default: call
	// timeout + ...)") has a zero default that pflag would print too, as
	// "(default 0s)" for a Go duration flag: it cannot tell a wrapped
	// flag's zero from a value.
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if strings.Contains(f.Usage, "(default:") {
			f.DefValue = ""
		}
	})
	return cmd
}

// rawArgs returns the arguments that follow the command's name on the
// command line.
func rawArgs(cmdline []string, name string) []string {
	if i := slices.Index(cmdline, name); i >= 0 {
		return cmdline[i+1:]
	}
	return nil
}

// flagError names the command in a flag error and, for a long flag given
// with one dash (-engines, as the standard flag package accepted), says to
// use two.
func flagError(cmd *cobra.Command, err error, cmdline []string) error {
	for _, a := range cmdline {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(name) > 1 && cmd.Flags().Lookup(name) != nil {
			return fmt.Errorf("%s: %w (long flags take two dashes: -%s)", cmd.Name(), err, a)
		}
	}
	return fmt.Errorf("%s: %w (kspbench help %s lists the flags)", cmd.Name(), err, cmd.Name())
}

// execute parses args as the CLI parses c's and runs its action: the tests
// of a command's flags use it.
func execute(ctx context.Context, c command, args []string, stderr io.Writer) error {
	cmd := c.cobraCommand(nil, io.Discard, stderr, append([]string{c.name}, args...))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetOut(io.Discard)
	cmd.SetErr(stderr)
	cmd.SetArgs(append([]string{}, args...)) // never nil: cobra reads os.Args when given nil
	return cmd.ExecuteContext(ctx)
}

const enginesLong = `Lists every engine kspbench knows (the engine catalog): its build tag, whether it
needs cgo, whether it links on this platform, for the engines linked into this
binary the version and mode the binding reports, and every configuration of it
that kspbench run --engines accepts (engine or engine:config): what it changes
and what it costs in safety.`

const enginesExample = `  kspbench engines
  kspbench engines --names      # wazero wasmtime wasmer`

func runEngines(fs *flag.FlagSet) action {
	names := fs.Bool("names", false, "print only the names of the engines that link on this platform, one line, space-separated (for scripts and the Makefile)")
	return func(_ context.Context, inv *invocation) error {
		stdout := inv.stdout
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
}

const versionLong = `Prints kspbench's version: the module version and, where the build recorded it,
the commit; then the Go toolchain and the platform. kspbench --version prints
the same line.`

const versionExample = `  kspbench version
  kspbench --version`

// versionLine is what kspbench version and kspbench --version print.
func versionLine() string {
	in := version.Get()
	return fmt.Sprintf("kspbench %s (%s, %s/%s)", in, in.Go, runtime.GOOS, runtime.GOARCH)
}

func runVersion(*flag.FlagSet) action {
	return func(_ context.Context, inv *invocation) error {
		fmt.Fprintln(inv.stdout, versionLine())
		return nil
	}
}

const workersLong = `Builds, from this source tree, the kspbench binary that links each engine
(kspbench-<engine>), stamped with the tree's commit, and copies the shared
library an engine loads (libwasmer) beside it. kspbench run --workers DIR and
kspbench serve --workers DIR use them.`

const workersExample = `  kspbench workers --out build/bin
  kspbench workers --engines wazero,wasmtime`

func runWorkers(fs *flag.FlagSet) action {
	out := fs.String("out", filepath.Join("build", "bin"), "folder for kspbench-<engine> and the libraries they load")
	engs := fs.String("engines", strings.Join(catalog.On(runtime.GOOS, runtime.GOARCH), ","), "engines to build")
	return func(ctx context.Context, inv *invocation) error {
		root, err := workerbin.RepoRoot()
		if err != nil {
			return fmt.Errorf("workers: %w", err)
		}
		for _, name := range strings.Split(*engs, ",") {
			bin, err := workerbin.Build(ctx, workerbin.GoTool(), root, strings.TrimSpace(name), *out)
			if err != nil {
				return err
			}
			fmt.Fprintln(inv.stdout, bin)
		}
		return nil
	}
}
