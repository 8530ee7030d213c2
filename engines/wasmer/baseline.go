package wasmer

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/wasmerio/wasmer-go/wasmer"
)

var _ engines.Baseliner = (*Engine)(nil)

// Baseline implements engines.Baseliner with wasmer-go's own public API: a
// wasmer Engine of the kind this engine makes (Universal, Cranelift), host
// functions made with wasmer.NewFunction, calls through the exports'
// NativeFunction and memory through Memory.Data.
//
// None of the adapter's C is used: not its host-function trampoline, nor its
// engine recycling, nor its memory-limit rewriting (the reference guest
// declares no maximum, and a baseline operation stays within its two pages).
// The reference guest imports no WASI, so none is made.
//
// # Costs that are the binding's own
//
//   - Every call boxes its arguments and results (NativeFunction takes and
//     returns interface{} values) and makes several cgo calls.
//   - Every host call allocates in Go (the argument and result []Value and
//     the C value arrays) and leaks on the C heap: wasmer-go never frees the
//     argument vector Wasmer hands the callback, nor the result vector, which
//     it replaces with one of its own (wasm_val_vec_new):
//     TestBaselineHostCallLeak measured about 125 bytes of resident memory
//     per host_get_config call. The adapter's C trampoline (host.c) exists to
//     free them.
//   - A host function that returns an error makes wasmer-go free its trap
//     twice (wasmer-go issue #291), crashing the process at a later garbage
//     collection. The baseline's host functions never return an error: one
//     that finds the key out of bounds records it for CallHost to return
//     and answers normally.
//   - Host functions get no caller, so host_get_config reaches guest memory
//     through the instance's exported memory, captured once instantiated.
//
// The baseline cannot be interrupted (the binding has no way to) and does
// not look at its context.
func (e *Engine) Baseline(ctx context.Context, wasm []byte) (engines.Baseline, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, errors.New("wasmer baseline: engine closed")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	engine := wasmer.NewEngineWithConfig(newConfig(e.compiler)) // the same compiler as this engine
	b := &baseline{store: wasmer.NewStore(engine), config: map[string][]byte{}}
	b.notFound = []wasmer.Value{wasmer.NewI64(int64(abi.PackStatus(abi.NotFound)))}
	module, err := wasmer.NewModule(b.store, wasm)
	if err != nil {
		b.store.Close()
		return nil, fmt.Errorf("wasmer baseline: %w", err)
	}
	b.module = module
	env := make(map[string]wasmer.IntoExtern, len(abi.HostFuncs))
	for _, hf := range abi.HostFuncs {
		ty := wasmer.NewFunctionType(valueTypes(hf.Type.Params), valueTypes(hf.Type.Results))
		f := b.getConfig
		if hf.Name != abi.ImportGetConfig {
			zeros := make([]wasmer.Value, len(hf.Type.Results))
			for i, t := range hf.Type.Results {
				if t == abi.I64 {
					zeros[i] = wasmer.NewI64(int64(0))
				} else {
					zeros[i] = wasmer.NewI32(int32(0))
				}
			}
			f = func([]wasmer.Value) ([]wasmer.Value, error) { return zeros, nil }
		}
		env[hf.Name] = wasmer.NewFunction(b.store, ty, f)
	}
	imports := wasmer.NewImportObject()
	imports.Register(abi.ImportModule, env)
	if b.inst, err = wasmer.NewInstance(module, imports); err != nil {
		b.Close(ctx)
		return nil, fmt.Errorf("wasmer baseline: %w", err)
	}
	if b.mem, err = b.inst.Exports.GetMemory(abi.ExportMemory); err != nil || b.mem == nil {
		b.Close(ctx)
		return nil, fmt.Errorf("wasmer baseline: export[memory] missing: not the reference guest (%v)", err)
	}
	for name, f := range map[string]*wasmer.NativeFunction{"noop": &b.noop, "call_host": &b.callHost, "handle_echo": &b.echo, "allocate": &b.alloc, "deallocate": &b.dealloc} {
		if *f, err = b.inst.Exports.GetFunction(name); err != nil || *f == nil {
			b.Close(ctx)
			return nil, fmt.Errorf("wasmer baseline: export[%s] missing: not the reference guest (%v)", name, err)
		}
	}
	runtime.KeepAlive(b.inst)
	return b, nil
}

// baseline is the reference guest on wasmer-go.
//
// # Notes
//
// An exported function or memory does not keep its wasmer.Instance alive
// (the instance's finalizer frees them), so every use of one ends with
// runtime.KeepAlive(b.inst). The host functions hold b through wasmer-go's
// global table of host functions, and the instance holds them (through its
// import object): Close clears b's references so that, once closed, the
// instance and the functions can be collected.
type baseline struct {
	store                                *wasmer.Store
	module                               *wasmer.Module
	inst                                 *wasmer.Instance
	mem                                  *wasmer.Memory
	noop, callHost, echo, alloc, dealloc wasmer.NativeFunction
	config                               map[string][]byte
	notFound                             []wasmer.Value // host_get_config's answer, made once
	hostErr                              error          // a host function's failure, for CallHost
	closed                               bool
}

// getConfig is host_get_config: it reads the key from the instance's memory,
// looks it up, and answers NOT_FOUND. It never returns an error (see
// Baseline).
func (b *baseline) getConfig(args []wasmer.Value) ([]wasmer.Value, error) {
	ptr, n := uint32(args[0].I32()), uint32(args[1].I32())
	if b.mem == nil {
		b.hostErr = errBaselineClosed
		return b.notFound, nil
	}
	data := b.mem.Data()
	end := uint64(ptr) + uint64(n)
	switch {
	case end > uint64(len(data)):
		b.hostErr = abi.ErrOutOfBounds
	default:
		if _, ok := b.config[string(data[ptr:end])]; ok {
			b.hostErr = errors.New("wasmer baseline: the reference key is never present")
		}
	}
	runtime.KeepAlive(b.inst)
	return b.notFound, nil
}

func (b *baseline) Noop(context.Context) error {
	if b.closed {
		return errBaselineClosed
	}
	_, err := b.noop()
	runtime.KeepAlive(b.inst)
	return err
}

func (b *baseline) CallHost(_ context.Context, n uint32) error {
	if b.closed {
		return errBaselineClosed
	}
	b.hostErr = nil
	_, err := b.callHost(int32(n))
	runtime.KeepAlive(b.inst)
	if err == nil {
		err = b.hostErr
	}
	b.hostErr = nil
	return err
}

func (b *baseline) Allocate(_ context.Context, n uint32) (uint32, error) {
	if b.closed {
		return 0, errBaselineClosed
	}
	res, err := b.alloc(int32(n))
	runtime.KeepAlive(b.inst)
	if err != nil {
		return 0, err
	}
	return uint32(res.(int32)), nil
}

// Echo does what plugin.Instance.Call does for handle_echo, with the same
// steps: an empty body is passed as (0, 0), without allocate or deallocate.
func (b *baseline) Echo(ctx context.Context, in []byte) ([]byte, error) {
	if b.closed {
		return nil, errBaselineClosed
	}
	var ptr uint32
	n := uint32(len(in))
	if n > 0 {
		var err error
		if ptr, err = b.Allocate(ctx, n); err != nil {
			return nil, err
		}
		if ptr == 0 {
			return nil, fmt.Errorf("wasmer baseline: allocate(%d) returned 0", n)
		}
		if err := b.Write(ptr, in); err != nil {
			return nil, err
		}
	}
	res, err := b.echo(int32(ptr), int32(n))
	runtime.KeepAlive(b.inst)
	if err != nil {
		return nil, err
	}
	rptr, rlen, err := abi.HandlerResult(uint64(res.(int64)), "function[handle_echo]")
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
		_, err := b.dealloc(int32(ptr), int32(n))
		runtime.KeepAlive(b.inst)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (b *baseline) Write(ptr uint32, p []byte) error {
	if b.closed {
		return errBaselineClosed
	}
	data := b.mem.Data()
	defer runtime.KeepAlive(b.inst)
	if uint64(ptr)+uint64(len(p)) > uint64(len(data)) {
		return abi.ErrOutOfBounds
	}
	copy(data[ptr:], p)
	return nil
}

func (b *baseline) Read(ptr uint32, dst []byte) error {
	if b.closed {
		return errBaselineClosed
	}
	data := b.mem.Data()
	defer runtime.KeepAlive(b.inst)
	if uint64(ptr)+uint64(len(dst)) > uint64(len(data)) {
		return abi.ErrOutOfBounds
	}
	copy(dst, data[ptr:])
	return nil
}

// Close frees the instance, module and store; the wasmer Engine, which the
// binding cannot free on demand, goes with the garbage collector. Close is
// idempotent.
func (b *baseline) Close(context.Context) error {
	if b.closed {
		return nil
	}
	b.closed = true
	if b.inst != nil {
		b.inst.Close()
	}
	if b.module != nil {
		b.module.Close()
	}
	b.store.Close()
	b.inst, b.module, b.store, b.mem = nil, nil, nil, nil
	b.noop, b.callHost, b.echo, b.alloc, b.dealloc = nil, nil, nil, nil, nil
	return nil
}

var errBaselineClosed = errors.New("wasmer baseline: closed")
