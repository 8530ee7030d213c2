package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/bench"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/internal/sightglass"
)

// opSightglass runs one Sightglass program once: SightglassArgs;
// sightglass.Result.
const opSightglass = "sightglass"

// SightglassArgs is the "sightglass" operation's argument.
type SightglassArgs struct {
	Program sightglass.Program `json:"program"`
}

// SightglassTimeout bounds one run of one program (compile, instantiate and
// execute); a worker that takes longer is ended and the program fails on it.
const SightglassTimeout = 5 * time.Minute

// sightglassWorker is a Worker that runs Sightglass programs. Client is one;
// a worker that is not cannot take part in the workload.
type sightglassWorker interface {
	Sightglass(ctx context.Context, a SightglassArgs) (sightglass.Result, error)
}

// Sightglass runs one program once on the worker's engine.
func (c *Client) Sightglass(ctx context.Context, a SightglassArgs) (sightglass.Result, error) {
	var r sightglass.Result
	err := c.Call(ctx, opSightglass, a, &r)
	return r, err
}

// sightglassOp is the worker's side of opSightglass. The engine is opened
// in the worker's configuration, and the run has a deadline armed as serve
// arms one (SightglassTimeout): the safe default measures guest compute as
// production would run it, with the machinery that can stop a runaway guest
// (wazero's checks in every loop header, wasmtime's epoch checks), and the
// no-deadline configuration measures it as Sightglass runs engines, without.
// The price-of-safety section sets the two side by side. A program that
// hangs where nothing can interrupt it is ended with its worker.
func sightglassOp(open func(engines.Config) (engines.Engine, error)) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a SightglassArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("sightglass: %w", err)
		}
		eng, err := open(engines.Config{})
		if err != nil {
			return nil, fmt.Errorf("sightglass: %w", err)
		}
		defer eng.Close(ctx)
		ctx, cancel := context.WithTimeout(ctx, SightglassTimeout)
		defer cancel()
		return sightglass.Run(ctx, eng, a.Program), nil
	}
}

// sightglassSet is the Sightglass workload of a run: its programs and what
// failed where.
type sightglassSet struct {
	run    results.SightglassRun
	progs  []sightglass.Program
	failed map[string]bool // engine + "\x00" + program
}

// sightglassWorkload is the workload's entry in the list of workloads; the
// runner drives it program by program (runSightglass).
var sightglassWorkload = bench.Workload{Name: results.Sightglass,
	Doc: "compile, instantiate and execute of WASI commands in Sightglass's layout (built-in kernels, or --sightglass DIR)"}

// prepareSightglass finds the workload's programs: those of o.Sightglass, or
// the built-in kernels written out under tmp (in a default run, without
// sightglass.OptInKernels), kept when --bench selects a figure of theirs.
func prepareSightglass(o Options, tmp string) (*sightglassSet, error) {
	dir, source := o.Sightglass, o.Sightglass
	builtin := dir == ""
	if builtin {
		dir, source = filepath.Join(tmp, "kernels"), "built-in kernels"
		if err := sightglass.WriteKernels(dir); err != nil {
			return nil, err
		}
	}
	progs, err := sightglass.Discover(dir)
	if err != nil {
		return nil, err
	}
	if builtin && o.Bench.pattern == "." {
		// A default run leaves out the opt-in kernels; --bench
		// Sightglass runs them.
		progs = slices.DeleteFunc(progs, func(p sightglass.Program) bool { return slices.Contains(sightglass.OptInKernels, p.Name) })
		source += " (without " + strings.Join(sightglass.OptInKernels, ", ") + ", which --bench Sightglass adds)"
	}
	progs = slices.DeleteFunc(progs, func(p sightglass.Program) bool {
		return !slices.ContainsFunc([]string{sightglass.PhaseCompile, sightglass.PhaseInstantiate, sightglass.PhaseExecute},
			func(phase string) bool { return o.Bench.matchFigure(sightglass.FigureName(p.Name, phase)) })
	})
	if len(progs) == 0 {
		return nil, fmt.Errorf("--bench %q selects none of the Sightglass programs in %s", o.Bench, source)
	}
	s := &sightglassSet{progs: progs, failed: map[string]bool{}, run: results.SightglassRun{Source: source}}
	for _, p := range progs {
		s.run.Programs = append(s.run.Programs, p.Name)
	}
	return s, nil
}

// runSightglass runs every program once on one engine, and returns the
// samples of those that passed. A program that fails, is unsupported or ends
// its worker is recorded and not run again on that engine; the worker is
// restarted and the run goes on.
func runSightglass(ctx context.Context, r *engineRun, s *sightglassSet, prog *Progress) ([]results.Sample, error) {
	w, ok := r.w.(sightglassWorker)
	if !ok {
		return nil, fmt.Errorf("the %s worker cannot run Sightglass programs", r.name)
	}
	var out []results.Sample
	for _, p := range s.progs {
		key := r.name + "\x00" + p.Name
		if s.failed[key] {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, SightglassTimeout)
		res, err := w.Sightglass(cctx, SightglassArgs{Program: p})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			if _, died := errDied(err); !died && !errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("sightglass %s: %w", p.Name, err)
			}
			res = sightglass.Result{Outcome: results.Fail, Detail: diedDetail(err)}
			if rerr := r.w.Restart(ctx); rerr != nil {
				return nil, fmt.Errorf("sightglass %s: %w; restart: %w", p.Name, err, rerr)
			}
		}
		if res.Outcome != results.Pass {
			s.failed[key] = true
			s.run.Failures = append(s.run.Failures, results.SightglassFailure{Engine: r.name, Program: p.Name,
				Outcome: res.Outcome, Detail: res.Detail})
			prog.logf("sightglass: %s %s on %s: %s", p.Name, res.Outcome, r.name, firstLine(res.Detail))
			continue
		}
		out = append(out, res.Samples(p.Name)...)
	}
	return out, nil
}

// diedDetail describes a worker that died running a program: the panic or
// fatal line of its last output first (such as Wasmer's "not implemented:
// Polling not implemented for clocks yet"), then the whole error.
func diedDetail(err error) string {
	d, ok := errDied(err)
	if !ok {
		return err.Error()
	}
	for _, line := range strings.Split(d.Tail, "\n") {
		if strings.Contains(line, "panicked at") || strings.HasPrefix(line, "fatal error") || strings.HasPrefix(line, "panic:") {
			return "worker died: " + strings.TrimSpace(line) + "\n" + err.Error()
		}
	}
	return err.Error()
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " …"
		}
	}
	return s
}
