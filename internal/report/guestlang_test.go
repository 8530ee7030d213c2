package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGuestLanguage checks the "Guest language" section: one row per figure
// and engine with the Go and C builds and Go ÷ C, and no section when the
// run measured only one build.
func TestGuestLanguage(t *testing.T) {
	lines := `engine: wazero

BenchmarkColdStart/guest=cluster-monitor/phase=compile 1 2 sec/op
BenchmarkColdStart/guest=cluster-monitor-c/phase=compile 1 0.02 sec/op
BenchmarkFootprint/guest=cluster-monitor/what=module 1 3000000 B
BenchmarkFootprint/guest=cluster-monitor-c/what=module 1 20000 B
BenchmarkFootprint/guest=cluster-monitor/instances=10 10 4000000 rss-B/instance 3000000 linear-B/instance
BenchmarkFootprint/guest=cluster-monitor-c/instances=10 10 20000 rss-B/instance 131072 linear-B/instance
`
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"both", lines, []string{
			"## Guest language",
			"| compile (no cache) | wazero | 2.00 s | 20.0 ms | 100× |",
			"| module size | wazero |",
			"| 150× |",
			"| resident memory per instance | wazero |",
		}},
		{"go only", strings.Join(slicesWithout(strings.Split(lines, "\n"), "cluster-monitor-c"), "\n"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "wazero.txt"), []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			s := &summary{r: r, full: r, shown: map[string]bool{}}
			s.guestLanguage()
			got := s.b.String()
			if c.want == nil && got != "" {
				t.Errorf("a run without the C build has a section:\n%s", got)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("no %q in:\n%s", w, got)
				}
			}
		})
	}
}

func slicesWithout(lines []string, sub string) []string {
	var out []string
	for _, l := range lines {
		if !strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}
