package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/engines/commandtest"
	"github.com/kspbench/kspbench/internal/results"
)

// TestRunSightglassFlag checks --sightglass: a folder is taken as given, and
// a missing folder or a file is refused before anything starts.
func TestRunSightglassFlag(t *testing.T) {
	dir := t.TempDir()
	o, err := parseRunFlags([]string{"--sightglass", dir, "--bench", "Sightglass"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Sightglass != dir {
		t.Errorf("--sightglass %s gives Options.Sightglass %q", dir, o.Sightglass)
	}
	for _, bad := range []string{"/no/such/folder", "sightglass_test.go"} {
		if _, err := parseRunFlags([]string{"--sightglass", bad}, &bytes.Buffer{}); err == nil {
			t.Errorf("--sightglass %s: no error", bad)
		}
	}
}

// TestSightglassEndToEnd runs the Sightglass workload on wazero's worker
// process over a folder of two programs: engines/commandtest's command with
// its expected output (it passes: three figures per sample) and the same
// command expecting other output (it fails once, with a diff, and the run
// goes on).
func TestSightglassEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a worker")
	}
	dir := t.TempDir()
	files := map[string]string{
		"good/good.wasm": string(commandtest.Command), "good/input.txt": commandtest.Input,
		"good/good.stdout.expected": commandtest.WantStdout, "good/good.stderr.expected": commandtest.WantStderr,
		"bad/bad.wasm": string(commandtest.Command), "bad/input.txt": commandtest.Input,
		"bad/bad.stdout.expected": "something else\n",
	}
	for name, s := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := kspbench(context.Background(), nil, &stdout, &stderr, []string{"run", "--engines", "wazero", "--sightglass", dir,
		"--bench", "Sightglass", "--count", "2", "--conformance=false", "--out", out})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	txt, err := os.ReadFile(filepath.Join(out, "wazero.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, phase := range []string{"compile", "instantiate", "execute"} {
		if n := strings.Count(string(txt), "BenchmarkSightglass/program=good/phase="+phase+" "); n != 2 {
			t.Errorf("%d samples of good's %s, want 2:\n%s", n, phase, txt)
		}
	}
	if strings.Contains(string(txt), "program=bad") {
		t.Errorf("figures of a program whose output is wrong:\n%s", txt)
	}
	b, err := os.ReadFile(filepath.Join(out, results.SightglassFile))
	if err != nil {
		t.Fatal(err)
	}
	var run results.SightglassRun
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	if len(run.Failures) != 1 || run.Failures[0].Program != "bad" || !strings.Contains(run.Failures[0].Detail, `+ "sum of squares`) {
		t.Errorf("sightglass.json = %s; want one failure of bad with a diff", b)
	}
	summary, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(summary), "## Sightglass") || !strings.Contains(string(summary), "| bad | wazero | fail |") {
		t.Errorf("summary.md lacks the Sightglass section or the failure:\n%s", summary)
	}
}
