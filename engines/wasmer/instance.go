package wasmer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/wasmerio/wasmer-go/wasmer"
)

// instance is one instantiation of a module. It is not safe for concurrent
// use, as engines.Instance says.
//
// # Notes
//
// wasmer-go frees a wasmer.Instance from a finalizer, and the exported
// functions and memories it hands out do not keep it alive: every function
// and memory of this package holds the instance, and every use of one ends
// with runtime.KeepAlive(instance.wi).
type instance struct {
	mod     *module
	gen     *generation
	wi      *wasmer.Instance
	wmem    *wasmer.Memory // nil when the module exports no memory
	imports abi.Imports
	funcs   map[string]*function
	alloc   *function
	closed  bool
	cleanup runtime.Cleanup

	// wasi is the WASI environment (nil when the module does not import
	// WASI); wasiEnv is its C pointer, through which captured output is
	// drained after each call (nil when unreachable).
	wasi    *wasmer.WasiEnvironment
	wasiEnv unsafe.Pointer
	wasiBuf []byte

	// data caches memory.Data() while the guest is not running: memory only
	// grows while guest code runs, so every call and every entry into a host
	// function invalidates it.
	data   []byte
	dataOK bool

	// State of the call in progress: the context host functions get, the
	// error a host function returned (it becomes a trap), the call depth
	// (host functions call allocate re-entrantly) and one parameter stack
	// per depth for host functions.
	ctx        context.Context
	hostErr    error
	depth      int
	hostStacks [][maxHostValues]uint64
	allocStack [1]uint64
	hostID     uint64 // this instance's id in hostEnvs, 0 for none
}

func (in *instance) Memory() engines.Memory {
	if in.wmem == nil {
		return nil
	}
	return memory{in}
}

func (in *instance) Function(name string) engines.Function {
	if f := in.function(name); f != nil {
		return f
	}
	return nil // a nil *function is not a nil engines.Function
}

func (in *instance) function(name string) *function {
	if in.closed {
		return nil
	}
	if f, ok := in.funcs[name]; ok {
		return f
	}
	t, ok := in.mod.funcs[name]
	if !ok {
		return nil
	}
	wf, err := in.wi.Exports.GetRawFunction(name)
	if err != nil || wf == nil {
		return nil
	}
	n := max(len(t.Params), len(t.Results))
	f := &function{in: in, name: name, wf: wf, native: wf.Native(), typ: t, width: n, args: make([]any, len(t.Params))}
	runtime.KeepAlive(in.wi)
	in.funcs[name] = f
	return f
}

func (in *instance) Close(context.Context) error {
	if in.closed {
		return nil
	}
	in.closed = true
	in.cleanup.Stop()
	in.drainOutput(context.Background())
	in.wi.Close()
	if in.hostID != 0 {
		unregisterHost(in.hostID)
	}
	in.data, in.dataOK = nil, false
	in.mod.eng.release(in.gen)
	return nil
}

// bytes returns guest memory, fetched once per pause of the guest.
func (in *instance) bytes() []byte {
	if in.dataOK {
		return in.data
	}
	if in.closed || in.wmem == nil {
		return nil
	}
	in.data, in.dataOK = in.wmem.Data(), true
	runtime.KeepAlive(in.wi)
	return in.data
}

// Read, Write and Allocate make *instance an abi.Guest.

func (in *instance) Read(ptr, n uint32) ([]byte, bool) {
	d := in.bytes()
	end := uint64(ptr) + uint64(n)
	if end > uint64(len(d)) {
		return nil, false
	}
	return d[ptr:end:end], true
}

func (in *instance) Write(ptr uint32, p []byte) bool {
	d := in.bytes()
	if uint64(ptr)+uint64(len(p)) > uint64(len(d)) {
		return false
	}
	copy(d[ptr:], p)
	return true
}

func (in *instance) Allocate(ctx context.Context, n uint32) (uint32, error) {
	if in.alloc == nil {
		if in.alloc = in.function(abi.ExportAllocate); in.alloc == nil {
			return 0, fmt.Errorf("%w: export[%s]", abi.ErrMissingExport, abi.ExportAllocate)
		}
	}
	in.allocStack[0] = uint64(n)
	if err := in.alloc.Call(ctx, in.allocStack[:]); err != nil {
		return 0, fmt.Errorf("%w: %w", abi.ErrAllocate, err)
	}
	return uint32(in.allocStack[0]), nil
}

// drainOutput passes what the guest wrote to stdout and stderr to the host's
// log.
func (in *instance) drainOutput(ctx context.Context) {
	if in.wasiEnv == nil {
		return
	}
	if in.wasiBuf == nil {
		in.wasiBuf = make([]byte, 4096)
	}
	for stream := 1; stream <= 2; stream++ {
		for {
			n := drainWASI(in.wasiEnv, stream, in.wasiBuf)
			runtime.KeepAlive(in.wasi)
			if n == 0 {
				break
			}
			if in.imports != nil {
				in.imports.Log(ctx, bytes.TrimRight(in.wasiBuf[:n], "\n"))
			}
			if n < len(in.wasiBuf) {
				break
			}
		}
	}
}

type memory struct{ in *instance }

func (m memory) Size() uint64                      { return uint64(len(m.in.bytes())) }
func (m memory) Read(ptr, n uint32) ([]byte, bool) { return m.in.Read(ptr, n) }
func (m memory) Write(ptr uint32, p []byte) bool   { return m.in.Write(ptr, p) }

// function is an exported function of an instance.
type function struct {
	in     *instance
	name   string
	wf     *wasmer.Function
	native wasmer.NativeFunction
	typ    abi.FuncType
	width  int   // max(params, results)
	args   []any // reused for the arguments of each call
}

// Call implements engines.Function. It boxes the arguments for wasmer-go's
// only call API, wasmer.NativeFunction.
func (f *function) Call(ctx context.Context, stack []uint64) error {
	in := f.in
	if in.closed {
		return fmt.Errorf("wasmer: function[%s]: instance closed", f.name)
	}
	if len(stack) < f.width {
		return fmt.Errorf("wasmer: function[%s] %s: stack holds %d values, needs %d", f.name, f.typ, len(stack), f.width)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wasmer: function[%s]: %w", f.name, err)
	}
	for i, t := range f.typ.Params {
		f.args[i] = toGo(t, stack[i])
	}
	outerCtx, outerErr := in.ctx, in.hostErr
	in.ctx, in.hostErr = ctx, nil
	in.depth++
	res, err := f.native(f.args...)
	in.depth--
	hostErr := in.hostErr
	in.ctx, in.hostErr = outerCtx, outerErr
	in.dataOK = false
	runtime.KeepAlive(in.wi)
	if in.depth == 0 {
		in.drainOutput(ctx)
	}
	if err != nil {
		var trap *wasmer.TrapError
		if !errors.As(err, &trap) {
			return fmt.Errorf("wasmer: function[%s]: %w", f.name, err) // refused before it ran
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%w: wasmer: function[%s]: %w (%w)", engines.ErrTrap, f.name, ctxErr, err)
		}
		if hostErr != nil {
			return fmt.Errorf("%w: wasmer: function[%s]: %w", engines.ErrTrap, f.name, hostErr)
		}
		return fmt.Errorf("%w: wasmer: function[%s]: %w", engines.ErrTrap, f.name, err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("wasmer: function[%s]: %w", f.name, ctxErr)
	}
	switch len(f.typ.Results) {
	case 0:
	case 1:
		stack[0] = engines.StackValue(res)
	default:
		for i, v := range res.([]any) {
			stack[i] = engines.StackValue(v)
		}
	}
	return nil
}

// toGo converts a stack value to what wasmer-go's call API takes.
func toGo(t abi.ValueType, v uint64) any {
	switch t {
	case abi.I32:
		return int32(uint32(v))
	case abi.I64:
		return int64(v)
	case abi.F32:
		return math.Float32frombits(uint32(v))
	case abi.F64:
		return math.Float64frombits(v)
	}
	return nil
}

// maxHostValues is the most parameters or results of any host import
// (host_storage_cas has six); init checks it against every profile's.
const maxHostValues = 6

func init() {
	for _, hf := range hostTable {
		if n := max(len(hf.Type.Params), len(hf.Type.Results)); n > maxHostValues {
			panic(fmt.Sprintf("wasmer: import[%s] has %d values; raise maxHostValues", hf.Name, n))
		}
	}
}
