package wasmer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
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
