package wasmtime

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
)

var _ engines.Baseliner = (*Engine)(nil)

// Baseline implements engines.Baseliner with wasmtime-go's own API: an
// engine configured as this engine's (epoch interruption on unless
// Config.NoDeadline, as it changes the compiled code; Pulley when this engine
// runs Pulley), host functions
// defined with Linker.FuncNew on function types built for that engine, calls
// with Func.Call and memory through Memory.UnsafeData.
//
// No kspbench code runs between the caller and wasmtime-go: no deadline
// callback, no memory limiter (the reference guest's memory stays within two
// pages in every baseline operation), no WASI (the reference guest imports
// none). The store's epoch deadline is set beyond reach and the engine's
// epoch never ticks, so a baseline call does not end when its context is
// done: that takes the adapter's deadline callback, which is harness code.
func (e *Engine) Baseline(ctx context.Context, wasm []byte) (engines.Baseline, error) {
	if e.isClosed() {
		return nil, errors.New("wasmtime baseline: engine closed")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := wt.NewConfig()
	cfg.SetEpochInterruption(!e.cfg.NoDeadline)
	if e.info.Mode == "pulley" {
		if err := cfg.SetTarget("pulley" + strconv.Itoa(strconv.IntSize)); err != nil {
			return nil, fmt.Errorf("wasmtime baseline: %w", err)
		}
	}
	b := &baseline{engine: wt.NewEngineWithConfig(cfg), config: map[string][]byte{}}
	b.notFound = []wt.Val{wt.ValI64(int64(abi.PackStatus(abi.NotFound)))}
	b.linker = wt.NewLinker(b.engine)
	for _, hf := range abi.HostFuncs {
		// Built here, for b.engine: a FuncType used with two engines aborts.
		ty := wt.NewFuncType(valTypes(hf.Type.Params), valTypes(hf.Type.Results))
		f := b.getConfig
		if hf.Name != abi.ImportGetConfig {
			zeros := make([]wt.Val, len(hf.Type.Results))
			for i, t := range hf.Type.Results {
				if t == abi.I64 {
					zeros[i] = wt.ValI64(0)
				} else {
					zeros[i] = wt.ValI32(0)
				}
			}
			f = func(*wt.Caller, []wt.Val) ([]wt.Val, *wt.Trap) { return zeros, nil }
		}
		if err := b.linker.FuncNew(abi.ImportModule, hf.Name, ty, f); err != nil {
			b.Close(ctx)
			return nil, fmt.Errorf("wasmtime baseline: define import[%s]: %w", hf.Name, err)
		}
	}
	var err error
	if b.module, err = wt.NewModule(b.engine, wasm); err != nil {
		b.Close(ctx)
		return nil, fmt.Errorf("wasmtime baseline: %w", err)
	}
	b.store = wt.NewStore(b.engine)
	b.store.SetEpochDeadline(never)
	inst, err := b.linker.Instantiate(b.store, b.module)
	if err != nil {
		b.Close(ctx)
		return nil, fmt.Errorf("wasmtime baseline: %w", err)
	}
	if ext := inst.GetExport(b.store, abi.ExportMemory); ext != nil {
		b.mem = ext.Memory()
	}
	if b.mem == nil {
		b.Close(ctx)
		return nil, errors.New("wasmtime baseline: export[memory] missing: not the reference guest")
	}
	for name, f := range map[string]**wt.Func{"noop": &b.noop, "call_host": &b.callHost, "handle_echo": &b.echo, "allocate": &b.alloc, "deallocate": &b.dealloc} {
		if *f = inst.GetFunc(b.store, name); *f == nil {
			b.Close(ctx)
			return nil, fmt.Errorf("wasmtime baseline: export[%s] missing: not the reference guest", name)
		}
	}
	return b, nil
}

type baseline struct {
	engine                               *wt.Engine
	linker                               *wt.Linker
	module                               *wt.Module
	store                                *wt.Store // nil until instantiated
	mem                                  *wt.Memory
	noop, callHost, echo, alloc, dealloc *wt.Func
	config                               map[string][]byte
	notFound                             []wt.Val // host_get_config's answer, made once
	closed                               bool
}

// getConfig is host_get_config: it reads the key through the caller's view
// of the instance's memory, looks it up, and answers NOT_FOUND.
func (b *baseline) getConfig(c *wt.Caller, args []wt.Val) ([]wt.Val, *wt.Trap) {
	ptr, n := uint32(args[0].I32()), uint32(args[1].I32())
	data := b.mem.UnsafeData(c)
	end := uint64(ptr) + uint64(n)
	if end > uint64(len(data)) {
		return nil, wt.NewTrap(abi.ErrOutOfBounds.Error())
	}
	if _, ok := b.config[string(data[ptr:end])]; ok {
		return nil, wt.NewTrap("baseline: the reference key is never present")
	}
	return b.notFound, nil
}

func (b *baseline) Noop(context.Context) error {
	if b.closed {
		return errBaselineClosed
	}
	_, err := b.noop.Call(b.store)
	return err
}

func (b *baseline) CallHost(_ context.Context, n uint32) error {
	if b.closed {
		return errBaselineClosed
	}
	_, err := b.callHost.Call(b.store, int32(n))
	return err
}

func (b *baseline) Allocate(_ context.Context, n uint32) (uint32, error) {
	if b.closed {
		return 0, errBaselineClosed
	}
	res, err := b.alloc.Call(b.store, int32(n))
	if err != nil {
		return 0, err
	}
	return uint32(res.(int32)), nil
}

// Echo does what plugin.Instance.Call does for handle_echo, with the same
// steps: an empty body is passed as (0, 0), without allocate or deallocate.
func (b *baseline) Echo(ctx context.Context, in []byte) ([]byte, error) {
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
	res, err := b.echo.Call(b.store, int32(ptr), int32(n))
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
		if _, err := b.dealloc.Call(b.store, int32(ptr), int32(n)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (b *baseline) Write(ptr uint32, p []byte) error {
	if b.closed {
		return errBaselineClosed
	}
	data := b.mem.UnsafeData(b.store)
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
	data := b.mem.UnsafeData(b.store)
	if uint64(ptr)+uint64(len(dst)) > uint64(len(data)) {
		return abi.ErrOutOfBounds
	}
	copy(dst, data[ptr:])
	return nil
}

// Close frees the store, module, linker and engine; it is idempotent.
func (b *baseline) Close(context.Context) error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.mem, b.noop, b.callHost, b.echo, b.alloc, b.dealloc = nil, nil, nil, nil, nil, nil
	if b.store != nil {
		b.store.Close()
	}
	if b.module != nil {
		b.module.Close()
	}
	b.linker.Close()
	b.engine.Close()
	return nil
}

var errBaselineClosed = errors.New("wasmtime baseline: closed")
