package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/internal/bench"
	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/report"
	"github.com/kspbench/kspbench/internal/requests"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/internal/version"
	"github.com/kspbench/kspbench/internal/worker"
	"github.com/kspbench/kspbench/internal/workerbin"
	"github.com/kspbench/kspbench/plugindir"
	"golang.org/x/perf/benchfmt"
)

// Options are what `kspbench run` is asked to do. Defaults and Quick fill
// in the values the CLI documents.
type Options struct {
	// Engines to measure: engine configurations as --engines names them,
	// "wazero" (the engine's safe default) or "wazero:no-deadline".
	Engines []string
	// SafetyOnly lists configurations of Engines measured only on the
	// figures the price-of-safety comparison needs (results.PriceOfSafety),
	// and on the conformance cases that end a running call: the default run
	// adds each engine's no-deadline configuration so.
	SafetyOnly []string
	// BindingOnly lists configurations of Engines measured only on the
	// figures the binding-cost comparison needs (results.BindingCost: Call
	// figures, and HTTP with the constant guest beside native), and on the conformance cases that end a running call: the
	// default run adds each engine's direct configuration so.
	BindingOnly []string
	// Bench selects figures level by level, as go test -bench does.
	Bench *Filter
	// Count is the number of samples of every figure, per engine.
	Count int
	// Quick is the smoke run: fewer samples, short timings, no conformance
	// suite and no HTTP or Sightglass workload unless Bench names it.
	Quick bool
	// PluginDir is the plugin to measure; empty builds cluster-monitor
	// from the source tree.
	PluginDir string
	// Requests is the requests file of the plugin's routes (package
	// requests); empty means requests.yml beside plugin.yml, when there is
	// one, else a request per route and method with an empty body.
	Requests string
	// AllowDifferences keeps a run whose configurations answer a request
	// differently from failing (ErrAnswersDiffer); the differences are in
	// answers.md all the same.
	AllowDifferences bool
	// ABI is the ABI profile the plugin is loaded under: "" or "auto"
	// detects it (plugindir.ReadWith), else a name of abi.Profiles.
	ABI string
	// Out is the run folder; empty means reports/<UTC timestamp>.
	Out string
	// Seed is the seed of the shuffled engine order.
	Seed int64
	// BenchTime is the time per sample of each timed figure.
	BenchTime time.Duration
	// Instances is the number of instances alive at once in Footprint.
	Instances int
	// Conformance runs the suite on every engine for the report's matrix.
	Conformance bool
	// Workers is a folder of prebuilt worker binaries; empty builds them.
	Workers string
	// Command is the command line recorded in run.json.
	Command string
	// Replace lets Out be a folder that already holds results: its result
	// files are removed first, so no stale result mixes with fresh ones.
	Replace bool
	// Sightglass is a folder of programs in Sightglass's layout (one
	// benchmark folder or a folder of them) for the Sightglass workload;
	// empty means the built-in kernels.
	Sightglass string

	sightglass *sightglassSet     // the Sightglass workload's programs, once found
	requests   []requests.Request // the plugin's requests, once read (pluginRequests)
}

// Defaults returns the options of a default run: every engine that links
// here in its safe default configuration, and beside each the no-deadline
// configuration where it changes anything, on the price-of-safety figures
// only, and the direct configuration of each engine that has one, on the
// binding-cost figures only.
func Defaults() Options {
	f, _ := NewFilter(".")
	engs := catalog.On(runtime.GOOS, runtime.GOARCH)
	var pairs, direct []string
	for _, c := range catalog.SafetyPairs(engs) {
		pairs = append(pairs, c.ID())
	}
	for _, c := range catalog.BindingPairs(engs) {
		if ok, _ := c.RunsOn(runtime.GOOS, runtime.GOARCH); ok {
			direct = append(direct, c.ID())
		}
	}
	engines := append(append(engs, pairs...), direct...)
	return Options{Engines: engines, SafetyOnly: pairs, BindingOnly: direct, Bench: f, Count: 10, Seed: 1,
		BenchTime: DefaultBenchTime, Instances: 10, Conformance: true}
}

// DefaultBenchTime is how long each timed figure runs per sample in a
// default run: ten samples of 50 ms give each call figure millions of calls
// and each 1 MiB copy hundreds, and keep the default run within its
// 10-minute budget on 2 cores (RATIONALE.md, "The default run's budget").
const DefaultBenchTime = 50 * time.Millisecond

// QuickCount is the samples of a quick run. Six (benchstat's minimum for an
// interval of the median) does not fit the minute a smoke run may take: on 2
// cores the six cold starts per engine (two uncached compiles each) alone cost
// more, so a quick run takes 3 and its summary shows each figure's min–max
// instead of an interval. Quick runs compare when pooled (two rounds per side
// in CI give 6, more than the 4 per side the U test needs) or with --count 6.
const QuickCount = 3

// QuickDefaults are the values --quick gives the options the user did not
// set: QuickCount samples, 20ms per timed figure, 3 instances, no conformance
// suite, and the engines' safe defaults only (the no-deadline and direct
// configurations of a default run are left out: each compiles the plugin
// again, which a one-minute smoke run on 2 cores cannot afford; name them in
// --engines to measure them).
func (o *Options) QuickDefaults(set func(flag string) bool) {
	o.Quick = true
	if !set("engines") {
		o.Engines = slices.DeleteFunc(o.Engines, func(e string) bool {
			return slices.Contains(o.SafetyOnly, e) || slices.Contains(o.BindingOnly, e)
		})
		o.SafetyOnly, o.BindingOnly = nil, nil
	}
	if !set("count") {
		o.Count = QuickCount
	}
	if !set("benchtime") {
		o.BenchTime = 20 * time.Millisecond
	}
	if !set("instances") {
		o.Instances = 3
	}
	if !set("conformance") {
		o.Conformance = false
	}
}

// Validate checks the options before anything is built or started.
func (o *Options) Validate() error {
	if o.Count < 1 {
		return errors.New("--count must be at least 1")
	}
	if len(o.Engines) == 0 {
		return errors.New("--engines names no engine")
	}
	ids := map[string]string{}
	for _, e := range o.Engines {
		c, err := catalog.ParseConfiguration(e)
		if err != nil {
			return fmt.Errorf("--engines: %w", err)
		}
		if prev, dup := ids[c.ID()]; dup {
			return fmt.Errorf("--engines: %s and %s name the same configuration, %s", prev, e, c.ID())
		}
		ids[c.ID()] = e
		if ok, why := c.RunsOn(runtime.GOOS, runtime.GOARCH); !ok {
			return fmt.Errorf("--engines: %s does not run on %s/%s: %s", e, runtime.GOOS, runtime.GOARCH, why)
		}
	}
	if o.Bench == nil {
		o.Bench, _ = NewFilter(".")
	}
	if len(o.workloads()) == 0 {
		return fmt.Errorf("--bench %q matches no workload (workloads: %s)", o.Bench, strings.Join(WorkloadNames(), ", "))
	}
	if _, err := profileOf(o.ABI); err != nil {
		return err
	}
	if o.Out != "" && !o.Replace {
		if old := resultFiles(o.Out); len(old) > 0 {
			return fmt.Errorf("--out %s already holds results (%s): pass --replace to remove them first, or choose another folder",
				o.Out, strings.Join(old, ", "))
		}
	}
	if o.Sightglass != "" {
		if st, err := os.Stat(o.Sightglass); err != nil {
			return fmt.Errorf("--sightglass: %w", err)
		} else if !st.IsDir() {
			return fmt.Errorf("--sightglass %s: not a folder", o.Sightglass)
		}
	}
	if o.PluginDir != "" {
		if st, err := os.Stat(o.PluginDir); err != nil {
			return fmt.Errorf("--plugin: %w", err)
		} else if !st.IsDir() {
			return fmt.Errorf("--plugin %s: not a folder (want a folder with plugin.yml and its wasm)", o.PluginDir)
		}
	}
	if o.Requests != "" && !fileExists(o.Requests) {
		return fmt.Errorf("--requests %s: not a file", o.Requests)
	}
	return nil
}

// Env is what a run needs from its surroundings. Zero fields get the real
// thing.
type Env struct {
	// Stdout gets the headline table at the end; Progress the steps.
	Stdout   io.Writer
	Progress *Progress
	// Launch starts the worker of an engine configuration ("wazero",
	// "wazero:no-deadline"); nil builds or finds the engine's binary
	// (workerbin) and starts it as a process.
	Launch func(ctx context.Context, engine string) (Worker, error)
	// Benchstat runs benchstat with args; nil runs the real one.
	Benchstat func(ctx context.Context, args ...string) ([]byte, error)
}

// engineRun is one engine configuration's worker and what it measured.
type engineRun struct {
	name        string // the configuration's ID: "wazero", "wazero:no-deadline"
	conf        catalog.Configuration
	safetyOnly  bool // only the price-of-safety figures (Options.SafetyOnly)
	bindingOnly bool // only the binding-cost figures (Options.BindingOnly)
	w           Worker
	tmp         string
	results     []results.Sample
	// pluginNotes say how the measured plugin runs (its ABI profile,
	// instances recycled); they join the engine's notes in the report.
	pluginNotes string
	// spent is the wall-clock time per phase (run.json's seconds).
	spent map[string]time.Duration
	// failed are the figures that failed while timed (run.json's failed).
	failed []results.Failure
}

// spend adds the time since began to the configuration's phase.
func (r *engineRun) spend(phase string, began time.Time) {
	if r.spent == nil {
		r.spent = map[string]time.Duration{}
	}
	r.spent[phase] += time.Since(began)
}

// seconds returns spent in seconds, rounded to milliseconds.
func (r *engineRun) seconds() map[string]float64 {
	if len(r.spent) == 0 {
		return nil
	}
	m := make(map[string]float64, len(r.spent))
	for k, d := range r.spent {
		m[k] = d.Round(time.Millisecond).Seconds()
	}
	return m
}

// notes returns the engine's notes from its worker's hello, followed by the
// plugin's.
func (r *engineRun) notes(h worker.Hello) string {
	return strings.Join(slices.DeleteFunc([]string{h.Notes, r.pluginNotes}, func(s string) bool { return s == "" }), "; ")
}

// profileOf reads Options.ABI: nil for auto.
func profileOf(name string) (*abi.Profile, error) {
	if name == "" || name == "auto" {
		return nil, nil
	}
	p, err := abi.ProfileByName(name)
	if err != nil {
		return nil, fmt.Errorf("--abi: %w (or auto)", err)
	}
	return p, nil
}

// pluginNotes reads the plugin folder as the workers will and says which ABI
// profile it runs under, and what that profile changes.
func pluginNotes(dir, abiName string) (string, error) {
	forced, err := profileOf(abiName)
	if err != nil {
		return "", err
	}
	f, err := plugindir.ReadWith(dir, forced)
	if err != nil {
		return "", fmt.Errorf("run: --plugin %s: %w", dir, err)
	}
	p := f.Profile
	note := fmt.Sprintf("plugin %s: ABI profile %s", f.Manifest.Metadata.Name, p.Name)
	if p.MaxCallsPerInstance > 0 || p.MaxGuestBytesPerInstance > 0 {
		note += fmt.Sprintf(" (instances recycled every %d calls or %d request+response bytes: the guest's allocator never resets)",
			p.MaxCallsPerInstance, p.MaxGuestBytesPerInstance)
	}
	return note, nil
}

// ErrInterrupted is what Run returns, wrapped, when its context ended
// before the last sample: the run folder then holds what was measured.
var ErrInterrupted = errors.New("run interrupted")

// Run runs the main job: a worker per engine, the conformance suite when
// asked, a warm-up and Count samples of every selected workload with the
// engines in a seeded, shuffled order per sample, then the run folder:
// <engine>.txt, results.json, results.csv, benchstat.txt, run.json,
// conformance.{md,json}, summary.md and charts. It returns the run folder.
//
// # Errors
//
// When ctx ends (Ctrl-C) while sampling, Run stops, writes every file from
// the samples taken so far with run.json marked interrupted, and returns the
// folder with an error wrapping ErrInterrupted and the context's error.
func Run(ctx context.Context, o Options, env Env) (string, error) {
	if err := o.Validate(); err != nil {
		return "", fmt.Errorf("run: %w", err)
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Progress == nil {
		env.Progress = NewProgress(io.Discard)
	}
	prog := env.Progress
	started := time.Now().UTC()
	root, rootErr := workerbin.RepoRoot()
	if env.Benchstat == nil {
		env.Benchstat = func(ctx context.Context, args ...string) ([]byte, error) {
			return Benchstat(ctx, root, rootErr, args...)
		}
	}
	if env.Launch == nil {
		bins := map[string]string{} // one binary per engine, whatever its configurations
		env.Launch = func(ctx context.Context, name string) (Worker, error) {
			conf, err := catalog.ParseConfiguration(name)
			if err != nil {
				return nil, err
			}
			bin, ok := bins[conf.Engine]
			if !ok {
				if bin, err = workerbin.Find(ctx, o.Workers, root, rootErr, conf.Engine, prog.step); err != nil {
					return nil, err
				}
				bins[conf.Engine] = bin
			}
			return StartClient(ctx, name, bin)
		}
	}
	if o.Out == "" {
		base := "reports"
		if rootErr == nil {
			base = filepath.Join(root, "reports")
		}
		o.Out = filepath.Join(base, started.Format("20060102T150405Z"))
	}
	tmp, err := os.MkdirTemp("", "kspbench-run-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if slices.ContainsFunc(o.workloads(), func(w bench.Workload) bool { return w.Name == results.Sightglass }) {
		if o.sightglass, err = prepareSightglass(o, tmp); err != nil {
			return "", fmt.Errorf("run: %w", err)
		}
	}

	// The plugin to measure.
	if o.PluginDir == "" {
		src, err := conformance.PluginSource()
		if err != nil {
			return "", fmt.Errorf("run: no --plugin given and %w: pass --plugin DIR (a folder with plugin.yml and its wasm)", err)
		}
		out := filepath.Join(tmp, "plugins")
		if rootErr == nil {
			out = filepath.Join(root, "build", "plugins")
		}
		prog.step("building plugins/cluster-monitor (GOOS=wasip1)")
		if o.PluginDir, err = conformance.BuildClusterMonitor(ctx, src, out); err != nil {
			return "", err
		}
	}

	// The plugin's profile, for the report; the workers load the plugin
	// themselves and report any problem with it as the workload's error.
	notes, err := pluginNotes(o.PluginDir, o.ABI)
	if err != nil {
		prog.logf("%v", err)
	} else {
		prog.logf("%s", notes)
	}

	// The requests to the plugin's routes: a requests file with a mistake
	// ends the run before anything starts.
	var requestsFile string
	if notes != "" {
		if o.requests, requestsFile, err = pluginRequests(o); err != nil {
			return "", fmt.Errorf("run: %w", err)
		}
	}

	// One worker per engine configuration. A configuration measured only
	// on the price-of-safety figures is left out when --bench selects none
	// of its workloads.
	var runs []*engineRun
	for _, name := range o.Engines {
		conf, _ := catalog.ParseConfiguration(name) // Validate checked it
		safetyOnly, bindingOnly := slices.Contains(o.SafetyOnly, name), slices.Contains(o.BindingOnly, name)
		if (safetyOnly || bindingOnly) && len(o.workloadsOf(conf, safetyOnly, bindingOnly)) == 0 {
			continue
		}
		w, err := env.Launch(ctx, name)
		if err != nil {
			return "", fmt.Errorf("run: %w", err)
		}
		defer w.Close()
		r := &engineRun{name: conf.ID(), conf: conf, safetyOnly: safetyOnly, bindingOnly: bindingOnly, w: w, tmp: filepath.Join(tmp, conf.FileStem()), pluginNotes: notes}
		runs = append(runs, r)
		h := w.Hello()
		prog.logf("%s: %s %s (%s), pid %d %s", name, h.Engine, h.Version, h.Mode, h.PID, h.Notes)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return "", err
	}
	if o.Replace {
		if err := removeResults(o.Out); err != nil {
			return "", fmt.Errorf("run: --replace: %w", err)
		}
	}
	// interrupted is the cause when ctx ended mid-run: what exists is kept.
	var interrupted error
	stopped := func(err error) bool {
		// Ctrl-C reaches the workers too (one process group): a worker may
		// die of it a moment before this process's context ends.
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
		if ctx.Err() != nil {
			interrupted = fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
			prog.logf("interrupted (%v): writing the samples taken so far", err)
			return true
		}
		return false
	}

	// The conformance suite, for the matrix in the summary.
	if o.Conformance {
		m := results.Matrix{}
		for _, r := range runs {
			began := time.Now()
			er, err := runConformance(ctx, r, o, prog)
			r.spend("conformance", began)
			if err != nil {
				if stopped(err) {
					break
				}
				return "", err
			}
			m.Runs = append(m.Runs, er)
		}
		if err := writeJSON(filepath.Join(o.Out, "conformance.json"), m); err != nil {
			return "", err
		}
		var md bytes.Buffer
		m.WriteMarkdown(&md)
		if err := os.WriteFile(filepath.Join(o.Out, "conformance.md"), md.Bytes(), 0o644); err != nil {
			return "", err
		}
	}

	// The plugin's answers, compared across configurations before anything
	// is timed.
	var differs []string
	if interrupted == nil && o.requests != nil {
		as, err := collectAnswers(ctx, runs, o, o.requests, prog)
		if err != nil && !stopped(err) {
			return "", err
		}
		if as != nil {
			if err := writeAnswers(o.Out, requestsFile, as); err != nil {
				return "", err
			}
		}
		for _, ra := range as {
			for _, e := range ra.Differs {
				differs = append(differs, fmt.Sprintf("%s (%s and %s)", ra.Request.Name(), ra.Engines[0], e))
			}
			for _, e := range ra.Failing {
				prog.logf("%s fails on %s: see %s", ra.Request.Name(), e, AnswersFile)
			}
		}
		if len(differs) > 0 {
			prog.logf("answers differ: %s (see %s)", strings.Join(differs, "; "), AnswersFile)
		}
	}

	if interrupted == nil {
		if err := sample(ctx, runs, o, prog); err != nil && !stopped(err) {
			return "", err
		}
		if ctx.Err() == nil && !slices.ContainsFunc(runs, func(r *engineRun) bool { return len(r.results) > 0 || len(r.failed) > 0 }) {
			// The workload level matched (checked before the run), the
			// figure levels nothing: say so rather than write an empty
			// report and exit 0.
			return "", fmt.Errorf("--bench %q matched no figure of the workloads it selects (%s): a figure's name has one level per key, as in %s; `kspbench run --quick --bench <Workload>` writes a workload's figure names to <engine>.txt",
				o.Bench, strings.Join(namesOf(o.workloads()), ", "), results.RouteCallName("<plugin>", results.RouteOp("GET", "/status")))
		}
	}
	if interrupted != nil {
		// The reports below are written whatever happens to ctx now.
		ctx = context.WithoutCancel(ctx)
	}
	if o.sightglass != nil {
		if err := writeJSON(filepath.Join(o.Out, results.SightglassFile), o.sightglass.run); err != nil {
			return "", err
		}
	}

	// Reports.
	info := report.RunInfo{Name: filepath.Base(o.Out), Started: started, Finished: time.Now().UTC(), Count: o.Count,
		Seed: o.Seed, Quick: o.Quick, Command: o.Command, Interrupted: interrupted != nil,
		Machine: report.Machine{CPU: cpuModel(), Cores: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Go: runtime.Version()}}
	var files []string
	for _, r := range runs {
		h := r.w.Hello()
		binBytes, libBytes := fileSize(r.w.Binary()), linkedLibrarySize(h)
		if !r.partial() {
			r.results = append(r.results, results.Sample{Name: results.Name(results.Footprint, "what", "binary"), Iters: 1,
				Values: []results.Value{{Value: float64(binBytes + libBytes), Unit: "B"}}})
		}
		info.Engines = append(info.Engines, report.EngineInfo{Name: r.name, Engine: r.conf.Engine, Config: r.conf.Name,
			Version: h.Version, Mode: h.Mode, Notes: r.notes(h), BinaryBytes: binBytes, LibraryBytes: libBytes, SafetyOnly: r.safetyOnly, BindingOnly: r.bindingOnly,
			Seconds: r.seconds()})
		file := filepath.Join(o.Out, r.conf.FileStem()+".txt")
		if err := writeResults(file, r, h, o); err != nil {
			return "", err
		}
		files = append(files, file)
		info.Failed = append(info.Failed, r.failed...)
	}
	if err := writeData(o.Out, runs, o); err != nil {
		return "", err
	}
	if err := writeJSON(filepath.Join(o.Out, "run.json"), info); err != nil {
		return "", err
	}
	col := "engine"
	if slices.ContainsFunc(runs, func(r *engineRun) bool { return !r.conf.IsDefault() }) {
		col = "engine,engine-config"
	}
	if out, err := env.Benchstat(ctx, append([]string{"-col", col, "-ignore", "engine-version,engine-mode,engine-notes"}, files...)...); err != nil {
		prog.logf("benchstat.txt not written: %v", err)
	} else if err := os.WriteFile(filepath.Join(o.Out, "benchstat.txt"), out, 0o644); err != nil {
		return "", err
	}
	if err := report.Generate(o.Out); err != nil {
		return "", fmt.Errorf("run: summary: %w", err)
	}
	rep, err := report.Load(o.Out)
	if err != nil {
		return "", err
	}
	if interrupted != nil {
		fmt.Fprintf(env.Stdout, "\n%s\nInterrupted: reports of the samples taken so far in %s (run.json marks the run interrupted), after %s.\n",
			report.Headline(rep), o.Out, time.Since(started).Round(time.Second))
		return o.Out, fmt.Errorf("run: %w; samples so far in %s", interrupted, o.Out)
	}
	fmt.Fprintf(env.Stdout, "\n%s\nReports in %s (summary.md, benchstat.txt, <engine>[-<config>].txt, results.json, results.csv, charts). %s in %s.\n",
		report.Headline(rep), o.Out, plural(o.Count, "sample"), time.Since(started).Round(time.Second))
	if len(differs) > 0 {
		if !o.AllowDifferences {
			return o.Out, fmt.Errorf("run: %w: %s; see %s (--allow-differences accepts them)",
				ErrAnswersDiffer, strings.Join(differs, "; "), filepath.Join(o.Out, AnswersFile))
		}
		fmt.Fprintf(env.Stdout, "The plugin's answers differ between configurations (allowed): see %s.\n", filepath.Join(o.Out, AnswersFile))
	}
	return o.Out, nil
}

// workloadsOf returns the workloads of a configuration: those the options
// select, and of them only those its comparison needs when it is measured
// for one only: Call and HTTP (serve with the constant guest beside native)
// for the binding-cost figures, Call and Sightglass (whose execute figures)
// for the price-of-safety ones. A configuration
// named in --engines runs everything, HTTP included (kspbench serve --engine
// engine:config).
func (o *Options) workloadsOf(conf catalog.Configuration, safetyOnly, bindingOnly bool) []bench.Workload {
	ws := o.workloads()
	return slices.DeleteFunc(ws, func(w bench.Workload) bool {
		switch {
		case bindingOnly:
			return w.Name != results.Call && w.Name != results.HTTP
		case safetyOnly:
			return w.Name != results.Call && w.Name != results.Sightglass
		}
		return false
	})
}

// workloads returns the workloads the options select.
func (o *Options) workloads() []bench.Workload {
	workloads := selectedWorkloads(o.Bench)
	if o.Quick && o.Bench.pattern == "." {
		// A smoke run leaves out the end-to-end HTTP workload, which starts
		// servers per engine, and the Sightglass kernels, which compile
		// megabytes of wasm per sample; --quick --bench HTTP runs one.
		workloads = slices.DeleteFunc(workloads, func(w bench.Workload) bool { return w.Name == results.HTTP || w.Name == results.Sightglass })
	}
	return workloads
}

// sample is the sampling loop: a warm-up, then Count samples with engines
// in a shuffled order per sample.
func sample(ctx context.Context, runs []*engineRun, o Options, prog *Progress) error {
	timedLoop := func(w bench.Workload) bool { return w.Name == results.Call || w.Name == results.Copy }
	// Sightglass figures start from scratch every time (compile,
	// instantiate, execute): nothing to warm up. HTTP figures warm up each
	// server on each route before they measure it (httpTimings).
	warmedUp := func(w bench.Workload) bool {
		return w.Name != results.Sightglass && w.Name != results.HTTP && (!o.Quick || timedLoop(w))
	}
	total := 0
	for _, r := range runs {
		workloads := o.workloadsOf(r.conf, r.safetyOnly, r.bindingOnly)
		warmups := len(slices.DeleteFunc(slices.Clone(workloads), func(w bench.Workload) bool { return !warmedUp(w) }))
		total += o.Count*len(workloads) + warmups
	}
	prog.start(total)
	for sample := -1; sample < o.Count; sample++ {
		order := shuffled(len(runs), o.Seed, sample)
		for _, i := range order {
			r := runs[i]
			for _, w := range o.workloadsOf(r.conf, r.safetyOnly, r.bindingOnly) {
				if sample < 0 && !warmedUp(w) {
					continue // a smoke run warms up only the timed loops
				}
				label := fmt.Sprintf("sample %d/%d · %s · %s", sample+1, o.Count, r.name, w.Name)
				if sample < 0 {
					label = fmt.Sprintf("warm-up · %s · %s", r.name, w.Name)
				}
				prog.tick(label)
				began := time.Now()
				var samples []results.Sample
				var err error
				switch w.Name {
				case results.HTTP:
					samples, err = runHTTP(ctx, r, o, sample)
				case results.Sightglass:
					samples, err = runSightglass(ctx, r, o.sightglass, prog)
				case results.Route:
					// A route that hangs on a configuration without a call
					// deadline ends with its worker; the run goes on.
					cctx, cancel := context.WithTimeout(ctx, RouteTimeout)
					samples, err = r.w.Bench(cctx, BenchArgs{Workload: w.Name, PluginDir: o.PluginDir, ABI: o.ABI, TempDir: r.tmp,
						BenchTimeNS: int64(o.BenchTime), Bench: o.Bench.String(), Requests: o.requests})
					cancel()
					if _, died := errDied(err); died && ctx.Err() == nil {
						prog.logf("%s %s: %v: its routes are left out of this sample", r.name, w.Name, err)
						if sample >= 0 {
							r.fail(prog, results.Failure{Figure: w.Name, Error: err.Error() + ": its routes are left out of this sample"}, false)
						}
						err = nil
					}
				default:
					samples, err = r.w.Bench(ctx, BenchArgs{Workload: w.Name, PluginDir: o.PluginDir, ABI: o.ABI, TempDir: r.tmp,
						BenchTimeNS: int64(o.BenchTime), Instances: o.Instances, Bench: o.Bench.String(), SafetyOnly: r.safetyOnly, BindingOnly: r.bindingOnly})
				}
				r.spend(w.Name, began)
				// Figures that failed while timed are left out; the
				// others stand and the run goes on.
				var ff *bench.FiguresFailed
				if errors.As(err, &ff) {
					for _, f := range ff.Failures {
						if sample >= 0 { // a warm-up's failure recurs in the samples
							r.fail(prog, f, true)
						}
					}
					err = nil
				}
				if err != nil {
					return fmt.Errorf("%s %s: %w", r.name, w.Name, err)
				}
				if sample < 0 {
					continue
				}
				for _, s := range samples {
					if o.Bench.matchFigure(s.Name) && r.keeps(s.Name) {
						r.results = append(r.results, s)
					}
				}
			}
		}
	}
	prog.done()
	return nil
}

// fail records a figure that failed on the configuration, once per figure
// with the number of samples it failed in, and says so on the progress
// output the first time when log is set. run.json and the summary list the
// failures.
func (r *engineRun) fail(prog *Progress, f results.Failure, log bool) {
	f.Engine = r.name
	for i := range r.failed {
		if r.failed[i].Figure == f.Figure {
			r.failed[i].Samples = max(r.failed[i].Samples, 1) + 1
			return
		}
	}
	if log {
		prog.logf("%s failed on %s and is left out: %s", f.Figure, r.name, f.Error)
	}
	r.failed = append(r.failed, f)
}

// partial reports whether the configuration is measured on some figures
// only (Options.SafetyOnly, Options.BindingOnly).
func (r *engineRun) partial() bool { return r.safetyOnly || r.bindingOnly }

// keeps reports whether the configuration's results keep the figure called
// name: every figure, or only those of the comparison it is measured for.
func (r *engineRun) keeps(name string) bool {
	return (!r.safetyOnly || results.PriceOfSafety(name)) && (!r.bindingOnly || results.BindingCost(name))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Filter selects figures the way go test -bench selects benchmarks: the
// pattern is split at each '/' into one regexp per level of the name, and a
// name matches when each level of the pattern matches the name's level.
type Filter struct {
	pattern string
	levels  []*regexp.Regexp
}

// NewFilter compiles a --bench pattern.
func NewFilter(pattern string) (*Filter, error) {
	f := &Filter{pattern: pattern}
	for _, p := range strings.Split(pattern, "/") {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, err
		}
		f.levels = append(f.levels, re)
	}
	return f, nil
}

func (f *Filter) String() string { return f.pattern }

// matchWorkload reports whether the first level matches a workload's name.
func (f *Filter) matchWorkload(name string) bool { return f.levels[0].MatchString(name) }

// matchFigure reports whether every level of the pattern matches the
// figure's name, level by level; the name may have more levels.
func (f *Filter) matchFigure(name string) bool {
	parts := strings.Split(name, "/")
	for i, re := range f.levels {
		if i >= len(parts) {
			return false
		}
		if !re.MatchString(parts[i]) {
			return false
		}
	}
	return true
}

// selectedWorkloads returns the workloads the filter's first level matches:
// those of package bench, which run inside each engine's worker, and the
// HTTP workload, which this process drives from outside.
func selectedWorkloads(f *Filter) []bench.Workload {
	return slices.DeleteFunc(allWorkloads(), func(w bench.Workload) bool { return !f.matchWorkload(w.Name) })
}

// WorkloadNames lists every workload's name, in order.
func WorkloadNames() []string { return namesOf(allWorkloads()) }

// namesOf lists the names of ws.
func namesOf(ws []bench.Workload) []string {
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	return names
}

// allWorkloads returns the workloads of package bench, which run inside each
// engine's worker, and the HTTP workload, which this process drives from
// outside.
func allWorkloads() []bench.Workload {
	return append(bench.Workloads(), bench.Workload{Name: httpWorkload,
		Doc: "requests per second and latency percentiles through kspbench serve, beside a native Go handler"}, sightglassWorkload)
}

// shuffled returns the order of n engines for a sample: a permutation drawn
// from the seed and the sample number, so runs are repeatable.
func shuffled(n int, seed int64, sample int) []int {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(sample+1)))
	return r.Perm(n)
}

// runConformance runs the suite on one engine's worker for the report's
// matrix.
func runConformance(ctx context.Context, r *engineRun, o Options, prog *Progress) (results.EngineRun, error) {
	cases, err := r.w.Cases(ctx)
	if err != nil {
		return results.EngineRun{}, err
	}
	so := SuiteOptions{PluginDir: o.PluginDir, TempDir: filepath.Join(r.tmp, "conformance"),
		OnCase: func(c string) { prog.tick("conformance · " + r.name + " · " + c) }}
	if r.partial() {
		// What the configuration gives up is interruption: the cases that
		// end a running call are the ones that tell it apart.
		so.Filter = func(c string) bool { return slices.Contains(results.InterruptCases, c) }
		cases = slices.DeleteFunc(cases, func(c string) bool { return !so.Filter(c) })
	}
	prog.start(len(cases))
	er, err := RunSuite(ctx, r.w, so)
	prog.done()
	if err != nil {
		return er, err
	}
	failed := 0
	for _, res := range er.Results {
		if res.Outcome == results.Fail {
			failed++
		}
	}
	if failed > 0 {
		prog.logf("conformance: %s failed %d of %d cases (see conformance.md)", r.name, failed, len(er.Results))
	}
	return er, nil
}

// writeResults writes an engine's samples in the Go benchmark format, with
// the configuration that tells benchstat (and people) what ran.
func writeResults(file string, r *engineRun, h worker.Hello, o Options) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := benchfmt.NewWriter(f)
	cfg := fileConfig(r, h, o)
	for _, s := range r.results {
		res := &benchfmt.Result{Config: cfg, Name: benchfmt.Name(s.Name), Iters: s.Iters} // the writer adds "Benchmark"
		for _, v := range s.Values {
			res.Values = append(res.Values, benchfmt.Value{Value: v.Value, Unit: v.Unit})
		}
		if err := w.Write(res); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// fileConfig is the configuration of an engine's results: what ran, where.
func fileConfig(r *engineRun, h worker.Hello, o Options) []benchfmt.Config {
	cfg := []benchfmt.Config{
		{Key: "goos", Value: []byte(h.GOOS), File: true},
		{Key: "goarch", Value: []byte(h.GOARCH), File: true},
		{Key: "cpu", Value: []byte(cpuModel()), File: true},
		{Key: "engine", Value: []byte(r.conf.Engine), File: true},
		{Key: "engine-config", Value: []byte(r.conf.Name), File: true},
		{Key: "engine-version", Value: []byte(h.Version), File: true},
		{Key: "engine-mode", Value: []byte(h.Mode), File: true},
		{Key: "plugin", Value: []byte(filepath.Base(o.PluginDir)), File: true},
		{Key: "kspbench-version", Value: []byte(kspbenchVersion(h)), File: true},
	}
	if n := r.notes(h); n != "" {
		cfg = append(cfg, benchfmt.Config{Key: "engine-notes", Value: []byte(n), File: true})
	}
	return cfg
}

// Benchstat runs benchstat: the one on PATH, or the version go.mod pins
// (go tool benchstat) when run from the source tree.
func Benchstat(ctx context.Context, root string, rootErr error, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if p, err := exec.LookPath("benchstat"); err == nil {
		cmd = exec.CommandContext(ctx, p, args...)
	} else if rootErr == nil {
		cmd = exec.CommandContext(ctx, workerbin.GoTool(), append([]string{"tool", "benchstat"}, args...)...)
		cmd.Dir = root
	} else {
		return nil, errors.New("no benchstat on PATH (go install golang.org/x/perf/cmd/benchstat@latest)")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("benchstat: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if stderr.Len() > 0 {
		out = append(out, "\n"+stderr.String()...)
	}
	return out, nil
}

func writeJSON(file string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// linkedLibrarySize is the size of the engine's shared library that a worker
// loads (libwasmer.so), as the worker's hello names it in its notes.
func linkedLibrarySize(h worker.Hello) int64 {
	for _, f := range strings.Fields(h.Notes) {
		f = strings.Trim(f, "(),;")
		if strings.HasPrefix(f, "/") && strings.Contains(f, ".so") {
			return fileSize(f)
		}
	}
	return 0
}

// cpuModel returns the CPU's model name, as go test prints it.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

// kspbenchVersion is the version the worker binary reports of itself (its
// stamped commit, see package version), or this binary's.
func kspbenchVersion(h worker.Hello) string {
	if h.Kspbench != "" {
		return h.Kspbench
	}
	return version.Get().Short()
}
