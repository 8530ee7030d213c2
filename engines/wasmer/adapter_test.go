package wasmer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wasmer"
)

// fakeImports answers every import with NOT_FOUND and records the log.
type fakeImports struct {
	mu   sync.Mutex
	logs []string
}

func (f *fakeImports) Log(_ context.Context, m []byte) {
	f.mu.Lock()
	f.logs = append(f.logs, string(m))
	f.mu.Unlock()
}
func (*fakeImports) GetConfig(context.Context, []byte) ([]byte, abi.Status) { return nil, abi.NotFound }
func (*fakeImports) StorageGet(context.Context, []byte) ([]byte, abi.Status) {
	return nil, abi.NotFound
}
func (*fakeImports) StorageSet(context.Context, []byte, []byte) abi.Status { return abi.NotFound }
func (*fakeImports) StorageCAS(context.Context, []byte, []byte, []byte) abi.Status {
	return abi.NotFound
}
func (*fakeImports) K8sAPICall(context.Context, []byte, []byte) ([]byte, abi.Status) {
	return nil, abi.NotFound
}
func (*fakeImports) RequestInfo(context.Context) ([]byte, abi.Status)     { return nil, abi.NotFound }
func (*fakeImports) SetResponseStatus(context.Context, uint32) abi.Status { return abi.NotFound }

func open(t testing.TB, cfg engines.Config) engines.Engine {
	t.Helper()
	eng, err := wasmer.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(context.Background()) })
	return eng
}

func compile(t testing.TB, eng engines.Engine, wasm []byte, limit uint32) engines.Module {
	t.Helper()
	mod, err := eng.Compile(context.Background(), wasm, engines.ModuleConfig{MemoryLimitPages: limit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mod.Close(context.Background()) })
	return mod
}

func instantiate(t testing.TB, mod engines.Module, imp abi.Imports) engines.Instance {
	t.Helper()
	in, err := mod.Instantiate(context.Background(), imp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(context.Background()) })
	return in
}

func TestInfo(t *testing.T) {
	eng := open(t, engines.Config{Interpreter: true})
	info := eng.Info()
	if info.Name != wasmer.Name || info.Mode != "cranelift" || !strings.HasPrefix(info.Version, "2.") {
		t.Errorf("info %+v", info)
	}
	for _, w := range []string{"libwasmer", "interpreter requested"} {
		if !strings.Contains(info.Notes, w) {
			t.Errorf("notes %q do not mention %q", info.Notes, w)
		}
	}
	if why := engines.Unsupported(eng, engines.FeatureInterrupt); !strings.Contains(why, "wasmer-go v1.0.4") {
		t.Errorf("interrupt: %q", why)
	}
	for _, f := range []engines.Feature{engines.FeatureMemoryLimit, engines.FeatureCache} {
		if why := engines.Unsupported(eng, f); why != "" {
			t.Errorf("%s unsupported: %q", f, why)
		}
	}
}

func TestExports(t *testing.T) {
	mod := compile(t, open(t, engines.Config{}), conformance.Guest("reference"), 0)
	es := mod.Exports()
	for i := 1; i < len(es); i++ {
		if es[i-1].Name >= es[i].Name {
			t.Errorf("exports not sorted: %q before %q", es[i-1].Name, es[i].Name)
		}
	}
	if err := es.Check([]string{"handle_echo", "handle_size"}); err != nil {
		t.Error(err)
	}
	if e, _ := es.Lookup("noop"); e.Kind != abi.KindFunc || !e.Type.Equal(abi.FuncType{}) {
		t.Errorf("noop: %+v", e)
	}
	if e, _ := es.Lookup("memory"); e.Kind != abi.KindMemory {
		t.Errorf("memory: %+v", e)
	}
}

const growWAT = `(module
  (memory (export "memory") 1)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))`

// grow calls the guest's memory.grow and returns its result as a signed
// number of pages (-1 when refused).
func grow(t *testing.T, in engines.Instance, pages uint32) int32 {
	t.Helper()
	stack := []uint64{uint64(pages)}
	if err := in.Function("grow").Call(context.Background(), stack); err != nil {
		t.Fatal(err)
	}
	return int32(uint32(stack[0]))
}

func TestMemoryLimit(t *testing.T) {
	eng := open(t, engines.Config{MemoryLimitPages: 64})
	in := instantiate(t, compile(t, eng, wat(t, growWAT), 0), nil)
	for _, c := range []struct {
		pages uint32
		want  int32
	}{{10, 1}, {100, -1}, {53, 11}, {1, -1}, {0, 64}} {
		if got := grow(t, in, c.pages); got != c.want {
			t.Errorf("memory.grow(%d) = %d, want %d", c.pages, got, c.want)
		}
	}
	if got := in.Memory().Size(); got != 64*abi.PageSize {
		t.Errorf("memory size %d, want 64 pages", got)
	}
	// The module's own limit overrides the engine's.
	in = instantiate(t, compile(t, eng, wat(t, growWAT), 200), nil)
	if got := grow(t, in, 150); got != 1 {
		t.Errorf("memory.grow(150) under a 200-page limit = %d, want 1", got)
	}
}

func TestMemoryOverLimit(t *testing.T) {
	eng := open(t, engines.Config{})
	_, err := eng.Compile(context.Background(), conformance.Guest("big_memory"), engines.ModuleConfig{MemoryLimitPages: 1024})
	if !errors.Is(err, engines.ErrCompile) {
		t.Fatalf("got %v, want a compile error", err)
	}
	for _, w := range []string{"memory[0]", "2000 pages", "1024 pages"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	in := instantiate(t, compile(t, eng, conformance.Guest("big_memory"), 4096), nil)
	if got := in.Memory().Size(); got != 2000*abi.PageSize {
		t.Errorf("memory of %d bytes, want 2000 pages", got)
	}
}

func TestCache(t *testing.T) {
	dir := t.TempDir()
	wasm := wat(t, growWAT)
	for _, limit := range []uint32{64, 128} {
		compile(t, open(t, engines.Config{CacheDir: dir}), wasm, limit)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("%d cache entries for one module under two limits, want 2 (the limit is part of the key)", len(entries))
	}
	check := func(what string) {
		t.Helper()
		eng := open(t, engines.Config{CacheDir: dir})
		for _, c := range []struct {
			limit uint32
			want  int32
		}{{64, -1}, {128, 1}} {
			in := instantiate(t, compile(t, eng, wasm, c.limit), nil)
			if got := grow(t, in, 100); got != c.want {
				t.Errorf("%s: memory.grow(100) under %d pages = %d, want %d", what, c.limit, got, c.want)
			}
		}
	}
	check("from the cache")
	// Corrupt every entry: the engine compiles afresh and rewrites them.
	corrupted := map[string][]byte{}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 0xff
		os.WriteFile(p, b, 0o644)
		corrupted[p] = b
	}
	check("from corrupted entries")
	for p, bad := range corrupted {
		if now, _ := os.ReadFile(p); bytes.Equal(now, bad) {
			t.Errorf("corrupted entry %s was not rewritten", p)
		}
	}
	os.WriteFile(filepath.Join(dir, entries[0].Name()), []byte("short"), 0o644)
	check("from a truncated entry")
}

// TestHostErrorsSurviveCollection makes a host import fail again and again,
// collecting garbage in between: wasmer-go v1.0.4 frees the trap of a failing
// host function twice (once in Wasmer, once in a finalizer), which this
// package avoids by making host functions itself.
func TestHostErrorsSurviveCollection(t *testing.T) {
	ctx := context.Background()
	mod := compile(t, open(t, engines.Config{}), conformance.Guest("edge"), 0)
	for i := range 200 {
		in, err := mod.Instantiate(ctx, &fakeImports{})
		if err != nil {
			t.Fatal(err)
		}
		err = in.Function("handle_bad_import_ptr").Call(ctx, make([]uint64, 2))
		if !errors.Is(err, engines.ErrTrap) || !errors.Is(err, abi.ErrOutOfBounds) || !strings.Contains(err.Error(), abi.ImportLog) {
			t.Fatalf("call %d: got %v, want a trap wrapping abi.ErrOutOfBounds naming %s", i, err, abi.ImportLog)
		}
		in.Close(ctx)
		runtime.GC()
	}
}

const wasiWAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from stdout\n")
  (data (i32.const 48) "and from stderr\n")
  (func (export "speak")
    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 18))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 0) (i32.const 48)) (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))))`

func TestWASIOutputReachesLog(t *testing.T) {
	imp := &fakeImports{}
	in := instantiate(t, compile(t, open(t, engines.Config{}), wat(t, wasiWAT), 0), imp)
	for range 2 {
		if err := in.Function("speak").Call(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"hello from stdout", "and from stderr", "hello from stdout", "and from stderr"}
	if strings.Join(imp.logs, "|") != strings.Join(want, "|") {
		t.Errorf("logged %q, want %q", imp.logs, want)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	ctx := context.Background()
	eng, err := wasmer.Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := eng.Compile(ctx, wat(t, addWAT), engines.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := mod.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	fn, mem := in.Function("add"), in.Memory()
	for range 2 {
		if err := errors.Join(in.Close(ctx), mod.Close(ctx), eng.Close(ctx)); err != nil {
			t.Fatal(err)
		}
	}
	if err := fn.Call(ctx, make([]uint64, 2)); err == nil {
		t.Error("a call on a closed instance succeeded")
	}
	if _, ok := mem.Read(0, 1); ok || mem.Size() != 0 || mem.Write(0, []byte{1}) {
		t.Error("the memory of a closed instance is still readable or writable")
	}
	if in.Function("add") != nil {
		t.Error("a closed instance hands out a function")
	}
	if _, err := mod.Instantiate(ctx, nil); !errors.Is(err, engines.ErrInstantiate) {
		t.Errorf("instantiate a closed module: %v", err)
	}
	if _, err := eng.Compile(ctx, wat(t, addWAT), engines.ModuleConfig{}); err == nil {
		t.Error("a closed engine compiled")
	}
}

func TestCallErrors(t *testing.T) {
	ctx := context.Background()
	in := instantiate(t, compile(t, open(t, engines.Config{}), wat(t, addWAT), 0), nil)
	fn := in.Function("add")
	if err := fn.Call(ctx, make([]uint64, 1)); err == nil || errors.Is(err, engines.ErrTrap) {
		t.Errorf("a stack too small: %v", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := fn.Call(done, make([]uint64, 2)); !errors.Is(err, context.Canceled) {
		t.Errorf("a call with a done context: %v", err)
	}
	if in.Function("absent") != nil || in.Function("memory") != nil {
		t.Error("Function returns something for an absent export or a memory")
	}
	stack := []uint64{0xffffffff, 2} // i32 -1 + 2
	if err := fn.Call(ctx, stack); err != nil || stack[0] != 1 {
		t.Errorf("add(-1, 2) = %#x, %v", stack[0], err)
	}
	stack = []uint64{0x7fffffff, 1} // wraps to i32 min: the result is zero-extended
	if err := fn.Call(ctx, stack); err != nil || stack[0] != 0x80000000 {
		t.Errorf("add(max, 1) = %#x, %v; want 0x80000000", stack[0], err)
	}
}

func TestReadWrite(t *testing.T) {
	in := instantiate(t, compile(t, open(t, engines.Config{}), wat(t, growWAT), 0), nil)
	mem := in.Memory()
	if !mem.Write(65536-4, []byte("abcd")) || mem.Write(65536-3, []byte("abcd")) {
		t.Error("write at the end of memory")
	}
	if b, ok := mem.Read(65536-4, 4); !ok || !bytes.Equal(b, []byte("abcd")) {
		t.Errorf("read %q %v", b, ok)
	}
	if _, ok := mem.Read(0xffffffff, 2); ok {
		t.Error("a range wrapping 2^32 was readable")
	}
	grow(t, in, 1) // the view of memory is fetched again after the guest ran
	if !mem.Write(2*65536-1, []byte{1}) || mem.Size() != 2*65536 {
		t.Error("the grown page is not writable")
	}
}

const hostLoopWAT = `(module
  (import "env" "host_request_info" (func $info (result i64)))
  (import "env" "host_storage_set" (func $set (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "many") (param i32) (local i32)
    (loop $l
      (drop (call $info))
      (drop (call $set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 1) (local.get 0))))))`

// rss returns the process's resident set size in bytes.
func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		t.Fatal(err)
	}
	return resident * int64(os.Getpagesize())
}

// TestHostCallsDoNotLeak makes a million host calls and checks that resident
// memory stays put: Wasmer 2.0's C API leaks the argument and result vectors
// of every host call (about 70 MB per million calls of this mix), which the
// trampoline in host.c frees.
func TestHostCallsDoNotLeak(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/statm")
	}
	ctx := context.Background()
	f := instantiate(t, compile(t, open(t, engines.Config{}), wat(t, hostLoopWAT), 0), &fakeImports{}).Function("many")
	if err := f.Call(ctx, []uint64{1000}); err != nil { // warm up
		t.Fatal(err)
	}
	runtime.GC()
	before := rss(t)
	if err := f.Call(ctx, []uint64{500_000}); err != nil {
		t.Fatal(err)
	}
	grew := rss(t) - before
	t.Logf("1,000,000 host calls: resident memory %+d KiB", grew>>10)
	if grew > 8<<20 {
		t.Errorf("1,000,000 host calls grew resident memory by %d MiB", grew>>20)
	}
}
