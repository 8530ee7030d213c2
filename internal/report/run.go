package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchunit"

	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/results"
)

// Confidence is the confidence level of every interval in a report.
const Confidence = 0.95

// File names in a run folder.
const (
	RunInfoFile     = "run.json"
	ConformanceFile = "conformance.json"
	SummaryFile     = "summary.md"
	// AnswersFile is the runner's table of the plugin's answers per
	// configuration, with their differences; the summary includes it.
	AnswersFile = "answers.md"
)

// RunInfo is run.json: what `kspbench run` records about a run besides its
// results.
type RunInfo struct {
	Name     string    `json:"name"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Count    int       `json:"count"` // samples per benchmark
	Seed     int64     `json:"seed"`
	Quick    bool      `json:"quick"`
	// Interrupted says the run was stopped (Ctrl-C) before its last sample:
	// its files hold the samples taken until then.
	Interrupted bool         `json:"interrupted,omitempty"`
	Machine     Machine      `json:"machine"`
	Engines     []EngineInfo `json:"engines"`
	// Command is the command line, or lines, that reproduce the run.
	Command string `json:"command"`
	// Failed are the figures that failed while timed on some configuration
	// and are left out of its results (the run went on without them).
	Failed []results.Failure `json:"failed,omitempty"`
}

// Machine is the computer a run ran on.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	Go     string `json:"go"` // Go version, as runtime.Version reports it
}

// EngineInfo is one engine configuration of a run as run.json records it.
type EngineInfo struct {
	// Name is the configuration as --engines names it: "wazero" for the
	// engine's default, "wazero:no-deadline" for another.
	Name string `json:"name"`
	// Engine and Config are the engine's catalog name and the
	// configuration's name ("default" for the safe default); empty in runs
	// made before engine configurations (Name is then the engine).
	Engine string `json:"engine,omitempty"`
	Config string `json:"config,omitempty"`
	// SafetyOnly says that the configuration ran only the figures of the
	// price-of-safety comparison.
	SafetyOnly bool `json:"safety_only,omitempty"`
	// BindingOnly says that the configuration ran only the figures of the
	// binding-cost comparison.
	BindingOnly bool   `json:"binding_only,omitempty"`
	Version     string `json:"version"`
	Mode        string `json:"mode"`
	Notes       string `json:"notes,omitempty"`
	// BinaryBytes is the size of the binary that ran the engine, and
	// LibraryBytes that of the shared library it loads (0 when linked
	// statically).
	BinaryBytes  int64 `json:"binary_bytes"`
	LibraryBytes int64 `json:"library_bytes"`
	// Seconds is the wall-clock time the run spent on this configuration,
	// per phase: "conformance", "answers", and each workload (warm-up and
	// samples together). It says where a run's budget goes.
	Seconds map[string]float64 `json:"seconds,omitempty"`
}

// Run is a run folder, loaded.
type Run struct {
	Dir    string
	Info   *RunInfo        // nil without run.json
	Matrix *results.Matrix // nil without conformance.json
	// Answers is the content of answers.md, "" without it.
	Answers string
	// Engines are wazero, wasmtime and wasmer, when present, in that order,
	// then any other engine by name.
	Engines []*Engine
}

// Engine is the results of one engine configuration.
type Engine struct {
	// Name is the configuration as --engines names it: the engine's name
	// ("wazero") for its default, engine:config ("wazero:no-deadline")
	// otherwise.
	Name string
	// Base is the engine's name ("wazero") and Configuration the
	// configuration's ("default", "no-deadline"), from the results'
	// engine and engine-config keys.
	Base          string
	Configuration string
	Version       string // engine-version
	Mode          string // engine-mode
	Notes         string // engine-notes
	// Info is the engine's entry in run.json, or the zero value.
	Info EngineInfo
	// Files are the result files its samples came from.
	Files []string
	// Config is the file configuration of its results (goos, cpu,
	// kspbench-version, ...); when a key changes between results, the first
	// value stays.
	Config map[string]string
	// Benchmarks are in the order of their first result.
	Benchmarks []*Benchmark
	byName     map[string]*Benchmark
}

// Benchmark is every sample of one benchmark name on one engine.
type Benchmark struct {
	// Name is the full name without "Benchmark" and without a GOMAXPROCS
	// suffix, for example "Call/op=noop/via=harness".
	Name string
	// Family is the name's base, for example "Call".
	Family string
	// Keys are the name's key=value parts: {"op": "noop", "via": "harness"}.
	Keys map[string]string
	// Metrics are one per unit, in the order of the first result.
	Metrics []*Metric
}

// Metric is the samples of one unit of a benchmark, and their summary.
type Metric struct {
	// Unit is the tidied unit ("sec/op" for ns/op, "B/s" for MB/s).
	Unit string
	// Values are the samples in ascending order.
	Values []float64
	// Summary is the median and its confidence interval at Confidence,
	// under benchmath.AssumeNothing: what benchstat prints.
	Summary benchmath.Summary
}

// Median is the metric's median.
func (m *Metric) Median() float64 { return m.Summary.Center }

// Metric returns the metric of unit in b.
func (b *Benchmark) Metric(unit string) (*Metric, bool) {
	for _, m := range b.Metrics {
		if m.Unit == unit {
			return m, true
		}
	}
	return nil, false
}

// Engine returns the engine called name, or nil.
func (r *Run) Engine(name string) *Engine {
	for _, e := range r.Engines {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Benchmark returns the benchmark called name ("Call/op=noop/via=harness";
// a "Benchmark" prefix and a GOMAXPROCS suffix are ignored), or nil.
func (e *Engine) Benchmark(name string) *Benchmark {
	return e.byName[normalizeName(name)]
}

// Metric returns the metric of unit in the benchmark called name on engine.
// Units are tidied as benchfmt tidies them, so "ns/op" finds "sec/op".
func (r *Run) Metric(engine, name, unit string) (*Metric, bool) {
	e := r.Engine(engine)
	if e == nil {
		return nil, false
	}
	b := e.Benchmark(name)
	if b == nil {
		return nil, false
	}
	_, unit = benchunit.Tidy(1, unit)
	return b.Metric(unit)
}

// Median returns the median of unit in the benchmark called name on engine.
// It is in the tidied unit: seconds when unit is "ns/op" or "sec/op".
func (r *Run) Median(engine, name, unit string) (float64, bool) {
	m, ok := r.Metric(engine, name, unit)
	if !ok {
		return 0, false
	}
	return m.Median(), true
}

// BenchstatFile is the cross-engine comparison benchstat writes into a run
// folder; it is benchstat's output, not results, so Load leaves it alone.
const BenchstatFile = "benchstat.txt"

// Load reads the run folder dir: every *.txt file in it but BenchstatFile (a
// file without results is skipped), conformance.json and run.json when
// present.
//
// # Errors
//
// A line a result file cannot parse is an error naming the file and the line;
// so is a folder without any result.
func Load(dir string) (*Run, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	r := &Run{Dir: dir}
	if err := readJSON(filepath.Join(dir, RunInfoFile), &r.Info); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(dir, ConformanceFile), &r.Matrix); err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, AnswersFile)); err == nil {
		r.Answers = string(b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	paths = slices.DeleteFunc(paths, func(p string) bool { return filepath.Base(p) == BenchstatFile })
	for _, p := range paths {
		if err := r.readResults(p); err != nil {
			return nil, err
		}
	}
	if len(r.Engines) == 0 {
		return nil, fmt.Errorf("run folder[%s]: no benchmark results (expected <engine>.txt files in the Go benchmark format)", dir)
	}
	for _, e := range r.Engines {
		for _, b := range e.Benchmarks {
			for _, m := range b.Metrics {
				m.summarize()
			}
		}
		if r.Info != nil {
			for _, ei := range r.Info.Engines {
				if ei.Name == e.Name {
					e.Info = ei
				}
			}
		}
		e.Version = cmp.Or(e.Version, e.Info.Version)
		e.Mode = cmp.Or(e.Mode, e.Info.Mode)
		e.Notes = cmp.Or(e.Notes, e.Info.Notes)
	}
	slices.SortStableFunc(r.Engines, func(a, b *Engine) int {
		if c := compareEngines(a.Base, b.Base); c != 0 {
			return c
		}
		if c := catalog.RankConfig(a.Base, a.Configuration) - catalog.RankConfig(b.Base, b.Configuration); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return r, nil
}

// summarize sorts m's values and computes its summary.
func (m *Metric) summarize() {
	s := benchmath.NewSample(m.Values, &benchmath.DefaultThresholds)
	m.Values = s.Values
	m.Summary = benchmath.AssumeNothing.Summary(s, Confidence)
}

func (r *Run) readResults(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	stem := strings.TrimSuffix(filepath.Base(path), ".txt")
	rd := benchfmt.NewReader(f, path)
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			return fmt.Errorf("read results: %w", rec)
		case *benchfmt.Result:
			base := cmp.Or(rec.GetConfig("engine"), stem)
			conf := cmp.Or(rec.GetConfig("engine-config"), catalog.DefaultConfig)
			name := base
			if conf != catalog.DefaultConfig {
				name += ":" + conf
			}
			e := r.Engine(name)
			if e == nil {
				e = &Engine{Name: name, Base: base, Configuration: conf, Config: map[string]string{}, byName: map[string]*Benchmark{}}
				r.Engines = append(r.Engines, e)
			}
			if !slices.Contains(e.Files, path) {
				e.Files = append(e.Files, path)
			}
			for _, c := range rec.Config {
				if _, ok := e.Config[c.Key]; !ok && c.File {
					e.Config[c.Key] = string(c.Value)
				}
			}
			e.Version = cmp.Or(e.Version, rec.GetConfig("engine-version"))
			e.Mode = cmp.Or(e.Mode, rec.GetConfig("engine-mode"))
			e.Notes = cmp.Or(e.Notes, rec.GetConfig("engine-notes"))
			full := normalizeName(rec.Name.String())
			b := e.byName[full]
			if b == nil {
				b = newBenchmark(full)
				e.byName[full] = b
				e.Benchmarks = append(e.Benchmarks, b)
			}
			for _, v := range rec.Values {
				m, ok := b.Metric(v.Unit)
				if !ok {
					m = &Metric{Unit: v.Unit}
					b.Metrics = append(b.Metrics, m)
				}
				m.Values = append(m.Values, v.Value)
			}
		}
	}
	if err := rd.Err(); err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	return nil
}

func newBenchmark(full string) *Benchmark {
	b := &Benchmark{Name: full, Keys: map[string]string{}}
	base, parts := benchfmt.Name(full).Parts()
	b.Family = string(base)
	for _, p := range parts {
		k, v, ok := strings.Cut(strings.TrimPrefix(string(p), "/"), "=")
		if ok {
			b.Keys[k] = v
		}
	}
	return b
}

// normalizeName drops a "Benchmark" prefix and a GOMAXPROCS suffix.
func normalizeName(name string) string {
	name = strings.TrimPrefix(name, "Benchmark")
	base, parts := benchfmt.Name(name).Parts()
	if n := len(parts); n > 0 && parts[n-1][0] == '-' {
		parts = parts[:n-1]
	}
	var s strings.Builder
	s.Write(base)
	for _, p := range parts {
		s.Write(p)
	}
	return s.String()
}

// readJSON decodes the file at path into *v, which it allocates; a missing
// file leaves *v nil.
func readJSON[T any](path string, v **T) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	*v = new(T)
	if err := json.Unmarshal(data, *v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// knownEngines are the engines kspbench runs, in the order reports show them.
var knownEngines = catalog.Names()

// compareEngines orders engines as the catalog does, then others by name.
func compareEngines(a, b string) int {
	if c := catalog.Rank(a) - catalog.Rank(b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}
