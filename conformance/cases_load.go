package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
)

var engineCases = []Case{
	{"engine/identity", "the engine reports its name, its version from the binding, and how it runs code", func(e *Env) error {
		eng, err := e.Engine()
		if err != nil {
			return err
		}
		info := eng.Info()
		if e.cfg.Engine != "" && info.Name != e.cfg.Engine {
			return fmt.Errorf("engine reports name %q, want %q: results would be filed under the wrong engine", info.Name, e.cfg.Engine)
		}
		if info.Version == "" || info.Version == "unknown" {
			return fmt.Errorf("engine %s reports no version (%q)", info.Name, info.Version)
		}
		if info.Mode == "" {
			return fmt.Errorf("engine %s does not say how it runs code (Info.Mode is empty)", info.Name)
		}
		return nil
	}},
	{"engine/compilation-cache", "a second engine on the same cache directory, with a new cache object, compiles from the cache and runs", func(e *Env) error {
		first, err := e.Engine()
		if err != nil {
			return err
		}
		if why := engines.Unsupported(first, engines.FeatureCache); why != "" {
			return &UnsupportedError{Reason: why}
		}
		dir := filepath.Join(e.dir, "cache")
		a, err := e.OpenEngine(engines.Config{CacheDir: dir})
		if err != nil {
			return err
		}
		if _, err := e.LoadGuest(Guest("reference"), GuestOptions{Engine: a, Handlers: []string{"handle_echo"}}); err != nil {
			return err
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) == 0 {
			return fmt.Errorf("cache directory %s holds nothing after a compile (err %v)", dir, err)
		}
		b, err := e.OpenEngine(engines.Config{CacheDir: dir})
		if err != nil {
			return err
		}
		g, err := e.LoadGuest(Guest("reference"), GuestOptions{Engine: b, Handlers: []string{"handle_echo"}})
		if err != nil {
			return fmt.Errorf("compile from a warm cache: %w", err)
		}
		got, err := g.Call(e.ctx, "handle_echo", []byte("cached"))
		return wantBytes("handle_echo after a cached compile", got, err, []byte("cached"))
	}},
}

var loadCases = []Case{
	{"load/malformed-wasm", "bytes that are not a module are refused with a compile error, and the host goes on", func(e *Env) error {
		ref := Guest("reference")
		for _, bad := range []struct {
			name string
			b    []byte
		}{
			{"empty", nil},
			{"text", []byte("this is not WebAssembly")},
			{"bad magic", []byte("\x00asn\x01\x00\x00\x00")},
			{"bad version", []byte("\x00asm\x02\x00\x00\x00")},
			{"truncated", ref[:len(ref)/2]},
			{"garbage section", append([]byte("\x00asm\x01\x00\x00\x00"), 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00)},
		} {
			_, err := e.LoadGuest(bad.b, GuestOptions{Handlers: []string{"handle_echo"}})
			if err := wantErr("load "+bad.name, err, engines.ErrCompile); err != nil {
				return err
			}
		}
		g, err := e.LoadGuest(ref, GuestOptions{Handlers: []string{"handle_echo"}})
		if err != nil {
			return fmt.Errorf("a valid module after malformed ones: %w", err)
		}
		got, err := g.Call(e.ctx, "handle_echo", []byte("still here"))
		return wantBytes("echo", got, err, []byte("still here"))
	}},
	{"load/missing-allocate", "a module without allocate is refused with an error naming the export", func(e *Env) error {
		_, err := e.LoadGuest(Guest("no_allocate"), GuestOptions{Handlers: []string{"handle_echo"}})
		return wantErr("load", err, abi.ErrMissingExport, "export[allocate]")
	}},
	{"load/missing-memory", "a module that does not export memory is refused with an error naming it", func(e *Env) error {
		_, err := e.LoadGuest(Guest("no_memory"), GuestOptions{Handlers: []string{"handle_echo"}})
		return wantErr("load", err, abi.ErrMissingExport, "export[memory]")
	}},
	{"load/missing-handler", "a manifest handler the module does not export is refused with its name", func(e *Env) error {
		_, err := e.LoadGuest(Guest("reference"), GuestOptions{Handlers: []string{"handle_absent"}})
		return wantErr("load", err, abi.ErrMissingExport, "export[handle_absent]")
	}},
	{"load/bad-handler-signature", "a handler of the wrong type is refused with its name and both types", func(e *Env) error {
		_, err := e.LoadGuest(Guest("bad_handler_sig"), GuestOptions{Handlers: []string{"handle_echo"}})
		return wantErr("load", err, abi.ErrSignature, "export[handle_echo]", "(i32) -> (i32)", "(i32, i32) -> (i64)")
	}},
	{"load/abi-version", "a module declaring ABI v2 is refused naming the export; one declaring v1 loads", func(e *Env) error {
		_, err := e.LoadGuest(Guest("abi_v2"), GuestOptions{Handlers: []string{"handle_echo"}})
		if err := wantErr("load v2", err, abi.ErrVersion, "ksp_abi_version_2"); err != nil {
			return err
		}
		g, err := e.LoadGuest(Guest("abi_v1"), GuestOptions{Handlers: []string{"handle_echo"}})
		if err != nil {
			return fmt.Errorf("load v1: %w", err)
		}
		got, err := g.Call(e.ctx, "handle_echo", []byte("v1"))
		return wantBytes("v1 echo", got, err, []byte("v1"))
	}},
	{"load/initialize", "_initialize runs once after instantiation, before the first handler", func(e *Env) error {
		g, err := e.LoadGuest(Guest("init"), GuestOptions{Handlers: []string{"handle_initialized"}})
		if err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_initialized", nil)
		return wantBytes("handle_initialized", got, err, []byte("yes"))
	}},
	{"load/initialize-trap", "an _initialize that traps fails the instance with an error naming _initialize", func(e *Env) error {
		g, err := e.LoadGuest(Guest("init_trap"), GuestOptions{Handlers: []string{"handle_echo"}})
		if err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_echo", []byte("x"))
		return wantErr("first call", err, engines.ErrTrap, "_initialize")
	}},
	{"load/memory-over-limit", "a module whose memory starts above the limit does not instantiate, and says why", func(e *Env) error {
		g, err := e.LoadGuest(Guest("big_memory"), GuestOptions{Handlers: []string{"handle_echo"}, Limits: abi.Limits{MemoryPages: 1024}})
		if err == nil {
			_, err = g.Call(e.ctx, "handle_echo", []byte("x"))
		}
		if err == nil {
			return errors.New("a module with 2000 initial pages ran under a 1024-page limit")
		}
		if !errors.Is(err, engines.ErrCompile) && !errors.Is(err, engines.ErrInstantiate) {
			return fmt.Errorf("got %v, want a compile or instantiate error", err)
		}
		if !bytes.Contains(bytes.ToLower([]byte(err.Error())), []byte("memory")) {
			return fmt.Errorf("error %q does not mention memory", err)
		}
		return nil
	}},
}
