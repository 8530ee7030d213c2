package wasmer_test

import (
	"context"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/baselinetest"
	"github.com/kspbench/kspbench/engines/wasmer"
	"github.com/kspbench/kspbench/internal/bench"
	wasmergo "github.com/wasmerio/wasmer-go/wasmer"
)

// benchWAT exports an empty function and one that calls an import once,
// host_request_info, which the benchmark's imports answer with NOT_FOUND
// (no allocation in the guest).
const benchWAT = `(module
  (import "env" "host_request_info" (func $info (result i64)))
  (memory (export "memory") 1)
  (func (export "noop"))
  (func (export "call_host") (drop (call $info))))`

// BenchmarkCall compares an empty export call through the adapter with the
// same call made with wasmer-go directly.
func BenchmarkCall(b *testing.B) {
	b.Run("adapter", func(b *testing.B) { benchAdapter(b, "noop") })
	b.Run("wasmer-go", func(b *testing.B) { benchDirect(b, "noop") })
}

// BenchmarkHostCall compares a guest call into one host import (the export
// call included) through the adapter with wasmer-go's own host functions.
func BenchmarkHostCall(b *testing.B) {
	b.Run("adapter", func(b *testing.B) { benchAdapter(b, "call_host") })
	b.Run("wasmer-go", func(b *testing.B) { benchDirect(b, "call_host") })
}

func benchAdapter(b *testing.B, export string) {
	ctx := context.Background()
	in := instantiate(b, compile(b, open(b, engines.Config{}), wat(b, benchWAT), 0), &fakeImports{})
	fn := in.Function(export)
	var stack [1]uint64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := fn.Call(ctx, stack[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDirect(b *testing.B, export string) {
	store := wasmergo.NewStore(wasmergo.NewEngine())
	mod, err := wasmergo.NewModule(store, wat(b, benchWAT))
	if err != nil {
		b.Fatal(err)
	}
	imports := wasmergo.NewImportObject()
	info := wasmergo.NewFunctionWithEnvironment(store,
		wasmergo.NewFunctionType(nil, wasmergo.NewValueTypes(wasmergo.I64)), nil,
		func(any, []wasmergo.Value) ([]wasmergo.Value, error) {
			return []wasmergo.Value{wasmergo.NewI64(int64(1))}, nil
		})
	imports.Register("env", map[string]wasmergo.IntoExtern{"host_request_info": info})
	in, err := wasmergo.NewInstance(mod, imports)
	if err != nil {
		b.Fatal(err)
	}
	fn, err := in.Exports.GetFunction(export)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	in.Close()
	mod.Close()
	store.Close()
}

// BenchmarkInstantiate measures instantiating the conformance suite's
// reference guest (seven host imports, no WASI) and closing the instance.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	mod := compile(b, open(b, engines.Config{}), conformance.Guest("reference"), 0)
	imp := &fakeImports{}
	b.ReportAllocs()
	for b.Loop() {
		in, err := mod.Instantiate(ctx, imp)
		if err != nil {
			b.Fatal(err)
		}
		in.Close(ctx)
	}
}

// BenchmarkBaseline times the engine's engines.Baseline, the floor the
// harness is measured against:
//
//	go test ./engines/wasmer/ -run '^$' -bench Baseline -count 6
func BenchmarkBaseline(b *testing.B) {
	baselinetest.Benchmark(b, wasmer.Open)
}

// BenchmarkWorkloads runs every kspbench workload on wasmer, harness and
// engine side by side:
//
//	go test ./engines/wasmer/ -run '^$' -bench Workloads
func BenchmarkWorkloads(b *testing.B) {
	bench.Benchmarks(b, bench.TestConfig(b, wasmer.Open))
}
