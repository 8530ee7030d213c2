package wasmer

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
)

// TestBaselineReadsTheKey checks that the baseline's host_get_config reads the
// key the reference guest passes: with that key present, call_host fails.
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
	delete(bl.(*baseline).config, "kspbench.absent")
	if err := bl.CallHost(ctx, 1); err != nil {
		t.Fatalf("the error of an earlier call leaked into the next: %v", err)
	}
}

// TestBaselineCloseReleases checks that closed baselines are collected, with
// their wasmer Engines and the compiled code those map: the host functions
// hold the baseline from wasmer-go's global table, and the instance holds the
// host functions, so only Close breaking that cycle lets them go.
func TestBaselineCloseReleases(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the reference guest 100 times")
	}
	ctx := context.Background()
	eng, err := Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	cycle := func(n int) {
		for range n {
			bl, err := eng.(*Engine).Baseline(ctx, conformance.Guest("reference"))
			if err != nil {
				t.Fatal(err)
			}
			if err := bl.CallHost(ctx, 3); err != nil {
				t.Fatal(err)
			}
			bl.Close(ctx)
		}
		for range 4 { // finalizers free what the next cycle collects
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	}
	cycle(5) // warm up
	before := mappings(t)
	const n = 100
	cycle(n)
	grew := mappings(t) - before
	t.Logf("%d baselines made and closed: %+d memory mappings", n, grew)
	if grew > n/2 {
		t.Errorf("%d baselines made and closed left %d more memory mappings: they are not collected", n, grew)
	}
}
