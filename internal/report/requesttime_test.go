package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRequestTime checks the shares on round figures: native 10k req/s
// (100 µs), constant 8k (125 µs), plugin 4k (250 µs), and the plugin
// isolated 2k (500 µs: isolation adds 250 µs).
func TestRequestTime(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("engine: wazero\nengine-config: default\n\n")
	for range 3 {
		for _, s := range []struct {
			server string
			rps    string
		}{{"native", "10000"}, {"constant", "8000"}, {"engine", "4000"}, {"isolated", "2000"}} {
			b.WriteString("BenchmarkHTTP/op=get-status/server=" + s.server + " 1000 " + s.rps + " req/s\n")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "wazero.txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	md := writeSummary(r, charts{}, dir)
	want := "| wazero | GET /status | 10.0K req/s | 8.00K req/s | 4.00K req/s | 0.80 (below 0.85) | 25.0 µs (10%) | 125 µs (50%) | 2.00K req/s | 250 µs |"
	if !strings.Contains(md, "## Where a request's time goes") || !strings.Contains(md, want) {
		t.Errorf("summary lacks the row\n%s\n%s", want, md)
	}
}
