package runner

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/kspbench/kspbench/internal/worker"
)

// Files of a run folder besides <engine>.txt: every sample as data.
const (
	ResultsJSON = "results.json"
	ResultsCSV  = "results.csv"
)

// runFilePatterns are the files kspbench run writes into a run folder: what
// --out refuses to mix with and --replace removes. Nothing else in the folder
// is touched.
var runFilePatterns = []string{"*.txt", "*.svg", "run.json", ResultsJSON, ResultsCSV, "conformance.json",
	"conformance.md", "summary.md", AnswersFile, AnswersJSON}

// resultFiles lists the files of an earlier run in dir, by name.
func resultFiles(dir string) []string {
	var names []string
	for _, p := range runFilePatterns {
		m, _ := filepath.Glob(filepath.Join(dir, p))
		for _, f := range m {
			names = append(names, filepath.Base(f))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// removeResults removes the files of an earlier run from dir.
func removeResults(dir string) error {
	for _, name := range resultFiles(dir) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// DataFigure is one figure of one engine in results.json: every sample, in
// the order taken, with its unit and the configuration of the engine's
// result file.
type DataFigure struct {
	Engine string `json:"engine"`
	// Config holds the result file's configuration keys: engine,
	// engine-config (when set), engine-version, engine-mode, plugin,
	// kspbench-version, goos, goarch, cpu.
	Config map[string]string `json:"config"`
	Name   string            `json:"name"` // as in <engine>.txt, without "Benchmark"
	Unit   string            `json:"unit"`
	Values []float64         `json:"values"`
	Iters  []int             `json:"iters"` // iterations behind each value
}

// writeData writes results.json and results.csv: the samples of every figure
// of every engine.
func writeData(dir string, runs []*engineRun, o Options) error {
	var figs []*DataFigure
	for _, r := range runs {
		h := r.w.Hello()
		cfg := configMap(r, h, o)
		index := map[string]*DataFigure{}
		for _, s := range r.results {
			for _, v := range s.Values {
				k := s.Name + "\x00" + v.Unit
				f := index[k]
				if f == nil {
					f = &DataFigure{Engine: r.name, Config: cfg, Name: s.Name, Unit: v.Unit}
					index[k] = f
					figs = append(figs, f)
				}
				f.Values = append(f.Values, v.Value)
				f.Iters = append(f.Iters, s.Iters)
			}
		}
	}
	if err := writeJSON(filepath.Join(dir, ResultsJSON), struct {
		Figures []*DataFigure `json:"figures"`
	}{figs}); err != nil {
		return fmt.Errorf("write %s: %w", ResultsJSON, err)
	}
	f, err := os.Create(filepath.Join(dir, ResultsCSV))
	if err != nil {
		return fmt.Errorf("write %s: %w", ResultsCSV, err)
	}
	w := csv.NewWriter(f)
	w.Write(csvHeader)
	for _, fig := range figs {
		for i, v := range fig.Values {
			row := []string{fig.Engine, fig.Config["engine-config"], fig.Config["plugin"], fig.Name, fig.Unit,
				strconv.Itoa(i + 1), strconv.FormatFloat(v, 'g', -1, 64), strconv.Itoa(fig.Iters[i])}
			for _, k := range csvConfigKeys {
				row = append(row, fig.Config[k])
			}
			w.Write(row)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", ResultsCSV, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", ResultsCSV, err)
	}
	return nil
}

// csvConfigKeys are the configuration columns of results.csv after the
// fixed ones.
var csvConfigKeys = []string{"engine-version", "engine-mode", "kspbench-version", "goos", "goarch", "cpu"}

var csvHeader = append([]string{"engine", "engine-config", "plugin", "figure", "unit", "sample", "value", "iters"}, csvConfigKeys...)

func configMap(r *engineRun, h worker.Hello, o Options) map[string]string {
	m := map[string]string{}
	for _, c := range fileConfig(r, h, o) {
		m[c.Key] = string(c.Value)
	}
	return m
}
