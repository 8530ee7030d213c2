package plugin

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/wasmbin"
)

// Route maps a plugin-relative path and its methods to a handler export.
type Route struct {
	Path    string
	Methods []string
	Handler string
}

// Spec is what Load needs besides the engine and the module's bytes.
type Spec struct {
	// Name is the plugin's name, used in errors and logs.
	Name string
	// Routes are the backend routes; their handlers are checked at load.
	Routes []Route
	// Handlers lists further exports to check as handlers, for callers that
	// call handlers directly instead of through routes.
	Handlers []string
	// Imports serves the guest's host imports.
	Imports abi.Imports
	// Limits apply to every instance; zero fields take abi.DefaultLimits.
	Limits abi.Limits
	// MaxInstances bounds the instances alive and the calls in flight at once;
	// zero means runtime.GOMAXPROCS(0).
	MaxInstances int
}

// Plugin is a compiled, checked plugin. It is safe for concurrent use.
type Plugin struct {
	name        string
	engine      engines.Engine
	module      engines.Module
	imports     abi.Imports
	limits      abi.Limits
	routes      []Route
	handlers    []string
	interrupts  bool
	hasInit     bool
	hasDealloc  bool
	pool        pool
	closeOnce   sync.Once
	closeResult error
}

// Load compiles wasm on eng and checks it against ABI v1 and spec.
//
// # Errors
//
// The error names the plugin and wraps engines.ErrCompile for bytes that are
// not a module, or abi.ErrVersion, abi.ErrMissingExport or abi.ErrSignature for
// a module that breaks the ABI. A module whose memory starts above the memory
// limit (or above the 65,536 pages a 32-bit memory can have) is refused before
// the engine sees it, with an error wrapping ErrMemoryLimit and
// engines.ErrInstantiate, the same on every engine.
func Load(ctx context.Context, eng engines.Engine, wasm []byte, spec Spec) (*Plugin, error) {
	limits := spec.Limits.WithDefaults()
	if err := checkMemories(wasm, limits.MemoryPages); err != nil {
		return nil, fmt.Errorf("plugin[%s]: %w", spec.Name, err)
	}
	mod, err := eng.Compile(ctx, wasm, engines.ModuleConfig{MemoryLimitPages: limits.MemoryPages})
	if err != nil {
		return nil, fmt.Errorf("plugin[%s]: %w", spec.Name, err)
	}
	var handlers []string
	for _, r := range spec.Routes {
		if !slices.Contains(handlers, r.Handler) {
			handlers = append(handlers, r.Handler)
		}
	}
	for _, h := range spec.Handlers {
		if !slices.Contains(handlers, h) {
			handlers = append(handlers, h)
		}
	}
	exports := mod.Exports()
	if err := exports.Check(handlers); err != nil {
		mod.Close(ctx)
		return nil, fmt.Errorf("plugin[%s]: %w", spec.Name, err)
	}
	_, hasInit := exports.Lookup(abi.ExportInitialize)
	_, hasDealloc := exports.Lookup(abi.ExportDeallocate)
	max := spec.MaxInstances
	if max <= 0 {
		max = runtime.GOMAXPROCS(0)
	}
	p := &Plugin{
		name: spec.Name, engine: eng, module: mod, imports: spec.Imports, limits: limits,
		routes: spec.Routes, handlers: handlers, hasInit: hasInit, hasDealloc: hasDealloc,
		interrupts: engines.Unsupported(eng, engines.FeatureInterrupt) == "",
	}
	p.pool.init(max)
	return p, nil
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Limits returns the limits in force, defaults filled in.
func (p *Plugin) Limits() abi.Limits { return p.limits }

// Routes returns the plugin's routes.
func (p *Plugin) Routes() []Route { return p.routes }

// Module returns the compiled module.
func (p *Plugin) Module() engines.Module { return p.module }

// Close closes the pooled instances and the module. Calls in flight finish
// first; later calls fail.
func (p *Plugin) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		p.closeResult = errors.Join(p.pool.close(ctx), p.module.Close(ctx))
	})
	return p.closeResult
}

// NewInstance instantiates the module and calls _initialize when the guest
// exports it. The caller owns the instance and must close it.
func (p *Plugin) NewInstance(ctx context.Context) (*Instance, error) {
	i, err := p.Instantiate(ctx)
	if err != nil {
		return nil, err
	}
	if err := i.Initialize(ctx); err != nil {
		i.Close(ctx)
		return nil, err
	}
	return i, nil
}

// Instantiate instantiates the module without calling _initialize; the
// caller must call Initialize before any handler. NewInstance does both; the
// two steps exist apart for benchmarks that time them apart.
func (p *Plugin) Instantiate(ctx context.Context) (*Instance, error) {
	in, err := p.module.Instantiate(ctx, p.imports)
	if err != nil {
		return nil, fmt.Errorf("plugin[%s]: %w", p.name, err)
	}
	i := &Instance{p: p, in: in, mem: in.Memory(), alloc: in.Function(abi.ExportAllocate), handlers: map[string]engines.Function{}}
	if p.hasDealloc {
		i.dealloc = in.Function(abi.ExportDeallocate)
	}
	for _, h := range p.handlers {
		i.handlers[h] = in.Function(h)
	}
	if i.mem == nil || i.alloc == nil {
		in.Close(ctx)
		return nil, fmt.Errorf("plugin[%s]: %w: instance lacks memory or allocate", p.name, abi.ErrMissingExport)
	}
	return i, nil
}

// Initialize calls the guest's _initialize, when it exports one.
func (i *Instance) Initialize(ctx context.Context) error {
	if !i.p.hasInit {
		return nil
	}
	if err := i.in.Function(abi.ExportInitialize).Call(ctx, i.stack[:0]); err != nil {
		i.broken = err
		return fmt.Errorf("plugin[%s]: function[%s]: %w", i.p.name, abi.ExportInitialize, err)
	}
	return nil
}

// HasInitialize reports whether the guest exports _initialize.
func (p *Plugin) HasInitialize() bool { return p.hasInit }

// ErrMemoryLimit: a module's memory starts above the memory limit, so no
// instance of it could be made.
var ErrMemoryLimit = errors.New("initial memory above the limit")

// checkMemories refuses a module with a memory whose initial size is above
// limit pages, or above wasmbin.MaxPages32 for a 32-bit memory. Engines
// refuse such a module at different times (wazero and wasmer at compile,
// wasmtime only when the first request instantiates it); this check, made at
// load from the module's own memory section, refuses it at load on all of
// them, with one error. Bytes that wasmbin cannot frame are left to the
// engine's compiler to refuse.
func checkMemories(wasm []byte, limit uint32) error {
	mems, err := wasmbin.Memories(wasm)
	if err != nil {
		return nil
	}
	for _, m := range mems {
		max := uint64(limit)
		if !m.Memory64 {
			max = min(max, wasmbin.MaxPages32)
		}
		if m.Min > max {
			return fmt.Errorf("%w: %w: %s starts at %d pages (%s), above the limit of %d pages (%s)",
				engines.ErrInstantiate, ErrMemoryLimit, m, m.Min, pagesSize(m.Min), max, pagesSize(max))
		}
	}
	return nil
}

// pagesSize renders n pages as bytes, in GiB, MiB or KiB.
func pagesSize(n uint64) string {
	switch b := n * abi.PageSize; {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", b>>30)
	case b%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", b>>20)
	default:
		return fmt.Sprintf("%d KiB", b>>10)
	}
}
