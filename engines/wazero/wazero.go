package wazero

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/cpu"
)

// Name is the name this package registers with package engines.
const Name = "wazero"

// modulePath and pinnedVersion name the binding this adapter is built and
// tested against; pinnedVersion is what go.mod requires (a test checks it) and
// is reported only where the binary carries no module information (test
// binaries).
const (
	modulePath    = "github.com/tetratelabs/wazero"
	pinnedVersion = "v1.12.0"
)

func init() { engines.Register(Name, engines.DriverFunc(Open)) }

// Engine is the wazero engine. It keeps one wazero.Runtime per memory limit
// and ABI profile in use: wazero sets the limit per runtime, and each runtime
// holds one module named env, with one profile's host functions.
type Engine struct {
	cfg     engines.Config
	info    engines.Info
	cache   wazero.CompilationCache
	workers int // compilation workers (experimental.WithCompilationWorkers)

	mu       sync.Mutex
	runtimes map[runtimeKey]*runtimeWithHost
	closed   bool
}

// runtimeKey names a runtime: its memory limit and the profile of its env
// module.
type runtimeKey struct {
	limit   uint32
	profile string
}

// Open opens a wazero engine.
//
// # Notes
//
// By default calls end when their context is done (wazero's
// WithCloseOnContextDone), which costs a goroutine per call and an exit check
// at every loop header; Config.NoDeadline leaves that out, and a looping
// guest then runs until the process ends. Modules compile on
// Config.CompileWorkers goroutines, GOMAXPROCS when zero: wazero alone
// compiles on one.
func Open(cfg engines.Config) (engines.Engine, error) {
	if cfg.Variant != "" {
		return nil, engines.UnknownVariant(Name, cfg.Variant)
	}
	e := &Engine{cfg: cfg, runtimes: map[runtimeKey]*runtimeWithHost{}, workers: cfg.CompileWorkers}
	workersFrom := "Config.CompileWorkers"
	if e.workers <= 0 {
		e.workers, workersFrom = runtime.GOMAXPROCS(0), "GOMAXPROCS"
	}
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("wazero: cache dir[%s]: %w", cfg.CacheDir, err)
		}
		e.cache = c
	}
	e.info = engines.Info{Name: Name, Version: engines.ModuleVersion(modulePath, pinnedVersion)}
	var notes []string
	switch supported, why := compilerSupported(); {
	case cfg.Interpreter:
		e.info.Mode = "interpreter"
		notes = append(notes, "interpreter requested")
	case supported:
		e.info.Mode = "compiler"
	default:
		e.info.Mode = "interpreter"
		notes = append(notes, "fell back to the interpreter: "+why)
	}
	if e.info.Mode == "compiler" {
		w := strconv.Itoa(e.workers) + " workers"
		if e.workers == 1 {
			w = "1 worker"
		}
		notes = append(notes, "compiles on "+w+" ("+workersFrom+")")
	}
	if cfg.NoDeadline {
		notes = append(notes, "no close-on-context-done: "+engines.NoDeadlineReason)
	}
	e.info.Notes = strings.Join(notes, "; ")
	return e, nil
}

// Unsupported implements engines.FeatureReporter: without close-on-context-done
// (Config.NoDeadline) a call does not end when its context is done, and, as
// the compiled code then has no exits to Go at loop headers, a looping guest
// cannot be preempted: the next stop-the-world of the Go runtime (a garbage
// collection) waits for it forever and the whole process stalls. (The
// interpreter is Go code, which the runtime preempts.)
func (e *Engine) Unsupported(f engines.Feature) string {
	if !e.cfg.NoDeadline {
		return ""
	}
	switch {
	case f == engines.FeatureInterrupt:
		return engines.NoDeadlineReason
	case f == engines.FeatureRunawayContained && e.info.Mode == "compiler":
		return runawayStalls
	}
	return ""
}

// runawayStalls is why wazero's compiler without close-on-context-done lacks
// engines.FeatureRunawayContained.
const runawayStalls = "wazero's compiled code without close-on-context-done has no exits at loop headers, so the Go runtime cannot preempt a looping guest: the next garbage collection's stop-the-world waits for it and the whole process stalls"

// runtimeConfig is the wazero.RuntimeConfig of this engine's runtimes (and of
// its baseline's), without a memory limit or cache.
func (e *Engine) runtimeConfig() wazero.RuntimeConfig {
	rc := wazero.NewRuntimeConfig()
	if e.info.Mode == "interpreter" {
		rc = wazero.NewRuntimeConfigInterpreter()
	}
	return rc.WithCloseOnContextDone(!e.cfg.NoDeadline)
}

// Info implements engines.Engine.
func (e *Engine) Info() engines.Info { return e.info }

// runtime returns the runtime for a memory limit and a module's profile,
// creating it with WASI and the profile's env host module on first use.
func (e *Engine) runtime(ctx context.Context, limit uint32, mc engines.ModuleConfig) (*runtimeWithHost, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errors.New("wazero: engine closed")
	}
	key := runtimeKey{limit, mc.ProfileName()}
	if r, ok := e.runtimes[key]; ok {
		return r, nil
	}
	rc := e.runtimeConfig().WithMemoryLimitPages(limit)
	if e.cache != nil {
		rc = rc.WithCompilationCache(e.cache)
	}
	r := &runtimeWithHost{Runtime: wazero.NewRuntimeWithConfig(ctx, rc)}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		r.Close(ctx)
		return nil, fmt.Errorf("wazero: instantiate WASI: %w", err)
	}
	if err := r.instantiateHost(ctx, mc.HostFuncs()); err != nil {
		r.Close(ctx)
		return nil, err
	}
	e.runtimes[key] = r
	return r, nil
}

// Compile implements engines.Engine.
func (e *Engine) Compile(ctx context.Context, wasm []byte, cfg engines.ModuleConfig) (engines.Module, error) {
	limit := cfg.MemoryLimitPages
	if limit == 0 {
		limit = e.cfg.MemoryLimitPages
	}
	if limit == 0 {
		limit = abi.DefaultLimits.MemoryPages
	}
	r, err := e.runtime(ctx, limit, cfg)
	if err != nil {
		return nil, err
	}
	cm, err := r.CompileModule(experimental.WithCompilationWorkers(ctx, e.workers), wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: wazero: %w", engines.ErrCompile, err)
	}
	return &module{rt: r, compiled: cm, exports: exportsOf(cm)}, nil
}

// Close implements engines.Engine.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	for _, r := range e.runtimes {
		errs = append(errs, r.Close(ctx))
	}
	if e.cache != nil {
		errs = append(errs, e.cache.Close(ctx))
	}
	return errors.Join(errs...)
}

// runtimeWithHost is a wazero runtime with WASI and the env host module. Host
// functions find the calling instance in the context of the call, which each
// Function.Call wraps (see callContext).
type runtimeWithHost struct {
	wazero.Runtime
}

// instanceKey is the context key under which callContext answers with its
// instance.
type instanceKey struct{}

// callContext is the context of a call into an instance: the caller's
// context, answering instanceKey with the instance. It is never changed once
// made: wazero reads the context from a goroutine of its own that may outlive
// the call. An instance keeps the last one it made and reuses it while calls
// come with the same parent context (benchmarks, batch callers); a call with
// another parent costs one small allocation.
type callContext struct {
	context.Context
	in *instance
}

func (c *callContext) Value(key any) any {
	if _, ok := key.(instanceKey); ok {
		return c.in
	}
	return c.Context.Value(key)
}

// wrap returns ctx wrapped for a call into in. (Contexts are compared as
// interface values: every context type of the standard library is comparable.)
func (in *instance) wrap(ctx context.Context) context.Context {
	if cc, ok := ctx.(*callContext); ok && cc.in == in {
		return ctx // a re-entrant call from one of in's host functions
	}
	if in.ctx == nil || in.ctx.Context != ctx {
		in.ctx = &callContext{Context: ctx, in: in}
	}
	return in.ctx
}

func (r *runtimeWithHost) instantiateHost(ctx context.Context, hostFuncs []abi.HostFunc) error {
	b := r.NewHostModuleBuilder(abi.ImportModule)
	for _, hf := range hostFuncs {
		call := hf.Call
		fn := api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			in, ok := ctx.Value(instanceKey{}).(*instance)
			if !ok || in.mod != mod {
				panic(fmt.Errorf("wazero: import[%s] called outside a call this engine made", hf.Name))
			}
			if err := call(ctx, in.imports, in, stack); err != nil {
				panic(err)
			}
		})
		b.NewFunctionBuilder().WithGoModuleFunction(fn, valueTypes(hf.Type.Params), valueTypes(hf.Type.Results)).Export(hf.Name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("wazero: instantiate host module %s: %w", abi.ImportModule, err)
	}
	return nil
}

type module struct {
	rt       *runtimeWithHost
	compiled wazero.CompiledModule
	exports  abi.Exports
}

func (m *module) Exports() abi.Exports { return m.exports }

func (m *module) Instantiate(ctx context.Context, imports abi.Imports) (engines.Instance, error) {
	// WASI: real clocks and the system's random source. wazero's defaults
	// are a fake clock and a deterministic random source, which would make
	// guests behave differently here than on the other engines (and make
	// their randomness predictable).
	// Sleeps end with the call's context (sleep.go).
	in := &instance{rt: m.rt, imports: imports, funcs: map[string]*function{}}
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions().
		WithSysWalltime().WithSysNanotime().WithNanosleep(in.nanosleep).WithRandSource(rand.Reader)
	mod, err := m.rt.InstantiateModule(ctx, m.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: wazero: %w", engines.ErrInstantiate, err)
	}
	in.mod = mod
	if mem := mod.Memory(); mem != nil {
		in.mem = memory{mem}
	}
	return in, nil
}

func (m *module) Close(ctx context.Context) error { return m.compiled.Close(ctx) }

type instance struct {
	mod     api.Module
	rt      *runtimeWithHost
	imports abi.Imports
	mem     memory
	funcs   map[string]*function

	// allocs holds the guest's allocate, one per nesting level in use so
	// far; allocDepth is how many are running.
	allocs     []*allocator
	allocDepth int
	ctx        *callContext
}

func (in *instance) Memory() engines.Memory {
	if in.mem.Memory == nil {
		return nil
	}
	return in.mem
}

func (in *instance) Function(name string) engines.Function {
	if f, ok := in.funcs[name]; ok {
		return f
	}
	if _, ok := in.mod.ExportedFunctionDefinitions()[name]; !ok {
		return nil
	}
	f := &function{name: name, fn: in.mod.ExportedFunction(name), in: in}
	in.funcs[name] = f
	return f
}

// Close closes the module; when its memory grew past releaseThreshold, it
// also asks for the memory to go back to the OS (release.go).
func (in *instance) Close(ctx context.Context) error {
	var size uint32
	if in.mem.Memory != nil {
		size = in.mem.Memory.Size()
	}
	err := in.mod.Close(ctx)
	if size >= releaseThreshold {
		heapRelease.request()
	}
	return err
}

// Read, Write and Allocate make *instance an abi.Guest.

func (in *instance) Read(ptr, n uint32) ([]byte, bool) { return in.mem.Read(ptr, n) }

func (in *instance) Write(ptr uint32, p []byte) bool { return in.mem.Write(ptr, p) }

// Allocate calls the guest's allocate. A call made from inside another one
// (a host import called by allocate that writes its result through allocate
// again) uses a function object of its own: wazero's api.Function may not be
// called while it is already running, and the nesting depth is bounded by
// abi.MaxReentryDepth.
func (in *instance) Allocate(ctx context.Context, n uint32) (uint32, error) {
	d := in.allocDepth
	if d == len(in.allocs) {
		f := in.mod.ExportedFunction(abi.ExportAllocate)
		if f == nil {
			return 0, fmt.Errorf("%w: export[%s]", abi.ErrMissingExport, abi.ExportAllocate)
		}
		in.allocs = append(in.allocs, &allocator{fn: f})
	}
	in.allocDepth++
	defer func() { in.allocDepth-- }()
	a := in.allocs[d]
	a.stack[0] = uint64(n)
	if err := a.fn.CallWithStack(in.wrap(ctx), a.stack[:]); err != nil {
		return 0, fmt.Errorf("%w: %w", abi.ErrAllocate, err)
	}
	return uint32(a.stack[0]), nil
}

// allocator is the guest's allocate at one nesting level, with its stack.
type allocator struct {
	fn    api.Function
	stack [1]uint64
}

type function struct {
	name string
	fn   api.Function
	in   *instance
}

func (f *function) Call(ctx context.Context, stack []uint64) error {
	if err := f.fn.CallWithStack(f.in.wrap(ctx), stack); err != nil {
		return callError(ctx, f.name, err)
	}
	return nil
}

// callError turns wazero's error into the engines contract: the context's
// error when the call was ended by it, else a trap.
func callError(ctx context.Context, name string, err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return fmt.Errorf("wazero: function[%s]: %w", name, context.DeadlineExceeded)
		case sys.ExitCodeContextCanceled:
			return fmt.Errorf("wazero: function[%s]: %w", name, context.Canceled)
		}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("wazero: function[%s]: %w (%w)", name, ctxErr, err)
	}
	return fmt.Errorf("%w: wazero: function[%s]: %w", engines.ErrTrap, name, err)
}

type memory struct{ api.Memory }

func (m memory) Size() uint64 { return uint64(m.Memory.Size()) }

func exportsOf(cm wazero.CompiledModule) abi.Exports {
	var es abi.Exports
	for name, def := range cm.ExportedFunctions() {
		es = append(es, abi.Export{Name: name, Kind: abi.KindFunc, Type: abi.FuncType{
			Params: abiTypes(def.ParamTypes()), Results: abiTypes(def.ResultTypes()),
		}})
	}
	for name := range cm.ExportedMemories() {
		es = append(es, abi.Export{Name: name, Kind: abi.KindMemory})
	}
	slices.SortFunc(es, func(a, b abi.Export) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return es
}

func abiTypes(ts []api.ValueType) []abi.ValueType {
	out := make([]abi.ValueType, len(ts))
	for i, t := range ts {
		out[i] = abi.ValueType(t) // wazero uses the binary encoding, as abi does
	}
	return out
}

func valueTypes(ts []abi.ValueType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// compilerSupported mirrors wazero's own choice in NewRuntimeConfig, which it
// does not expose: the compiler runs on amd64 with SSE4.1 and on arm64, on the
// operating systems below.
func compilerSupported() (bool, string) {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "windows":
	default:
		return false, "no compiler for GOOS " + runtime.GOOS
	}
	switch runtime.GOARCH {
	case "arm64":
		return true, ""
	case "amd64":
		if cpu.X86.HasSSE41 {
			return true, ""
		}
		return false, "CPU lacks SSE4.1"
	}
	return false, "no compiler for GOARCH " + runtime.GOARCH
}
