package sightglass

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/results"
)

// Phases of a run, as figure names say them (defined in results, which the
// report reads without this package).
const (
	PhaseCompile     = results.PhaseCompile
	PhaseInstantiate = results.PhaseInstantiate
	PhaseExecute     = results.PhaseExecute
)

// Keys of a Sightglass figure's name:
// Sightglass/program=<name>/phase=<phase>.
const (
	KeyProgram = results.KeyProgram
	KeyPhase   = results.KeyPhase
)

// FigureName is the name of one phase's figure of a program.
func FigureName(program, phase string) string { return results.SightglassName(program, phase) }

// Result is one run of a program on an engine.
type Result struct {
	Outcome results.Outcome `json:"outcome"`
	// Detail says why a run failed or is unsupported: the engine's error,
	// the exit code, or the first difference in output.
	Detail string `json:"detail,omitempty"`
	// Compile and Instantiate are the engine's phases; Execute the time
	// between bench.start and bench.end, when the guest called both.
	Compile     time.Duration `json:"compile_ns"`
	Instantiate time.Duration `json:"instantiate_ns"`
	Execute     time.Duration `json:"execute_ns"`
	HasExecute  bool          `json:"has_execute"`
}

// Samples returns the figures of a passing run: one sample per phase, in
// seconds per op.
func (r Result) Samples(program string) []results.Sample {
	if r.Outcome != results.Pass {
		return nil
	}
	s := func(phase string, d time.Duration) results.Sample {
		return results.Sample{Name: FigureName(program, phase), Iters: 1,
			Values: []results.Value{{Value: d.Seconds(), Unit: "sec/op"}}}
	}
	out := []results.Sample{s(PhaseCompile, r.Compile), s(PhaseInstantiate, r.Instantiate)}
	if r.HasExecute {
		out = append(out, s(PhaseExecute, r.Execute))
	}
	return out
}

// Run runs p once on eng, from scratch, as Sightglass runs one iteration:
// the bytes are read before any timer starts; compile, instantiate and the
// code between bench.start and bench.end are timed apart; the output is then
// checked.
//
// # Notes
//
// An engine that cannot compile or link the program (an unsupported
// proposal, a missing WASI function) gives results.Unsupported with its
// error. A trap, an exit code other than 0, bench.end without bench.start,
// or output that differs from the expected files give results.Fail. A guest
// that calls bench.start but never bench.end (two of Sightglass's libsodium
// programs) passes without an execute figure, as in Sightglass.
func Run(ctx context.Context, eng engines.Engine, p Program) Result {
	wasm, err := os.ReadFile(p.Wasm)
	if err != nil {
		return Result{Outcome: results.Fail, Detail: err.Error()}
	}
	want := map[string]string{}
	for stream, file := range map[string]string{"stdout": p.Stdout, "stderr": p.Stderr} {
		if file == "" {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return Result{Outcome: results.Fail, Detail: err.Error()}
		}
		want[stream] = string(b)
	}
	var stdout, stderr bytes.Buffer
	var starts, ends int
	var t0, t1 time.Time
	var order error
	imports := map[string]map[string]func(){"bench": {
		"start": func() {
			starts++
			if starts > 1 && order == nil {
				order = errors.New("bench.start called twice")
			}
			t0 = time.Now()
		},
		"end": func() {
			t1 = time.Now()
			ends++
			if (starts != 1 || ends != 1) && order == nil {
				order = errors.New("bench.end called without a bench.start before it, or twice")
			}
		},
	}}
	cr, err := engines.RunCommand(ctx, eng, wasm, engines.CommandConfig{Dir: p.Dir, Stdout: &stdout, Stderr: &stderr, Imports: imports})
	r := Result{Outcome: results.Pass, Compile: cr.Compile, Instantiate: cr.Instantiate}
	switch {
	case err != nil && engines.IsUnsupported(err):
		return Result{Outcome: results.Unsupported, Detail: err.Error()}
	case err != nil:
		return Result{Outcome: results.Fail, Detail: err.Error() + tail(stderr.String())}
	case cr.ExitCode != 0:
		return Result{Outcome: results.Fail, Detail: fmt.Sprintf("exit code %d", cr.ExitCode) + tail(stderr.String())}
	case order != nil:
		return Result{Outcome: results.Fail, Detail: order.Error()}
	}
	if starts == 1 && ends == 1 {
		r.Execute, r.HasExecute = t1.Sub(t0), true
	}
	var diffs []string
	for _, s := range []struct{ stream, got string }{{"stdout", stdout.String()}, {"stderr", stderr.String()}} {
		if w, ok := want[s.stream]; ok {
			if d := Diff(s.stream, s.got, w); d != "" {
				diffs = append(diffs, d)
			}
		}
	}
	if len(diffs) > 0 {
		return Result{Outcome: results.Fail, Detail: strings.Join(diffs, "\n")}
	}
	return r
}

// tail returns the end of a guest's stderr for an error report.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > 400 {
		s = "…" + s[len(s)-400:]
	}
	return "; stderr: " + s
}
