package conformance_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/internal/runner"
	"github.com/kspbench/kspbench/internal/worker"
	"github.com/kspbench/kspbench/internal/workerbin"
)

var (
	engineList = flag.String("engines", strings.Join(defaultEngines(), ","), "engines to run the suite on, each in a worker process of its own; engine:config names a configuration (kspbench engines)")
	matrixDir  = flag.String("matrix", "", "folder for matrix.md and matrix.json; default reports/conformance in the source tree")
	caseFilter = flag.String("case", "", "run only the cases whose name contains this")
)

// defaultEngines are the engines that link here, and their direct
// configurations (wasmtime:direct), which serve offers for production.
func defaultEngines() []string {
	names := catalog.On(runtime.GOOS, runtime.GOARCH)
	for _, c := range catalog.BindingPairs(names) {
		names = append(names, c.ID())
	}
	return names
}

// TestConformance runs the whole suite on every engine, each engine in a
// worker process that links no other cgo engine, and writes the conformance
// matrix. Every subtest is named engine/case.
func TestConformance(t *testing.T) {
	root, err := workerbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src, err := conformance.PluginSource()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := context.Background()
	cm, err := conformance.BuildClusterMonitor(ctx, src, dir)
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Split(*engineList, ",")
	runs := make([]results.EngineRun, len(names))
	t.Cleanup(func() { // after every engine's parallel subtest
		m := results.Matrix{Runs: runs}
		out := *matrixDir
		if out == "" {
			out = filepath.Join(root, "reports", "conformance")
		}
		for _, r := range runs {
			if *caseFilter != "" || len(r.Results) != len(conformance.Cases()) {
				t.Logf("not every case ran on every engine (-case or -run): matrix not written")
				return
			}
		}
		if err := m.WriteFiles(out); err != nil {
			t.Errorf("write matrix: %v", err)
		}
		var b strings.Builder
		m.WriteMarkdown(&b)
		t.Logf("conformance matrix (also in %s):\n%s", out, b.String())
	})
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runs[i] = runEngine(t, ctx, root, name, cm, filepath.Join(dir, name))
		})
	}
}

func runEngine(t *testing.T, ctx context.Context, root, engine, clusterMonitor, dir string) results.EngineRun {
	conf, err := catalog.ParseConfiguration(engine)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := workerbin.Build(ctx, workerbin.GoTool(), root, conf.Engine, dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := runner.StartClient(ctx, engine, bin)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h := w.Hello()
	t.Logf("%s worker pid %d: %s %s (%s) %s; cgo bindings linked: %v", engine, h.PID, h.Engine, h.Version, h.Mode, h.Notes, h.Linked)
	// Each case is a subtest, run while the suite runs it.
	var run results.EngineRun
	run, err = runner.RunSuite(ctx, w, runner.SuiteOptions{
		PluginDir: clusterMonitor, TempDir: dir,
		Filter: func(name string) bool { return strings.Contains(name, *caseFilter) },
		OnResult: func(r results.CaseResult) {
			t.Run(r.Case, func(t *testing.T) {
				switch r.Outcome {
				case results.Pass:
				case results.Unsupported:
					t.Skipf("%s: unsupported: %s", engine, r.Detail)
				default:
					t.Errorf("%s: %s", engine, r.Detail)
				}
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestCrashContainment proves that an engine that kills its process fails
// only the case it was running: the harness reports the signal and the
// worker's last output, restarts the worker, and the next case passes.
func TestCrashContainment(t *testing.T) {
	root, err := workerbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	bin, err := workerbin.Build(ctx, workerbin.GoTool(), root, "wazero", dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := runner.StartClient(ctx, "wazero", bin, "KSPBENCH_TEST_FAULTS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	firstPID := w.Hello().PID

	err = w.Fault(ctx, "abort")
	var died *worker.DiedError
	if !errors.As(err, &died) {
		t.Fatalf("abort: got %v, want a DiedError", err)
	}
	if died.Signal != "SIGABRT" || !strings.Contains(died.Tail, "test fault: abort") || died.Engine != "wazero" {
		t.Errorf("abort reported as %+v; want engine wazero, SIGABRT and the last output", died)
	}
	t.Logf("reported: %v", firstLine(died.Error()))

	r := runner.RunCase(ctx, w, runner.SuiteArgs{Case: "abi/trap", TempDir: filepath.Join(dir, "cases")})
	if r.Outcome != results.Pass {
		t.Errorf("case after the crash: %+v", r)
	}
	if w.Hello().PID == firstPID {
		t.Errorf("worker was not restarted (pid %d)", firstPID)
	}

	hctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	err = w.Fault(hctx, "hang")
	if !errors.As(err, &died) || !died.Killed {
		t.Fatalf("hang: got %v, want a DiedError with Killed", err)
	}
	r = runner.RunCase(ctx, w, runner.SuiteArgs{Case: "abi/trap", TempDir: filepath.Join(dir, "cases2")})
	if r.Outcome != results.Pass {
		t.Errorf("case after a hung worker was killed: %+v", r)
	}
}

// TestWorkerProtocolVersion checks that a worker reports the protocol
// version this kspbench speaks (a stale worker binary is refused by
// worker.Start).
func TestWorkerProtocolVersion(t *testing.T) {
	root, err := workerbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bin, err := workerbin.Build(ctx, workerbin.GoTool(), root, "wazero", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := runner.StartClient(ctx, "wazero", bin)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if h := w.Hello(); h.Protocol != worker.ProtocolVersion || h.Kspbench == "" {
		t.Errorf("hello %+v: want protocol %d and the worker's stamped version", h, worker.ProtocolVersion)
	}
}

// TestNoDeadlineConfiguration runs the deadline case on wazero's
// no-deadline configuration in a real worker: the worker reports the
// configuration, and the case is unsupported with the reason the report
// uses, without running the loop (which would stall the worker at its next
// garbage collection: wazero's compiled loop cannot be preempted).
func TestNoDeadlineConfiguration(t *testing.T) {
	root, err := workerbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	bin, err := workerbin.Build(ctx, workerbin.GoTool(), root, "wazero", dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := runner.StartClient(ctx, "wazero:no-deadline", bin)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if h := w.Hello(); h.Config != "no-deadline" || w.Engine() != "wazero:no-deadline" {
		t.Errorf("hello %+v, engine %q: want configuration no-deadline", h, w.Engine())
	}
	for _, c := range results.InterruptCases {
		r := runner.RunCase(ctx, w, runner.SuiteArgs{Case: c, TempDir: filepath.Join(dir, "cases"), DeadlineMS: 100})
		if r.Outcome != results.Unsupported || !strings.Contains(r.Detail, engines.NoDeadlineReason) || !strings.Contains(r.Detail, "not run: ") {
			t.Errorf("%s: %s: %s; want unsupported: %s, and why the loop is not run", c, r.Outcome, r.Detail, engines.NoDeadlineReason)
		}
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}
