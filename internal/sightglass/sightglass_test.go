package sightglass_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/engines/commandtest"
	"github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/internal/sightglass"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name, got, want string
		same            bool
	}{
		{"equal", "a\nb\n", "a\nb\n", true},
		{"crlf", "a\r\nb\r\n", "a\nb\n", true},
		{"no final newline", "0\n", "0", true},
		{"empty", "", "", true},
		{"changed line", "a\nc\n", "a\nb\n", false},
		{"extra line", "a\nb\nc\n", "a\nb\n", false},
		{"missing output", "", "a\n", false},
		{"blank line is a line", "a\n\n", "a\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := sightglass.Diff("stdout", tc.got, tc.want)
			if (d == "") != tc.same {
				t.Errorf("Diff(%q, %q) = %q; want same=%v", tc.got, tc.want, d, tc.same)
			}
		})
	}
	d := sightglass.Diff("stdout", "a\nc\n", "a\nb\n")
	if !strings.Contains(d, "line 2") || !strings.Contains(d, `- "b"`) || !strings.Contains(d, `+ "c"`) {
		t.Errorf("diff report %q: want the line number and both lines", d)
	}
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bz2/benchmark.wasm", "")
	write("bz2/benchmark.stdout.expected", "")
	write("shootout/shootout-fib2.wasm", "")
	write("shootout/shootout-fib2.stderr.expected", "")
	write("shootout/shootout-gimli.wasm", "")
	write("lib/lib-a.wasm", "")
	write("lib/default.stdout.expected", "0")
	write("README.md", "")

	progs, err := sightglass.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range progs {
		got = append(got, p.Name+":"+filepath.Base(p.Stdout)+":"+filepath.Base(p.Stderr))
	}
	want := "bz2:benchmark.stdout.expected:. lib-a:default.stdout.expected:. shootout-fib2:.:shootout-fib2.stderr.expected shootout-gimli:.:."
	if strings.Join(got, " ") != want {
		t.Errorf("Discover = %v\nwant %s", got, want)
	}
	one, err := sightglass.Discover(filepath.Join(root, "shootout"))
	if err != nil || len(one) != 2 {
		t.Errorf("Discover of one benchmark folder = %v, %v; want its two programs", one, err)
	}
	if _, err := sightglass.Discover(t.TempDir()); err == nil {
		t.Error("Discover of an empty folder: no error")
	}
}

// TestRun runs engines/commandtest's command through Run on wazero: a pass
// with all three phases, then a failure with a diff when the expected output
// differs.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"cmd.wasm": string(commandtest.Command), "input.txt": commandtest.Input,
		"cmd.stdout.expected": strings.TrimSuffix(commandtest.WantStdout, "\n"), "cmd.stderr.expected": commandtest.WantStderr}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	progs, err := sightglass.Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := wazero.Open(noDeadline())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	r := sightglass.Run(context.Background(), eng, progs[0])
	if r.Outcome != results.Pass || !r.HasExecute || len(r.Samples("cmd")) != 3 {
		t.Fatalf("Run = %+v; want a pass with three figures", r)
	}
	if err := os.WriteFile(filepath.Join(dir, "cmd.stdout.expected"), []byte("something else\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = sightglass.Run(context.Background(), eng, progs[0])
	if r.Outcome != results.Fail || !strings.Contains(r.Detail, "stdout differs") {
		t.Errorf("Run with other expected output = %+v; want a failure with a diff", r)
	}
}

var update = flag.Bool("update", false, "write each kernel's output, as wazero prints it, to its .expected files")

// TestKernels runs every built-in kernel on wazero and checks its output
// (with -update, writes it instead); -v shows each phase's time.
func TestKernels(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every kernel")
	}
	dir := t.TempDir()
	if err := sightglass.WriteKernels(dir); err != nil {
		t.Fatal(err)
	}
	progs, err := sightglass.Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := wazero.Open(noDeadline())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	for _, p := range progs {
		t.Run(p.Name, func(t *testing.T) {
			if *update {
				writeExpected(t, eng, p)
			}
			r := sightglass.Run(context.Background(), eng, p)
			if r.Outcome != results.Pass || !r.HasExecute {
				t.Fatalf("%s: %s: %s", p.Name, r.Outcome, r.Detail)
			}
			t.Logf("compile %v, instantiate %v, execute %v", r.Compile, r.Instantiate, r.Execute)
		})
	}
}
