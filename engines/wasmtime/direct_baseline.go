package wasmtime

/*
#include "direct_capi.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
)

// Baseline implements engines.Baseliner for the direct variant with the C API
// alone: an engine configured as this engine's (epoch interruption on, Pulley
// when this engine runs Pulley), host functions defined with
// wasmtime_linker_define_func_unchecked through the same C trampoline into
// Go as the adapter's (the fastest way to run a Go host function), calls with
// wasmtime_func_call_unchecked, and memory through wasmtime_memory_data,
// fetched at every access.
//
// No kspbench adapter code runs between the caller and the C API: no
// deadline callback (the store's deadline is beyond reach and the epoch never
// ticks), no memory limiter, no WASI (the reference guest imports none).
func (e *directEngine) Baseline(ctx context.Context, wasm []byte) (engines.Baseline, error) {
	if e.isClosed() {
		return nil, errors.New("wasmtime baseline: engine closed")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	target := ""
	if e.info.Mode == "pulley" {
		target = "pulley" + strconv.Itoa(strconv.IntSize)
	}
	engine, targetErr := newCEngine(true, true, false, target)
	if engine == nil {
		return nil, errors.New("wasmtime baseline: wasm_engine_new_with_config failed")
	}
	b := &directBaseline{engine: engine, config: map[string][]byte{}, getConfig: -1}
	if targetErr != "" {
		b.Close(ctx)
		return nil, fmt.Errorf("wasmtime baseline: target %s: %s", target, targetErr)
	}
	for i := range abi.HostFuncs {
		if abi.HostFuncs[i].Name == abi.ImportGetConfig {
			b.getConfig = i
		}
	}
	var err error
	if b.linker, err = newCLinker(engine, false, abi.HostFuncs); err != nil {
		b.Close(ctx)
		return nil, fmt.Errorf("wasmtime baseline: %w", err)
	}
	p, n := cBytes(wasm)
	if cerr := C.wasmtime_module_new(engine, p, n, &b.module); cerr != nil {
		b.Close(ctx)
		return nil, fmt.Errorf("wasmtime baseline: %s", describeText(takeError(cerr)))
	}
	// The buffers of wasmtime_func_call_unchecked are sized by these
	// types: a guest whose exports differ is refused, not called.
	exports := cExports(b.module)
	want := []struct {
		name string
		ty   abi.FuncType
		f    **C.kspd_func_t
	}{
		{"noop", abi.FuncType{}, &b.noop},
		{"call_host", abi.FuncType{Params: []abi.ValueType{abi.I32}}, &b.callHost},
		{"handle_echo", abi.HandlerType, &b.echo},
		{abi.ExportAllocate, abi.AllocateType, &b.alloc},
		{"deallocate", abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I32}}, &b.dealloc},
	}
	for _, w := range want {
		if ex, ok := exports.Lookup(w.name); !ok || ex.Kind != abi.KindFunc || !ex.Type.Equal(w.ty) {
			b.Close(ctx)
			return nil, fmt.Errorf("wasmtime baseline: export[%s] missing or not %s: not the reference guest", w.name, w.ty)
		}
	}
	if b.slot, err = receivers.add(b); err != nil {
		b.Close(ctx)
		return nil, fmt.Errorf("wasmtime baseline: %w", err)
	}
	b.hasSlot = true
	var cerr *C.wasmtime_error_t
	if b.store = C.kspd_store_new(engine, C.uint32_t(b.slot), C.KSPD_EPOCH_NEVER, -1, 0, &b.d, &cerr); b.store == nil {
		b.Close(ctx)
		return nil, errors.New("wasmtime baseline: new store: out of memory")
	}
	b.sctx = C.wasmtime_store_context(b.store)
	name, nameLen := cString(abi.ExportMemory)
	if cerr = C.kspd_instantiate(nil, b.linker, b.module, b.sctx, b.d, name, nameLen); cerr != nil || b.d.trap != nil {
		msg := takeFailure(cerr, b.d.trap)
		b.d.trap = nil
		b.Close(ctx)
		return nil, fmt.Errorf("wasmtime baseline: %s", describeText(msg))
	}
	if b.d.has_memory == 0 {
		b.Close(ctx)
		return nil, errors.New("wasmtime baseline: export[memory] missing: not the reference guest")
	}
	for _, w := range want {
		p, n := cString(w.name)
		if *w.f = C.kspd_func_get(b.sctx, b.d, p, n, C.size_t(max(len(w.ty.Params), len(w.ty.Results)))); *w.f == nil {
			b.Close(ctx)
			return nil, fmt.Errorf("wasmtime baseline: export[%s] missing: not the reference guest", w.name)
		}
	}
	return b, nil
}

// directBaseline is the reference guest on the C API.
type directBaseline struct {
	engine                               *C.wasm_engine_t
	linker                               *C.wasmtime_linker_t
	module                               *C.wasmtime_module_t
	store                                *C.wasmtime_store_t // nil until made
	sctx                                 *C.wasmtime_context_t
	d                                    *C.kspd_store_t
	slot                                 uint32
	hasSlot                              bool
	noop, callHost, echo, alloc, dealloc *C.kspd_func_t
	config                               map[string][]byte
	getConfig                            int // index of host_get_config in abi.HostFuncs
	closed                               bool
}

// host implements receiver. host_get_config reads the key from guest memory,
// looks it up and answers NOT_FOUND; the other imports answer zeros.
func (b *directBaseline) host(index int, _ *C.wasmtime_context_t, args []rawVal, mem []byte) *C.wasm_trap_t {
	if index == b.getConfig {
		ptr, n := uint32(args[0][0]), uint32(args[1][0])
		end := uint64(ptr) + uint64(n)
		if end > uint64(len(mem)) {
			return newTrap(abi.ErrOutOfBounds.Error())
		}
		if _, ok := b.config[string(mem[ptr:end])]; ok {
			return newTrap("baseline: the reference key is never present")
		}
		args[0][0] = abi.PackStatus(abi.NotFound)
		return nil
	}
	for i := range abi.HostFuncs[index].Type.Results {
		args[i][0] = 0
	}
	return nil
}

// call calls f, whose values are in place.
func (b *directBaseline) call(f *C.kspd_func_t) error {
	if cerr := C.kspd_call(cPtr(unsafe.Pointer(b.sctx)), cPtr(unsafe.Pointer(f)), 0); cerr != nil || f.trap != nil {
		msg := takeFailure(cerr, f.trap)
		f.trap = nil
		return errors.New("wasmtime baseline: " + describeText(msg))
	}
	return nil
}

func (b *directBaseline) Noop(context.Context) error {
	if b.closed {
		return errBaselineClosed
	}
	return b.call(b.noop)
}

func (b *directBaseline) CallHost(_ context.Context, n uint32) error {
	if b.closed {
		return errBaselineClosed
	}
	cFuncVals(b.callHost)[0][0] = uint64(n)
	return b.call(b.callHost)
}

func (b *directBaseline) Allocate(_ context.Context, n uint32) (uint32, error) {
	if b.closed {
		return 0, errBaselineClosed
	}
	vals := cFuncVals(b.alloc)
	vals[0][0] = uint64(n)
	if err := b.call(b.alloc); err != nil {
		return 0, err
	}
	return uint32(vals[0][0]), nil
}

// Echo does what plugin.Instance.Call does for handle_echo, with the same
// steps: an empty body is passed as (0, 0), without allocate or deallocate.
func (b *directBaseline) Echo(ctx context.Context, in []byte) ([]byte, error) {
	var ptr uint32
	n := uint32(len(in))
	if n > 0 {
		var err error
		if ptr, err = b.Allocate(ctx, n); err != nil {
			return nil, err
		}
		if ptr == 0 {
			return nil, fmt.Errorf("wasmtime baseline: allocate(%d) returned 0", n)
		}
		if err := b.Write(ptr, in); err != nil {
			return nil, err
		}
	} else if b.closed {
		return nil, errBaselineClosed
	}
	vals := cFuncVals(b.echo)
	vals[0][0], vals[1][0] = uint64(ptr), uint64(n)
	if err := b.call(b.echo); err != nil {
		return nil, err
	}
	rptr, rlen, err := abi.HandlerResult(vals[0][0], "function[handle_echo]")
	if err != nil {
		return nil, err
	}
	out := make([]byte, rlen)
	if rlen > 0 {
		if err := b.Read(rptr, out); err != nil {
			return nil, err
		}
	}
	if n > 0 {
		vals := cFuncVals(b.dealloc)
		vals[0][0], vals[1][0] = uint64(ptr), uint64(n)
		if err := b.call(b.dealloc); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (b *directBaseline) Write(ptr uint32, p []byte) error {
	if b.closed {
		return errBaselineClosed
	}
	if !write(memView(b.sctx, b.d), ptr, p) {
		return abi.ErrOutOfBounds
	}
	return nil
}

func (b *directBaseline) Read(ptr uint32, dst []byte) error {
	if b.closed {
		return errBaselineClosed
	}
	src, ok := read(memView(b.sctx, b.d), ptr, uint32(len(dst)))
	if !ok || uint64(len(dst)) > uint64(^uint32(0)) {
		return abi.ErrOutOfBounds
	}
	copy(dst, src)
	return nil
}

// Close frees the functions, store, module, linker and engine; it is
// idempotent.
func (b *directBaseline) Close(context.Context) error {
	if b.closed {
		return nil
	}
	b.closed = true
	if b.hasSlot {
		receivers.clear(b.slot)
	}
	for _, f := range []*C.kspd_func_t{b.noop, b.callHost, b.echo, b.alloc, b.dealloc} {
		if f != nil {
			freeFunc(f)
		}
	}
	b.noop, b.callHost, b.echo, b.alloc, b.dealloc = nil, nil, nil, nil, nil
	if b.store != nil {
		C.wasmtime_store_delete(b.store)
		b.store, b.sctx, b.d = nil, nil, nil
	}
	if b.hasSlot {
		receivers.release(b.slot)
	}
	if b.module != nil {
		C.wasmtime_module_delete(b.module)
	}
	if b.linker != nil {
		C.wasmtime_linker_delete(b.linker)
	}
	C.wasm_engine_delete(b.engine)
	return nil
}
