package wazero_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/baselinetest"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines/wazero"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, wazero.Open, conformance.EngineName(wazero.Name))
}

func TestPinnedVersionMatchesGoMod(t *testing.T) {
	eng, err := wazero.Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	if got, want := eng.Info().Version, engines.RequiredVersion("github.com/tetratelabs/wazero"); got != want || want == "" {
		t.Errorf("engine reports version %q, go.mod requires %q", got, want)
	}
}

func TestBaseline(t *testing.T) {
	baselinetest.Run(t, wazero.Open)
}

func BenchmarkBaseline(b *testing.B) {
	baselinetest.Benchmark(b, wazero.Open)
}

// TestNoDeadline checks what Config.NoDeadline changes: interruption is
// reported unsupported, in the words the report uses, and the notes say so;
// the default has it.
func TestNoDeadline(t *testing.T) {
	ctx := context.Background()
	for _, noDeadline := range []bool{false, true} {
		eng, err := wazero.Open(engines.Config{NoDeadline: noDeadline})
		if err != nil {
			t.Fatal(err)
		}
		why := engines.Unsupported(eng, engines.FeatureInterrupt)
		stall := engines.Unsupported(eng, engines.FeatureRunawayContained)
		notes := eng.Info().Notes
		eng.Close(ctx)
		switch {
		case !noDeadline && why != "":
			t.Errorf("default: interrupt unsupported: %s", why)
		case noDeadline && why != engines.NoDeadlineReason:
			t.Errorf("no-deadline: interrupt unsupported reason %q, want %q", why, engines.NoDeadlineReason)
		case noDeadline && !strings.Contains(notes, engines.NoDeadlineReason):
			t.Errorf("no-deadline: notes %q do not say so", notes)
		case noDeadline && stall == "":
			t.Error("no-deadline: a looping guest is reported contained, but the Go runtime cannot preempt it")
		case !noDeadline && stall != "":
			t.Errorf("default: runaway reported uncontained: %s", stall)
		}
	}
}

// TestNoDeadlineBaseline runs the engine-API baseline in the no-deadline
// configuration, which must build its runtime the same way.
func TestNoDeadlineBaseline(t *testing.T) {
	baselinetest.Run(t, func(cfg engines.Config) (engines.Engine, error) {
		cfg.NoDeadline = true
		return wazero.Open(cfg)
	})
}

// TestCompileWorkersInNotes checks that the compilation parallelism is
// recorded: GOMAXPROCS by default, Config.CompileWorkers when set.
func TestCompileWorkersInNotes(t *testing.T) {
	for cfg, want := range map[engines.Config]string{
		{}:                  "compiles on " + strconv.Itoa(runtime.GOMAXPROCS(0)) + " workers (GOMAXPROCS)",
		{CompileWorkers: 1}: "compiles on 1 worker (Config.CompileWorkers)",
	} {
		eng, err := wazero.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if eng.Info().Mode == "compiler" && !strings.Contains(eng.Info().Notes, want) {
			t.Errorf("%+v: notes %q lack %q", cfg, eng.Info().Notes, want)
		}
		eng.Close(context.Background())
	}
}
