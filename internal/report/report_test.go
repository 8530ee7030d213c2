package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/perf/benchmath"
)

var update = flag.Bool("update", false, "rewrite testdata/example from the fixture")

// exampleDir is the run folder the golden test writes, relative to a
// temporary working directory, so the summary's commands are the same on
// every machine.
const exampleDir = "reports/example"

// generateExample writes the full fixture into a temporary working
// directory, runs Generate on it and returns its path there.
func generateExample(t *testing.T) string {
	t.Helper()
	t.Chdir(t.TempDir())
	writeFixture(t, exampleDir, knownEngines, true)
	if err := Generate(exampleDir); err != nil {
		t.Fatal(err)
	}
	return exampleDir
}

// maskMatrix replaces the conformance matrix, which conformance.Cases()
// shapes, by a placeholder: a case added to the suite must not break this
// package's golden file. TestSummaryEmbedsMatrix checks the matrix itself.
func maskMatrix(md string) string {
	start := strings.Index(md, "## Conformance\n")
	end := strings.Index(md, "## Picking an engine\n")
	if start < 0 || end < start {
		return md
	}
	return md[:start] + "## Conformance\n\n<matrix>\n\n" + md[end:]
}

// TestGolden compares the summary and charts of the fixture with
// testdata/example; -update rewrites testdata/example, inputs included.
func TestGolden(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "example"))
	if err != nil {
		t.Fatal(err)
	}
	dir := generateExample(t)
	files := []string{SummaryFile, coldStartChart, callOverheadChart, copyBandwidthChart}
	if *update {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(golden); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(golden, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(golden, e.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for _, name := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(golden, name))
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		g, w := string(got), string(want)
		if name == SummaryFile {
			g, w = maskMatrix(g), maskMatrix(w)
		}
		if g != w {
			gotPath := filepath.Join(golden, name+".got")
			if err := os.WriteFile(gotPath, got, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Errorf("%s differs from testdata/example/%s; wrote %s (go test -update accepts it)", name, name, gotPath)
		}
	}
}

// TestGoldenInputs checks that the committed inputs of testdata/example are
// what the fixture writes, so the golden files match their inputs.
func TestGoldenInputs(t *testing.T) {
	if *update {
		t.Skip("rewriting")
	}
	golden, err := filepath.Abs(filepath.Join("testdata", "example"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	writeFixture(t, "run", knownEngines, true)
	entries, err := os.ReadDir("run")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		got, _ := os.ReadFile(filepath.Join("run", e.Name()))
		want, err := os.ReadFile(filepath.Join(golden, e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("testdata/example/%s is not what the fixture writes (go test -update)", e.Name())
		}
	}
}

func TestSummaryEmbedsMatrix(t *testing.T) {
	dir := generateExample(t)
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	if err := r.Matrix.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	got := readString(t, filepath.Join(dir, SummaryFile))
	if !strings.Contains(got, md.String()) {
		t.Errorf("summary.md does not contain the matrix as WriteMarkdown writes it")
	}
}

func readString(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSummaryOrder checks the sections come in the order the report
// promises, and the claims a reader relies on.
func TestSummaryOrder(t *testing.T) {
	dir := generateExample(t)
	md := readString(t, filepath.Join(dir, SummaryFile))
	at := -1
	for _, h := range []string{"# kspbench run example", "## Cold start", "## Per-call overhead", "## The price of safety", "## What the binding costs", "## Memory copy", "## Footprint",
		"## Throughput", "## HTTP", "## Conformance", "## Picking an engine", "## Reproduce"} {
		i := strings.Index(md, h+"\n")
		if i < 0 || i < at {
			t.Fatalf("heading %q missing or out of order", h)
		}
		at = i
	}
	for _, want := range []string{
		"![Cold start by phase and engine](coldstart.svg)",
		"benchstat -col engine,engine-config -ignore engine-mode,engine-notes,engine-version reports/example/wazero.txt reports/example/wazero-no-deadline.txt " +
			"reports/example/wasmtime.txt reports/example/wasmtime-no-deadline.txt reports/example/wasmtime-direct.txt reports/example/wasmer.txt\n",
		// What the binding costs: binding ÷ direct from the same run, and
		// the share of the call that is the binding in "Picking an engine".
		"| empty call via harness | wasmtime | 3.01 µs ±2% | 153 ns ±3% | 19.7× |",
		"- Its Go binding is 95% of its empty call's cost: 3.01 µs through the binding, 153 ns through the C API (`wasmtime:direct`",
		// The price of safety: safe ÷ unguarded from the same run, and the
		// warning in plain words.
		"| empty call | wazero | 21.2 ns ±1% | 1.33 ns ±7% | 15.9× |",
		"**Without a deadline a looping guest hangs the call**",
		"![Each engine's safe default beside its no-deadline configuration](price-of-safety.svg)",
		"- wasmer: no price to show:",
		"go run ./cmd/kspbench run --count 10 --seed 1 --out reports/example",
		// wasmer cannot interrupt a call: the matrix says so.
		"It cannot interrupt a running call (`abi/deadline`, `abi/cancel`)",
		// wasmtime and wasmer host calls are within noise of each other.
		"host call (347 ns vs wasmer 352 ns)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
}

// TestChartsWellFormed decodes every chart as XML and finds every engine's
// name in its text.
func TestChartsWellFormed(t *testing.T) {
	dir := generateExample(t)
	for _, name := range []string{coldStartChart, callOverheadChart, copyBandwidthChart} {
		checkSVG(t, filepath.Join(dir, name), knownEngines)
	}
}

func checkSVG(t *testing.T, path string, engines []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	var text strings.Builder
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", path, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Space + " " + tok.Name.Local
			}
		case xml.CharData:
			text.Write(tok)
			text.WriteString("\n")
		}
	}
	if root != "http://www.w3.org/2000/svg svg" {
		t.Errorf("%s: root element %q, want svg in the SVG namespace", path, root)
	}
	for _, e := range engines {
		if !strings.Contains(text.String(), e) {
			t.Errorf("%s: no text names engine %s", path, e)
		}
	}
}

// TestPartialRun runs Generate on a folder with one engine, no
// conformance.json, no run.json, and a benchmark family the report does not
// know.
func TestPartialRun(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, []string{"wazero"}, false)
	f, err := os.OpenFile(filepath.Join(dir, "wazero.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "BenchmarkGRPC/method=Unary 1000 1234 ns/op 17 widgets/op\nBenchmarkGRPC/method=Unary 1000 1250 ns/op 17 widgets/op\n")
	f.Close()
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	md := readString(t, filepath.Join(dir, SummaryFile))
	for _, want := range []string{"# kspbench run\n", "## HTTP\n", "## GRPC\n", "| method=Unary | widgets/op | 17.0 widgets/op (n=2) |",
		"No conformance.json in this run.", "The only engine in this run", "This run has no run.json"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	for _, name := range []string{coldStartChart, callOverheadChart, copyBandwidthChart} {
		checkSVG(t, filepath.Join(dir, name), []string{"wazero"})
	}
}

// TestOnlyUnknownFamilies: a run of nothing the report knows still gets a
// summary, and no empty charts.
func TestOnlyUnknownFamilies(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "wasmtime.txt"), []byte("engine: wasmtime\nBenchmarkHTTP/route=status 1 5000 req/s 0.0001 p50-sec\n"), 0o644)
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	md := readString(t, filepath.Join(dir, SummaryFile))
	if !strings.Contains(md, "| route=status | req/s | 5.00K req/s (n=1) |") {
		t.Errorf("summary.md:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(dir, coldStartChart)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("coldstart.svg written without cold start figures: %v", err)
	}
}

func TestMalformedResults(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "wazero.txt"), []byte("engine: wazero\n\nBenchmarkCall/op=noop/via=harness 100 20 ns/op\nBenchmarkCall/op=noop/via=harness 100 2x0 ns/op\n"), 0o644)
	_, err := Load(dir)
	if err == nil {
		t.Fatal("Load accepted a malformed line")
	}
	if want := filepath.Join(dir, "wazero.txt") + ":4:"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
	if err := Generate(dir); err == nil {
		t.Error("Generate accepted a malformed line")
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"empty", map[string]string{}, "no benchmark results"},
		{"no results", map[string]string{"notes.txt": "nothing here\n"}, "no benchmark results"},
		{"bad run.json", map[string]string{"wazero.txt": "BenchmarkX 1 1 ns/op\n", RunInfoFile: "{"}, RunInfoFile},
		{"bad conformance.json", map[string]string{"wazero.txt": "BenchmarkX 1 1 ns/op\n", ConformanceFile: "[]"}, ConformanceFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tc.files {
				os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v, want an error with %q", err, tc.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("Load of a missing folder succeeded")
	}
}

func TestLoadAndMedian(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.txt"), []byte(`engine: wazero
engine-version: v1.12.0
engine-mode: compiler
cpu: Test CPU
BenchmarkCall/op=noop/via=harness-8 100 30 ns/op
BenchmarkCall/op=noop/via=harness-8 100 10 ns/op
BenchmarkCall/op=noop/via=harness-8 100 20 ns/op
engine: wasmtime
BenchmarkCall/op=noop/via=harness 100 3000 ns/op
`), 0o644)
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Engines) != 2 || r.Engines[0].Name != "wazero" || r.Engines[1].Name != "wasmtime" {
		t.Fatalf("engines %v", r.Engines)
	}
	e := r.Engines[0]
	if e.Version != "v1.12.0" || e.Mode != "compiler" || e.Config["cpu"] != "Test CPU" {
		t.Errorf("engine %+v", e)
	}
	b := e.Benchmark("BenchmarkCall/op=noop/via=harness-2")
	if b == nil || b.Family != "Call" || b.Keys["op"] != "noop" || b.Keys["via"] != "harness" {
		t.Fatalf("benchmark %+v", b)
	}
	for _, tc := range []struct{ name, unit string }{
		{"Call/op=noop/via=harness", "sec/op"},
		{"BenchmarkCall/op=noop/via=harness-8", "ns/op"},
	} {
		v, ok := r.Median("wazero", tc.name, tc.unit)
		if !ok || math.Abs(v-20e-9) > 1e-18 {
			t.Errorf("Median(wazero, %s, %s) = %v, %v; want 2e-08", tc.name, tc.unit, v, ok)
		}
	}
	if _, ok := r.Median("wasmer", "Call/op=noop/via=harness", "sec/op"); ok {
		t.Error("Median of an absent engine")
	}
	if _, ok := r.Median("wazero", "Call/op=noop/via=harness", "B/op"); ok {
		t.Error("Median of an absent unit")
	}
	m, _ := r.Metric("wazero", "Call/op=noop/via=harness", "sec/op")
	if len(m.Values) != 3 || m.Values[0] != 10e-9 || !math.IsInf(m.Summary.Hi, 1) {
		t.Errorf("metric %+v: want 3 sorted values and an unbounded interval", m)
	}
}

func TestHeadline(t *testing.T) {
	dir := generateExample(t)
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := Headline(r)
	lines := strings.Split(strings.TrimSpace(h), "\n")
	if len(lines) != 5 {
		t.Fatalf("headline has %d lines, want head, rule and 3 engines:\n%s", len(lines), h)
	}
	if !strings.Contains(lines[0], "RSS per instance (100 instances)") || !strings.HasPrefix(lines[2], "| wazero v1.12.0 |") {
		t.Errorf("headline:\n%s", h)
	}
	for _, l := range lines[2:] {
		if strings.Contains(l, missing) {
			t.Errorf("headline row with a missing figure: %s", l)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{3.1e-3, "sec/op", "3.10 ms"},
		{0.032, "sec/op", "32.0 ms"},
		{59e-9, "sec/op", "59.0 ns"},
		{999.7e-9, "sec/op", "1.00 µs"},
		{0.72, "sec/op", "720 ms"},
		{12.5, "sec/op", "12.5 s"},
		{0.5e-9, "sec/op", "0.5 ns"},
		{0.0011, "p99-sec", "1.10 ms"},
		{3.2 * (1 << 20), "rss-B/instance", "3.20 MiB/instance"},
		{512, "B", "512 B"},
		{1536, "B", "1.50 KiB"},
		{12.3e9, "B/s", "12.3 GB/s"},
		{640e6, "B/s", "640 MB/s"},
		{1.234e6, "calls/s", "1.23M calls/s"},
		{180e3, "calls/s", "180K calls/s"},
		{17, "allocs/op", "17.0 allocs/op"},
		{0, "allocs/op", "0 allocs/op"},
	} {
		if got := formatValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("formatValue(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
	if got := formatSigned(formatDuration(-3e-9), -3e-9); got != "-3.00 ns" {
		t.Errorf("formatSigned = %q", got)
	}
	if got := formatPercent(0.051); got != "5.1%" {
		t.Errorf("formatPercent = %q", got)
	}
}

func TestWithinTarget(t *testing.T) {
	for _, tc := range []struct {
		harness, engine float64
		want            bool
	}{
		{39e-9, 19e-9, true},     // 20 ns is allowed below 400 ns
		{40e-9, 19e-9, false},    // 21 ns is not
		{3.04e-6, 2.9e-6, true},  // 4.8%
		{3.06e-6, 2.9e-6, false}, // 5.5%
		{1.0e-6, 1.1e-6, true},   // faster than the engine
		{420e-9, 400e-9, true},   // 20 ns = 5%
		{0.1 + 1e-9, 0.1, true},  // seconds
		{0.1 + 0.01, 0.1, false}, // 10%
		{25e-9 + 20e-9, 25e-9, true},
	} {
		if got := withinTarget(tc.harness, tc.engine); got != tc.want {
			t.Errorf("withinTarget(%v, %v) = %v", tc.harness, tc.engine, got)
		}
	}
}

func metricOf(vs ...float64) *Metric {
	s := benchmath.NewSample(vs, &benchmath.DefaultThresholds)
	return &Metric{Unit: "sec/op", Values: s.Values, Summary: benchmath.AssumeNothing.Summary(s, Confidence)}
}

func TestClearBest(t *testing.T) {
	fast := metricOf(10, 11, 10, 12, 11, 10, 11, 10, 12, 11)
	slow := metricOf(20, 21, 20, 22, 21, 20, 21, 20, 22, 21)
	near := metricOf(11, 12, 11, 13, 12, 11, 12, 11, 13, 12) // intervals overlap fast's, the U test tells them apart
	same := metricOf(10, 12, 11, 10, 12, 11, 10, 11, 12, 11) // fast's distribution, shuffled
	few := metricOf(1, 2, 3)
	for _, tc := range []struct {
		name          string
		ms            []*Metric
		higher, exact bool
		best, worst   int
	}{
		{"clear", []*Metric{slow, fast}, false, false, 1, 0},
		{"higher is better", []*Metric{slow, fast}, true, false, 0, 1},
		{"no difference at the top", []*Metric{fast, same, slow}, false, false, -1, 2},
		{"overlapping intervals, different by the U test", []*Metric{fast, near, slow}, false, false, 0, 2},
		{"missing engine", []*Metric{nil, fast, slow}, false, false, 1, 2},
		{"one engine", []*Metric{fast, nil}, false, false, -1, -1},
		{"too few samples", []*Metric{few, metricOf(20, 21, 22)}, false, false, -1, -1}, // 3+3: p >= 0.1
		{"exact", []*Metric{metricOf(5), metricOf(6)}, false, true, 0, 1},
	} {
		if got := clearBest(tc.ms, tc.higher, tc.exact); got != tc.best {
			t.Errorf("%s: clearBest = %d, want %d", tc.name, got, tc.best)
		}
		if got := clearWorst(tc.ms, tc.higher, tc.exact); got != tc.worst {
			t.Errorf("%s: clearWorst = %d, want %d", tc.name, got, tc.worst)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"reports/run-1/wazero.txt": "reports/run-1/wazero.txt",
		"my runs/wazero.txt":       "'my runs/wazero.txt'",
		"it's":                     `'it'\''s'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeXML(t *testing.T) {
	if got := escapeXML(`a<b & "c" 'd'` + "\x01"); got != "a&lt;b &amp; &quot;c&quot; &apos;d&apos;\uFFFD" {
		t.Errorf("escapeXML = %q", got)
	}
}

func TestChartEscapesNames(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "odd.txt"), []byte("engine: <odd&engine>\n"+
		"BenchmarkColdStart/guest=a<b/phase=compile 1 1 ms/op\nBenchmarkColdStart/guest=a<b/phase=compile 1 2 ms/op\n"), 0o644)
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, filepath.Join(dir, coldStartChart), []string{"<odd&engine>"})
}

func TestQuickRun(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, []string{"wazero", "wasmer"}, false)
	writeJSON(t, filepath.Join(dir, RunInfoFile), RunInfo{Name: "smoke", Quick: true, Command: "kspbench run --quick"})
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	md := readString(t, filepath.Join(dir, SummaryFile))
	for _, want := range []string{"# kspbench run smoke\n", "> **Quick run**", "```sh\nkspbench run --quick\n```",
		"Conformance: not checked in this run (no conformance.json), so whether it can interrupt a running call is not shown here either."} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
}

// TestHeadlineFollowsThePlugin: a run of another plugin (--plugin) fills the
// headline from that plugin's figures, not from cluster-monitor's.
func TestHeadlineFollowsThePlugin(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, []string{"wazero", "wasmtime"}, false)
	for _, e := range []string{"wazero", "wasmtime"} {
		p := filepath.Join(dir, e+".txt")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte("guest=cluster-monitor"), []byte("guest=notes")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := Headline(r)
	if strings.Count(h, "–") > 0 {
		t.Errorf("headline has missing cells for plugin notes:\n%s", h)
	}
}

// TestFewSamples: a run with 3 samples per figure (fewer than an interval
// needs) shows no ±∞: its cells give the samples' range, the summary says
// why, and no engine wins a figure the test cannot decide.
func TestFewSamples(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, []string{"wazero", "wasmtime", "wasmer"}, true)
	paths, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	for _, p := range paths {
		seen := map[string]int{}
		var keep []string
		for _, l := range strings.Split(readString(t, p), "\n") {
			if name, _, ok := strings.Cut(l, " "); ok && strings.HasPrefix(name, "Benchmark") {
				if seen[name]++; seen[name] > 3 {
					continue
				}
			}
			keep = append(keep, l)
		}
		if err := os.WriteFile(p, []byte(strings.Join(keep, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	md := readString(t, filepath.Join(dir, SummaryFile))
	if strings.Contains(md, "∞") {
		t.Errorf("summary.md of a 3-sample run shows ±∞:\n%s", md)
	}
	for _, want := range []string{"**Too few samples for intervals**", ", n=3)", "Mann-Whitney U"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	if i := strings.Index(md, "## Picking an engine"); i < 0 || strings.Contains(md[i:], "cheapest empty call") {
		t.Errorf("a 3-sample run still declares timed wins:\n%s", md[max(i, 0):])
	}
	for _, chart := range []string{coldStartChart, callOverheadChart, copyBandwidthChart} {
		if b, err := os.ReadFile(filepath.Join(dir, chart)); err == nil && strings.Contains(string(b), "∞") {
			t.Errorf("%s shows ∞", chart)
		}
	}
}

// TestHeadlineRoutes: with the plugin's routes measured, the headline and
// "Picking an engine" show them, and the reference guest's calls are
// labelled as such; answers.md is a section of the summary.
func TestHeadlineRoutes(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, []string{"wazero", "wasmtime"}, false)
	for i, e := range []string{"wazero", "wasmtime"} {
		f, err := os.OpenFile(filepath.Join(dir, e+".txt"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		for s := range 6 {
			fmt.Fprintf(f, "BenchmarkRoute/route=get-status/via=pool 1000 %d ns/op\n", 100*(i+1)+s)
			fmt.Fprintf(f, "BenchmarkRoute/route=post-data/via=pool 1000 %d ns/op\n", 200*(i+1)+s)
		}
		f.Close()
	}
	if err := os.WriteFile(filepath.Join(dir, AnswersFile), []byte("the answers table\n\n### Differences\n\nnone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := Headline(r)
	for _, want := range []string{"get-status (pool)", "post-data (pool)", "empty call (reference guest)", "host call (reference guest)"} {
		if !strings.Contains(h, want) {
			t.Errorf("headline lacks %q:\n%s", want, h)
		}
	}
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	md := readString(t, filepath.Join(dir, SummaryFile))
	for _, want := range []string{"route get-status of cluster-monitor through the pool", "empty call (reference guest)",
		"## The plugin's answers\n\nthe answers table\n\n#### Differences"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
}
