package wasmer_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/baselinetest"
	"github.com/kspbench/kspbench/engines/wasmer"
)

func newBaseline(tb testing.TB, cfg engines.Config) engines.Baseline {
	return baselinetest.New(tb, func(c engines.Config) (engines.Engine, error) {
		c.Interpreter = cfg.Interpreter
		return wasmer.Open(c)
	})
}

// TestBaseline runs the shared checks of engines.Baseliner on this engine.
func TestBaseline(t *testing.T) {
	baselinetest.Run(t, wasmer.Open)
}

func TestBaselineRefusesOtherGuests(t *testing.T) {
	eng := open(t, engines.Config{})
	b, err := eng.(engines.Baseliner).Baseline(context.Background(), conformance.Guest("abi_v1"))
	if err == nil {
		b.Close(context.Background())
		t.Fatal("Baseline accepted a guest that is not the reference guest")
	}
}

// TestBaselineHostCallLeak measures what wasmer-go leaks per host call, a
// cost of the binding that the baseline keeps (see Baseline), and checks the
// premise of the adapter's own C trampoline: wasmer-go's host functions leak
// (about 70 bytes a call when measured), and by a bounded amount. A wasmer-go
// that stops leaking fails it, so the baseline's notes and RATIONALE.md get
// revisited.
func TestBaselineHostCallLeak(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/statm")
	}
	if testing.Short() {
		t.Skip("200,000 host calls")
	}
	ctx := context.Background()
	b := newBaseline(t, engines.Config{})
	if err := b.CallHost(ctx, 1000); err != nil { // warm up
		t.Fatal(err)
	}
	runtime.GC()
	before := rss(t)
	const n = 200_000
	for range n / 1000 {
		if err := b.CallHost(ctx, 1000); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	grew := rss(t) - before
	perCall := float64(grew) / n
	t.Logf("%d host calls of host_get_config (2 arguments, 1 result) through wasmer-go: resident memory %+d KiB, %.0f bytes a call",
		n, grew>>10, perCall)
	switch {
	case perCall < 8:
		t.Errorf("wasmer-go's host calls no longer leak (%.1f bytes a call): the baseline's notes and RATIONALE.md's reason for the trampoline are stale", perCall)
	case perCall > 4096:
		t.Errorf("%.0f bytes a call: far beyond the leak measured before (about 70); something else grows", perCall)
	}
}
