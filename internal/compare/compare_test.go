package compare

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// runFile is one synthetic result file: its configuration and, per benchmark
// line, the values of each sample.
type runFile struct {
	name   string            // file name in the run folder
	config map[string]string // file configuration, written in key order below
	lines  []line
}

type line struct {
	name  string
	unit  string
	value func(i int) float64 // the value of sample i
}

var configOrder = []string{"goos", "engine", "engine-config", "engine-version", "plugin", "kspbench-version"}

// writeRun writes files into a new run folder under t.TempDir, count samples
// of every line, and returns the folder.
func writeRun(t testing.TB, count int, files ...runFile) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		var b strings.Builder
		for _, k := range configOrder {
			if v, ok := f.config[k]; ok {
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		b.WriteString("\n")
		for i := range count {
			for _, l := range f.lines {
				fmt.Fprintf(&b, "Benchmark%s 1 %s %s\n", l.name, strconv.FormatFloat(l.value(i), 'g', -1, 64), l.unit)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// noisy is a base value with a small deterministic spread (±2%).
func noisy(base float64) func(int) float64 {
	return func(i int) float64 { return base * (1 + 0.01*float64((i*7)%5-2)) }
}

func scaled(f func(int) float64, by float64) func(int) float64 {
	return func(i int) float64 { return f(i) * by }
}

func cfg(engine, config, version string) map[string]string {
	m := map[string]string{"goos": "linux", "engine": engine, "engine-version": "v1", "plugin": "cluster-monitor",
		"kspbench-version": version}
	if config != "" {
		m["engine-config"] = config
	}
	return m
}

// syntheticPair is two runs at different kspbench versions with one change of
// every kind planted.
func syntheticPair(t testing.TB, count int) (old, new string) {
	call, copyRate, rss, odd := noisy(600e-9), noisy(6e9), noisy(4e6), noisy(10)
	same, small := noisy(2e-3), noisy(1e-6)
	oldLines := []line{
		{"Call/op=noop/via=harness", "sec/op", call},
		{"Copy/size=64KiB/via=harness", "B/s", copyRate},
		{"Footprint/instances=10", "rss-B/instance", rss},
		{"Odd/what=widgets", "widgets", odd},
		{"ColdStart/phase=compile", "sec/op", same},
		{"Call/op=hostcall/via=harness", "sec/op", small},
	}
	newLines := []line{
		{"Call/op=noop/via=harness", "sec/op", scaled(call, 2)},         // worse: slower
		{"Copy/size=64KiB/via=harness", "B/s", scaled(copyRate, 1.5)},   // better: faster
		{"Footprint/instances=10", "rss-B/instance", scaled(rss, 1.02)}, // within the threshold
		{"Odd/what=widgets", "widgets", scaled(odd, 3)},                 // changed, direction unknown
		{"ColdStart/phase=compile", "sec/op", same},
		{"Call/op=hostcall/via=harness", "sec/op", scaled(small, 0.5)}, // better
	}
	old = writeRun(t, count,
		runFile{"wazero.txt", cfg("wazero", "", "aaaaaaa"), oldLines},
		runFile{"wasmtime.txt", cfg("wasmtime", "", "aaaaaaa"), oldLines[:2]},
		runFile{"wasmer.txt", cfg("wasmer", "", "aaaaaaa"), oldLines[:1]})
	new = writeRun(t, count,
		runFile{"wazero.txt", cfg("wazero", "", "bbbbbbb"), newLines},
		// A configuration of wasmtime, in a file whose name is not the engine's.
		runFile{"wasmtime-fast.txt", cfg("wasmtime", "fast", "bbbbbbb"), newLines[:2]},
		runFile{"results-wasmtime.txt", cfg("wasmtime", "", "bbbbbbb"), oldLines[:2]})
	return old, new
}

// golden compares got with testdata/name, rewriting it with -update and
// writing name.got on a mismatch.
func golden(t *testing.T, name string, got []byte, replace ...string) {
	t.Helper()
	for i := 0; i+1 < len(replace); i += 2 {
		got = bytes.ReplaceAll(got, []byte(replace[i]), []byte(replace[i+1]))
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		os.WriteFile(path+".got", got, 0o644)
		t.Errorf("%s differs from the golden file; got in %s.got (go test -update accepts it):\n%s", name, path, got)
	}
}

func TestVerdictGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		count int
	}{{"synthetic-n6", 6}, {"synthetic-n3", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			oldDir, newDir := syntheticPair(t, tc.count)
			old, err := Load(oldDir)
			if err != nil {
				t.Fatal(err)
			}
			new, err := Load(newDir)
			if err != nil {
				t.Fatal(err)
			}
			r := Compare(old, new, Options{})
			var text, md bytes.Buffer
			r.WriteVerdict(&text, 0)
			r.WriteMarkdown(&md, "(benchstat tables)")
			golden(t, tc.name+".txt", text.Bytes(), oldDir, "OLD", newDir, "NEW")
			golden(t, tc.name+".md", md.Bytes(), oldDir, "OLD", newDir, "NEW")
		})
	}
}

func TestOutcomes(t *testing.T) {
	old, new := syntheticPair(t, 6)
	o, _ := Load(old)
	n, _ := Load(new)
	r := Compare(o, n, Options{})
	want := map[string]Outcome{
		"Call/op=noop/via=harness":     Worse,
		"Copy/size=64KiB/via=harness":  Better,
		"Footprint/instances=10":       Same,
		"Odd/what=widgets":             Changed,
		"ColdStart/phase=compile":      Same,
		"Call/op=hostcall/via=harness": Better,
	}
	for _, f := range r.Figures {
		if f.Group != (Group{Engine: "wazero", Plugin: "cluster-monitor"}) {
			continue
		}
		if f.Outcome != want[f.Name] {
			t.Errorf("%s: %s, want %s (p=%.3f delta %+.2f)", f.Name, f.Outcome, want[f.Name], f.P, f.Delta)
		}
	}
	// kspbench-version differs and never separates groups; engine-config does.
	wantGroups := []Group{{"wazero", "", "cluster-monitor"}, {"wasmtime", "", "cluster-monitor"}}
	if fmt.Sprint(r.Groups) != fmt.Sprint(wantGroups) {
		t.Errorf("groups %v, want %v", r.Groups, wantGroups)
	}
	if fmt.Sprint(r.OnlyOld) != fmt.Sprint([]Group{{"wasmer", "", "cluster-monitor"}}) ||
		fmt.Sprint(r.OnlyNew) != fmt.Sprint([]Group{{"wasmtime", "fast", "cluster-monitor"}}) {
		t.Errorf("only old %v, only new %v", r.OnlyOld, r.OnlyNew)
	}
	if !errors.Is(r.Gate(), ErrRegression) {
		t.Errorf("Gate() = %v, want ErrRegression", r.Gate())
	}
}

func TestDirection(t *testing.T) {
	for unit, want := range map[string]Direction{
		"sec/op": LowerIsBetter, "B/op": LowerIsBetter, "allocs/op": LowerIsBetter, "p99-sec": LowerIsBetter,
		"p50-sec": LowerIsBetter, "rss-B/instance": LowerIsBetter, "B": LowerIsBetter,
		"B/s": HigherIsBetter, "req/s": HigherIsBetter, "calls/s": HigherIsBetter, "frames/s": HigherIsBetter,
		"widgets": Unknown,
	} {
		if got := DirectionOf(unit); got != want {
			t.Errorf("DirectionOf(%q) = %v, want %v", unit, got, want)
		}
	}
}

func TestMinSamples(t *testing.T) {
	if n := MinSamples(0.05); n != 4 {
		t.Errorf("MinSamples(0.05) = %d, want 4 (benchstat: need >= 4 samples)", n)
	}
}

func TestGateTooFewSamples(t *testing.T) {
	old, new := syntheticPair(t, 3)
	o, _ := Load(old)
	n, _ := Load(new)
	if err := Compare(o, n, Options{}).Gate(); !errors.Is(err, ErrInconclusive) {
		t.Errorf("3 samples, a doubled figure: Gate() = %v, want ErrInconclusive", err)
	}
	if err := Compare(o, o, Options{}).Gate(); err != nil {
		t.Errorf("3 samples, a run with itself: Gate() = %v, want nil", err)
	}
}

func TestVerdictLimit(t *testing.T) {
	old, new := syntheticPair(t, 6)
	o, _ := Load(old)
	n, _ := Load(new)
	var b bytes.Buffer
	Compare(o, n, Options{}).WriteVerdict(&b, 1)
	out := b.String()
	if !strings.Contains(out, "better   … and 1 more") {
		t.Errorf("limit 1 does not cap the two better figures:\n%s", out)
	}
	if i, j := strings.Index(out, "Copy/size=64KiB"), strings.Index(out, "hostcall"); i < 0 || j >= 0 {
		t.Errorf("limit 1 should keep the larger of the better figures only (Copy +50%% vs hostcall -50%%: first by order):\n%s", out)
	}
}
