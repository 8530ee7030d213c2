package conformance_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/worker"
)

var (
	engineList = flag.String("engines", strings.Join(worker.AllEngines, ","), "engines to run the suite on, each in a worker process of its own")
	matrixDir  = flag.String("matrix", "", "folder for matrix.md and matrix.json; default reports/conformance in the source tree")
	caseFilter = flag.String("case", "", "run only the cases whose name contains this")
)

// caseTimeout bounds one case in a worker; past it the worker is killed and
// the case fails.
const caseTimeout = 3 * time.Minute

// TestConformance runs the whole suite on every engine, each engine in a
// worker process that links no other cgo engine, and writes the conformance
// matrix. Every subtest is named engine/case.
func TestConformance(t *testing.T) {
	root, err := conformance.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := context.Background()
	cm, err := conformance.BuildClusterMonitor(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Split(*engineList, ",")
	runs := make([]conformance.EngineRun, len(names))
	t.Cleanup(func() { // after every engine's parallel subtest
		m := conformance.Matrix{Runs: runs}
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

func runEngine(t *testing.T, ctx context.Context, root, engine, clusterMonitor, dir string) conformance.EngineRun {
	run := conformance.EngineRun{Engine: engine}
	bin, err := worker.Build(ctx, worker.GoTool(), root, engine, dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := worker.Start(ctx, worker.SpecFor(engine, bin))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	h := p.Hello()
	run.Version, run.Mode, run.Notes = h.Version, h.Mode, h.Notes
	t.Logf("%s worker pid %d: %s %s (%s) %s; cgo bindings linked: %v", engine, h.PID, h.Engine, h.Version, h.Mode, h.Notes, h.Linked)
	var cases []string
	if err := p.Call(ctx, "cases", nil, &cases); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	for _, name := range cases {
		if !strings.Contains(name, *caseFilter) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			r := runCase(ctx, p, name, conformanceArgs(name, clusterMonitor, filepath.Join(dir, "cases"), cache))
			run.Results = append(run.Results, r)
			switch r.Outcome {
			case conformance.Pass:
			case conformance.Unsupported:
				t.Skipf("%s: unsupported: %s", engine, r.Detail)
			default:
				t.Errorf("%s: %s", engine, r.Detail)
			}
		})
	}
	return run
}

func conformanceArgs(name, clusterMonitor, tmp, cache string) map[string]any {
	return map[string]any{"case": name, "cluster_monitor_dir": clusterMonitor, "temp_dir": tmp, "cache_dir": cache}
}

// runCase runs one case in the worker. A worker that dies fails the case with
// its signal and last output, and is restarted for the next case.
func runCase(ctx context.Context, p *worker.Process, name string, args map[string]any) conformance.Result {
	cctx, cancel := context.WithTimeout(ctx, caseTimeout)
	defer cancel()
	var r conformance.Result
	err := p.Call(cctx, "run", args, &r)
	var died *worker.DiedError
	switch {
	case errors.As(err, &died):
		return conformance.Result{Case: name, Outcome: conformance.Fail, Detail: died.Error()}
	case err != nil:
		return conformance.Result{Case: name, Outcome: conformance.Fail, Detail: err.Error()}
	}
	if r.Recycle {
		if err := p.Restart(ctx); err != nil {
			r.Outcome, r.Detail = conformance.Fail, "restart after the case: "+err.Error()
		}
	}
	return r
}

// TestCrashContainment proves that an engine that kills its process fails
// only the case it was running: the harness reports the signal and the
// worker's last output, restarts the worker, and the next case passes.
func TestCrashContainment(t *testing.T) {
	root, err := conformance.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	bin, err := worker.Build(ctx, worker.GoTool(), root, "wazero", dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := worker.Start(ctx, worker.SpecFor("wazero", bin, "KSPBENCH_TEST_FAULTS=1"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	firstPID := p.Hello().PID

	err = p.Call(ctx, "fault", "abort", nil)
	var died *worker.DiedError
	if !errors.As(err, &died) {
		t.Fatalf("abort: got %v, want a DiedError", err)
	}
	if died.Signal != "SIGABRT" || !strings.Contains(died.Tail, "test fault: abort") || died.Engine != "wazero" {
		t.Errorf("abort reported as %+v; want engine wazero, SIGABRT and the last output", died)
	}
	t.Logf("reported: %v", firstLine(died.Error()))

	r := runCase(ctx, p, "abi/echo-after-crash", conformanceArgs("abi/trap", "", filepath.Join(dir, "cases"), ""))
	if r.Outcome != conformance.Pass {
		t.Errorf("case after the crash: %+v", r)
	}
	if p.Hello().PID == firstPID {
		t.Errorf("worker was not restarted (pid %d)", firstPID)
	}

	hctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	err = p.Call(hctx, "fault", "hang", nil)
	if !errors.As(err, &died) || !died.Killed {
		t.Fatalf("hang: got %v, want a DiedError with Killed", err)
	}
	r = runCase(ctx, p, "abi/trap", conformanceArgs("abi/trap", "", filepath.Join(dir, "cases2"), ""))
	if r.Outcome != conformance.Pass {
		t.Errorf("case after a hung worker was killed: %+v", r)
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}
