package wasmtime_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/baselinetest"
	"github.com/kspbench/kspbench/engines/wasmtime"
	"github.com/kspbench/kspbench/internal/bench"
)

// The benchmarks compare the adapter with wasmtime-go used directly, on the
// reference guest: noop is the empty export call, call_host(n) makes n calls
// of host_get_config on a key no host has (NOT_FOUND). The adapter is timed
// without a context that can end and with one (as package plugin calls it,
// under its call deadline), which arms the epoch interruption.
//
// api=direct is the same adapter on the direct variant (Wasmtime's C API
// called by this package).
//
//	go test ./engines/wasmtime/ -run '^$' -bench . -count 6

func BenchmarkCallEmpty(b *testing.B) {
	b.Run("api=adapter", func(b *testing.B) {
		in := instantiate(b, open(b, engines.Config{}), conformance.Guest("reference"), &recorder{})
		fn := in.Function("noop")
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := fn.Call(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api=adapter-deadline", func(b *testing.B) {
		in := instantiate(b, open(b, engines.Config{}), conformance.Guest("reference"), &recorder{})
		fn := in.Function("noop")
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		b.ReportAllocs()
		for b.Loop() {
			if err := fn.Call(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api=direct", func(b *testing.B) {
		in := instantiate(b, open(b, direct), conformance.Guest("reference"), &recorder{})
		fn := in.Function("noop")
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := fn.Call(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api=direct-deadline", func(b *testing.B) {
		in := instantiate(b, open(b, direct), conformance.Guest("reference"), &recorder{})
		fn := in.Function("noop")
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		b.ReportAllocs()
		for b.Loop() {
			if err := fn.Call(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api=wasmtime-go", func(b *testing.B) {
		store, inst := rawInstance(b)
		fn := inst.GetFunc(store, "noop")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fn.Call(store); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkHostCall(b *testing.B) {
	const n = 100
	b.Run("api=adapter", func(b *testing.B) {
		in := instantiate(b, open(b, engines.Config{}), conformance.Guest("reference"), &recorder{})
		fn := in.Function("call_host")
		ctx := context.Background()
		stack := make([]uint64, 1)
		b.ReportAllocs()
		for b.Loop() {
			stack[0] = n
			if err := fn.Call(ctx, stack); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/hostcall")
	})
	b.Run("api=direct", func(b *testing.B) {
		in := instantiate(b, open(b, direct), conformance.Guest("reference"), &recorder{})
		fn := in.Function("call_host")
		ctx := context.Background()
		stack := make([]uint64, 1)
		b.ReportAllocs()
		for b.Loop() {
			stack[0] = n
			if err := fn.Call(ctx, stack); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/hostcall")
	})
	b.Run("api=wasmtime-go", func(b *testing.B) {
		store, inst := rawInstance(b)
		fn := inst.GetFunc(store, "call_host")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fn.Call(store, int32(n)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/hostcall")
	})
}

// BenchmarkEcho64 does, through the engines interfaces, what package plugin
// does for a handler call with a 64-byte body: allocate, write the body, call
// handle_echo, copy the response out, deallocate. Baseline/Echo64 and
// BaselineDirect/Echo64 are the same steps on each variant's own API.
func BenchmarkEcho64(b *testing.B) {
	for _, v := range variants {
		b.Run("api="+v.name, func(b *testing.B) {
			in := instantiate(b, open(b, engines.Config{Variant: v.variant}), conformance.Guest("reference"), &recorder{})
			body := baselinetest.Pattern(64)
			ctx := context.Background()
			alloc, echo, dealloc := in.Function("allocate"), in.Function("handle_echo"), in.Function("deallocate")
			mem := in.Memory()
			stack := make([]uint64, 2)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				stack[0] = uint64(len(body))
				if err := alloc.Call(ctx, stack); err != nil {
					b.Fatal(err)
				}
				ptr := uint32(stack[0])
				if !mem.Write(ptr, body) {
					b.Fatal("write")
				}
				stack[0], stack[1] = uint64(ptr), uint64(len(body))
				if err := echo.Call(ctx, stack); err != nil {
					b.Fatal(err)
				}
				rptr, rlen := abi.Unpack(stack[0])
				got, ok := mem.Read(rptr, rlen)
				if !ok || len(got) != len(body) {
					b.Fatal("read")
				}
				out := make([]byte, len(got))
				copy(out, got)
				stack[0], stack[1] = uint64(ptr), uint64(len(body))
				if err := dealloc.Call(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// rawInstance instantiates the reference guest with wasmtime-go alone: every
// env import defined with FuncNew; host_get_config reads its key from memory
// (the memory export looked up once) and answers NOT_FOUND, the rest answer
// zeros.
func rawInstance(b *testing.B) (*wt.Store, *wt.Instance) {
	b.Helper()
	cfg := wt.NewConfig()
	cfg.SetEpochInterruption(true)
	engine := wt.NewEngineWithConfig(cfg)
	linker := wt.NewLinker(engine)
	var memory *wt.Memory
	if err := linker.DefineWasi(); err != nil {
		b.Fatal(err)
	}
	for _, hf := range abi.HostFuncs {
		ty := wt.NewFuncType(rawTypes(hf.Type.Params), rawTypes(hf.Type.Results))
		results := hf.Type.Results
		var f func(*wt.Caller, []wt.Val) ([]wt.Val, *wt.Trap)
		if hf.Name == abi.ImportGetConfig {
			f = func(c *wt.Caller, args []wt.Val) ([]wt.Val, *wt.Trap) {
				mem := memory.UnsafeData(c)
				ptr, n := uint32(args[0].I32()), uint32(args[1].I32())
				if uint64(ptr)+uint64(n) > uint64(len(mem)) {
					return nil, wt.NewTrap("out of bounds")
				}
				_ = mem[ptr : ptr+n]
				return []wt.Val{wt.ValI64(int64(abi.PackStatus(abi.NotFound)))}, nil
			}
		} else {
			f = func(*wt.Caller, []wt.Val) ([]wt.Val, *wt.Trap) {
				out := make([]wt.Val, len(results))
				for i, r := range results {
					if r == abi.I64 {
						out[i] = wt.ValI64(0)
					} else {
						out[i] = wt.ValI32(0)
					}
				}
				return out, nil
			}
		}
		if err := linker.FuncNew(abi.ImportModule, hf.Name, ty, f); err != nil {
			b.Fatal(err)
		}
	}
	module, err := wt.NewModule(engine, conformance.Guest("reference"))
	if err != nil {
		b.Fatal(err)
	}
	store := wt.NewStore(engine)
	store.SetEpochDeadline(1 << 62)
	store.SetWasi(wt.NewWasiConfig())
	inst, err := linker.Instantiate(store, module)
	if err != nil {
		b.Fatal(err)
	}
	memory = inst.GetExport(store, abi.ExportMemory).Memory()
	b.Cleanup(func() {
		store.Close()
		module.Close()
		linker.Close()
		engine.Close()
	})
	return store, inst
}

func rawTypes(ts []abi.ValueType) []*wt.ValType {
	out := make([]*wt.ValType, len(ts))
	for i, t := range ts {
		switch t {
		case abi.I32:
			out[i] = wt.NewValType(wt.KindI32)
		case abi.I64:
			out[i] = wt.NewValType(wt.KindI64)
		default:
			panic("type " + strconv.Itoa(int(t)))
		}
	}
	return out
}

// BenchmarkBaseline times the engine's engines.Baseline, the floor the
// harness is measured against:
//
//	go test ./engines/wasmtime/ -run '^$' -bench Baseline -count 6
func BenchmarkBaseline(b *testing.B) {
	baselinetest.Benchmark(b, wasmtime.Open)
}

// BenchmarkBaselineDirect times the direct variant's engines.Baseline, the
// reference guest on Wasmtime's C API with no adapter code:
//
//	go test ./engines/wasmtime/ -run '^$' -bench BaselineDirect -count 6
func BenchmarkBaselineDirect(b *testing.B) {
	baselinetest.Benchmark(b, openVariant(wasmtime.VariantDirect))
}

// BenchmarkWorkloads runs every kspbench workload on wasmtime, harness and
// engine side by side:
//
//	go test ./engines/wasmtime/ -run '^$' -bench Workloads
func BenchmarkWorkloads(b *testing.B) {
	bench.Benchmarks(b, bench.TestConfig(b, wasmtime.Open))
}

// BenchmarkWorkloadsDirect runs every kspbench workload on the direct
// variant:
//
//	go test ./engines/wasmtime/ -run '^$' -bench WorkloadsDirect
func BenchmarkWorkloadsDirect(b *testing.B) {
	bench.Benchmarks(b, bench.TestConfig(b, openVariant(wasmtime.VariantDirect)))
}
