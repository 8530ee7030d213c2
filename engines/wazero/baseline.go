package wazero

import (
	"context"
	"errors"
	"fmt"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

var _ engines.Baseliner = (*Engine)(nil)

// Baseline implements engines.Baseliner with wazero's own API: a runtime
// configured as this engine's (close-on-context-done unless Config.NoDeadline,
// interpreter or compiler, the same compilation workers), host functions as api.GoModuleFunc, calls
// with CallWithStack.
func (e *Engine) Baseline(ctx context.Context, wasm []byte) (engines.Baseline, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, errors.New("wazero baseline: engine closed")
	}
	r := wazero.NewRuntimeWithConfig(ctx, e.runtimeConfig())
	b := &baseline{r: r, config: map[string][]byte{}}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		r.Close(ctx)
		return nil, err
	}
	hb := r.NewHostModuleBuilder(abi.ImportModule)
	for _, hf := range abi.HostFuncs {
		fn := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
		if hf.Name == abi.ImportGetConfig {
			fn = b.getConfig
		}
		hb.NewFunctionBuilder().WithGoModuleFunction(fn, valueTypes(hf.Type.Params), valueTypes(hf.Type.Results)).Export(hf.Name)
	}
	if _, err := hb.Instantiate(ctx); err != nil {
		r.Close(ctx)
		return nil, err
	}
	mod, err := r.InstantiateWithConfig(experimental.WithCompilationWorkers(ctx, e.workers), wasm, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		r.Close(ctx)
		return nil, err
	}
	b.mod, b.mem = mod, mod.Memory()
	for name, f := range map[string]*api.Function{"noop": &b.noop, "call_host": &b.callHost, "handle_echo": &b.echo, "allocate": &b.alloc, "deallocate": &b.dealloc} {
		if *f = mod.ExportedFunction(name); *f == nil {
			r.Close(ctx)
			return nil, fmt.Errorf("wazero baseline: export[%s] missing: not the reference guest", name)
		}
	}
	return b, nil
}

type baseline struct {
	r                                    wazero.Runtime
	mod                                  api.Module
	mem                                  api.Memory
	noop, callHost, echo, alloc, dealloc api.Function
	config                               map[string][]byte
	stack                                [2]uint64
	closed                               bool
}

var errBaselineClosed = errors.New("wazero baseline: closed")

func (b *baseline) getConfig(_ context.Context, mod api.Module, stack []uint64) {
	key, ok := mod.Memory().Read(uint32(stack[0]), uint32(stack[1]))
	if !ok {
		panic(abi.ErrOutOfBounds)
	}
	if _, ok := b.config[string(key)]; ok {
		panic("baseline: the reference key is never present")
	}
	stack[0] = abi.PackStatus(abi.NotFound)
}

func (b *baseline) Noop(ctx context.Context) error { return b.noop.CallWithStack(ctx, b.stack[:0]) }

func (b *baseline) CallHost(ctx context.Context, n uint32) error {
	b.stack[0] = uint64(n)
	return b.callHost.CallWithStack(ctx, b.stack[:1])
}

func (b *baseline) Allocate(ctx context.Context, n uint32) (uint32, error) {
	b.stack[0] = uint64(n)
	err := b.alloc.CallWithStack(ctx, b.stack[:1])
	return uint32(b.stack[0]), err
}

func (b *baseline) Echo(ctx context.Context, in []byte) ([]byte, error) {
	if b.closed {
		return nil, errBaselineClosed
	}
	if len(in) == 0 { // as the harness does: no allocate for an empty body
		b.stack[0], b.stack[1] = 0, 0
		if err := b.echo.CallWithStack(ctx, b.stack[:]); err != nil {
			return nil, err
		}
		return []byte{}, nil
	}
	ptr, err := b.Allocate(ctx, uint32(len(in)))
	if err != nil {
		return nil, err
	}
	if !b.mem.Write(ptr, in) {
		return nil, abi.ErrOutOfBounds
	}
	b.stack[0], b.stack[1] = uint64(ptr), uint64(len(in))
	if err := b.echo.CallWithStack(ctx, b.stack[:]); err != nil {
		return nil, err
	}
	rptr, rlen := abi.Unpack(b.stack[0])
	view, ok := b.mem.Read(rptr, rlen)
	if !ok {
		return nil, abi.ErrOutOfBounds
	}
	out := append(make([]byte, 0, len(view)), view...)
	b.stack[0], b.stack[1] = uint64(ptr), uint64(len(in))
	return out, b.dealloc.CallWithStack(ctx, b.stack[:])
}

func (b *baseline) Write(ptr uint32, p []byte) error {
	if b.closed {
		return errBaselineClosed
	}
	if !b.mem.Write(ptr, p) {
		return abi.ErrOutOfBounds
	}
	return nil
}

func (b *baseline) Read(ptr uint32, dst []byte) error {
	if b.closed {
		return errBaselineClosed
	}
	view, ok := b.mem.Read(ptr, uint32(len(dst)))
	if !ok {
		return abi.ErrOutOfBounds
	}
	copy(dst, view)
	return nil
}

func (b *baseline) Close(ctx context.Context) error {
	if b.closed {
		return nil
	}
	b.closed = true
	return errors.Join(b.mod.Close(ctx), b.r.Close(ctx))
}
