package wasmtime

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
)

// Name is the name this package registers with package engines.
const Name = "wasmtime"

// modulePath and pinnedVersion name the binding this adapter is built and
// tested against; pinnedVersion is what go.mod requires (a test checks it) and
// is reported only where the binary carries no module information (test
// binaries). libraryVersion is WASMTIME_VERSION of the C library the binding
// bundles, from its wasmtime.h (a test checks it too): the binding does not
// report it at run time.
const (
	modulePath     = "github.com/bytecodealliance/wasmtime-go/v39"
	pinnedVersion  = "v39.0.1"
	libraryVersion = "39.0.0"
)

func init() { engines.Register(Name, engines.DriverFunc(Open)) }

// Engine is the wasmtime engine: one wt.Engine with epoch interruption
// (unless Config.NoDeadline), and one wt.Linker holding WASI and the env host functions, shared by every
// instance of every module compiled on it.
type Engine struct {
	cfg    engines.Config
	info   engines.Info
	engine *wt.Engine
	linker *wt.Linker // ABI v1's imports
	// profileLinkers holds a linker for each other profile: its env
	// functions share names with v1's but not types.
	profileLinkers map[*abi.Profile]*wt.Linker
	cache          *engines.DiskCache
	settings       string // what, besides the version, changes compiled code
	ticker         *epochTicker

	mu     sync.RWMutex // guards closed against the engine being used after Close
	closed bool

	// byContext maps each live store's context pointer to its instance,
	// for host functions (see hostFunc).
	byContext sync.Map
}

// forceTicker makes Open use the ticker fallback even where the deadline
// callback is available, for the tests of that fallback.
var forceTicker = false

// Open opens a wasmtime engine: through wasmtime-go's Go API, or with
// cfg.Variant "direct" (VariantDirect) through Wasmtime's C API called by this
// package (see direct.go). Any other variant is refused.
//
// # Notes
//
// Calls end when their context is done through wasmtime's epoch
// interruption: each store has a deadline callback (written in C in this
// package) that ends its call only when that call's own context is done. If
// the binary lacks the C functions the callback needs, the engine falls back
// to a clock that ends calls at their context's deadline but cannot see a
// cancellation, and says so in Info.Notes and through
// engines.FeatureReporter. With Config.NoDeadline the engine compiles
// without epoch interruption: no epoch checks in the code and no callback per
// store, and a looping guest runs until the process ends.
//
// Modules compile in parallel on wasmtime's own threads (its default, which
// this adapter keeps).
func Open(cfg engines.Config) (engines.Engine, error) {
	switch cfg.Variant {
	case "":
	case VariantDirect:
		return openDirect(cfg)
	default:
		return nil, engines.UnknownVariant(Name, cfg.Variant, VariantDirect)
	}
	c := wt.NewConfig()
	c.SetEpochInterruption(!cfg.NoDeadline)
	var notes []string
	notes = append(notes, "wasmtime C library "+libraryVersion+", as the binding's wasmtime.h declares it")
	target := ""
	if cfg.Interpreter {
		target = "pulley" + strconv.Itoa(strconv.IntSize)
		if err := c.SetTarget(target); err != nil {
			notes = append(notes, fmt.Sprintf("interpreter requested but target %s refused (%v): running compiled code", target, err))
			target = ""
		} else {
			notes = append(notes, "interpreter requested")
		}
	}
	e := &Engine{cfg: cfg, engine: wt.NewEngineWithConfig(c)}
	mode := "cranelift"
	if e.engine.IsPulley() {
		mode = "pulley"
	}
	switch {
	case cfg.NoDeadline:
		notes = append(notes, "no epoch interruption: "+engines.NoDeadlineReason)
	case forceTicker || !callbackAvailable():
		e.ticker = &epochTicker{inc: e.incrementEpoch}
		notes = append(notes, fmt.Sprintf("deadlines by an epoch ticker every %v; cancellation without a deadline does not interrupt a running call", tick))
	default:
		notes = append(notes, "calls end through epoch interruption with a per-store deadline callback")
	}
	notes = append(notes, "compiles in parallel (wasmtime's default)")
	e.info = engines.Info{
		Name:    Name,
		Version: engines.ModuleVersion(modulePath, pinnedVersion),
		Mode:    mode,
		Notes:   strings.Join(notes, "; "),
	}
	e.settings = fmt.Sprintf("library=%s mode=%s target=%s epoch=%v goos=%s goarch=%s",
		libraryVersion, mode, target, !cfg.NoDeadline, runtime.GOOS, runtime.GOARCH)
	if cfg.CacheDir != "" {
		e.cache = &engines.DiskCache{Dir: cfg.CacheDir}
	}
	e.linker = wt.NewLinker(e.engine)
	if err := e.defineImports(e.linker, abi.V1.HostFuncs); err != nil {
		e.linker.Close()
		e.engine.Close()
		return nil, err
	}
	e.profileLinkers = map[*abi.Profile]*wt.Linker{}
	for _, p := range abi.Profiles {
		if p == abi.V1 {
			continue
		}
		l := wt.NewLinker(e.engine)
		if err := e.defineImports(l, p.HostFuncs); err != nil {
			l.Close()
			e.Close(context.Background())
			return nil, fmt.Errorf("wasmtime: profile %s: %w", p.Name, err)
		}
		e.profileLinkers[p] = l
	}
	return e, nil
}

// linkerFor returns the linker holding the imports of a module's profile.
func (e *Engine) linkerFor(mc engines.ModuleConfig) (*wt.Linker, error) {
	if mc.Profile == nil || mc.Profile == abi.V1 {
		return e.linker, nil
	}
	if l, ok := e.profileLinkers[mc.Profile]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("wasmtime: no linker for ABI profile %q", mc.Profile.Name)
}

// defineImports defines WASI and every host function of a profile's table on
// a linker of the engine. The function types are built here, for this engine:
// a wt.FuncType first used with one engine aborts the process when used with
// another.
func (e *Engine) defineImports(linker *wt.Linker, hostFuncs []abi.HostFunc) error {
	if err := linker.DefineWasi(); err != nil {
		return fmt.Errorf("wasmtime: define WASI: %w", err)
	}
	if err := e.definePoll(linker); err != nil { // sleeps end with the call (poll.go)
		return err
	}
	for i := range hostFuncs {
		hf := &hostFuncs[i]
		ty := wt.NewFuncType(valTypes(hf.Type.Params), valTypes(hf.Type.Results))
		if err := linker.FuncNew(abi.ImportModule, hf.Name, ty, e.hostFunc(hf)); err != nil {
			return fmt.Errorf("wasmtime: define import[%s]: %w", hf.Name, err)
		}
	}
	return nil
}

// Info implements engines.Engine.
func (e *Engine) Info() engines.Info { return e.info }

// Unsupported implements engines.FeatureReporter.
func (e *Engine) Unsupported(f engines.Feature) string {
	if f == engines.FeatureInterrupt && e.cfg.NoDeadline {
		return engines.NoDeadlineReason
	}
	if f == engines.FeatureInterrupt && e.ticker != nil {
		return "wasmtime: this binary lacks the C functions of the epoch deadline callback, so a running call ends only at its context's deadline, not when the context is cancelled"
	}
	return ""
}

// incrementEpoch advances the engine's epoch unless the engine is closed.
func (e *Engine) incrementEpoch() {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if !e.closed {
		e.engine.IncrementEpoch()
	}
}

func (e *Engine) isClosed() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.closed
}

// Compile implements engines.Engine.
func (e *Engine) Compile(ctx context.Context, wasm []byte, cfg engines.ModuleConfig) (engines.Module, error) {
	if e.isClosed() {
		return nil, errors.New("wasmtime: engine closed")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wasmtime: compile: %w", err)
	}
	limit := cfg.MemoryLimitPages
	if limit == 0 {
		limit = e.cfg.MemoryLimitPages
	}
	if limit == 0 {
		limit = abi.DefaultLimits.MemoryPages
	}
	linker, err := e.linkerFor(cfg)
	if err != nil {
		return nil, err
	}
	m, err := e.compile(wasm)
	if err != nil {
		return nil, err
	}
	return &module{eng: e, linker: linker, mod: m, exports: exportsOf(m), memoryBytes: int64(limit) * abi.PageSize}, nil
}

// compile compiles wasm, or deserializes it from the cache. An entry that
// does not deserialize (stale, corrupt, another engine's) is compiled afresh
// and overwritten. Writing the cache is best effort: a failure leaves the
// module compiled and the cache without the entry.
//
// # Notes
//
// wasmtime trusts what it deserializes: the cache directory must be writable
// only by the host.
func (e *Engine) compile(wasm []byte) (*wt.Module, error) {
	if e.cache == nil {
		return e.compileFresh(wasm)
	}
	key := e.cache.Key(Name, e.info.Version, e.settings, wasm)
	if b, ok, err := e.cache.Get(key); err == nil && ok {
		if m, err := wt.NewModuleDeserialize(e.engine, b); err == nil {
			return m, nil
		}
	}
	m, err := e.compileFresh(wasm)
	if err != nil {
		return nil, err
	}
	if b, err := m.Serialize(); err == nil {
		_ = e.cache.Put(key, b)
	}
	return m, nil
}

func (e *Engine) compileFresh(wasm []byte) (*wt.Module, error) {
	m, err := wt.NewModule(e.engine, wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: wasmtime: %s", engines.ErrCompile, describe(err))
	}
	return m, nil
}

// Close implements engines.Engine. Modules and instances must be closed
// first; Close is idempotent.
func (e *Engine) Close(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	e.linker.Close()
	for _, l := range e.profileLinkers {
		l.Close()
	}
	e.engine.Close()
	return nil
}

type module struct {
	eng         *Engine
	linker      *wt.Linker // the linker of the module's profile
	exports     abi.Exports
	memoryBytes int64

	mu  sync.RWMutex // guards mod against Close during Instantiate
	mod *wt.Module   // nil once closed
}

func (m *module) Exports() abi.Exports { return m.exports }

func (m *module) Close(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mod != nil {
		m.mod.Close()
		m.mod = nil
	}
	return nil
}

// exportsOf lists a module's exports, sorted by name.
func exportsOf(m *wt.Module) abi.Exports {
	var es abi.Exports
	for _, et := range m.Exports() {
		e := abi.Export{Name: et.Name(), Kind: abi.KindOther}
		ty := et.Type()
		if ft := ty.FuncType(); ft != nil {
			e.Kind = abi.KindFunc
			e.Type = abi.FuncType{Params: abiTypes(ft.Params()), Results: abiTypes(ft.Results())}
		} else if ty.MemoryType() != nil {
			e.Kind = abi.KindMemory
		}
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b abi.Export) int { return strings.Compare(a.Name, b.Name) })
	return es
}

// abiTypes converts wasmtime value types to their binary encoding, which abi
// uses. Types abi does not name keep their encoding too (v128 0x7b, funcref
// 0x70, externref 0x6f), so a signature check reports them faithfully.
func abiTypes(ts []*wt.ValType) []abi.ValueType {
	out := make([]abi.ValueType, len(ts))
	for i, t := range ts {
		out[i] = abiType(t.Kind())
	}
	return out
}

func abiType(k wt.ValKind) abi.ValueType {
	switch k {
	case wt.KindI32:
		return abi.I32
	case wt.KindI64:
		return abi.I64
	case wt.KindF32:
		return abi.F32
	case wt.KindF64:
		return abi.F64
	case wt.KindFuncref:
		return 0x70
	case wt.KindExternref:
		return 0x6f
	case 4: // WASM_V128, which the binding does not name
		return 0x7b
	}
	return 0
}

func valTypes(ts []abi.ValueType) []*wt.ValType {
	out := make([]*wt.ValType, len(ts))
	for i, t := range ts {
		switch t {
		case abi.I32:
			out[i] = wt.NewValType(wt.KindI32)
		case abi.I64:
			out[i] = wt.NewValType(wt.KindI64)
		case abi.F32:
			out[i] = wt.NewValType(wt.KindF32)
		case abi.F64:
			out[i] = wt.NewValType(wt.KindF64)
		default:
			panic(fmt.Sprintf("wasmtime: host import uses value type %s", t))
		}
	}
	return out
}
