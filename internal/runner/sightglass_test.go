package runner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/internal/sightglass"
	"github.com/kspbench/kspbench/internal/worker"
)

// sightglassCalls counts the fake workers' Sightglass calls by
// engine/program.
var sightglassCalls = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// Sightglass makes the test double a sightglassWorker: every program passes,
// except ksp-sort on wasmer (its output differs) and ksp-crc32 on wasmtime
// (the worker dies, as wasmer's does on poll_oneoff).
func (f *fakeWorker) Sightglass(_ context.Context, a SightglassArgs) (sightglass.Result, error) {
	sightglassCalls.Lock()
	sightglassCalls.n[f.name+"/"+a.Program.Name]++
	sightglassCalls.Unlock()
	switch {
	case f.name == "wasmer" && a.Program.Name == "ksp-sort":
		return sightglass.Result{Outcome: results.Fail, Detail: "stdout differs from the expected output at line 1"}, nil
	case f.name == "wasmtime" && a.Program.Name == "ksp-crc32":
		return sightglass.Result{}, &worker.DiedError{Engine: f.name, Op: opSightglass, Signal: "SIGABRT", Status: "signal: aborted",
			Tail: "thread '<unnamed>' panicked at 'not implemented: Polling not implemented for clocks yet'\nSIGABRT: abort"}
	}
	return sightglass.Result{Outcome: results.Pass, Compile: time.Millisecond, Instantiate: time.Microsecond,
		Execute: 20 * time.Millisecond, HasExecute: true}, nil
}

// TestSightglassLoop checks the Sightglass workload on test-double workers:
// no warm-up, every built-in kernel sampled Count times, a failing program
// and one that ends its worker recorded once in sightglass.json and not run
// again on that engine, the worker restarted, the run going on.
func TestSightglassLoop(t *testing.T) {
	o := Defaults()
	o.Engines = []string{"wazero", "wasmtime", "wasmer"}
	o.Count = 3
	o.Conformance = false
	o.Bench, _ = NewFilter("Sightglass/program=ksp-(sort|crc32|matmul)")
	out, _, fakes, err := fakeRun(t, o, "")
	if err != nil {
		t.Fatal(err)
	}
	sightglassCalls.Lock()
	calls := sightglassCalls.n
	sightglassCalls.Unlock()
	for key, want := range map[string]int{"wazero/ksp-sort": 3, "wasmer/ksp-sort": 1, "wasmtime/ksp-crc32": 1,
		"wasmtime/ksp-matmul": 3, "wazero/ksp-nbody": 0} {
		if calls[key] != want {
			t.Errorf("%s ran %d times, want %d", key, calls[key], want)
		}
	}
	if fakes["wasmtime"].restarts != 1 {
		t.Errorf("wasmtime restarted %d times, want 1 after its worker died", fakes["wasmtime"].restarts)
	}
	b, err := os.ReadFile(filepath.Join(out, results.SightglassFile))
	if err != nil {
		t.Fatal(err)
	}
	var run results.SightglassRun
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	if strings.Join(run.Programs, ",") != "ksp-crc32,ksp-matmul,ksp-sort" || len(run.Failures) != 2 {
		t.Errorf("sightglass.json = %s; want three programs and two failures", b)
	}
	for _, f := range run.Failures {
		if f.Engine == "wasmtime" && !strings.HasPrefix(f.Detail, "worker died: thread '<unnamed>' panicked at 'not implemented") {
			t.Errorf("the failure of a worker that died does not lead with its panic: %q", f.Detail)
		}
	}
	txt, err := os.ReadFile(filepath.Join(out, "wasmer.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(txt), "BenchmarkSightglass/program=ksp-matmul/phase=execute "); n != o.Count {
		t.Errorf("wasmer.txt: %d execute samples of ksp-matmul, want %d:\n%s", n, o.Count, txt)
	}
	if strings.Contains(string(txt), "program=ksp-sort") {
		t.Errorf("wasmer.txt has figures of a program that failed on it:\n%s", txt)
	}
}

// TestSightglassDefaultLeavesOutOptInKernels checks that a default run's
// Sightglass workload leaves out sightglass.OptInKernels, and that selecting
// the workload brings them back.
func TestSightglassDefaultLeavesOutOptInKernels(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    bool
	}{{".", false}, {"Sightglass", true}} {
		o := Defaults()
		o.Bench, _ = NewFilter(tc.pattern)
		s, err := prepareSightglass(o, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range sightglass.OptInKernels {
			if got := slices.Contains(s.run.Programs, k); got != tc.want {
				t.Errorf("--bench %s: %s in the programs: %v, want %v (%v)", tc.pattern, k, got, tc.want, s.run.Programs)
			}
		}
		if !slices.Contains(s.run.Programs, "ksp-crc32") {
			t.Errorf("--bench %s: the loop-heavy ksp-crc32 is not in the programs %v", tc.pattern, s.run.Programs)
		}
	}
}

// TestSightglassSafetyOnly checks that a configuration measured for the
// price of safety runs the Sightglass programs and keeps their execution
// alone, and that one measured for the binding cost does not run them.
func TestSightglassSafetyOnly(t *testing.T) {
	o := Defaults()
	o.Engines = []string{"wazero", "wazero:no-deadline", "wasmtime", "wasmtime:direct"}
	o.SafetyOnly = []string{"wazero:no-deadline"}
	o.BindingOnly = []string{"wasmtime:direct"}
	o.Count = 2
	o.Conformance = false
	o.Bench, _ = NewFilter("Sightglass/program=ksp-matmul")
	out, _, _, err := fakeRun(t, o, "")
	if err != nil {
		t.Fatal(err)
	}
	txt, err := os.ReadFile(filepath.Join(out, "wazero-no-deadline.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(txt), "BenchmarkSightglass/program=ksp-matmul/phase=execute "); n != o.Count {
		t.Errorf("wazero-no-deadline.txt: %d execute samples, want %d:\n%s", n, o.Count, txt)
	}
	if strings.Contains(string(txt), "phase=compile") {
		t.Errorf("wazero-no-deadline.txt keeps a compile figure the comparison does not need:\n%s", txt)
	}
	sightglassCalls.Lock()
	direct := sightglassCalls.n["wasmtime:direct/ksp-matmul"]
	sightglassCalls.Unlock()
	if direct != 0 {
		t.Errorf("the binding-only configuration ran Sightglass %d times", direct)
	}
	if _, err := os.Stat(filepath.Join(out, "wasmtime-direct.txt")); err == nil {
		// the configuration has no figure this filter selects: no file is fine, as is an empty one
		if b, _ := os.ReadFile(filepath.Join(out, "wasmtime-direct.txt")); strings.Contains(string(b), "Sightglass") {
			t.Errorf("wasmtime-direct.txt has Sightglass figures:\n%s", b)
		}
	}
}
