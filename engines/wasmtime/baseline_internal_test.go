package wasmtime

import (
	"context"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
)

// TestBaselineReadsTheKey checks that the baseline's host_get_config reads the
// key the reference guest passes: with that key present, call_host traps.
func TestBaselineReadsTheKey(t *testing.T) {
	ctx := context.Background()
	eng, err := Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	bl, err := eng.(*Engine).Baseline(ctx, conformance.Guest("reference"))
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close(ctx)
	if err := bl.CallHost(ctx, 5); err != nil {
		t.Fatal(err)
	}
	bl.(*baseline).config["kspbench.absent"] = []byte("present")
	if err := bl.CallHost(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := bl.CallHost(ctx, 1); err == nil {
		t.Fatal("call_host(1) succeeded with the key present: host_get_config did not read it")
	}
}
