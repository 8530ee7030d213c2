package wasmtime_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/baselinetest"
	"github.com/kspbench/kspbench/engines/wasmtime"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, wasmtime.Open, conformance.EngineName(wasmtime.Name))
}

// TestConformanceDirect runs the suite on the direct variant.
func TestConformanceDirect(t *testing.T) {
	conformance.Run(t, openVariant(wasmtime.VariantDirect), conformance.EngineName(wasmtime.Name))
}

// TestConformancePulley runs the suite on Wasmtime's Pulley interpreter,
// which engines.Config.Interpreter selects, except plugin/memory-bounded:
// 20,000 and more calls of the interpreted Go plugin take about a minute.
func TestConformancePulley(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the cluster-monitor plugin once more; skipped in -short mode")
	}
	cfg := conformance.TestConfig(t, wasmtime.Name, func(cfg engines.Config) (engines.Engine, error) {
		cfg.Interpreter = true
		eng, err := wasmtime.Open(cfg)
		if err == nil && eng.Info().Mode != "pulley" {
			eng.Close(context.Background())
			return nil, errors.New("Interpreter did not select Pulley: " + eng.Info().Notes)
		}
		return eng, err
	})
	for _, c := range conformance.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if c.Name == "plugin/memory-bounded" {
				t.Skip("too slow on the interpreter")
			}
			r := conformance.RunCase(context.Background(), cfg, c)
			switch r.Outcome {
			case conformance.Fail:
				t.Error(r.Detail)
			case conformance.Unsupported:
				t.Error("unsupported: " + r.Detail)
			}
		})
	}
}

func TestPinnedVersionMatchesGoMod(t *testing.T) { forVariants(t, testPinnedVersionMatchesGoMod) }

func testPinnedVersionMatchesGoMod(t *testing.T, cfg engines.Config) {
	eng := open(t, cfg)
	if got, want := eng.Info().Version, engines.RequiredVersion("github.com/bytecodealliance/wasmtime-go/v39"); got != want || want == "" {
		t.Errorf("engine reports version %q, go.mod requires %q", got, want)
	}
}

func TestRegistered(t *testing.T) { forVariants(t, testRegistered) }

func testRegistered(t *testing.T, cfg engines.Config) {
	eng, err := engines.Open(wasmtime.Name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	if info := eng.Info(); info.Name != wasmtime.Name || info.Mode != "cranelift" {
		t.Errorf("Info() = %+v, want name %q, mode cranelift", info, wasmtime.Name)
	}
}

// TestTwoEngines binds the host imports on two engines of one process and
// calls them on both. A wt.FuncType shared between engines would abort the
// process on the second engine's first use.
func TestTwoEngines(t *testing.T) { forVariants(t, testTwoEngines) }

func testTwoEngines(t *testing.T, cfg engines.Config) {
	ctx := context.Background()
	for i := range 2 {
		eng := open(t, cfg)
		in := instantiate(t, eng, conformance.Guest("reference"), &recorder{})
		got := callHandler(t, in, "handle_config", []byte("greeting"))
		if want := "value of greeting"; string(got) != want {
			t.Errorf("engine %d: handle_config answered %q, want %q", i, got, want)
		}
		// Both engines must stay usable while the other exists.
		defer func() {
			got := callHandler(t, in, "handle_log", []byte("still here"))
			if len(got) != 0 {
				t.Errorf("engine %d: handle_log answered %q", i, got)
			}
			in.Close(ctx)
		}()
	}
}

// TestCancelOnlyOne runs two endless calls on two instances of one engine at
// once and cancels one: only that one may end; the other runs on until its
// own context is cancelled. Both share the engine's epoch, which the first
// cancellation ticks.
func TestCancelOnlyOne(t *testing.T) { forVariants(t, testCancelOnlyOne) }

func testCancelOnlyOne(t *testing.T, cfg engines.Config) {
	eng := open(t, cfg)
	mod := compile(t, eng, conformance.Guest("edge"))
	type run struct {
		cancel context.CancelFunc
		done   chan error
	}
	var runs [2]run
	for i := range runs {
		in, err := mod.Instantiate(context.Background(), &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close(context.Background())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		runs[i] = run{cancel, make(chan error, 1)}
		fn := in.Function("handle_loop")
		go func() {
			var stack [2]uint64
			runs[i].done <- fn.Call(ctx, stack[:])
		}()
	}
	time.Sleep(50 * time.Millisecond) // both are looping
	runs[0].cancel()
	select {
	case err := <-runs[0].done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled call ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled call still running after 10s")
	}
	select {
	case err := <-runs[1].done:
		t.Fatalf("the call that was not cancelled ended too: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	runs[1].cancel()
	select {
	case err := <-runs[1].done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("second call ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second call still running 10s after its cancellation")
	}
}

// TestInstanceReusableAfterDoneContexts checks that a call whose context
// ended after it returned does not disturb the instance's later calls, with
// or without a context that can end.
func TestInstanceReusableAfterDoneContexts(t *testing.T) {
	forVariants(t, testInstanceReusableAfterDoneContexts)
}

func testInstanceReusableAfterDoneContexts(t *testing.T, cfg engines.Config) {
	eng := open(t, cfg)
	in := instantiate(t, eng, conformance.Guest("edge"), &recorder{})
	for i := range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		got := callHandlerCtx(t, ctx, in, "handle_ok", nil)
		cancel()
		if string(got) != "ok" {
			t.Fatalf("call %d answered %q", i, got)
		}
		if got := callHandler(t, in, "handle_ok", nil); string(got) != "ok" {
			t.Fatalf("call %d without deadline answered %q", i, got)
		}
	}
	// A context already done never enters the guest.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stack [2]uint64
	if err := in.Function("handle_ok").Call(ctx, stack[:]); !errors.Is(err, context.Canceled) {
		t.Errorf("call with a cancelled context: %v, want context.Canceled", err)
	}
	if got := callHandler(t, in, "handle_ok", nil); string(got) != "ok" {
		t.Errorf("call after a refused one answered %q", got)
	}
}

// TestHostErrorIsWrapped checks that a host function's error comes back from
// the guest's call wrapping both ErrTrap and the error itself.
func TestHostErrorIsWrapped(t *testing.T) { forVariants(t, testHostErrorIsWrapped) }

func testHostErrorIsWrapped(t *testing.T, cfg engines.Config) {
	eng := open(t, cfg)
	in := instantiate(t, eng, conformance.Guest("edge"), &recorder{})
	var stack [2]uint64
	err := in.Function("handle_bad_import_ptr").Call(context.Background(), stack[:])
	if !errors.Is(err, engines.ErrTrap) || !errors.Is(err, abi.ErrOutOfBounds) {
		t.Errorf("got %v, want an error wrapping ErrTrap and abi.ErrOutOfBounds", err)
	}
}

// TestHostPanicIsTrap checks that a host import that panics ends the guest's
// call with an error, not the host.
func TestHostPanicIsTrap(t *testing.T) { forVariants(t, testHostPanicIsTrap) }

func testHostPanicIsTrap(t *testing.T, cfg engines.Config) {
	eng := open(t, cfg)
	in := instantiate(t, eng, conformance.Guest("reference"), &recorder{panics: true})
	mem := in.Memory()
	mem.Write(64, []byte("key"))
	stack := []uint64{64, 3}
	err := in.Function("handle_config").Call(context.Background(), stack)
	if !errors.Is(err, engines.ErrTrap) || !bytes.Contains([]byte(err.Error()), []byte("panicked")) {
		t.Errorf("got %v, want a trap saying the import panicked", err)
	}
}

func TestMemoryBounds(t *testing.T) { forVariants(t, testMemoryBounds) }

func testMemoryBounds(t *testing.T, cfg engines.Config) {
	eng := open(t, cfg)
	in := instantiate(t, eng, conformance.Guest("edge"), &recorder{})
	mem := in.Memory()
	size := mem.Size()
	if size != abi.PageSize {
		t.Fatalf("Size() = %d, want one page", size)
	}
	for _, c := range []struct {
		ptr, n uint32
		ok     bool
	}{
		{0, 0, true}, {0, uint32(size), true}, {uint32(size), 0, true}, {uint32(size) - 1, 1, true},
		{uint32(size), 1, false}, {uint32(size) - 1, 2, false}, {0xffffffff, 1, false}, {0xfffffff0, 0x20, false},
		{1, 0xffffffff, false},
	} {
		b, ok := mem.Read(c.ptr, c.n)
		if ok != c.ok || (ok && len(b) != int(c.n)) {
			t.Errorf("Read(%#x, %#x) = %d bytes, %v; want ok %v", c.ptr, c.n, len(b), ok, c.ok)
		}
		if ok := mem.Write(c.ptr, make([]byte, c.n%4096)); ok != (uint64(c.ptr)+uint64(c.n%4096) <= size) {
			t.Errorf("Write(%#x, %d bytes) = %v", c.ptr, c.n%4096, ok)
		}
	}
	if !mem.Write(100, []byte("abc")) {
		t.Fatal("Write in bounds failed")
	}
	if b, _ := mem.Read(100, 3); string(b) != "abc" {
		t.Errorf("Read after Write = %q", b)
	}
	// Memory grows from inside the guest; Size and Read follow.
	mem.Write(200, []byte("3"))
	stack := []uint64{200, 1}
	if err := in.Function("handle_grow").Call(context.Background(), stack); err != nil {
		t.Fatal(err)
	}
	if got := mem.Size(); got != 4*abi.PageSize {
		t.Errorf("Size() after growing by 3 pages = %d", got)
	}
	if _, ok := mem.Read(3*abi.PageSize, abi.PageSize); !ok {
		t.Error("Read of the last grown page failed")
	}
}

func TestExports(t *testing.T) { forVariants(t, testExports) }

func testExports(t *testing.T, cfg engines.Config) {
	eng := open(t, cfg)
	es := compile(t, eng, conformance.Guest("edge")).Exports()
	for i := 1; i < len(es); i++ {
		if es[i-1].Name >= es[i].Name {
			t.Errorf("exports not sorted: %q before %q", es[i-1].Name, es[i].Name)
		}
	}
	if e, ok := es.Lookup("memory"); !ok || e.Kind != abi.KindMemory {
		t.Errorf("memory export: %+v, %v", e, ok)
	}
	if e, ok := es.Lookup("allocate"); !ok || e.Kind != abi.KindFunc || !e.Type.Equal(abi.AllocateType) {
		t.Errorf("allocate export: %+v, %v", e, ok)
	}
	if err := es.Check([]string{"handle_ok", "handle_loop"}); err != nil {
		t.Error(err)
	}
}

func TestFunctionLookup(t *testing.T) { forVariants(t, testFunctionLookup) }

func testFunctionLookup(t *testing.T, cfg engines.Config) {
	eng := open(t, cfg)
	in := instantiate(t, eng, conformance.Guest("edge"), &recorder{})
	if f := in.Function("memory"); f != nil {
		t.Errorf("Function(memory) = %v, want nil", f)
	}
	if f := in.Function("absent"); f != nil {
		t.Errorf("Function(absent) = %v, want nil", f)
	}
	if err := in.Function("handle_ok").Call(context.Background(), make([]uint64, 1)); err == nil {
		t.Error("a call with a stack too short for its parameters did not fail")
	}
}

// TestCacheRecoversFromCorruptEntry checks that an entry that does not
// deserialize is compiled afresh and overwritten.
func TestCacheRecoversFromCorruptEntry(t *testing.T) {
	forVariants(t, testCacheRecoversFromCorruptEntry)
}

func testCacheRecoversFromCorruptEntry(t *testing.T, cfg engines.Config) {
	dir := t.TempDir()
	cached := cfg
	cached.CacheDir = dir
	wasm := conformance.Guest("reference")
	eng := open(t, cached)
	compile(t, eng, wasm)
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("cache holds %d entries (err %v), want 1", len(entries), err)
	}
	path := filepath.Join(dir, entries[0].Name())
	good, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte("not a serialized module"), 0o644); err != nil {
		t.Fatal(err)
	}
	eng2 := open(t, cached)
	in := instantiate(t, eng2, wasm, &recorder{})
	if got := callHandler(t, in, "handle_echo", []byte("x")); string(got) != "x" {
		t.Errorf("echo after a corrupt cache entry: %q", got)
	}
	again, _ := os.ReadFile(path)
	if len(again) != len(good) {
		t.Errorf("entry after recompiling holds %d bytes, want the %d of a serialized module", len(again), len(good))
	}
}

// TestCacheKeyedBySettings checks that the interpreter and the compiler do
// not share cache entries.
func TestCacheKeyedBySettings(t *testing.T) { forVariants(t, testCacheKeyedBySettings) }

func testCacheKeyedBySettings(t *testing.T, cfg engines.Config) {
	dir := t.TempDir()
	cached := cfg
	cached.CacheDir = dir
	pulley := cached
	pulley.Interpreter = true
	wasm := conformance.Guest("reference")
	compile(t, open(t, cached), wasm)
	in := instantiate(t, open(t, pulley), wasm, &recorder{})
	if got := callHandler(t, in, "handle_echo", []byte("pulley")); string(got) != "pulley" {
		t.Errorf("echo on pulley: %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("cache holds %d entries, want one per mode", len(entries))
	}
}

func TestCloseIdempotent(t *testing.T) { forVariants(t, testCloseIdempotent) }

func testCloseIdempotent(t *testing.T, cfg engines.Config) {
	ctx := context.Background()
	eng, err := wasmtime.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := eng.Compile(ctx, conformance.Guest("edge"), engines.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := mod.Instantiate(ctx, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	fn, mem := in.Function("handle_ok"), in.Memory()
	for range 2 {
		if err := in.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var stack [2]uint64
	if err := fn.Call(ctx, stack[:]); err == nil {
		t.Error("call on a closed instance succeeded")
	}
	if _, ok := mem.Read(0, 1); ok || mem.Size() != 0 || mem.Write(0, []byte{1}) {
		t.Error("memory of a closed instance is still readable or writable")
	}
	for range 2 {
		if err := mod.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mod.Instantiate(ctx, &recorder{}); err == nil {
		t.Error("instantiating a closed module succeeded")
	}
	for range 2 {
		if err := eng.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eng.Compile(ctx, conformance.Guest("edge"), engines.ModuleConfig{}); err == nil {
		t.Error("compiling on a closed engine succeeded")
	}
}

// recorder is an abi.Imports that answers host_get_config with "value of
// <key>" and NOT_FOUND for everything else, and logs nowhere; with panics set,
// every import panics.
type recorder struct{ panics bool }

func (r *recorder) Log(context.Context, []byte) { r.maybePanic() }
func (r *recorder) GetConfig(_ context.Context, key []byte) ([]byte, abi.Status) {
	r.maybePanic()
	if string(key) == "kspbench.absent" {
		return nil, abi.NotFound
	}
	return append([]byte("value of "), key...), abi.OK
}
func (r *recorder) StorageGet(context.Context, []byte) ([]byte, abi.Status) {
	r.maybePanic()
	return nil, abi.NotFound
}
func (r *recorder) StorageSet(context.Context, []byte, []byte) abi.Status {
	r.maybePanic()
	return abi.NotFound
}
func (r *recorder) StorageCAS(context.Context, []byte, []byte, []byte) abi.Status {
	r.maybePanic()
	return abi.NotFound
}
func (r *recorder) K8sAPICall(context.Context, []byte, []byte) ([]byte, abi.Status) {
	r.maybePanic()
	return nil, abi.NotFound
}
func (r *recorder) RequestInfo(context.Context) ([]byte, abi.Status) {
	r.maybePanic()
	return nil, abi.NotFound
}
func (r *recorder) SetResponseStatus(context.Context, uint32) abi.Status {
	r.maybePanic()
	return abi.NotFound
}
func (r *recorder) maybePanic() {
	if r.panics {
		panic("recorder told to panic")
	}
}

func open(tb testing.TB, cfg engines.Config) engines.Engine {
	tb.Helper()
	eng, err := wasmtime.Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close(context.Background()) })
	return eng
}

func compile(tb testing.TB, eng engines.Engine, wasm []byte) engines.Module {
	tb.Helper()
	mod, err := eng.Compile(context.Background(), wasm, engines.ModuleConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { mod.Close(context.Background()) })
	return mod
}

func instantiate(tb testing.TB, eng engines.Engine, wasm []byte, imp abi.Imports) engines.Instance {
	tb.Helper()
	in, err := compile(tb, eng, wasm).Instantiate(context.Background(), imp)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { in.Close(context.Background()) })
	return in
}

func callHandler(tb testing.TB, in engines.Instance, handler string, body []byte) []byte {
	tb.Helper()
	return callHandlerCtx(tb, context.Background(), in, handler, body)
}

// callHandlerCtx calls a handler of a guest whose allocator is reset by every
// handler, as the reference and edge guests' are: the body goes at 64, below
// the heap.
func callHandlerCtx(tb testing.TB, ctx context.Context, in engines.Instance, handler string, body []byte) []byte {
	tb.Helper()
	mem := in.Memory()
	if !mem.Write(64, body) {
		tb.Fatalf("%s: body of %d bytes does not fit", handler, len(body))
	}
	stack := []uint64{64, uint64(len(body))}
	if err := in.Function(handler).Call(ctx, stack); err != nil {
		tb.Fatalf("%s: %v", handler, err)
	}
	ptr, n := abi.Unpack(stack[0])
	if n == 0 {
		return []byte{}
	}
	if ptr == 0 {
		tb.Fatalf("%s: status %s", handler, abi.Status(n))
	}
	b, ok := mem.Read(ptr, n)
	if !ok {
		tb.Fatalf("%s: result [%#x, +%d) outside memory", handler, ptr, n)
	}
	return bytes.Clone(b)
}

// TestNoDeadline checks Config.NoDeadline: no epoch interruption, reported
// as interrupt unsupported in the report's words; calls still run, under any
// context, and the engine-API baseline is built the same way.
func TestNoDeadline(t *testing.T) {
	eng := open(t, engines.Config{NoDeadline: true})
	if why := engines.Unsupported(eng, engines.FeatureInterrupt); why != engines.NoDeadlineReason {
		t.Errorf("interrupt unsupported: %q, want %q", why, engines.NoDeadlineReason)
	}
	if why := engines.Unsupported(open(t, engines.Config{}), engines.FeatureInterrupt); why != "" {
		t.Errorf("default: interrupt unsupported: %q", why)
	}
	ctx := context.Background()
	mod := compile(t, eng, conformance.Guest("reference"))
	in, err := mod.Instantiate(ctx, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	stack := []uint64{1000}
	if err := in.Function("loop_n").Call(dctx, stack); err != nil || stack[0] != 1000*999/2 {
		t.Errorf("loop_n(1000) = %d, %v", stack[0], err)
	}
	baselinetest.Run(t, func(cfg engines.Config) (engines.Engine, error) {
		cfg.NoDeadline = true
		return wasmtime.Open(cfg)
	})
}
