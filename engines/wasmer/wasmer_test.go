package wasmer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/baselinetest"
	"github.com/kspbench/kspbench/engines/wasmer"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, wasmer.Open, conformance.EngineName(wasmer.Name))
}

func TestPinnedVersionMatchesGoMod(t *testing.T) {
	eng, err := wasmer.Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	want := engines.RequiredVersion("github.com/wasmerio/wasmer-go")
	if want == "" || !strings.HasSuffix(eng.Info().Version, "(wasmer-go "+want+")") {
		t.Errorf("engine reports version %q, go.mod requires wasmer-go %q", eng.Info().Version, want)
	}
	t.Logf("%+v", eng.Info())
}

// TestSinglepass runs the reference guest and the engine-API baseline on the
// Singlepass variant where this libwasmer has it (x86-64), and checks that
// an unknown variant is refused.
func TestSinglepass(t *testing.T) {
	if _, err := wasmer.Open(engines.Config{Variant: "turbo"}); err == nil {
		t.Error("unknown variant accepted")
	}
	open := func(cfg engines.Config) (engines.Engine, error) {
		cfg.Variant = wasmer.VariantSinglepass
		return wasmer.Open(cfg)
	}
	eng, err := open(engines.Config{})
	if err != nil {
		t.Skip(err)
	}
	defer eng.Close(context.Background())
	if eng.Info().Mode != "singlepass" {
		t.Errorf("mode %q, want singlepass", eng.Info().Mode)
	}
	ctx := context.Background()
	mod, err := eng.Compile(ctx, conformance.Guest("reference"), engines.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	in, err := mod.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	stack := []uint64{1000}
	if err := in.Function("loop_n").Call(ctx, stack); err != nil || stack[0] != 1000*999/2 {
		t.Errorf("loop_n(1000) = %d, %v", stack[0], err)
	}
	baselinetest.Run(t, open)
}
