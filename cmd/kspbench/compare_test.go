package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/internal/compare"
)

// TestCompareGate runs the command on the committed reference run: with
// itself it passes, with a copy whose wazero empty-call samples are doubled
// it fails, and --no-gate turns the failure off.
func TestCompareGate(t *testing.T) {
	ref := filepath.Join("..", "..", "reports", "reference")
	planted := t.TempDir()
	paths, _ := filepath.Glob(filepath.Join(ref, "*.txt"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) == "wazero.txt" {
			var out []string
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) > 3 && f[0] == "BenchmarkCall/op=noop/via=harness" {
					f[2] = "1" + f[2] // about 10x, or more
					l = strings.Join(f, " ")
				}
				out = append(out, l)
			}
			b = []byte(strings.Join(out, "\n"))
		}
		if err := os.WriteFile(filepath.Join(planted, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := kspbench(context.Background(), nil, &stdout, &stderr, append([]string{"compare", "--no-tables"}, args...))
		return stdout.String(), err
	}
	if out, err := run(ref, ref); err != nil {
		t.Errorf("compare ref ref: %v\n%s", err, out)
	}
	out, err := run(ref, planted)
	if !errors.Is(err, compare.ErrRegression) {
		t.Errorf("compare ref planted: err %v, want ErrRegression\n%s", err, out)
	}
	if !strings.HasPrefix(out, "Verdict: REGRESSION") || !strings.Contains(out, "Call/op=noop/via=harness") {
		t.Errorf("verdict does not lead with the regression:\n%s", out)
	}
	md := filepath.Join(t.TempDir(), "summary.md")
	if _, err := run("--no-gate", "--markdown", md, ref, planted); err != nil {
		t.Errorf("--no-gate: %v", err)
	}
	if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), "### Verdict: REGRESSION") {
		t.Errorf("--markdown: %v\n%s", err, b)
	}
}
