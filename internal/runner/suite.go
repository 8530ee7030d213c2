package runner

import (
	"context"
	"path/filepath"
	"time"

	"github.com/kspbench/kspbench/internal/results"
)

// CaseTimeout bounds one conformance case in a worker; past it the worker is
// killed and the case fails.
const CaseTimeout = 3 * time.Minute

// SuiteOptions say where a worker's conformance cases find their inputs.
type SuiteOptions struct {
	// PluginDir is the built cluster-monitor plugin folder.
	PluginDir string
	// TempDir holds the cases' folders and their shared cache.
	TempDir string
	// Filter, when set, runs only the cases it accepts.
	Filter func(name string) bool
	// OnCase, when set, is called before each case runs.
	OnCase func(name string)
	// OnResult, when set, is called after each case with its result.
	OnResult func(r results.CaseResult)
}

// RunSuite runs the conformance suite on one worker, case by case, and
// returns the engine's column of the matrix. A worker that dies or overruns
// CaseTimeout fails the case with its signal and last output and is
// restarted for the next; a case that leaves a runaway guest behind
// (Recycle) restarts the worker after it.
func RunSuite(ctx context.Context, w Worker, o SuiteOptions) (results.EngineRun, error) {
	h := w.Hello()
	run := results.EngineRun{Engine: w.Engine(), Version: h.Version, Mode: h.Mode, Notes: h.Notes}
	cases, err := w.Cases(ctx)
	if err != nil {
		return run, err
	}
	for _, name := range cases {
		if o.Filter != nil && !o.Filter(name) {
			continue
		}
		if o.OnCase != nil {
			o.OnCase(name)
		}
		r := runCase(ctx, w, SuiteArgs{Case: name, ClusterMonitorDir: o.PluginDir,
			TempDir: filepath.Join(o.TempDir, "cases"), CacheDir: filepath.Join(o.TempDir, "cache")})
		if r.Recycle {
			if err := w.Restart(ctx); err != nil {
				r.Outcome, r.Detail = results.Fail, "restart after the case: "+err.Error()
			}
		}
		run.Results = append(run.Results, r)
		if o.OnResult != nil {
			o.OnResult(r)
		}
	}
	return run, nil
}

// RunCase runs one case on a worker, as RunSuite does.
func RunCase(ctx context.Context, w Worker, a SuiteArgs) results.CaseResult {
	r := runCase(ctx, w, a)
	if r.Recycle {
		if err := w.Restart(ctx); err != nil {
			r.Outcome, r.Detail = results.Fail, "restart after the case: "+err.Error()
		}
	}
	return r
}

func runCase(ctx context.Context, w Worker, a SuiteArgs) results.CaseResult {
	cctx, cancel := context.WithTimeout(ctx, CaseTimeout)
	defer cancel()
	r, err := w.RunCase(cctx, a)
	if died, ok := errDied(err); ok {
		return results.CaseResult{Case: a.Case, Outcome: results.Fail, Detail: died.Error()}
	}
	if err != nil {
		return results.CaseResult{Case: a.Case, Outcome: results.Fail, Detail: err.Error()}
	}
	return r
}
