package runner

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kspbench/kspbench/internal/bench"
	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/report"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/internal/worker"
)

// fakeWorker is a test double of a worker process: it answers the typed
// operations from memory, so the run loop can be tested without building
// or starting engines. The real path (Client over worker.Process) is tested
// by cmd/kspbench's TestRunEndToEnd and go test ./conformance.
type fakeWorker struct {
	name  string
	mu    *sync.Mutex
	calls *[]string // engine/workload in call order, shared by the fakes of a run
	fail  string    // a workload that fails
	// failFigure is a figure that fails while timed: the fake leaves it out
	// and names it in a *bench.FiguresFailed beside the other samples.
	failFigure string
	restarts   int
}

func (f *fakeWorker) Engine() string { return f.name }
func (f *fakeWorker) Hello() worker.Hello {
	return worker.Hello{Protocol: worker.ProtocolVersion, Engine: f.name, Version: "v0-test", Mode: "fake", GOOS: "linux", GOARCH: "amd64"}
}
func (f *fakeWorker) Cases(context.Context) ([]string, error) {
	return []string{"abi/one", "abi/deadline"}, nil
}
func (f *fakeWorker) RunCase(_ context.Context, a SuiteArgs) (results.CaseResult, error) {
	if a.Case == "abi/deadline" {
		return results.CaseResult{Case: a.Case, Outcome: results.Unsupported, Detail: "no interrupt", Recycle: true}, nil
	}
	return results.CaseResult{Case: a.Case, Outcome: results.Pass}, nil
}
func (f *fakeWorker) Bench(_ context.Context, a BenchArgs) ([]results.Sample, error) {
	f.mu.Lock()
	*f.calls = append(*f.calls, f.name+"/"+a.Workload)
	f.mu.Unlock()
	if a.Workload == f.fail {
		return nil, errors.New("planted failure")
	}
	samples := []results.Sample{
		{Name: results.CallName(results.OpNoop, results.ViaHarness), Iters: 1000, Values: []results.Value{{Value: 1e-6, Unit: "sec/op"}}},
		{Name: results.CallName(results.OpNoop, results.ViaEngine), Iters: 1000, Values: []results.Value{{Value: 9e-7, Unit: "sec/op"}}},
		{Name: results.CallName(results.OpLoop, results.ViaHarness), Iters: 10, Values: []results.Value{{Value: 3e-5, Unit: "sec/op"}}},
	}
	if f.failFigure != "" {
		samples = slices.DeleteFunc(samples, func(s results.Sample) bool { return s.Name == f.failFigure })
		return samples, &bench.FiguresFailed{Failures: []results.Failure{{Figure: f.failFigure,
			Error: "plugin[p]: abi: guest allocate failed: planted"}}}
	}
	return samples, nil
}
func (f *fakeWorker) Restart(context.Context) error { f.restarts++; return nil }
func (f *fakeWorker) Binary() string                { return os.Args[0] }
func (f *fakeWorker) Close() error                  { return nil }

func fakeRun(t *testing.T, o Options, fail string) (string, []string, map[string]*fakeWorker, error) {
	t.Helper()
	var mu sync.Mutex
	var calls []string
	fakes := map[string]*fakeWorker{}
	plugin := t.TempDir() // the fake workers never read it
	o.PluginDir = plugin
	o.Out = filepath.Join(t.TempDir(), "run")
	env := Env{
		Launch: func(_ context.Context, name string) (Worker, error) {
			f := &fakeWorker{name: name, mu: &mu, calls: &calls, fail: fail}
			// "<engine> <figure>": that figure fails on that engine only.
			if engine, figure, ok := strings.Cut(fail, " "); ok {
				f.fail = ""
				if engine == name {
					f.failFigure = figure
				}
			}
			fakes[name] = f
			return f, nil
		},
		Benchstat: func(context.Context, ...string) ([]byte, error) { return []byte("benchstat (test double)\n"), nil },
	}
	out, err := Run(context.Background(), o, env)
	return out, calls, fakes, err
}

// TestRunLoop checks the sampling loop on test-double workers: a warm-up and
// Count samples of the selected workload per engine, filtered figures, the
// engines' order shuffled per sample, the run folder written.
func TestRunLoop(t *testing.T) {
	o := Defaults()
	o.Engines = []string{"wazero", "wasmtime", "wasmer"}
	o.Count = 4
	o.Conformance = true
	var err error
	if o.Bench, err = NewFilter("Call/op=noop/via=harness"); err != nil {
		t.Fatal(err)
	}
	out, calls, fakes, err := fakeRun(t, o, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := (o.Count + 1) * 3; len(calls) != want {
		t.Errorf("%d workload calls, want %d (a warm-up and %d samples on 3 engines): %v", len(calls), want, o.Count, calls)
	}
	firsts := map[string]bool{}
	for i := 0; i < len(calls); i += 3 {
		firsts[calls[i]] = true
	}
	if len(firsts) < 2 {
		t.Errorf("the same engine went first in every sample: %v", calls)
	}
	for _, name := range o.Engines {
		b, err := os.ReadFile(filepath.Join(out, name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "BenchmarkCall/op=noop/via=harness "); n != o.Count {
			t.Errorf("%s.txt: %d samples of the selected figure, want %d:\n%s", name, n, o.Count, b)
		}
		if strings.Contains(string(b), "via=engine") {
			t.Errorf("%s.txt holds a figure --bench did not select:\n%s", name, b)
		}
		if !strings.Contains(string(b), "engine: "+name) {
			t.Errorf("%s.txt lacks its engine key:\n%s", name, b)
		}
		if fakes[name].restarts != 1 {
			t.Errorf("%s: %d restarts, want 1 after the case that asked for it", name, fakes[name].restarts)
		}
	}
	for _, f := range []string{"summary.md", "run.json", "conformance.md", "benchstat.txt"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestRunLoopSafetyOnly checks a run as the default makes it: a
// configuration in SafetyOnly runs only the Call workload, keeps only the
// price-of-safety figures and only the interruption cases, and its results
// go to <engine>-<config>.txt with its engine-config key.
func TestRunLoopSafetyOnly(t *testing.T) {
	o := Defaults()
	o.Engines = []string{"wazero", "wazero:no-deadline"}
	o.SafetyOnly = []string{"wazero:no-deadline"}
	o.Count = 2
	o.Conformance = true
	o.Bench, _ = NewFilter("Call|Copy")
	out, calls, fakes, err := fakeRun(t, o, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		if c == "wazero:no-deadline/Copy" {
			t.Fatalf("the safety-only configuration ran Copy: %v", calls)
		}
	}
	if fakes["wazero:no-deadline"] == nil {
		t.Fatal("no worker for wazero:no-deadline")
	}
	b, err := os.ReadFile(filepath.Join(out, "wazero-no-deadline.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"engine: wazero\n", "engine-config: no-deadline\n", "BenchmarkCall/op=noop/via=harness "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("wazero-no-deadline.txt lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "via=engine") {
		t.Errorf("wazero-no-deadline.txt holds a figure outside the price of safety:\n%s", b)
	}
	d, err := os.ReadFile(filepath.Join(out, "wazero.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(d), "engine-config: default\n") || !strings.Contains(string(d), "via=engine") {
		t.Errorf("wazero.txt:\n%s", d)
	}
	conf, err := os.ReadFile(filepath.Join(out, "conformance.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conf), `"engine": "wazero:no-deadline"`) {
		t.Errorf("conformance.json lacks the no-deadline column:\n%s", conf)
	}
}

// TestRunLoopBindingOnly checks that the default options add each engine's
// direct configuration on the binding-cost figures only: it runs only the
// Call and HTTP workloads (Call here), keeps only the results.BindingCost figures (the engine-API
// ones included, which the price of safety leaves out) and only the
// interruption cases.
func TestRunLoopBindingOnly(t *testing.T) {
	o := Defaults()
	want := []string{}
	for _, c := range catalog.BindingPairs(catalog.On(runtime.GOOS, runtime.GOARCH)) {
		want = append(want, c.ID())
	}
	if !slices.Equal(o.BindingOnly, want) {
		t.Fatalf("Defaults().BindingOnly = %v, want %v", o.BindingOnly, want)
	}
	for _, d := range o.BindingOnly {
		if !slices.Contains(o.Engines, d) || slices.Contains(o.SafetyOnly, d) {
			t.Errorf("Defaults(): %s in BindingOnly but Engines = %v, SafetyOnly = %v", d, o.Engines, o.SafetyOnly)
		}
	}
	// The default run's direct configuration runs Call, and HTTP for the
	// constant guest beside native (runHTTP keeps those servers only).
	direct, err := catalog.ParseConfiguration("wasmtime:direct")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range o.workloadsOf(direct, false, true) {
		names = append(names, w.Name)
	}
	if want := []string{results.Call, results.HTTP}; !slices.Equal(names, want) {
		t.Errorf("workloadsOf(wasmtime:direct, binding only) = %v, want %v", names, want)
	}
	o.Engines = []string{"wasmtime", "wasmtime:direct"}
	o.SafetyOnly = nil
	o.BindingOnly = []string{"wasmtime:direct"}
	o.Count = 2
	o.Conformance = true
	o.Bench, _ = NewFilter("Call|Copy")
	out, calls, fakes, err := fakeRun(t, o, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		if c == "wasmtime:direct/Copy" {
			t.Fatalf("the binding-only configuration ran Copy: %v", calls)
		}
	}
	if !slices.Contains(calls, "wasmtime:direct/Call") || fakes["wasmtime:direct"] == nil {
		t.Fatalf("wasmtime:direct did not run Call: %v", calls)
	}
	b, err := os.ReadFile(filepath.Join(out, "wasmtime-direct.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"engine-config: direct\n", "BenchmarkCall/op=noop/via=harness ", "BenchmarkCall/op=noop/via=engine "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("wasmtime-direct.txt lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "op=loop") || strings.Contains(string(b), "Footprint") {
		t.Errorf("wasmtime-direct.txt holds a figure outside the binding cost:\n%s", b)
	}
	d, err := os.ReadFile(filepath.Join(out, "wasmtime.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(d), "op=loop") {
		t.Errorf("wasmtime.txt lost a figure to the direct configuration's filter:\n%s", d)
	}
	var info report.RunInfo
	if j, err := os.ReadFile(filepath.Join(out, "run.json")); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(j, &info); err != nil {
		t.Fatal(err)
	}
	for _, e := range info.Engines {
		if e.BindingOnly != (e.Name == "wasmtime:direct") || e.SafetyOnly {
			t.Errorf("run.json: %s binding_only=%v safety_only=%v", e.Name, e.BindingOnly, e.SafetyOnly)
		}
		// Where the run's time went: every configuration ran Call.
		if _, ok := e.Seconds[results.Call]; !ok {
			t.Errorf("run.json: %s seconds = %v, want a %s entry", e.Name, e.Seconds, results.Call)
		}
	}
}

// TestRunLoopStopsOnAFailingWorkload checks that a failing workload ends the
// run with an error naming the engine and the workload.
func TestRunLoopStopsOnAFailingWorkload(t *testing.T) {
	o := Defaults()
	o.Engines = []string{"wazero"}
	o.Count = 2
	o.Conformance = false
	o.Bench, _ = NewFilter("Call")
	_, _, _, err := fakeRun(t, o, "Call")
	if err == nil || !strings.Contains(err.Error(), "wazero Call") || !strings.Contains(err.Error(), "planted failure") {
		t.Fatalf("got %v, want an error naming wazero, Call and the cause", err)
	}
}

// TestRunLoopGoesOnWithoutAFailedFigure checks that a figure that fails
// while timed on one engine leaves the run going: the run succeeds, the
// engine's other figures and the other engines' are kept, and run.json and
// the summary name the figure, the engine and the cause, once.
func TestRunLoopGoesOnWithoutAFailedFigure(t *testing.T) {
	o := Defaults()
	o.Engines = []string{"wazero", "wasmer"}
	o.Count = 3
	o.Conformance = false
	o.Bench, _ = NewFilter("Call")
	failed := results.CallName(results.OpLoop, results.ViaHarness)
	out, _, _, err := fakeRun(t, o, "wasmer "+failed)
	if err != nil {
		t.Fatalf("the run ended: %v", err)
	}
	for engine, want := range map[string]int{"wazero": o.Count, "wasmer": 0} {
		b, err := os.ReadFile(filepath.Join(out, engine+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "Benchmark"+failed+" "); n != want {
			t.Errorf("%s.txt: %d samples of %s, want %d", engine, n, failed, want)
		}
		if n := strings.Count(string(b), "BenchmarkCall/op=noop/via=harness "); n != o.Count {
			t.Errorf("%s.txt: %d samples of the figure that did not fail, want %d", engine, n, o.Count)
		}
	}
	var info report.RunInfo
	b, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Failed) != 1 || info.Failed[0].Figure != failed || info.Failed[0].Engine != "wasmer" || info.Failed[0].Samples != o.Count {
		t.Errorf("run.json failed = %+v, want %s on wasmer in %d samples", info.Failed, failed, o.Count)
	}
	summary, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	line := "> - `" + failed + "` on wasmer: plugin[p]: abi: guest allocate failed: planted (in 3 samples)"
	if !strings.Contains(string(summary), line) {
		t.Errorf("summary.md lacks the line %q:\n%s", line, summary)
	}
}

// TestValidateBeforeAnything checks that bad options fail before any worker
// starts and leave no run folder.
func TestValidateBeforeAnything(t *testing.T) {
	for _, bad := range []func(*Options){
		func(o *Options) { o.Bench, _ = NewFilter("NoSuchWorkload") },
		func(o *Options) { o.Engines = []string{"v8"} },
		func(o *Options) { o.Engines = []string{"wazero", "wazero:default"} },
		func(o *Options) { o.Engines = []string{"wazero:turbo"} },
		func(o *Options) { o.Count = 0 },
	} {
		o := Defaults()
		bad(&o)
		o.Out = filepath.Join(t.TempDir(), "run")
		launched := false
		_, err := Run(context.Background(), o, Env{Launch: func(context.Context, string) (Worker, error) {
			launched = true
			return nil, errors.New("unreachable")
		}, Stdout: &bytes.Buffer{}})
		if err == nil || launched {
			t.Errorf("options %+v: err %v, launched %v", o, err, launched)
		}
		if _, err := os.Stat(o.Out); err == nil {
			t.Errorf("a run folder was left at %s", o.Out)
		}
	}
}

// cancellingWorker cancels the run's context on its nth Bench call and fails
// that call as a worker killed by Ctrl-C would.
type cancellingWorker struct {
	*fakeWorker
	calls  *int
	n      int
	cancel context.CancelFunc
}

func (c *cancellingWorker) Bench(ctx context.Context, a BenchArgs) ([]results.Sample, error) {
	*c.calls++
	if *c.calls == c.n {
		c.cancel()
		return nil, fmt.Errorf("worker: %w", ctx.Err())
	}
	return c.fakeWorker.Bench(ctx, a)
}

// TestRunInterrupted: a run whose context ends mid-sampling keeps the samples
// taken so far in every file, marks run.json interrupted, writes the summary
// and returns ErrInterrupted.
func TestRunInterrupted(t *testing.T) {
	o := Defaults()
	o.Engines = []string{"wazero", "wasmtime"}
	o.Count = 10
	o.Conformance = false
	o.Bench, _ = NewFilter("Call")
	o.PluginDir = t.TempDir()
	o.Out = filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var log []string
	calls := 0
	env := Env{
		Launch: func(_ context.Context, name string) (Worker, error) {
			// A warm-up per engine, then 3 samples of both, then Ctrl-C.
			return &cancellingWorker{fakeWorker: &fakeWorker{name: name, mu: &mu, calls: &log}, calls: &calls, n: 2 + 2*3 + 1,
				cancel: cancel}, nil
		},
		Benchstat: func(context.Context, ...string) ([]byte, error) { return []byte("benchstat (test double)\n"), nil },
	}
	out, err := Run(ctx, o, env)
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want ErrInterrupted and context.Canceled", err)
	}
	if out != o.Out {
		t.Fatalf("Run returned folder %q, want %q", out, o.Out)
	}
	total := 0
	for _, name := range o.Engines {
		b, err := os.ReadFile(filepath.Join(out, name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		total += strings.Count(string(b), "BenchmarkCall/op=noop/via=harness ")
	}
	if total != 6 {
		t.Errorf("%d samples kept of the empty call, want 6 (3 per engine, taken before Ctrl-C)", total)
	}
	var info report.RunInfo
	if b, err := os.ReadFile(filepath.Join(out, "run.json")); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	if !info.Interrupted {
		t.Errorf("run.json does not mark the run interrupted")
	}
	if md, err := os.ReadFile(filepath.Join(out, report.SummaryFile)); err != nil || !strings.Contains(string(md), "Interrupted run") ||
		!strings.Contains(string(md), "10 samples per figure planned, 3 at most taken") {
		t.Errorf("summary.md missing or silent about the interruption: %v", err)
	}
	for _, f := range []string{ResultsJSON, ResultsCSV} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestOutRefusesResults: --out into a folder with results is refused unless
// --replace, which removes the old result files (and only those).
func TestOutRefusesResults(t *testing.T) {
	o := Defaults()
	o.Engines = []string{"wazero"}
	o.Count = 2
	o.Conformance = false
	o.Bench, _ = NewFilter("Call")
	out, _, _, err := fakeRun(t, o, "")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "wasmer.txt"), []byte("engine: wasmer\nBenchmarkCall/op=noop/via=harness 1 1 sec/op\n"), 0o644)
	os.WriteFile(filepath.Join(out, "notes.org"), []byte("mine\n"), 0o644)
	again := o
	again.Out = out
	if err := again.Validate(); err == nil || !strings.Contains(err.Error(), "--replace") {
		t.Errorf("Validate with --out %s holding results: %v, want a refusal naming --replace", out, err)
	}
	again.Replace = true
	if err := again.Validate(); err != nil {
		t.Errorf("Validate with --replace: %v", err)
	}
	if err := removeResults(out); err != nil {
		t.Fatal(err)
	}
	if left := resultFiles(out); len(left) > 0 {
		t.Errorf("--replace left %v", left)
	}
	if _, err := os.Stat(filepath.Join(out, "notes.org")); err != nil {
		t.Errorf("--replace removed a file kspbench did not write: %v", err)
	}
}

// TestResultsData: results.json and results.csv hold every sample of every
// figure with its unit and configuration.
func TestResultsData(t *testing.T) {
	o := Defaults()
	o.Engines = []string{"wazero", "wasmer"}
	o.Count = 3
	o.Conformance = false
	o.Bench, _ = NewFilter("Call")
	out, _, _, err := fakeRun(t, o, "")
	if err != nil {
		t.Fatal(err)
	}
	var data struct{ Figures []DataFigure }
	b, err := os.ReadFile(filepath.Join(out, ResultsJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, f := range data.Figures {
		if f.Name == "Call/op=noop/via=harness" && f.Unit == "sec/op" {
			found++
			if len(f.Values) != 3 || f.Config["engine"] != f.Engine || f.Config["plugin"] == "" {
				t.Errorf("%s: %+v", f.Engine, f)
			}
		}
	}
	if found != 2 {
		t.Errorf("results.json: the empty call on %d engines, want 2:\n%s", found, b)
	}
	rows, err := csv.NewReader(bytes.NewReader(must(os.ReadFile(filepath.Join(out, ResultsCSV))))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0][:8], ",") != "engine,engine-config,plugin,figure,unit,sample,value,iters" {
		t.Errorf("results.csv header: %v", rows[0])
	}
	n := 0
	for _, r := range rows[1:] {
		if r[3] == "Call/op=noop/via=harness" && r[4] == "sec/op" {
			n++
		}
	}
	if n != 6 {
		t.Errorf("results.csv: %d rows of the empty call, want 6 (3 samples × 2 engines)", n)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestRunLoopNoFigureMatched checks that a --bench whose workload level
// matches but whose figure levels match nothing ends the run with an error
// that says so, instead of an empty report and success.
func TestRunLoopNoFigureMatched(t *testing.T) {
	o := Defaults()
	o.Engines = []string{"wazero"}
	o.Count = 2
	o.Conformance = false
	o.Bench, _ = NewFilter("Call/route=get-data")
	_, _, _, err := fakeRun(t, o, "")
	if err == nil || !strings.Contains(err.Error(), "matched no figure") {
		t.Fatalf("got %v, want an error saying no figure matched", err)
	}
	o.Bench, _ = NewFilter("Call/op=noop")
	if _, _, _, err := fakeRun(t, o, ""); err != nil {
		t.Fatalf("a filter matching figures: %v", err)
	}
}
