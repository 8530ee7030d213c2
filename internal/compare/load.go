package compare

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kspbench/kspbench/internal/catalog"
	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchunit"
)

// Group keys: the file configuration keys that say what was measured. Results
// that differ in one of them are different things; every other key (the
// kspbench version, timestamps, the engine's version) describes a run and
// never separates results.
const (
	KeyEngine       = "engine"
	KeyEngineConfig = "engine-config"
	KeyPlugin       = "plugin"
)

// GroupKeys are the keys that separate results, in the order tables use them.
var GroupKeys = []string{KeyEngine, KeyEngineConfig, KeyPlugin}

// benchstatFile is the cross-engine table a run folder holds; it has no results.
const benchstatFile = "benchstat.txt"

// Group is what a figure was measured on: an engine, its configuration and
// the plugin.
type Group struct {
	Engine, Config, Plugin string
}

// String is "engine[/config]", then " · plugin" when a plugin is named.
func (g Group) String() string {
	s := g.Engine
	if g.Config != "" {
		s += "/" + g.Config
	}
	if g.Plugin != "" {
		s += " · " + g.Plugin
	}
	return s
}

func compareGroups(a, b Group) int {
	return cmp.Or(catalog.Rank(a.Engine)-catalog.Rank(b.Engine), cmp.Compare(a.Engine, b.Engine),
		cmp.Compare(a.Config, b.Config), cmp.Compare(a.Plugin, b.Plugin))
}

// FigureKey names one figure of one group: a benchmark name (without
// "Benchmark" and without a GOMAXPROCS suffix) and a tidied unit.
type FigureKey struct {
	Group
	Name, Unit string
}

// Side is one side of a comparison: the samples of one run folder, or of
// several pooled.
type Side struct {
	// Dirs are the run folders, Files the result files read from them.
	Dirs, Files []string
	// Samples holds every value of every figure, in file order.
	Samples map[FigureKey][]float64
	// Order is the figures in the order of their first sample.
	Order []FigureKey
	// Versions are the distinct kspbench-version values, in order.
	Versions []string
	// HasConfig says whether any result carries an engine-config key.
	HasConfig bool
}

// Load reads the result files of one or more run folders into one Side:
// every *.txt file but benchstat.txt. Several folders pool their samples (runs
// of the same commit, taken alternately with the other side's).
//
// # Errors
//
// A folder that does not exist, a line that does not parse (named by file and
// line), and folders with no result at all.
func Load(dirs ...string) (*Side, error) {
	s := &Side{Dirs: dirs, Samples: map[FigureKey][]float64{}}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("run folder: %w", err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("run folder[%s]: not a folder", dir)
		}
		paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
		if err != nil {
			return nil, fmt.Errorf("run folder[%s]: %w", dir, err)
		}
		slices.Sort(paths)
		for _, p := range paths {
			if filepath.Base(p) == benchstatFile {
				continue
			}
			n, err := s.read(p)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				s.Files = append(s.Files, p)
			}
		}
	}
	if len(s.Order) == 0 {
		return nil, fmt.Errorf("run folder[%s]: no benchmark results (expected result files in the Go benchmark format)", strings.Join(dirs, ","))
	}
	return s, nil
}

// read adds the results of one file and returns how many it held.
func (s *Side) read(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read results: %w", err)
	}
	defer f.Close()
	stem := strings.TrimSuffix(filepath.Base(path), ".txt")
	rd := benchfmt.NewReader(f, path)
	n := 0
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			return n, fmt.Errorf("read results: %w", rec)
		case *benchfmt.Result:
			n++
			g := Group{Engine: cmp.Or(rec.GetConfig(KeyEngine), stem), Config: rec.GetConfig(KeyEngineConfig),
				Plugin: rec.GetConfig(KeyPlugin)}
			if g.Config != "" {
				s.HasConfig = true
			}
			if v := rec.GetConfig("kspbench-version"); v != "" && !slices.Contains(s.Versions, v) {
				s.Versions = append(s.Versions, v)
			}
			name := normalizeName(rec.Name.String())
			for _, v := range rec.Values {
				val, unit := benchunit.Tidy(v.Value, v.Unit)
				k := FigureKey{Group: g, Name: name, Unit: unit}
				if _, ok := s.Samples[k]; !ok {
					s.Order = append(s.Order, k)
				}
				s.Samples[k] = append(s.Samples[k], val)
			}
		}
	}
	if err := rd.Err(); err != nil {
		return n, fmt.Errorf("read results: %w", err)
	}
	return n, nil
}

// normalizeName drops a "Benchmark" prefix and a GOMAXPROCS suffix.
func normalizeName(name string) string {
	name = strings.TrimPrefix(name, "Benchmark")
	base, parts := benchfmt.Name(name).Parts()
	if n := len(parts); n > 0 && parts[n-1][0] == '-' {
		parts = parts[:n-1]
	}
	var b strings.Builder
	b.Write(base)
	for _, p := range parts {
		b.Write(p)
	}
	return b.String()
}
