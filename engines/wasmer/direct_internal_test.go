package wasmer

import (
	"context"
	"runtime"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
)

// BenchmarkDirectCall measures what a wasmer direct variant would save on an
// export call: the reference guest's noop through wasmer-go's binding (the
// baseline's NativeFunction), through wasm_func_call with preallocated
// empty value vectors (one cgo call per call), and through wasm_func_call
// in a loop inside C (wasmer's own entry, no cgo). RATIONALE.md, "wasmer
// has no direct variant (yet)", reports the medians.
func BenchmarkDirectCall(b *testing.B) {
	ctx := context.Background()
	eng, err := Open(engines.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close(ctx)
	bl, err := eng.(*Engine).Baseline(ctx, conformance.Guest("reference"))
	if err != nil {
		b.Fatal(err)
	}
	defer bl.Close(ctx)
	in := bl.(*baseline).inst
	noop, err := in.Exports.GetRawFunction("noop")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("via=binding", func(b *testing.B) {
		for b.Loop() {
			if err := bl.Noop(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("via=wasm_func_call", func(b *testing.B) {
		for b.Loop() {
			if err := callEmptyDirect(noop, 1); err != nil {
				b.Fatal(err)
			}
		}
		runtime.KeepAlive(in)
	})
	b.Run("via=wasm_func_call-loop-in-C", func(b *testing.B) {
		const batch = 100
		n := 0
		for b.Loop() {
			if n%batch == 0 {
				if err := callEmptyDirect(noop, batch); err != nil {
					b.Fatal(err)
				}
			}
			n++
		}
		runtime.KeepAlive(in)
	})
}

// TestDirectCall checks that the benchmark's direct call reaches wasmer.
func TestDirectCall(t *testing.T) {
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
	in := bl.(*baseline).inst
	noop, err := in.Exports.GetRawFunction("noop")
	if err != nil {
		t.Fatal(err)
	}
	if err := callEmptyDirect(noop, 3); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(in)
}
