package wasmtime_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/baselinetest"
	"github.com/kspbench/kspbench/engines/wasmtime"
)

func newBaseline(tb testing.TB, cfg engines.Config) engines.Baseline {
	tb.Helper()
	eng := open(tb, cfg)
	bl, ok := eng.(engines.Baseliner)
	if !ok {
		tb.Fatal("the wasmtime engine does not implement engines.Baseliner")
	}
	b, err := bl.Baseline(context.Background(), conformance.Guest("reference"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close(context.Background()) })
	return b
}

// TestBaseline runs the shared checks of engines.Baseliner on this engine.
func TestBaseline(t *testing.T) {
	baselinetest.Run(t, wasmtime.Open)
}

func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return p
}

func TestBaselinePulley(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles for Pulley")
	}
	ctx := context.Background()
	b := newBaseline(t, engines.Config{Interpreter: true})
	if err := b.CallHost(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if out, err := b.Echo(ctx, pattern(64)); err != nil || !bytes.Equal(out, pattern(64)) {
		t.Fatalf("Echo on Pulley: %x, %v", out, err)
	}
}

func TestBaselineRefusesOtherGuests(t *testing.T) {
	eng := open(t, engines.Config{})
	b, err := eng.(engines.Baseliner).Baseline(context.Background(), conformance.Guest("abi_v1"))
	if err == nil {
		b.Close(context.Background())
		t.Fatal("Baseline accepted a guest that is not the reference guest")
	}
}
