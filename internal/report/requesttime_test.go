package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRequestTime checks the shares on round figures: native 10k req/s
// (100 µs), constant 8k (125 µs), plugin 4k (250 µs), and the plugin
// isolated 2k (500 µs: isolation adds 250 µs); seven samples each, spread by
// ±1%, so the constant server is told apart from 0.85 × native (below). On
// POST /data the constant server's samples straddle 0.85 × native's: within
// noise, whatever the ratio of the medians.
func TestRequestTime(t *testing.T) {
	var b strings.Builder
	b.WriteString("engine: wazero\nengine-config: default\n\n")
	for i := range 7 {
		spread := 1 + float64(i-3)/300
		for _, s := range []struct {
			server string
			rps    float64
		}{{"native", 10000}, {"constant", 8000}, {"engine", 4000}, {"isolated", 2000}} {
			fmt.Fprintf(&b, "BenchmarkHTTP/op=get-status/server=%s 1000 %g req/s\n", s.server, s.rps*spread)
		}
		fmt.Fprintf(&b, "BenchmarkHTTP/op=post-data/server=native 1000 %g req/s\n", 10000*spread)
		fmt.Fprintf(&b, "BenchmarkHTTP/op=post-data/server=constant 1000 %g req/s\n", 8500*(1+float64(3-i)/150))
	}
	dir, r := loadRun(t, map[string]string{"wazero.txt": b.String()})
	md := writeSummary(r, charts{}, dir)
	for _, want := range []string{
		"| wazero | GET /status | 10.0K req/s | 8.00K req/s | 4.00K req/s | 0.80 (below 0.85) | 25.0 µs (10%) | 125 µs (50%) | 2.00K req/s | 250 µs |",
		"| wazero | POST /data | 10.0K req/s | 8.50K req/s | – | 0.85 (within noise of 0.85) |",
	} {
		if !strings.Contains(md, "## Where a request's time goes") || !strings.Contains(md, want) {
			t.Errorf("summary lacks the row\n%s\n%s", want, md)
		}
	}
}

// TestRequestTimeBinding checks the direct configuration's row (constant and
// native only) and the line that says what the binding adds per request:
// wasmtime's host 25 µs through the binding (8k beside 10k), 11.1 µs through
// the C API (9k beside 10k), so the binding adds 13.9 µs.
func TestRequestTimeBinding(t *testing.T) {
	files := map[string]string{}
	write := func(file, config string, servers map[string]float64) {
		var b strings.Builder
		b.WriteString("engine: wasmtime\nengine-config: " + config + "\n\n")
		for i := range 7 {
			for _, server := range []string{"native", "constant", "engine"} {
				if rps, ok := servers[server]; ok {
					fmt.Fprintf(&b, "BenchmarkHTTP/op=get-status/server=%s 1000 %g req/s\n", server, rps*(1+float64(i-3)/300))
				}
			}
		}
		files[file] = b.String()
	}
	write("wasmtime.txt", "default", map[string]float64{"native": 10000, "constant": 8000, "engine": 4000})
	write("wasmtime-direct.txt", "direct", map[string]float64{"native": 10000, "constant": 9000})
	dir, r := loadRun(t, files)
	md := writeSummary(r, charts{}, dir)
	for _, want := range []string{
		"| wasmtime:direct | GET /status | 10.0K req/s | 9.00K req/s | – | 0.90 (meets 0.85) | 11.1 µs (10%) | – | – | – |",
		"- wasmtime, GET /status: serve + constant reaches 0.80 of native through the Go binding and 0.90 through the C API (`wasmtime:direct`); the binding adds 13.9 µs per request",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks\n%s\n%s", want, md)
		}
	}
}

// TestRequestTimeFewSamples checks that three samples, fewer than the U test
// needs, are called untested whatever the ratio, and that a plugin measured
// faster than the constant guest (noise) gets no share of the request.
func TestRequestTimeFewSamples(t *testing.T) {
	var b strings.Builder
	b.WriteString("engine: wazero\nengine-config: default\n\n")
	for i := range 3 {
		spread := 1 + float64(i-1)/300
		for _, s := range []struct {
			server string
			rps    float64
		}{{"native", 10000}, {"constant", 5000}, {"engine", 5500}} {
			fmt.Fprintf(&b, "BenchmarkHTTP/op=get-status/server=%s 1000 %g req/s\n", s.server, s.rps*spread)
		}
	}
	dir, r := loadRun(t, map[string]string{"wazero.txt": b.String()})
	md := writeSummary(r, charts{}, dir)
	want := "| wazero | GET /status | 10.0K req/s | 5.00K req/s | 5.50K req/s | 0.50 (untested: 3 samples) | 100 µs (55%) | -18.2 µs (noise) |"
	if !strings.Contains(md, want) {
		t.Errorf("summary lacks the row\n%s\n%s", want, md)
	}
}

// TestHeadlineHTTPOnly checks the headline of a run that measured HTTP only:
// the columns no engine has are left out, and the first route through serve
// is there.
func TestHeadlineHTTPOnly(t *testing.T) {
	var b strings.Builder
	b.WriteString("engine: wazero\nengine-config: default\n\n")
	for range 3 {
		b.WriteString("BenchmarkHTTP/op=get-status/server=engine 1000 6400 req/s\n")
		b.WriteString("BenchmarkHTTP/op=get-status/server=native 1000 15000 req/s\n")
	}
	_, r := loadRun(t, map[string]string{"wazero.txt": b.String()})
	want := "| engine | GET /status through serve |\n|---|---|\n| wazero | 6.40K req/s |"
	if h := strings.TrimSpace(Headline(r)); h != want {
		t.Errorf("Headline =\n%q\nwant\n%q", h, want)
	}
}

// loadRun writes files (name to contents) into a run folder and loads it.
func loadRun(t *testing.T, files map[string]string) (string, *Run) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, r
}
