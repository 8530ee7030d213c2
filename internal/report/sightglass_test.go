package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"

	"github.com/kspbench/kspbench/internal/results"
)

// TestSightglassSection checks the Sightglass section of summary.md: medians
// with their ratio to the fastest engine, the geometric mean over the programs
// every engine ran, and the failures of sightglass.json. (Three samples give
// no confidence interval, so no cell is bold.)
func TestSightglassSection(t *testing.T) {
	dir := t.TempDir()
	// execute seconds per engine and program; 0 means no figure (failed).
	exec := map[string]map[string]float64{
		"wazero":   {"a": 0.020, "b": 0.010},
		"wasmtime": {"a": 0.010, "b": 0.040},
		"wasmer":   {"a": 0.040, "b": 0},
	}
	for eng, progs := range exec {
		f, err := os.Create(filepath.Join(dir, eng+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		w := benchfmt.NewWriter(f)
		cfg := []benchfmt.Config{{Key: "engine", Value: []byte(eng), File: true}}
		for p, v := range progs {
			if v == 0 {
				continue
			}
			for i := range 3 {
				for phase, x := range map[string]float64{"execute": v, "compile": v * 10, "instantiate": v / 100} {
					res := &benchfmt.Result{Config: cfg, Name: benchfmt.Name(results.Name(results.Sightglass, "program", p, "phase", phase)),
						Iters: 1, Values: []benchfmt.Value{{Value: x * (1 + float64(i)*1e-3), Unit: "sec/op"}}}
					if err := w.Write(res); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		f.Close()
	}
	run := results.SightglassRun{Source: "testdata", Programs: []string{"a", "b"}, Failures: []results.SightglassFailure{
		{Engine: "wasmer", Program: "b", Outcome: results.Fail, Detail: "stdout differs from the expected output at line 1\n- \"x\"\n+ \"y\""}}}
	b, _ := json.Marshal(run)
	if err := os.WriteFile(filepath.Join(dir, results.SightglassFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	got := summaryOf(t, dir)
	for _, want := range []string{
		"## Sightglass",
		"### execute",
		"| a | 20.0 ms (2.00×) | 10.0 ms (1.00×) | 40.0 ms (4.00×) |",
		"| b | 10.0 ms (1.00×) | 40.0 ms (4.00×) | – |",
		"| geometric mean of ratios (1 programs) | 2.00× | 1.00× | 4.00× |",
		"| b | wasmer | fail | stdout differs from the expected output at line 1 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary.md lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "## Sightglass\n\n## Sightglass") || strings.Count(got, "Sightglass/program=") > 0 {
		t.Errorf("Sightglass figures listed again outside their section:\n%s", got)
	}
}

// TestPriceOfSafetySightglass checks that the price-of-safety section and
// its chart set each Sightglass program's execution on the safe default
// beside the no-deadline configuration, with the ratio of the medians.
func TestPriceOfSafetySightglass(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		file, config string
		execute      float64
	}{{"wazero.txt", "default", 0.030}, {"wazero-no-deadline.txt", "no-deadline", 0.010}} {
		f, err := os.Create(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		w := benchfmt.NewWriter(f)
		cfg := []benchfmt.Config{{Key: "engine", Value: []byte("wazero"), File: true},
			{Key: "engine-config", Value: []byte(c.config), File: true}}
		for i := range 3 {
			res := &benchfmt.Result{Config: cfg, Name: benchfmt.Name(results.SightglassName("ksp-sort", results.PhaseExecute)),
				Iters: 1, Values: []benchfmt.Value{{Value: c.execute * (1 + float64(i)*1e-3), Unit: "sec/op"}}}
			if err := w.Write(res); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
	}
	got := summaryOf(t, dir)
	_, section, _ := strings.Cut(got, "## The price of safety")
	if !strings.Contains(section, "| Sightglass ksp-sort (execute) | wazero | 30.0 ms") || !strings.Contains(section, "| 3.00×") {
		t.Errorf("the price-of-safety section lacks ksp-sort's execution at 3.00×:\n%s", got)
	}
	svg, err := os.ReadFile(filepath.Join(dir, priceOfSafetyChart))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "Sightglass ksp-sort (execute)") {
		t.Errorf("%s lacks the Sightglass row", priceOfSafetyChart)
	}
}

// summaryOf runs Generate on the run folder dir and returns its summary.
func summaryOf(t *testing.T, dir string) string {
	t.Helper()
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(md)
}
