package wasmtime

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
)

// TestStorePointer proves, for the pinned binding, that storePointer reads
// the store's wasmtime_store_t*: the C API's context of that pointer is the
// context the binding itself uses.
func TestStorePointer(t *testing.T) {
	if !callbackAvailable() {
		t.Fatal("the deadline callback's C functions did not resolve, or wt.Store changed shape")
	}
	cfg := wt.NewConfig()
	cfg.SetEpochInterruption(true)
	engine := wt.NewEngineWithConfig(cfg)
	defer engine.Close()
	for range 3 {
		s := wt.NewStore(engine)
		if got, want := storeContext(storePointer(s)), unsafe.Pointer(s.Context()); got != want {
			t.Errorf("wasmtime_store_context(storePointer(s)) = %p, s.Context() = %p", got, want)
		}
		s.Close()
	}
}

// TestLibraryVersionMatchesHeader checks libraryVersion against
// WASMTIME_VERSION in the wasmtime.h of the pinned binding in the module
// cache.
func TestLibraryVersionMatchesHeader(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	header := filepath.Join(strings.TrimSpace(string(out)), modulePath+"@"+pinnedVersion, "build", "include", "wasmtime.h")
	b, err := os.ReadFile(header)
	if err != nil {
		t.Skipf("binding not in the module cache: %v", err)
	}
	m := regexp.MustCompile(`(?m)^#define WASMTIME_VERSION "([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s defines no WASMTIME_VERSION", header)
	}
	if got := string(m[1]); got != libraryVersion {
		t.Errorf("%s declares %s, the adapter reports %s", header, got, libraryVersion)
	}
	eng, err := Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	if !strings.Contains(eng.Info().Notes, libraryVersion) {
		t.Errorf("Info.Notes %q does not name the library version", eng.Info().Notes)
	}
}

// withTicker runs f with engines opened in the fallback mode.
func withTicker(t *testing.T, f func()) {
	forceTicker = true
	defer func() { forceTicker = false }()
	f()
}

// TestTickerConformance runs the suite's engine, load and ABI cases on the
// fallback. The deadline and cancel cases come back unsupported, since the
// engine reports that it cannot see a cancellation; the deadline case still
// checks that the call ends at its deadline.
func TestTickerConformance(t *testing.T) {
	withTicker(t, func() {
		dir := t.TempDir()
		cfg := conformance.Config{Engine: Name, Open: Open, TempDir: filepath.Join(dir, "cases"), CacheDir: filepath.Join(dir, "cache")}
		for _, c := range conformance.Cases() {
			if strings.HasPrefix(c.Name, "plugin/") {
				continue
			}
			t.Run(c.Name, func(t *testing.T) {
				r := conformance.RunCase(context.Background(), cfg, c)
				switch {
				case r.Outcome == conformance.Fail:
					t.Error(r.Detail)
				case r.Outcome == conformance.Unsupported && c.Name != "abi/deadline" && c.Name != "abi/cancel":
					t.Errorf("unsupported: %s", r.Detail)
				case r.Outcome == conformance.Unsupported:
					t.Skip("unsupported: " + r.Detail)
				}
			})
		}
	})
}

// TestTickerDeadlines checks the fallback directly: a call ends at its own
// deadline, not another's, and calls without a deadline run on.
func TestTickerDeadlines(t *testing.T) {
	withTicker(t, func() {
		ctx := context.Background()
		e, err := Open(engines.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close(ctx)
		if why := engines.Unsupported(e, engines.FeatureInterrupt); why == "" {
			t.Error("the fallback does not report that it cannot see a cancellation")
		}
		mod, err := e.Compile(ctx, conformance.Guest("edge"), engines.ModuleConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer mod.Close(ctx)
		var ins [3]engines.Instance
		for i := range ins {
			if ins[i], err = mod.Instantiate(ctx, nopImports{}); err != nil {
				t.Fatal(err)
			}
			defer ins[i].Close(ctx)
		}
		loop := func(in engines.Instance, d time.Duration) <-chan error {
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				done <- in.Function("handle_loop").Call(ctx, make([]uint64, 2))
			}()
			return done
		}
		start := time.Now()
		short, long := loop(ins[0], 100*time.Millisecond), loop(ins[1], 600*time.Millisecond)
		if err := <-short; !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("short call: %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Errorf("short call ended after %v, before its deadline", d)
		}
		// While the long call runs (and the ticker with it), calls without a
		// deadline, and after one, are not interrupted.
		for i := range 50 {
			stack := make([]uint64, 2)
			if err := ins[2].Function("handle_ok").Call(ctx, stack); err != nil {
				t.Fatalf("call %d without a deadline: %v", i, err)
			}
			tctx, cancel := context.WithTimeout(ctx, time.Hour)
			err := ins[2].Function("handle_ok").Call(tctx, stack)
			cancel()
			if err != nil {
				t.Fatalf("call %d with a far deadline: %v", i, err)
			}
		}
		select {
		case err := <-long:
			t.Fatalf("long call ended at %v, before its deadline: %v", time.Since(start), err)
		default:
		}
		if err := <-long; !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("long call: %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d < 600*time.Millisecond {
			t.Errorf("long call ended after %v, before its deadline", d)
		}
	})
}

type nopImports struct{}

func (nopImports) Log(context.Context, []byte)                                   {}
func (nopImports) GetConfig(context.Context, []byte) ([]byte, abi.Status)        { return nil, abi.NotFound }
func (nopImports) StorageGet(context.Context, []byte) ([]byte, abi.Status)       { return nil, abi.NotFound }
func (nopImports) StorageSet(context.Context, []byte, []byte) abi.Status         { return abi.NotFound }
func (nopImports) StorageCAS(context.Context, []byte, []byte, []byte) abi.Status { return abi.NotFound }
func (nopImports) K8sAPICall(context.Context, []byte, []byte) ([]byte, abi.Status) {
	return nil, abi.NotFound
}
func (nopImports) RequestInfo(context.Context) ([]byte, abi.Status)     { return nil, abi.NotFound }
func (nopImports) SetResponseStatus(context.Context, uint32) abi.Status { return abi.NotFound }

func TestDescribe(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"memory minimum size of 2000 pages exceeds memory limits\n\nStack backtrace:\n   0: <unknown>\n",
			"memory minimum size of 2000 pages exceeds memory limits"},
		{"failed to parse WebAssembly module\n\nCaused by:\n    unknown binary version:        0x2 (at offset 0x4)\n\nStack backtrace:\n   0: <unknown>",
			"failed to parse WebAssembly module: unknown binary version: 0x2 (at offset 0x4)"},
		{"error while executing at wasm backtrace:\n    0:    0x23c - <unknown>!<wasm function 7>\n    1:    0x2e2 - m!f\n\nCaused by:\n    wasm trap: wasm `unreachable` instruction executed",
			"wasm trap: wasm `unreachable` instruction executed (at 0x23c - <unknown>!<wasm function 7>)"},
		{"a\n\nCaused by:\n    0: b\n    1: c", "a: b: c"},
	} {
		if got := describe(errors.New(c.in)); got != c.want {
			t.Errorf("describe(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestHostCallsFindTheirInstanceByContext checks that a caller's context
// pointer is its store's, so host calls take the fast path, not Caller.Data.
func TestHostCallsFindTheirInstanceByContext(t *testing.T) {
	ctx := context.Background()
	eng, err := Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	mod, err := eng.Compile(ctx, conformance.Guest("reference"), engines.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	in, err := mod.Instantiate(ctx, countingImports{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	before := slowLookups.Load()
	if err := in.Function("call_host").Call(ctx, []uint64{50}); err != nil {
		t.Fatal(err)
	}
	if n := slowLookups.Load() - before; n != 0 {
		t.Errorf("%d of 50 host calls found their instance through Caller.Data", n)
	}
}

type countingImports struct{ abi.Imports }

func (countingImports) GetConfig(context.Context, []byte) ([]byte, abi.Status) {
	return nil, abi.NotFound
}
