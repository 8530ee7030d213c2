package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
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

	"github.com/kspbench/kspbench/bench"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/report"
	"github.com/kspbench/kspbench/worker"
	"golang.org/x/perf/benchfmt"
)

// runOptions are the flags of `kspbench run`.
type runOptions struct {
	engines     []string
	bench       *benchFilter
	count       int
	quick       bool
	pluginDir   string
	out         string
	seed        int64
	benchTime   time.Duration
	instances   int
	conformance bool
	workers     string
}

func parseRunFlags(args []string, stderr io.Writer) (*runOptions, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engs := fs.String("engines", strings.Join(worker.AllEngines, ","), "comma-separated engines to measure")
	benchRE := fs.String("bench", ".", "regexp per name level, as go test -bench: 'Call' runs a workload, 'Copy/size=64KiB' some of its figures; workloads: ColdStart, Call, Copy, Footprint, Throughput, HTTP")
	count := fs.Int("count", 10, "samples of every figure, per engine")
	quick := fs.Bool("quick", false, "smoke run: 3 samples, short timings, no conformance suite and no HTTP workload unless --bench names it (about a minute)")
	pluginDir := fs.String("plugin", "", "plugin folder (plugin.yml and its wasm) to measure; default: plugins/cluster-monitor built from source")
	out := fs.String("out", "", "folder for the reports; default reports/<UTC timestamp>")
	seed := fs.Int64("seed", 1, "seed of the shuffled engine order")
	benchTime := fs.Duration("benchtime", 100*time.Millisecond, "time per sample of each timed figure")
	instances := fs.Int("instances", 10, "instances alive at once in the footprint workload")
	conf := fs.Bool("conformance", true, "run the conformance suite on every engine and put the matrix in the report")
	workers := fs.String("workers", "", "folder of prebuilt worker binaries (kspbench-<engine>); default: built from source")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kspbench run [flags]\n\nMeasures cold start, per-call overhead, memory copy, footprint and throughput on each engine,\neach engine in a worker process of its own, and writes benchstat-compatible reports.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("run: unexpected argument %q", fs.Arg(0))
	}
	re, err := newBenchFilter(*benchRE)
	if err != nil {
		return nil, fmt.Errorf("run: --bench: %w", err)
	}
	o := &runOptions{bench: re, count: *count, quick: *quick, pluginDir: *pluginDir, out: *out, seed: *seed,
		benchTime: *benchTime, instances: *instances, conformance: *conf, workers: *workers}
	for _, e := range strings.Split(*engs, ",") {
		e = strings.TrimSpace(e)
		if _, ok := worker.EngineTags[e]; !ok {
			return nil, fmt.Errorf("run: --engines: unknown engine %q (known: %s)", e, strings.Join(worker.AllEngines, ", "))
		}
		if !slices.Contains(o.engines, e) {
			o.engines = append(o.engines, e)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		if !set["count"] {
			o.count = 3
		}
		if !set["benchtime"] {
			o.benchTime = 20 * time.Millisecond
		}
		if !set["instances"] {
			o.instances = 3
		}
		if !set["conformance"] {
			o.conformance = false
		}
	}
	if o.count < 1 {
		return nil, errors.New("run: --count must be at least 1")
	}
	return o, nil
}

// engineRun is one engine's worker and what it measured.
type engineRun struct {
	name    string
	bin     string
	proc    *worker.Process
	tmp     string
	results []bench.Sample
}

func runRun(ctx context.Context, _ io.Reader, stdout, stderr io.Writer, args []string) error {
	o, err := parseRunFlags(args, stderr)
	if err != nil {
		return err
	}
	started := time.Now().UTC()
	root, rootErr := conformance.RepoRoot()
	if o.out == "" {
		base := "reports"
		if rootErr == nil {
			base = filepath.Join(root, "reports")
		}
		o.out = filepath.Join(base, started.Format("20060102T150405Z"))
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "kspbench-run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	prog := newProgress(stderr)

	// The plugin to measure.
	if o.pluginDir == "" {
		if rootErr != nil {
			return fmt.Errorf("run: no --plugin given and %v: pass --plugin DIR (a folder with plugin.yml and its wasm)", rootErr)
		}
		prog.step("building plugins/cluster-monitor (GOOS=wasip1)")
		if o.pluginDir, err = conformance.BuildClusterMonitor(ctx, root, filepath.Join(root, "build", "plugins")); err != nil {
			return err
		}
	}

	// One worker per engine.
	runs := make([]*engineRun, len(o.engines))
	for i, name := range o.engines {
		bin, err := engineBinary(ctx, o.workers, root, rootErr, name, prog.step)
		if err != nil {
			return fmt.Errorf("run: %w", err)
		}
		p, err := worker.Start(ctx, worker.SpecFor(name, bin))
		if err != nil {
			return err
		}
		defer p.Close()
		runs[i] = &engineRun{name: name, bin: bin, proc: p, tmp: filepath.Join(tmp, name)}
		h := p.Hello()
		prog.logf("%s: %s %s (%s), pid %d %s", name, h.Engine, h.Version, h.Mode, h.PID, h.Notes)
	}

	// The conformance suite, for the matrix in the summary.
	if o.conformance {
		m := conformance.Matrix{}
		for _, r := range runs {
			er, err := runConformance(ctx, r, o, prog)
			if err != nil {
				return err
			}
			m.Runs = append(m.Runs, er)
		}
		if err := writeJSON(filepath.Join(o.out, "conformance.json"), m); err != nil {
			return err
		}
		var md bytes.Buffer
		m.WriteMarkdown(&md)
		if err := os.WriteFile(filepath.Join(o.out, "conformance.md"), md.Bytes(), 0o644); err != nil {
			return err
		}
	}

	// Warm-up, then samples with engines in a shuffled order per sample.
	workloads := selectedWorkloads(o.bench)
	if o.quick && o.bench.pattern == "." {
		// A smoke run leaves out the end-to-end HTTP workload, which starts
		// servers per engine; --quick --bench HTTP runs it.
		workloads = slices.DeleteFunc(workloads, func(w bench.Workload) bool { return w.Name == httpWorkload })
	}
	if len(workloads) == 0 {
		return fmt.Errorf("run: --bench %q matches no workload", o.bench)
	}
	warmups := len(workloads)
	if o.quick {
		warmups = len(slices.DeleteFunc(slices.Clone(workloads), func(w bench.Workload) bool { return w.Name != "Call" && w.Name != "Copy" }))
	}
	total := (o.count*len(workloads) + warmups) * len(runs)
	prog.start(total)
	for sample := -1; sample < o.count; sample++ {
		order := shuffled(len(runs), o.seed, sample)
		for _, i := range order {
			r := runs[i]
			for _, w := range workloads {
				if sample < 0 && o.quick && w.Name != "Call" && w.Name != "Copy" {
					continue // a smoke run warms up only the timed loops
				}
				label := fmt.Sprintf("sample %d/%d · %s · %s", sample+1, o.count, r.name, w.Name)
				if sample < 0 {
					label = fmt.Sprintf("warm-up · %s · %s", r.name, w.Name)
				}
				prog.tick(label)
				var samples []bench.Sample
				var err error
				if w.Name == httpWorkload {
					samples, err = runHTTP(ctx, r, o)
				} else {
					samples, err = runWorkload(ctx, r, w.Name, o)
				}
				if err != nil {
					return fmt.Errorf("%s %s: %w", r.name, w.Name, err)
				}
				if sample < 0 {
					continue
				}
				for _, s := range samples {
					if o.bench.matchFigure(s.Name) {
						r.results = append(r.results, s)
					}
				}
			}
		}
	}
	prog.done()

	// Reports.
	info := report.RunInfo{Name: filepath.Base(o.out), Started: started, Finished: time.Now().UTC(), Count: o.count,
		Seed: o.seed, Quick: o.quick, Command: "kspbench " + strings.Join(append([]string{"run"}, args...), " "),
		Machine: report.Machine{CPU: cpuModel(), Cores: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Go: runtime.Version()}}
	var files []string
	for _, r := range runs {
		h := r.proc.Hello()
		binBytes, libBytes := fileSize(r.bin), linkedLibrarySize(h)
		r.results = append(r.results, bench.Sample{Name: "Footprint/what=binary", Iters: 1,
			Values: []bench.Value{{Value: float64(binBytes + libBytes), Unit: "B"}}})
		info.Engines = append(info.Engines, report.EngineInfo{Name: r.name, Version: h.Version, Mode: h.Mode,
			Notes: h.Notes, BinaryBytes: binBytes, LibraryBytes: libBytes})
		file := filepath.Join(o.out, r.name+".txt")
		if err := writeResults(file, r, h, o); err != nil {
			return err
		}
		files = append(files, file)
	}
	if err := writeJSON(filepath.Join(o.out, "run.json"), info); err != nil {
		return err
	}
	if out, err := benchstat(ctx, root, rootErr, append([]string{"-col", "engine", "-ignore", "engine-version,engine-mode,engine-notes"}, files...)...); err != nil {
		prog.logf("benchstat.txt not written: %v", err)
	} else if err := os.WriteFile(filepath.Join(o.out, "benchstat.txt"), out, 0o644); err != nil {
		return err
	}
	if err := report.Generate(o.out); err != nil {
		return fmt.Errorf("run: summary: %w", err)
	}
	rep, err := report.Load(o.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s\nReports in %s (summary.md, benchstat.txt, <engine>.txt, charts). %s in %s.\n",
		report.Headline(rep), o.out, plural(o.count, "sample"), time.Since(started).Round(time.Second))
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// benchFilter selects figures the way go test -bench selects benchmarks: the
// pattern is split at each '/' into one regexp per level of the name, and a
// name matches when each level of the pattern matches the name's level.
type benchFilter struct {
	pattern string
	levels  []*regexp.Regexp
}

func newBenchFilter(pattern string) (*benchFilter, error) {
	f := &benchFilter{pattern: pattern}
	for _, p := range strings.Split(pattern, "/") {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, err
		}
		f.levels = append(f.levels, re)
	}
	return f, nil
}

func (f *benchFilter) String() string { return f.pattern }

// matchWorkload reports whether the first level matches a workload's name.
func (f *benchFilter) matchWorkload(name string) bool { return f.levels[0].MatchString(name) }

// matchFigure reports whether every level of the pattern matches the
// figure's name, level by level; the name may have more levels.
func (f *benchFilter) matchFigure(name string) bool {
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
func selectedWorkloads(f *benchFilter) []bench.Workload {
	var ws []bench.Workload
	all := append(bench.Workloads(), bench.Workload{Name: httpWorkload,
		Doc: "requests per second and latency percentiles through kspbench serve, beside a native Go handler"})
	for _, w := range all {
		if f.matchWorkload(w.Name) {
			ws = append(ws, w)
		}
	}
	return ws
}

// shuffled returns the order of n engines for a sample: a permutation drawn
// from the seed and the sample number, so runs are repeatable.
func shuffled(n int, seed int64, sample int) []int {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(sample+1)))
	return r.Perm(n)
}

func runWorkload(ctx context.Context, r *engineRun, workload string, o *runOptions) ([]bench.Sample, error) {
	var samples []bench.Sample
	err := r.proc.Call(ctx, "bench", BenchArgs{Workload: workload, PluginDir: o.pluginDir, TempDir: r.tmp,
		BenchTimeNS: int64(o.benchTime), Instances: o.instances}, &samples)
	return samples, err
}

func runConformance(ctx context.Context, r *engineRun, o *runOptions, prog *progress) (conformance.EngineRun, error) {
	h := r.proc.Hello()
	er := conformance.EngineRun{Engine: r.name, Version: h.Version, Mode: h.Mode, Notes: h.Notes}
	var cases []string
	if err := r.proc.Call(ctx, "cases", nil, &cases); err != nil {
		return er, err
	}
	prog.start(len(cases))
	for _, c := range cases {
		prog.tick("conformance · " + r.name + " · " + c)
		cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		var res conformance.Result
		err := r.proc.Call(cctx, "run", SuiteArgs{Case: c, ClusterMonitorDir: o.pluginDir,
			TempDir: filepath.Join(r.tmp, "conformance"), CacheDir: filepath.Join(r.tmp, "conformance-cache")}, &res)
		cancel()
		if err != nil {
			res = conformance.Result{Case: c, Outcome: conformance.Fail, Detail: err.Error()}
		}
		if res.Recycle {
			if err := r.proc.Restart(ctx); err != nil {
				return er, err
			}
		}
		er.Results = append(er.Results, res)
	}
	prog.done()
	failed := 0
	for _, res := range er.Results {
		if res.Outcome == conformance.Fail {
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
func writeResults(file string, r *engineRun, h worker.Hello, o *runOptions) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := benchfmt.NewWriter(f)
	cfg := []benchfmt.Config{
		{Key: "goos", Value: []byte(h.GOOS), File: true},
		{Key: "goarch", Value: []byte(h.GOARCH), File: true},
		{Key: "cpu", Value: []byte(cpuModel()), File: true},
		{Key: "engine", Value: []byte(r.name), File: true},
		{Key: "engine-version", Value: []byte(h.Version), File: true},
		{Key: "engine-mode", Value: []byte(h.Mode), File: true},
		{Key: "plugin", Value: []byte(filepath.Base(o.pluginDir)), File: true},
		{Key: "kspbench-version", Value: []byte(kspbenchVersion()), File: true},
	}
	if h.Notes != "" {
		cfg = append(cfg, benchfmt.Config{Key: "engine-notes", Value: []byte(h.Notes), File: true})
	}
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

// benchstat runs benchstat: the one on PATH, or the version go.mod pins
// (go tool benchstat) when run from the source tree.
func benchstat(ctx context.Context, root string, rootErr error, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if p, err := exec.LookPath("benchstat"); err == nil {
		cmd = exec.CommandContext(ctx, p, args...)
	} else if rootErr == nil {
		cmd = exec.CommandContext(ctx, worker.GoTool(), append([]string{"tool", "benchstat"}, args...)...)
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

// kspbenchVersion is the source tree's commit, or "devel".
func kspbenchVersion() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "devel"
	}
	return strings.TrimSpace(string(out))
}
