package wasmer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/wasmerio/wasmer-go/wasmer"
)

// module is a compiled module. It is safe for concurrent use.
type module struct {
	eng     *Engine
	gen     *generation
	wm      *wasmer.Module
	exports abi.Exports
	funcs   map[string]abi.FuncType
	memory  string // the export Instance.Memory returns, "" for none
	wasi    bool   // the module imports WASI
	// hostImports lists, as indexes of abi.HostFuncs, the env functions the
	// module imports: an instance binds only those.
	hostImports []int
	// wasiPoll is set when the module imports WASI poll_oneoff with its
	// preview1 type: instances bind the adapter's own (poll.go) instead of
	// Wasmer's, which aborts the process on a clock subscription.
	wasiPoll bool

	mu      sync.Mutex
	closed  bool
	cleanup runtime.Cleanup
}

func newModule(e *Engine, g *generation, wm *wasmer.Module) *module {
	m := &module{eng: e, gen: g, wm: wm, funcs: map[string]abi.FuncType{}}
	// wm.Imports and wm.Exports build wasmer-go caches on first use, without
	// a lock, and NewInstance reads them: build them here, before the module
	// can reach two goroutines.
	for _, it := range wm.Imports() {
		if it.Module() == wasiModule && it.Name() == wasiPollName {
			m.wasiPoll = isPollType(it.Type())
		}
		if it.Module() != abi.ImportModule {
			continue
		}
		if i := slices.IndexFunc(abi.HostFuncs, func(hf abi.HostFunc) bool { return hf.Name == it.Name() }); i >= 0 {
			m.hostImports = append(m.hostImports, i)
		}
	}
	m.exports = exportsOf(wm)
	for _, e := range m.exports {
		switch {
		case e.Kind == abi.KindFunc:
			m.funcs[e.Name] = e.Type
		case e.Kind == abi.KindMemory && (m.memory == "" || e.Name == abi.ExportMemory):
			m.memory = e.Name
		}
	}
	m.wasi = wasmer.GetWasiVersion(wm) != wasmer.WASI_VERSION_INVALID
	// A module dropped without Close still gives its generation back.
	m.cleanup = runtime.AddCleanup(m, func(g *generation) { e.release(g) }, g)
	return m
}

func (m *module) Exports() abi.Exports { return m.exports }

func (m *module) Close(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.cleanup.Stop()
	m.wm.Close()
	m.eng.release(m.gen)
	return nil
}

// Instantiate implements engines.Module. Each instance gets its own WASI
// environment (when the module imports WASI, with stdout and stderr captured
// and passed to imports.Log after each call) and its own env functions, bound
// to it: Wasmer's host functions receive no caller.
func (m *module) Instantiate(ctx context.Context, imports abi.Imports) (engines.Instance, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("%w: wasmer: module closed", engines.ErrInstantiate)
	}
	m.eng.retain(m.gen)
	m.mu.Unlock()
	in, err := m.instantiate(ctx, imports)
	if err != nil {
		m.eng.release(m.gen)
		return nil, fmt.Errorf("%w: wasmer: %w", engines.ErrInstantiate, err)
	}
	return in, nil
}

func (m *module) instantiate(ctx context.Context, imports abi.Imports) (*instance, error) {
	in := &instance{mod: m, imports: imports, funcs: map[string]*function{}}
	store := m.gen.store
	importObject := wasmer.NewImportObject()
	if m.wasi {
		// Capturing both streams matters: wasi_env_new has crashed here
		// without it.
		w, err := wasmer.NewWasiStateBuilder("kspbench").CaptureStdout().CaptureStderr().Finalize()
		if err != nil {
			return nil, fmt.Errorf("WASI environment: %w", err)
		}
		if importObject, err = w.GenerateImportObject(store, m.wm); err != nil {
			return nil, fmt.Errorf("WASI imports: %w", err)
		}
		in.wasi, in.wasiEnv = w, wasiPointer(w)
	}
	wasiPoll := m.wasi && m.wasiPoll
	if len(m.hostImports) > 0 || wasiPoll {
		storePtr := storePointer(store)
		in.hostID = registerHost(in, storePtr)
		ns := make(map[string]wasmer.IntoExtern, len(m.hostImports))
		for _, i := range m.hostImports {
			f, ext, err := newHostFunc(storePtr, functypePointer(m.gen.hostTypes[i]), in.hostID, i)
			if err != nil {
				unregisterHost(in.hostID)
				return nil, err
			}
			defer deleteHostFunc(f) // the instance holds its own reference
			ns[abi.HostFuncs[i].Name] = ext
		}
		if len(ns) > 0 {
			importObject.Register(abi.ImportModule, ns)
		}
		if wasiPoll {
			f, ext, err := newHostFunc(storePtr, functypePointer(m.gen.pollType), in.hostID, wasiPollIndex)
			if err != nil {
				unregisterHost(in.hostID)
				return nil, err
			}
			defer deleteHostFunc(f)
			// Register merges a namespace by name: this replaces only
			// Wasmer's poll_oneoff among the WASI imports.
			importObject.Register(wasiModule, map[string]wasmer.IntoExtern{wasiPollName: ext})
		}
	}
	// A start function may call imports: give them the context.
	in.ctx = ctx
	wi, err := wasmer.NewInstance(m.wm, importObject)
	in.ctx = nil
	runtime.KeepAlive(store)
	if err != nil {
		if in.hostID != 0 {
			unregisterHost(in.hostID)
		}
		var trap *wasmer.TrapError
		if errors.As(err, &trap) && in.hostErr != nil {
			err = fmt.Errorf("%w: %w", err, in.hostErr)
		}
		return nil, err
	}
	in.wi = wi
	if m.memory != "" {
		if in.wmem, err = wi.Exports.GetMemory(m.memory); err != nil {
			wi.Close()
			if in.hostID != 0 {
				unregisterHost(in.hostID)
			}
			return nil, err
		}
	}
	in.gen = m.gen
	// An instance dropped without Close still gives its generation back
	// (the binding's own finalizer deletes the wasmer instance).
	in.cleanup = runtime.AddCleanup(in, func(r release) {
		if r.hostID != 0 {
			unregisterHost(r.hostID)
		}
		r.eng.release(r.gen)
	}, release{m.eng, m.gen, in.hostID})
	return in, nil
}

type release struct {
	eng    *Engine
	gen    *generation
	hostID uint64
}

// isPollType reports whether an import has poll_oneoff's preview1 type,
// (i32, i32, i32, i32) -> i32. An import of another type is left to Wasmer,
// which refuses to link it.
func isPollType(t *wasmer.ExternType) bool {
	if t.Kind() != wasmer.FUNCTION {
		return false
	}
	ft := t.IntoFunctionType()
	want := []abi.ValueType{abi.I32, abi.I32, abi.I32, abi.I32}
	return slices.Equal(abiTypes(ft.Params()), want) && slices.Equal(abiTypes(ft.Results()), want[:1])
}

func exportsOf(wm *wasmer.Module) abi.Exports {
	var es abi.Exports
	for _, et := range wm.Exports() {
		e := abi.Export{Name: et.Name(), Kind: abi.KindOther}
		switch t := et.Type(); t.Kind() {
		case wasmer.FUNCTION:
			ft := t.IntoFunctionType()
			e.Kind, e.Type = abi.KindFunc, abi.FuncType{Params: abiTypes(ft.Params()), Results: abiTypes(ft.Results())}
		case wasmer.MEMORY:
			e.Kind = abi.KindMemory
		}
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b abi.Export) int { return cmp.Compare(a.Name, b.Name) })
	return es
}

func abiTypes(ts []*wasmer.ValueType) []abi.ValueType {
	out := make([]abi.ValueType, len(ts))
	for i, t := range ts {
		switch t.Kind() {
		case wasmer.I32:
			out[i] = abi.I32
		case wasmer.I64:
			out[i] = abi.I64
		case wasmer.F32:
			out[i] = abi.F32
		case wasmer.F64:
			out[i] = abi.F64
		case wasmer.AnyRef:
			out[i] = 0x6f // externref's binary encoding
		case wasmer.FuncRef:
			out[i] = 0x70
		}
	}
	return out
}
