package wasmtime_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wasmtime"
)

// The tests of what the direct variant's use of the C API could get wrong;
// the adapter tests that run on both variants (forVariants) and the
// conformance suite (TestConformanceDirect) cover the rest.

var direct = engines.Config{Variant: wasmtime.VariantDirect}

func TestVariants(t *testing.T) {
	eng, err := engines.Open(wasmtime.Name, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	if info := eng.Info(); info.Name != wasmtime.Name || info.Mode != "cranelift" || !strings.Contains(info.Notes, "variant direct") {
		t.Errorf("Info() = %+v, want name %q, mode cranelift, notes naming the variant", info, wasmtime.Name)
	}
	_, err = wasmtime.Open(engines.Config{Variant: "singlepass"})
	if err == nil || !strings.Contains(err.Error(), `"singlepass"`) || !strings.Contains(err.Error(), "direct") {
		t.Errorf("Open with an unknown variant: %v, want an error naming it and the known one", err)
	}
}

// closer is a recorder whose host_get_config closes the instance it is
// given, then answers NOT_FOUND.
type closer struct {
	recorder
	in engines.Instance
}

func (c *closer) GetConfig(ctx context.Context, key []byte) ([]byte, abi.Status) {
	c.in.Close(ctx)
	return nil, abi.NotFound
}

// TestCloseInsideHostCall closes the instance from inside its own host call.
// The guest is still on the store's stack: the store must outlive the call,
// the guest's next host call must trap instead of reaching a freed instance,
// and everything after must fail cleanly. (The binding variant crashed here
// with a nil dereference in wasmtime-go's trampoline before it deferred the
// store's deletion.)
func TestCloseInsideHostCall(t *testing.T) { forVariants(t, testCloseInsideHostCall) }

func testCloseInsideHostCall(t *testing.T, cfg engines.Config) {
	ctx := context.Background()
	mod := compile(t, open(t, cfg), conformance.Guest("reference"))
	for _, n := range []uint64{1, 5} {
		imp := &closer{}
		in, err := mod.Instantiate(ctx, imp)
		if err != nil {
			t.Fatal(err)
		}
		imp.in = in
		fn, mem := in.Function("call_host"), in.Memory()
		// call_host(1) returns normally after the host call that closed
		// the instance; call_host(5) makes four more host calls, which
		// find no instance and trap.
		err = fn.Call(ctx, []uint64{n})
		if err == nil {
			t.Fatalf("call_host(%d) that closed its instance succeeded", n)
		}
		if n > 1 && !errors.Is(err, engines.ErrTrap) {
			t.Errorf("call_host(%d): %v, want a trap", n, err)
		}
		if err := fn.Call(ctx, []uint64{1}); err == nil {
			t.Error("a call after Close succeeded")
		}
		if _, ok := mem.Read(0, 1); ok || mem.Size() != 0 {
			t.Error("memory still readable after Close")
		}
		if f := in.Function("noop"); f != nil {
			t.Error("Function after Close found a function")
		}
		if err := in.Close(ctx); err != nil {
			t.Error(err)
		}
	}
	// The engine and module are unharmed.
	in := instantiate(t, open(t, cfg), conformance.Guest("reference"), &recorder{})
	if got := callHandler(t, in, "handle_config", []byte("k")); string(got) != "value of k" {
		t.Errorf("handle_config after the closes answered %q", got)
	}
}

// TestDirectTrapInsideHostCall: allocate traps when a host import calls it
// (the guest's allocate is unreachable). The nested call's trap unwinds only
// to the host function, whose error then ends the outer call as a trap; the
// process, engine and a new instance carry on.
func TestDirectTrapInsideHostCall(t *testing.T) {
	ctx := context.Background()
	eng := open(t, direct)
	mod := compile(t, eng, conformance.Guest("alloc_trap"))
	for i := range 3 {
		in, err := mod.Instantiate(ctx, &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		err = in.Function("handle_reentrant").Call(ctx, make([]uint64, 2))
		if !errors.Is(err, engines.ErrTrap) || !errors.Is(err, abi.ErrAllocate) {
			t.Errorf("round %d: %v, want a trap wrapping abi.ErrAllocate", i, err)
		}
		// wasmtime leaves the store usable after a trap, so the same
		// instance answers a call that does not allocate.
		stack := []uint64{8, 3}
		if err := in.Function("handle_echo").Call(ctx, stack); err != nil || stack[0] != abi.Pack(8, 3) {
			t.Errorf("round %d: handle_echo after the trap: %#x, %v", i, stack[0], err)
		}
		in.Close(ctx)
	}
}

// TestDirectHostPanicLeavesInstanceUsable: a Go panic in a host function
// becomes a trap (TestHostPanicIsTrap), and the instance's host-call state is
// restored, so the next calls, with and without host calls, work.
func TestDirectHostPanicLeavesInstanceUsable(t *testing.T) {
	ctx := context.Background()
	imp := &recorder{panics: true}
	in := instantiate(t, open(t, direct), conformance.Guest("reference"), imp)
	for range 3 {
		in.Memory().Write(64, []byte("key"))
		if err := in.Function("handle_config").Call(ctx, []uint64{64, 3}); !errors.Is(err, engines.ErrTrap) {
			t.Fatalf("panicking import: %v, want a trap", err)
		}
	}
	imp.panics = false
	for range 3 {
		if got := callHandler(t, in, "handle_config", []byte("greeting")); string(got) != "value of greeting" {
			t.Fatalf("handle_config after panics answered %q", got)
		}
		if got := callHandler(t, in, "handle_echo", []byte("echo")); string(got) != "echo" {
			t.Fatalf("handle_echo after panics answered %q", got)
		}
	}
}

// gcImports collects garbage, and makes some, inside every host call.
type gcImports struct{ recorder }

var sink []byte

func (g *gcImports) GetConfig(ctx context.Context, key []byte) ([]byte, abi.Status) {
	sink = make([]byte, 1<<16)
	runtime.GC()
	return g.recorder.GetConfig(ctx, key)
}

// TestDirectGCDuringCalls runs the garbage collector inside host calls and,
// on another goroutine, throughout calls on several goroutines: nothing the
// C side holds may be Go memory the collector moves or frees.
func TestDirectGCDuringCalls(t *testing.T) {
	ctx := context.Background()
	eng := open(t, direct)
	mod := compile(t, eng, conformance.Guest("reference"))
	in, err := mod.Instantiate(ctx, &gcImports{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	for i := range 20 {
		key := []byte(strings.Repeat("k", i+1))
		if got := callHandler(t, in, "handle_config", key); string(got) != "value of "+string(key) {
			t.Fatalf("call %d answered %q", i, got)
		}
	}
	stop := make(chan struct{})
	var gc sync.WaitGroup
	gc.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			in, err := mod.Instantiate(ctx, &recorder{})
			if err != nil {
				errs <- err
				return
			}
			defer in.Close(ctx)
			body := bytes.Repeat([]byte{byte('a' + g)}, 100)
			for range 500 {
				mem := in.Memory()
				mem.Write(64, body)
				stack := []uint64{64, uint64(len(body))}
				if err := in.Function("handle_config").Call(ctx, stack); err != nil {
					errs <- err
					return
				}
				ptr, n := abi.Unpack(stack[0])
				got, ok := mem.Read(ptr, n)
				if !ok || string(got) != "value of "+string(body) {
					errs <- errors.New("wrong answer under GC")
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	gc.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// numbers exports functions of every numeric type, to check that the raw
// values of wasmtime_func_call_unchecked carry them as the binding's boxed
// values do.
const numbersWat = `(module
  (memory (export "memory") 1)
  (func (export "i32") (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
  (func (export "i64") (param i64 i64) (result i64) (i64.sub (local.get 0) (local.get 1)))
  (func (export "f32") (param f32 f32) (result f32) (f32.sub (local.get 0) (local.get 1)))
  (func (export "f64") (param f64 f64) (result f64) (f64.sub (local.get 0) (local.get 1)))
  (func (export "mixed") (param i32 i64 f32 f64) (result f64 i32 i64 f32)
    (local.get 3) (local.get 0) (local.get 1) (local.get 2))
  (func (export "none"))
  (func (export "ref") (param externref) (result i32) (i32.const 1)))`

func TestNumbersOnBothVariants(t *testing.T) {
	wasm, err := wt.Wat2Wasm(numbersWat)
	if err != nil {
		t.Fatal(err)
	}
	f32 := func(f float32) uint64 { return uint64(math.Float32bits(f)) }
	f64 := func(f float64) uint64 { return math.Float64bits(f) }
	cases := []struct {
		fn        string
		in, want  []uint64
		stackSize int
	}{
		{"i32", []uint64{1, 3}, []uint64{uint64(uint32(0xfffffffe))}, 2},
		{"i32", []uint64{0xffffffff00000005, 2}, []uint64{3}, 2}, // only the low 32 bits count
		{"i64", []uint64{1, 3}, []uint64{uint64(math.MaxUint64 - 1)}, 2},
		{"f32", []uint64{f32(1.5), f32(4)}, []uint64{f32(-2.5)}, 2},
		{"f64", []uint64{f64(1.5), f64(4)}, []uint64{f64(-2.5)}, 2},
		{"mixed", []uint64{7, 1 << 40, f32(0.5), f64(-3)}, []uint64{f64(-3), 7, 1 << 40, f32(0.5)}, 4},
		{"none", nil, nil, 0},
	}
	forVariants(t, func(t *testing.T, cfg engines.Config) {
		in := instantiate(t, open(t, cfg), wasm, &recorder{})
		for _, c := range cases {
			stack := make([]uint64, c.stackSize)
			copy(stack, c.in)
			if err := in.Function(c.fn).Call(context.Background(), stack); err != nil {
				t.Errorf("%s: %v", c.fn, err)
				continue
			}
			if !slices.Equal(stack[:len(c.want)], c.want) {
				t.Errorf("%s(%#x) = %#x, want %#x", c.fn, c.in, stack[:len(c.want)], c.want)
			}
		}
		if err := in.Function("ref").Call(context.Background(), make([]uint64, 1)); err == nil {
			t.Error("a call with a reference parameter succeeded")
		}
	})
}

// TestDirectNoDeadline: without epoch interruption calls still work, and the
// engine says it cannot end a running call.
func TestDirectNoDeadline(t *testing.T) {
	cfg := direct
	cfg.NoDeadline = true
	cfg.CompileWorkers = 1
	eng := open(t, cfg)
	if why := engines.Unsupported(eng, engines.FeatureInterrupt); why == "" {
		t.Error("NoDeadline engine claims it can interrupt calls")
	}
	if !strings.Contains(eng.Info().Notes, "one thread") {
		t.Errorf("Info.Notes %q does not say it compiles on one thread", eng.Info().Notes)
	}
	in := instantiate(t, eng, conformance.Guest("reference"), &recorder{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if got := callHandlerCtx(t, ctx, in, "handle_config", []byte("x")); string(got) != "value of x" {
		t.Errorf("handle_config answered %q", got)
	}
}

// TestDirectSharesTheBindingsCache: both variants compile the same code for
// the same settings, so one's cache entry serves the other.
func TestDirectSharesTheBindingsCache(t *testing.T) {
	dir := t.TempDir()
	wasm := conformance.Guest("reference")
	compile(t, open(t, engines.Config{CacheDir: dir}), wasm)
	cfg := direct
	cfg.CacheDir = dir
	in := instantiate(t, open(t, cfg), wasm, &recorder{})
	if got := callHandler(t, in, "handle_echo", []byte("shared")); string(got) != "shared" {
		t.Errorf("echo: %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("cache holds %d entries, want the one both variants use", len(entries))
	}
}

// TestDirectPulley runs the direct variant on the Pulley interpreter.
func TestDirectPulley(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles for Pulley")
	}
	cfg := direct
	cfg.Interpreter = true
	eng := open(t, cfg)
	if eng.Info().Mode != "pulley" {
		t.Fatalf("Mode %q, want pulley: %s", eng.Info().Mode, eng.Info().Notes)
	}
	in := instantiate(t, eng, conformance.Guest("reference"), &recorder{})
	if got := callHandler(t, in, "handle_config", []byte("p")); string(got) != "value of p" {
		t.Errorf("handle_config on Pulley answered %q", got)
	}
}
