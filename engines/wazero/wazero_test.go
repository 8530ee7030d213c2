package wazero_test

import (
	"context"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/baselinetest"
	"testing"

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
