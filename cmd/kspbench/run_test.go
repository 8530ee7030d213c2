package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/runner"
	"golang.org/x/perf/benchfmt"
)

func TestRunFlags(t *testing.T) {
	o, err := parseRunFlags([]string{"--quick"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	// A smoke run measures the engines' safe defaults only.
	if o.Count != runner.QuickCount || o.BenchTime != 20*time.Millisecond || o.Conformance ||
		!slices.Equal(o.Engines, catalog.On(runtime.GOOS, runtime.GOARCH)) || o.SafetyOnly != nil || o.BindingOnly != nil {
		t.Errorf("--quick gives %+v", o)
	}
	// The default run adds the price-of-safety and binding-cost pairs.
	var pairs, direct []string
	for _, c := range catalog.SafetyPairs(catalog.On(runtime.GOOS, runtime.GOARCH)) {
		pairs = append(pairs, c.ID())
	}
	for _, c := range catalog.BindingPairs(catalog.On(runtime.GOOS, runtime.GOARCH)) {
		direct = append(direct, c.ID())
	}
	if o, err = parseRunFlags(nil, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Engines, append(append(catalog.On(runtime.GOOS, runtime.GOARCH), pairs...), direct...)) ||
		!slices.Equal(o.SafetyOnly, pairs) || !slices.Equal(o.BindingOnly, direct) {
		t.Errorf("the default run gives %+v", o)
	}
	o, err = parseRunFlags([]string{"--quick", "--count", "5", "--engines", "wasmer,wazero"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Count != 5 || !slices.Equal(o.Engines, []string{"wasmer", "wazero"}) {
		t.Errorf("an explicit flag must win over --quick: %+v", o)
	}
	o, err = parseRunFlags([]string{"--engines", "wazero,wazero:no-deadline,wasmtime:pulley"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Engines, []string{"wazero", "wazero:no-deadline", "wasmtime:pulley"}) || len(o.SafetyOnly) != 0 || len(o.BindingOnly) != 0 {
		t.Errorf("configurations named in --engines are measured on everything: %+v", o)
	}
	for _, bad := range [][]string{{"--engines", "v8"}, {"--engines", "wazero:turbo"}, {"--count", "0"}, {"--bench", "("}, {"--bench", "NoSuchWorkload"}, {"--plugin", "/no/such/folder"}, {"extra"}} {
		if _, err := parseRunFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestRunEndToEnd runs the main job small, on wazero, and checks the report
// folder: results benchfmt reads with their configuration, and a benchstat
// table (when benchstat can run).
func TestRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a worker and the plugin")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := kspbench(context.Background(), nil, &stdout, &stderr, []string{"run", "--engines", "wazero", "--bench", "Call|Copy/op=noop|dir=host-to-guest",
		"--count", "2", "--benchtime", "1ms", "--conformance=false", "--out", out})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, f := range []string{"wazero.txt", "run.json", "summary.md", "results.json", "results.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	f, err := os.Open(filepath.Join(out, "wazero.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := benchfmt.NewReader(f, "wazero.txt")
	counts := map[string]int{}
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		if got := string(res.GetConfig("engine")); got != "wazero" {
			t.Errorf("%s: engine %q", res.Name, got)
		}
		counts[string(res.Name.Full())]++
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(out, "wazero.txt"))
	if strings.Contains(string(raw), "BenchmarkBenchmark") {
		t.Error("result names carry the Benchmark prefix twice")
	}
	for _, name := range []string{"Call/op=noop/via=harness", "Call/op=noop/via=engine", "Copy/dir=host-to-guest/size=64B/via=go-copy", "Copy/dir=host-to-guest/size=1MiB/via=harness"} {
		if counts[name] != 2 {
			t.Errorf("%s: %d samples, want 2 (all: %v)", name, counts[name], counts)
		}
	}
	if counts["Copy/dir=guest-to-host/size=4KiB/via=harness"] != 0 || counts["Call/op=echo-64B/via=harness"] != 0 {
		t.Errorf("--bench did not filter figures: %v", counts)
	}
	if !strings.Contains(stdout.String(), "wazero") {
		t.Errorf("no headline on stdout: %q", stdout.String())
	}
	// The folder now holds results: a second run into it is refused.
	err = kspbench(context.Background(), nil, &stdout, &stderr, []string{"run", "--engines", "wazero", "--bench", "Call/op=noop",
		"--count", "1", "--conformance=false", "--out", out})
	if err == nil || !strings.Contains(err.Error(), "--replace") {
		t.Errorf("a second run into %s: %v, want a refusal naming --replace", out, err)
	}
	if _, err := exec.LookPath("go"); err == nil {
		b, err := os.ReadFile(filepath.Join(out, "benchstat.txt"))
		if err != nil {
			t.Fatalf("benchstat.txt: %v", err)
		}
		if !strings.Contains(string(b), "Call/op=noop/via=harness") || strings.Contains(strings.ToLower(string(b)), "error") {
			t.Errorf("benchstat.txt:\n%s", b)
		}
	}
}

// TestRunEngineConfigurations runs a small run of wazero's default beside
// its no-deadline configuration, each in its own worker process: a result
// file per configuration, each with its engine-config key, and the
// price-of-safety section in the summary.
func TestRunEngineConfigurations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a worker and the plugin")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := kspbench(context.Background(), nil, &stdout, &stderr, []string{"run", "--engines", "wazero,wazero:no-deadline",
		"--bench", "Call", "--count", "2", "--benchtime", "5ms", "--conformance=false", "--out", out})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for file, want := range map[string]string{"wazero.txt": "default", "wazero-no-deadline.txt": "no-deadline"} {
		f, err := os.Open(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		r := benchfmt.NewReader(f, file)
		names := map[string]bool{}
		for r.Scan() {
			res, ok := r.Result().(*benchfmt.Result)
			if !ok {
				continue
			}
			names[string(res.Name.Full())] = true
			if got, eng := string(res.GetConfig("engine-config")), string(res.GetConfig("engine")); got != want || eng != "wazero" {
				t.Errorf("%s %s: engine %q, engine-config %q; want wazero, %q", file, res.Name, eng, got, want)
			}
			if want == "no-deadline" && !strings.Contains(string(res.GetConfig("engine-notes")), "no close-on-context-done") {
				t.Errorf("%s: notes %q do not say the deadline is off", file, res.GetConfig("engine-notes"))
			}
		}
		f.Close()
		for _, n := range []string{"Call/op=noop/via=harness", "Call/op=hostcall/via=harness", "Call/op=loop-10k/via=harness", "Call/guest=cluster-monitor/op=get-status/via=harness"} {
			if !names[n] {
				t.Errorf("%s lacks %s (has %v)", file, n, names)
			}
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## The price of safety", "a looping guest hangs the call", "| empty call | wazero |", "wazero:no-deadline", "-col engine,engine-config"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "price-of-safety.svg")); err != nil {
		t.Error(err)
	}
}

// TestHTTPWorkload runs the end-to-end benchmark small on wazero: the plugin
// behind kspbench serve, serve with a constant guest and the native ceiling,
// loaded from another process.
func TestHTTPWorkload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a worker and starts servers")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := kspbench(context.Background(), nil, &stdout, &stderr, []string{"run", "--quick", "--engines", "wazero", "--bench", "HTTP", "--count", "1", "--out", out})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, "wazero.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"BenchmarkHTTP/op=get-status/server=engine", "BenchmarkHTTP/op=get-status/server=native",
		"BenchmarkHTTP/op=post-data/server=engine", "BenchmarkHTTP/op=post-data/server=native",
		"BenchmarkHTTP/op=get-status/server=constant", "BenchmarkHTTP/op=post-data/server=constant",
		"BenchmarkHTTP/op=get-status/server=isolated", "req/s", "p99-sec"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("wazero.txt lacks %q:\n%s", want, raw)
		}
	}
	// The isolated server is loaded on the GET route only.
	if strings.Contains(string(raw), "op=post-data/server=isolated") {
		t.Errorf("wazero.txt has an isolated POST figure:\n%s", raw)
	}
	// The summary says what isolation adds per request.
	if md, err := os.ReadFile(filepath.Join(out, "summary.md")); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(string(md), "isolation adds") {
		t.Errorf("summary.md lacks the isolation column:\n%s", md)
	}
}
