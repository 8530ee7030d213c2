package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kspbench/kspbench/internal/runner"
)

// runFlags are the flags of `kspbench run` as given; options turns them into
// runner options.
type runFlags struct {
	o             runner.Options
	engs, benchRE *string
	quick         *bool
}

// defineRunFlags defines the flags of `kspbench run` on fs.
func defineRunFlags(fs *flag.FlagSet) *runFlags {
	f := &runFlags{o: runner.Defaults()}
	o := &f.o
	engs := fs.String("engines", strings.Join(o.Engines, ","), "comma-separated engine configurations to measure, engine[:config] (kspbench engines lists them); "+
		"the default measures each engine's safe default on everything, its no-deadline configuration on the price-of-safety figures only "+
		"and its direct configuration (wasmtime:direct) on the binding-cost figures only (Call, and HTTP with the constant guest beside native)")
	benchRE := fs.String("bench", ".", "regexp per name level, as go test -bench: 'Call' runs a workload, 'Copy/size=64KiB' some of its figures; workloads: "+strings.Join(runner.WorkloadNames(), ", "))
	fs.IntVar(&o.Count, "count", o.Count, "samples of every figure, per engine")
	quick := fs.Bool("quick", false, "smoke run: 3 samples (min–max, not intervals: add --count 6 for those), 20ms timings, the engines' safe defaults only unless --engines names others, no conformance suite and no HTTP or Sightglass workload unless --bench names it")
	fs.StringVar(&o.PluginDir, "plugin", "", "plugin folder (plugin.yml and its wasm) to measure; default: plugins/cluster-monitor built from source")
	fs.StringVar(&o.ABI, "abi", "auto", abiFlagUsage)
	fs.StringVar(&o.Requests, "requests", "", "requests file for the plugin's routes (method, body, headers, expected status, volatile fields; see README); default: requests.yml beside plugin.yml, else each route and method with an empty body")
	fs.BoolVar(&o.AllowDifferences, "allow-differences", false, "do not fail the run when engine configurations answer a route differently (the differences are in answers.md all the same)")
	fs.StringVar(&o.Out, "out", "", "folder for the reports; default reports/<UTC timestamp>; refused when it holds results, unless --replace")
	fs.BoolVar(&o.Replace, "replace", false, "let --out name a folder that holds results: remove them first")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed of the shuffled engine order")
	fs.DurationVar(&o.BenchTime, "benchtime", o.BenchTime, "time per sample of each timed figure")
	fs.IntVar(&o.Instances, "instances", o.Instances, "instances alive at once in the footprint workload")
	fs.BoolVar(&o.Conformance, "conformance", o.Conformance, "run the conformance suite on every engine and put the matrix in the report")
	fs.StringVar(&o.Sightglass, "sightglass", "", "folder of WASI programs in Sightglass's layout (a benchmark folder or a folder of them) for the Sightglass workload; default: the built-in kernels")
	fs.StringVar(&o.Workers, "workers", "", "folder of prebuilt worker binaries (kspbench-<engine>); default: built from source")
	f.engs, f.benchRE, f.quick = engs, benchRE, quick
	return f
}

const runLong = `Measures cold start, per-call overhead, memory copy, footprint, throughput,
HTTP end to end and compute (WASI programs in Sightglass's layout) on each
engine, each engine in a worker process of its own, and writes
benchstat-compatible reports. The flags are checked before anything is built
or started: a missing --plugin folder or a --bench that matches no workload
fails at once, with no report folder; a --bench whose deeper levels match no
figure fails when sampling ends, before any report is written.`

const runExample = `  kspbench run                                   # the default run, about 9 minutes on 2 cores
  kspbench run --quick                           # a smoke run: 3 samples, short timings
  kspbench run --quick --count 6                 # a quick run that benchstat's intervals and test can use
  kspbench run --plugin ./my-plugin --engines wazero,wasmtime
  kspbench run --engines wazero,wazero:no-deadline,wasmtime:no-deadline --bench Call
  kspbench run --bench 'Call/op=noop' --count 20 --out reports/noop
  kspbench run --sightglass ../sightglass/benchmarks --bench 'Sightglass/program=(bz2|regex)$'`

// options turns the parsed flags of `kspbench run` into runner options,
// validated before anything is built or started.
func (f *runFlags) options(inv *invocation) (runner.Options, error) {
	o, engs, benchRE, quick := f.o, f.engs, f.benchRE, f.quick
	if len(inv.args) > 0 {
		return o, fmt.Errorf("run: unexpected argument %q", inv.args[0])
	}
	re, err := runner.NewFilter(*benchRE)
	if err != nil {
		return o, fmt.Errorf("run: --bench: %w", err)
	}
	o.Bench = re
	o.Engines = nil
	for _, e := range strings.Split(*engs, ",") {
		if e = strings.TrimSpace(e); e != "" && !slices.Contains(o.Engines, e) {
			o.Engines = append(o.Engines, e)
		}
	}
	if inv.changed("engines") {
		// Configurations named explicitly are measured on everything.
		o.SafetyOnly, o.BindingOnly = nil, nil
	}
	if *quick {
		o.QuickDefaults(inv.changed)
	}
	o.Command = "kspbench " + strings.Join(append([]string{"run"}, inv.raw...), " ")
	if err := o.Validate(); err != nil {
		return o, fmt.Errorf("run: %w", err)
	}
	return o, nil
}

// parseRunFlags parses the arguments of `kspbench run` (those after "run")
// as the CLI does, into validated runner options.
func parseRunFlags(args []string, stderr io.Writer) (runner.Options, error) {
	var o runner.Options
	err := execute(context.Background(), command{name: "run", flags: func(fs *flag.FlagSet) action {
		f := defineRunFlags(fs)
		return func(_ context.Context, inv *invocation) (err error) {
			o, err = f.options(inv)
			return err
		}
	}}, args, stderr)
	return o, err
}

func runRun(fs *flag.FlagSet) action {
	f := defineRunFlags(fs)
	return func(ctx context.Context, inv *invocation) error {
		o, err := f.options(inv)
		if err != nil {
			return err
		}
		_, err = runner.Run(ctx, o, runner.Env{Stdout: inv.stdout, Progress: runner.NewProgress(inv.stderr)})
		return err
	}
}
