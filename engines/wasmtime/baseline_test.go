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
	return baselinetest.New(tb, func(c engines.Config) (engines.Engine, error) {
		c.Interpreter = cfg.Interpreter
		return wasmtime.Open(c)
	})
}

// TestBaseline runs the shared checks of engines.Baseliner on this engine.
func TestBaseline(t *testing.T) {
	baselinetest.Run(t, wasmtime.Open)
}

// TestBaselineDirect runs the shared checks on the direct variant's
// Baseliner, which uses the C API.
func TestBaselineDirect(t *testing.T) {
	baselinetest.Run(t, openVariant(wasmtime.VariantDirect))
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
	if out, err := b.Echo(ctx, baselinetest.Pattern(64)); err != nil || !bytes.Equal(out, baselinetest.Pattern(64)) {
		t.Fatalf("Echo on Pulley: %x, %v", out, err)
	}
}

func TestBaselineRefusesOtherGuests(t *testing.T) { forVariants(t, testBaselineRefusesOtherGuests) }

func testBaselineRefusesOtherGuests(t *testing.T, cfg engines.Config) {
	eng := open(t, cfg)
	b, err := eng.(engines.Baseliner).Baseline(context.Background(), conformance.Guest("abi_v1"))
	if err == nil {
		b.Close(context.Background())
		t.Fatal("Baseline accepted a guest that is not the reference guest")
	}
}
