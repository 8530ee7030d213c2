package wasmtime

// The "direct" variant: the same Wasmtime library as the binding variant,
// called through its C API by this package instead of through wasmtime-go's
// Go API. The binding spends about 95% of an empty call in Go (it fetches the
// function's type and boxes every value on every call, one cgo call per
// argument); here a call is one cgo call of wasmtime_func_call_unchecked on a
// raw value buffer made once per function, and every host function is the
// one C trampoline kspd_host entering one exported Go function (kspdHost).
//
// The binding is still imported: its cgo flags are what link libwasmtime.a
// (and its headers' copies in include/ are what this code compiles against).
// No handle of the binding's is used: every engine, linker, module, store and
// function here is made through the C API by this package.

/*
#include "direct_capi.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
)

// VariantDirect is the engines.Config.Variant of the direct variant.
const VariantDirect = "direct"

// directEngine is the wasmtime engine of the direct variant: one
// wasm_engine_t and one wasmtime_linker_t holding WASI and the env host
// functions, shared by every instance of every module compiled on it.
type directEngine struct {
	cfg      engines.Config
	info     engines.Info
	engine   *C.wasm_engine_t
	linker   *C.wasmtime_linker_t // ABI v1's env table and WASI
	epoch    C.int                // KSPD_EPOCH_CALLBACK, or KSPD_EPOCH_OFF with NoDeadline
	cache    *engines.DiskCache
	settings string

	mu     sync.RWMutex // guards closed against use of the engine after Close
	closed bool

	// linkers holds a linker per other ABI profile (their env tables share
	// names with v1's at other types), made on first use.
	linkersMu sync.Mutex
	linkers   map[string]*C.wasmtime_linker_t
}

var (
	_ engines.Engine          = (*directEngine)(nil)
	_ engines.FeatureReporter = (*directEngine)(nil)
	_ engines.Baseliner       = (*directEngine)(nil)
)

// openDirect opens the direct variant.
func openDirect(cfg engines.Config) (engines.Engine, error) {
	if !directAvailable() {
		return nil, errors.New("wasmtime: variant direct: the Wasmtime C API functions it calls did not resolve at link time")
	}
	e := &directEngine{cfg: cfg, epoch: C.KSPD_EPOCH_CALLBACK}
	if cfg.NoDeadline {
		e.epoch = C.KSPD_EPOCH_OFF
	}
	notes := []string{
		"variant direct: the Wasmtime C API called by kspbench (wasmtime_func_call_unchecked, host functions through one C trampoline), not wasmtime-go's Go API",
		"wasmtime C library " + libraryVersion + ", as the binding's wasmtime.h declares it",
	}
	target := ""
	if cfg.Interpreter {
		target = "pulley" + strconv.Itoa(strconv.IntSize)
	}
	engine, targetErr := newCEngine(e.epoch != C.KSPD_EPOCH_OFF, cfg.CompileWorkers != 1, usePooling, target)
	if engine == nil {
		return nil, errors.New("wasmtime: variant direct: wasm_engine_new_with_config failed")
	}
	e.engine = engine
	switch {
	case targetErr != "":
		notes = append(notes, fmt.Sprintf("interpreter requested but target %s refused (%s): running compiled code", target, targetErr))
		target = ""
	case target != "":
		notes = append(notes, "interpreter requested")
	}
	mode := "cranelift"
	if C.wasmtime_engine_is_pulley(e.engine) {
		mode = "pulley"
	}
	if cfg.NoDeadline {
		notes = append(notes, "NoDeadline: no epoch interruption; a running call cannot be ended")
	} else {
		notes = append(notes, "calls end through epoch interruption with a per-store deadline callback")
	}
	if cfg.CompileWorkers == 1 {
		notes = append(notes, "compiles on one thread")
	}
	e.info = engines.Info{
		Name:    Name,
		Version: engines.ModuleVersion(modulePath, pinnedVersion),
		Mode:    mode,
		Notes:   strings.Join(notes, "; "),
	}
	// The same settings as the binding variant's for the same compiled code:
	// the two share cache entries.
	e.settings = fmt.Sprintf("library=%s mode=%s target=%s epoch=%t goos=%s goarch=%s",
		libraryVersion, mode, target, !cfg.NoDeadline, runtime.GOOS, runtime.GOARCH)
	if cfg.CacheDir != "" {
		e.cache = &engines.DiskCache{Dir: cfg.CacheDir}
	}
	linker, err := newCLinker(e.engine, true, abi.HostFuncs)
	if err != nil {
		C.wasm_engine_delete(e.engine)
		return nil, err
	}
	e.linker = linker
	return e, nil
}

// newCEngine makes a wasm_engine_t; a target wasmtime refuses is left out
// and its error returned as text.
func newCEngine(epoch, parallel, pooling bool, target string) (*C.wasm_engine_t, string) {
	var ctarget *C.char
	if target != "" {
		ctarget = C.CString(target)
		defer C.free(unsafe.Pointer(ctarget))
	}
	var targetErr *C.wasmtime_error_t
	engine := C.kspd_engine_new(cBool(epoch), cBool(parallel), cBool(pooling), ctarget, &targetErr)
	if targetErr != nil {
		return engine, takeError(targetErr)
	}
	return engine, ""
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// newCLinker makes a linker with every host function of funcs (a profile's
// env table; the trampoline passes the index in it), and WASI when wasi is
// set. The function types are made here, for this engine.
func newCLinker(engine *C.wasm_engine_t, wasi bool, funcs []abi.HostFunc) (*C.wasmtime_linker_t, error) {
	linker := C.wasmtime_linker_new(engine)
	if wasi {
		if err := C.wasmtime_linker_define_wasi(linker); err != nil {
			C.wasmtime_linker_delete(linker)
			return nil, fmt.Errorf("wasmtime: define WASI: %s", takeError(err))
		}
		if err := defineDirectPoll(linker); err != nil { // sleeps end with the call (direct_poll.go)
			C.wasmtime_linker_delete(linker)
			return nil, err
		}
	}
	mod, modLen := cString(abi.ImportModule)
	for i := range funcs {
		hf := &funcs[i]
		params, err := valKinds(hf.Type.Params)
		if err != nil {
			C.wasmtime_linker_delete(linker)
			return nil, fmt.Errorf("wasmtime: import[%s]: %w", hf.Name, err)
		}
		results, err := valKinds(hf.Type.Results)
		if err != nil {
			C.wasmtime_linker_delete(linker)
			return nil, fmt.Errorf("wasmtime: import[%s]: %w", hf.Name, err)
		}
		name, nameLen := cString(hf.Name)
		p, np := cBytes(params)
		r, nr := cBytes(results)
		if err := C.kspd_define_host(linker, mod, modLen, name, nameLen, p, np, r, nr, C.uintptr_t(i)); err != nil {
			C.wasmtime_linker_delete(linker)
			return nil, fmt.Errorf("wasmtime: define import[%s]: %s", hf.Name, takeError(err))
		}
	}
	return linker, nil
}

// valKinds converts abi value types to wasm_valkind_t.
func valKinds(ts []abi.ValueType) ([]byte, error) {
	out := make([]byte, len(ts))
	for i, t := range ts {
		switch t {
		case abi.I32:
			out[i] = C.WASM_I32
		case abi.I64:
			out[i] = C.WASM_I64
		case abi.F32:
			out[i] = C.WASM_F32
		case abi.F64:
			out[i] = C.WASM_F64
		default:
			return nil, fmt.Errorf("value type %s", t)
		}
	}
	return out, nil
}

// Info implements engines.Engine.
func (e *directEngine) Info() engines.Info { return e.info }

// Unsupported implements engines.FeatureReporter.
func (e *directEngine) Unsupported(f engines.Feature) string {
	if f == engines.FeatureInterrupt && e.cfg.NoDeadline {
		return "wasmtime: opened with NoDeadline: without epoch interruption a running call cannot be ended"
	}
	return ""
}

// incrementEpoch advances the engine's epoch unless the engine is closed.
func (e *directEngine) incrementEpoch() {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if !e.closed {
		C.wasmtime_engine_increment_epoch(e.engine)
	}
}

func (e *directEngine) isClosed() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.closed
}

// Compile implements engines.Engine.
func (e *directEngine) Compile(ctx context.Context, wasm []byte, cfg engines.ModuleConfig) (engines.Module, error) {
	if e.isClosed() {
		return nil, errors.New("wasmtime: engine closed")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wasmtime: compile: %w", err)
	}
	linker, err := e.linkerFor(cfg)
	if err != nil {
		return nil, err
	}
	limit := cfg.MemoryLimitPages
	if limit == 0 {
		limit = e.cfg.MemoryLimitPages
	}
	if limit == 0 {
		limit = abi.DefaultLimits.MemoryPages
	}
	m, err := e.compile(wasm)
	if err != nil {
		return nil, err
	}
	mod := &directModule{eng: e, mod: m, memoryBytes: int64(limit) * abi.PageSize, linker: linker, hostFuncs: cfg.HostFuncs()}
	mod.exports = cExports(m)
	return mod, nil
}

// linkerFor returns the linker of the module's ABI profile.
func (e *directEngine) linkerFor(cfg engines.ModuleConfig) (*C.wasmtime_linker_t, error) {
	if cfg.ProfileName() == abi.V1.Name {
		return e.linker, nil
	}
	e.linkersMu.Lock()
	defer e.linkersMu.Unlock()
	if l, ok := e.linkers[cfg.ProfileName()]; ok {
		return l, nil
	}
	l, err := newCLinker(e.engine, true, cfg.HostFuncs())
	if err != nil {
		return nil, err
	}
	if e.linkers == nil {
		e.linkers = map[string]*C.wasmtime_linker_t{}
	}
	e.linkers[cfg.ProfileName()] = l
	return l, nil
}

// compile compiles wasm, or deserializes it from the cache, as the binding
// variant's compile does (same keys, same recovery from a bad entry).
//
// # Notes
//
// wasmtime trusts what it deserializes: the cache directory must be writable
// only by the host.
func (e *directEngine) compile(wasm []byte) (*C.wasmtime_module_t, error) {
	if e.cache == nil {
		return e.compileFresh(wasm)
	}
	key := e.cache.Key(Name, e.info.Version, e.settings, wasm)
	if b, ok, err := e.cache.Get(key); err == nil && ok {
		var m *C.wasmtime_module_t
		p, n := cBytes(b)
		err := C.wasmtime_module_deserialize(e.engine, p, n, &m)
		if err == nil {
			return m, nil
		}
		takeError(err) // stale or corrupt: compiled afresh below
	}
	m, err := e.compileFresh(wasm)
	if err != nil {
		return nil, err
	}
	var v C.wasm_byte_vec_t
	if err := C.wasmtime_module_serialize(m, &v); err == nil {
		b := C.GoBytes(unsafe.Pointer(v.data), C.int(v.size))
		C.wasm_byte_vec_delete(&v)
		_ = e.cache.Put(key, b)
	} else {
		takeError(err)
	}
	return m, nil
}

func (e *directEngine) compileFresh(wasm []byte) (*C.wasmtime_module_t, error) {
	var m *C.wasmtime_module_t
	p, n := cBytes(wasm)
	if err := C.wasmtime_module_new(e.engine, p, n, &m); err != nil {
		return nil, fmt.Errorf("%w: wasmtime: %s", engines.ErrCompile, describeText(takeError(err)))
	}
	return m, nil
}

// Close implements engines.Engine. Modules and instances must be closed
// first; Close is idempotent.
func (e *directEngine) Close(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	C.wasmtime_linker_delete(e.linker)
	for _, l := range e.linkers {
		C.wasmtime_linker_delete(l)
	}
	C.wasm_engine_delete(e.engine)
	return nil
}

// directModule is a compiled module. Its instance_pre, made at the first
// Instantiate, has the linker's imports resolved and type-checked once for
// every instance.
type directModule struct {
	eng         *directEngine
	exports     abi.Exports
	memoryBytes int64
	// linker holds the env table of the module's profile, hostFuncs.
	linker    *C.wasmtime_linker_t
	hostFuncs []abi.HostFunc

	mu     sync.RWMutex // guards mod and pre against Close during Instantiate
	mod    *C.wasmtime_module_t
	preMu  sync.Mutex // guards pre and preErr while they are made
	pre    *C.wasmtime_instance_pre_t
	preErr string
}

func (m *directModule) Exports() abi.Exports { return m.exports }

// instancePre returns the module's instance_pre, making it the first time,
// or the linker's reason for refusing the module's imports. Called with
// m.mu read-locked.
func (m *directModule) instancePre() (*C.wasmtime_instance_pre_t, string) {
	if !usePre {
		return nil, ""
	}
	m.preMu.Lock()
	defer m.preMu.Unlock()
	if m.pre == nil && m.preErr == "" {
		if err := C.wasmtime_linker_instantiate_pre(m.linker, m.mod, &m.pre); err != nil {
			m.preErr = describeText(takeError(err))
		}
	}
	return m.pre, m.preErr
}

// usePooling makes openDirect configure wasmtime's pooling allocator, for the
// benchmark that compares instantiation with and without it. It is off: see
// BenchmarkInstantiate for why.
var usePooling = false

// usePre makes Instantiate go through a per-module wasmtime_instance_pre_t;
// false instantiates through the linker each time, for the benchmark that
// compares the two.
var usePre = true

func (m *directModule) Close(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mod == nil {
		return nil
	}
	if m.pre != nil {
		C.wasmtime_instance_pre_delete(m.pre)
		m.pre = nil
	}
	C.wasmtime_module_delete(m.mod)
	m.mod = nil
	return nil
}

// cExports lists a module's exports, sorted by name, with value types in
// their binary encoding as abi uses them (as exportsOf does for the binding).
func cExports(m *C.wasmtime_module_t) abi.Exports {
	var vec C.wasm_exporttype_vec_t
	C.wasmtime_module_exports(m, &vec)
	defer C.wasm_exporttype_vec_delete(&vec)
	var es abi.Exports
	for _, et := range unsafe.Slice(vec.data, int(vec.size)) {
		name := C.wasm_exporttype_name(et)
		e := abi.Export{Name: C.GoStringN((*C.char)(unsafe.Pointer(name.data)), C.int(name.size)), Kind: abi.KindOther}
		ty := C.wasm_exporttype_type(et)
		switch C.wasm_externtype_kind(ty) {
		case C.WASM_EXTERN_FUNC:
			ft := C.wasm_externtype_as_functype_const(ty)
			e.Kind = abi.KindFunc
			e.Type = abi.FuncType{Params: cValTypes(C.wasm_functype_params(ft)), Results: cValTypes(C.wasm_functype_results(ft))}
		case C.WASM_EXTERN_MEMORY:
			e.Kind = abi.KindMemory
		}
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b abi.Export) int { return strings.Compare(a.Name, b.Name) })
	return es
}

func cValTypes(vec *C.wasm_valtype_vec_t) []abi.ValueType {
	vts := unsafe.Slice(vec.data, int(vec.size))
	out := make([]abi.ValueType, len(vts))
	for i, vt := range vts {
		out[i] = cValType(C.wasm_valtype_kind(vt))
	}
	return out
}

// cValType is abiType for a wasm_valkind_t: the binding's ValKind is the
// same C enumeration, so one table of kinds serves both variants.
func cValType(k C.wasm_valkind_t) abi.ValueType { return abiType(wt.ValKind(uint8(k))) }
