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
	// Profile is the contract the module follows; nil detects it from the
	// module (see ChooseProfile), with Hints as weak evidence.
	Profile *abi.Profile
	// Hints are weak evidence for a profile, such as a manifest written for
	// the KubeStellar UI reference host; used only when Profile is nil.
	Hints []abi.Evidence
	// Entrypoint is the manifest's spec.wasm.entrypoint, run after
	// _initialize under a profile that runs it (abi.Profile.RunsEntrypoint).
	Entrypoint string
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
	profile     *abi.Profile
	evidence    []abi.Evidence
	entrypoint  string // the export to run after _initialize, or ""
	notes       []string
	pool        pool
	closeOnce   sync.Once
	closeResult error
}

// Load chooses the module's ABI profile (spec.Profile, or detected), checks
// its imports against what the host provides under that profile, compiles
// wasm on eng and checks its exports against the profile and spec.
//
// # Errors
//
// The error names the plugin and wraps engines.ErrCompile for bytes that are
// not a module, abi.ErrAmbiguous for a module that reads as two profiles,
// abi.ErrImport for an import the host does not provide, or abi.ErrVersion,
// abi.ErrMissingExport or abi.ErrSignature for a module that breaks its
// profile. A module whose memory starts above the memory limit (or above the
// 65,536 pages a 32-bit memory can have) is refused before the engine sees
// it, with an error wrapping ErrMemoryLimit and engines.ErrInstantiate, the
// same on every engine.
func Load(ctx context.Context, eng engines.Engine, wasm []byte, spec Spec) (*Plugin, error) {
	limits := spec.Limits.WithDefaults()
	if err := checkMemories(wasm, limits.MemoryPages); err != nil {
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
	profile, evidence := spec.Profile, []abi.Evidence(nil)
	info, infoErr := ReadModule(wasm)
	if infoErr == nil {
		// Bytes wasmbin cannot read go to the engine, whose compile error
		// says what is wrong with them.
		var err error
		if profile, evidence, err = ChooseProfile(info, spec.Profile, handlers, spec.Hints...); err != nil {
			return nil, fmt.Errorf("plugin[%s]: %w", spec.Name, err)
		}
		if err := profile.CheckImports(info.Imports); err != nil {
			return nil, fmt.Errorf("plugin[%s]: %w", spec.Name, err)
		}
	} else if profile == nil {
		profile = abi.V1
	}
	mod, err := eng.Compile(ctx, wasm, engines.ModuleConfig{MemoryLimitPages: limits.MemoryPages, Profile: profile})
	if err != nil {
		return nil, fmt.Errorf("plugin[%s]: %w", spec.Name, err)
	}
	exports := mod.Exports()
	if err := profile.CheckExports(exports, handlers, spec.Entrypoint); err != nil {
		mod.Close(ctx)
		return nil, fmt.Errorf("plugin[%s]: ABI profile %s: %w%s", spec.Name, profile.Name, err, otherProfileHint(profile, exports, handlers))
	}
	_, hasInit := exports.Lookup(abi.ExportInitialize)
	_, hasDealloc := exports.Lookup(abi.ExportDeallocate)
	hasDealloc = hasDealloc && profile.CallsDeallocate
	if empty, err := wasmbin.EmptyFunction(wasm, abi.ExportDeallocate); hasDealloc && err == nil && empty {
		// A deallocate with an empty body (a bump allocator's) does
		// nothing: calling it would cost an engine call per request with a
		// body (a few microseconds through wasmtime-go) for no effect.
		hasDealloc = false
	}
	var entrypoint string
	var notes []string
	if profile.RunsEntrypoint && spec.Entrypoint != "" {
		switch _, ok := exports.Lookup(spec.Entrypoint); {
		case spec.Entrypoint == abi.StartExport:
			notes = append(notes, fmt.Sprintf("spec.wasm.entrypoint %q is not run: a TinyGo command's _start calls proc_exit(0), which closes the instance (the reference host runs it and then fails every call)", spec.Entrypoint))
		case ok:
			entrypoint = spec.Entrypoint
		default:
			notes = append(notes, fmt.Sprintf("spec.wasm.entrypoint %q is not exported, so nothing runs at start (as on the reference host)", spec.Entrypoint))
		}
	}
	if profile.MaxCallsPerInstance > 0 || profile.MaxGuestBytesPerInstance > 0 {
		notes = append(notes, fmt.Sprintf("instances are recycled after %d calls or %d request and response bytes, whichever comes first: guests of this profile allocate from a bump allocator that never resets",
			profile.MaxCallsPerInstance, profile.MaxGuestBytesPerInstance))
	}
	max := spec.MaxInstances
	if max <= 0 {
		max = runtime.GOMAXPROCS(0)
	}
	p := &Plugin{
		name: spec.Name, engine: eng, module: mod, imports: spec.Imports, limits: limits,
		routes: spec.Routes, handlers: handlers, hasInit: hasInit, hasDealloc: hasDealloc,
		interrupts: engines.Unsupported(eng, engines.FeatureInterrupt) == "",
		profile:    profile, evidence: evidence, entrypoint: entrypoint, notes: notes,
	}
	p.pool.init(max)
	return p, nil
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Profile returns the ABI profile the plugin runs under.
func (p *Plugin) Profile() *abi.Profile { return p.profile }

// Evidence returns why the profile was chosen.
func (p *Plugin) Evidence() []abi.Evidence { return p.evidence }

// Notes returns what a reader of results must know about how the plugin
// runs under its profile (an entry point not run, instances recycled).
func (p *Plugin) Notes() []string { return p.notes }

// otherProfileHint says, after a failed export check, when the module's
// handlers have another profile's type, that the rule broken is that
// profile's and which --abi would load it.
func otherProfileHint(p *abi.Profile, es abi.Exports, handlers []string) string {
	for _, h := range handlers {
		e, ok := es.Lookup(h)
		if !ok || e.Kind != abi.KindFunc {
			continue
		}
		for _, o := range abi.Profiles {
			if o != p && e.Type.Equal(o.HandlerType) {
				return fmt.Sprintf(" (the handler types are profile %s's; %s is kspbench's own rule for profile %s: load with --abi %s)",
					o.Name, p.HandlerType, p.Name, o.Name)
			}
		}
	}
	return ""
}

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
	needAlloc := p.profile.AllocateAlways || len(p.handlers) > 0
	if needAlloc && (i.mem == nil || i.alloc == nil) {
		in.Close(ctx)
		return nil, fmt.Errorf("plugin[%s]: %w: instance lacks memory or allocate", p.name, abi.ErrMissingExport)
	}
	return i, nil
}

// Initialize calls the guest's _initialize, when it exports one, and then
// the manifest's entry point under a profile that runs one.
func (i *Instance) Initialize(ctx context.Context) error {
	if i.p.hasInit {
		if err := i.in.Function(abi.ExportInitialize).Call(ctx, i.stack[:0]); err != nil {
			i.broken = err
			return fmt.Errorf("plugin[%s]: function[%s]: %w", i.p.name, abi.ExportInitialize, err)
		}
	}
	if i.p.entrypoint != "" {
		if err := i.in.Function(i.p.entrypoint).Call(ctx, i.stack[:0]); err != nil {
			i.broken = err
			return fmt.Errorf("plugin[%s]: function[%s] (spec.wasm.entrypoint): %w", i.p.name, i.p.entrypoint, err)
		}
	}
	return nil
}

// HasInitialize reports whether Initialize runs guest code: _initialize, or
// an entry point the profile runs.
func (p *Plugin) HasInitialize() bool { return p.hasInit || p.entrypoint != "" }

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
