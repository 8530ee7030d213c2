package wasmtime

/*
#include "direct_capi.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
)

// directInstance is one store holding one instance of a module, in the
// direct variant. Its host calls find it through receivers, by the slot in
// the store's data.
//
// # Notes
//
// receivers keeps the instance reachable until Close: an instance that is
// never closed is never freed, as in the binding variant.
type directInstance struct {
	eng *directEngine
	// hostFuncs is the env table of the module's profile: host function
	// index i of the trampoline is hostFuncs[i].
	hostFuncs []abi.HostFunc
	exports   abi.Exports
	imports   abi.Imports
	slot      uint32
	hasMem    bool
	closed    bool

	// The C side, nil once freed: the store, its context, and its data
	// (which holds the instance and its memory).
	store *C.wasmtime_store_t
	sctx  *C.wasmtime_context_t
	d     *C.kspd_store_t

	funcs  map[string]*directFunction
	cfuncs []*C.kspd_func_t // every function's C buffer, freed with the store
	alloc  *directFunction

	// The call in progress: calls counts the calls into the guest on the
	// stack (more than one when a host function calls allocate); callCtx is
	// the context of the innermost.
	callCtx context.Context
	calls   int

	// The host call in progress: the caller's context (the context to enter
	// the guest or read memory with while the guest is on the stack), how
	// deeply host calls nest, a reusable stack for the outermost one, and
	// the error of a host function that trapped, for the call that receives
	// the trap.
	hostCtx   *C.wasmtime_context_t
	hostDepth int
	hostStack [6]uint64 // the most values of any import (host_storage_cas)
	hostErr   error

	// Memory views: view during a host call, outside between calls into the
	// guest; each valid while its ok flag is set (the guest running may grow,
	// so move, memory).
	view      []byte
	viewOK    bool
	outside   []byte
	outsideOK bool

	// Interruption, as in the binding variant (instance.arm): flag is the
	// store's C-side flag; stop unregisters the AfterFunc of the call in
	// progress; fired counts that AfterFunc while it may still run.
	flag        interruptFlag
	stop        func() bool
	fired       sync.WaitGroup
	interruptFn func()

	// wasiBase is when the store got its WASI context (see poll.go).
	wasiBase time.Time
}

var _ abi.Guest = (*directInstance)(nil)

func (m *directModule) Instantiate(ctx context.Context, imports abi.Imports) (engines.Instance, error) {
	e := m.eng
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.mod == nil {
		return nil, errors.New("wasmtime: module closed")
	}
	if e.isClosed() {
		return nil, errors.New("wasmtime: engine closed")
	}
	pre, preErr := m.instancePre()
	if preErr != "" {
		return nil, fmt.Errorf("%w: wasmtime: %s", engines.ErrInstantiate, preErr)
	}
	in := &directInstance{eng: e, hostFuncs: m.hostFuncs, exports: m.exports, imports: imports, funcs: map[string]*directFunction{}}
	in.interruptFn = in.interrupt
	slot, err := receivers.add(in)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", engines.ErrInstantiate, err)
	}
	in.slot = slot
	var cerr *C.wasmtime_error_t
	in.store = C.kspd_store_new(e.engine, C.uint32_t(slot), e.epoch, C.int64_t(m.memoryBytes), 1, &in.d, &cerr)
	if in.store == nil {
		receivers.release(slot)
		msg := "out of memory"
		if cerr != nil {
			msg = "WASI: " + takeError(cerr)
		}
		return nil, fmt.Errorf("%w: wasmtime: new store: %s", engines.ErrInstantiate, msg)
	}
	in.sctx = C.wasmtime_store_context(in.store)
	in.wasiBase = time.Now() // the origin of the guest's monotonic clock (direct_poll.go)
	in.flag = interruptFlag{(*atomic.Int32)(unsafe.Pointer(&in.d.interrupt))}

	// A start function runs inside instantiation: under ctx, as a call.
	armed := in.arm(ctx)
	in.callCtx = ctx
	in.calls++
	name, n := cString(abi.ExportMemory)
	cerr = C.kspd_instantiate(pre, m.linker, m.mod, in.sctx, in.d, name, n)
	in.calls--
	in.callCtx = nil
	if armed {
		in.disarm()
	}
	if cerr != nil || in.d.trap != nil {
		msg := takeFailure(cerr, in.d.trap)
		in.d.trap = nil
		hostErr := in.hostErr
		in.closed = true
		in.free()
		switch ctxErr := ctx.Err(); {
		case ctxErr != nil:
			return nil, fmt.Errorf("%w: wasmtime: %w (%s)", engines.ErrInstantiate, ctxErr, describeText(msg))
		case hostErr != nil:
			return nil, fmt.Errorf("%w: wasmtime: start function: %w", engines.ErrInstantiate, hostErr)
		}
		return nil, fmt.Errorf("%w: wasmtime: %s", engines.ErrInstantiate, describeText(msg))
	}
	in.hasMem = in.d.has_memory != 0
	return in, nil
}

// arm makes the call about to run under ctx end when ctx is done, and
// reports whether disarm must follow: when ctx can end, a context.AfterFunc
// sets the store's flag and ticks the engine's epoch, and the store's
// deadline callback, kspd_deadline, then ends the call (see instance.arm,
// which does the same for the binding variant).
func (in *directInstance) arm(ctx context.Context) bool {
	if in.eng.epoch != C.KSPD_EPOCH_CALLBACK || ctx.Done() == nil {
		return false
	}
	in.fired.Add(1)
	in.stop = context.AfterFunc(ctx, in.interruptFn)
	return true
}

// interrupt runs, on its own goroutine, when the context of the armed call is
// done. The flag is set before the epoch ticks (see instance.interrupt).
func (in *directInstance) interrupt() {
	in.flag.set()
	in.eng.incrementEpoch()
	in.fired.Done()
}

// disarm undoes arm once the call has returned, waiting for an AfterFunc
// that started, so that it cannot flag the store's next call.
func (in *directInstance) disarm() {
	if in.stop() {
		in.fired.Done() // it will never run
	}
	in.stop = nil
	in.fired.Wait()
	in.flag.clear()
}

// cctx is the context to enter the guest with: the caller's while a host
// function runs, else the store's.
func (in *directInstance) cctx() *C.wasmtime_context_t {
	if in.hostCtx != nil {
		return in.hostCtx
	}
	return in.sctx
}

// call runs f, whose values are in place, under ctx. Calls nest (a host
// function calling allocate); only the outermost arms the interruption.
func (in *directInstance) call(ctx context.Context, f *directFunction) error {
	cctx := in.cctx()
	armed := false
	if in.calls == 0 {
		in.hostErr = nil
		armed = in.arm(ctx)
	}
	prev := in.callCtx
	in.callCtx = ctx
	in.calls++
	cerr := C.kspd_call(cPtr(unsafe.Pointer(cctx)), cPtr(unsafe.Pointer(f.c)), cPtr(unsafe.Pointer(in.d)))
	in.calls--
	in.callCtx = prev
	// The guest may have grown, so moved, memory: kspd_call recorded it as
	// the guest left it.
	if in.hostCtx != nil {
		in.view, in.viewOK = recordedMem(in.d), true
		in.outsideOK = false
	} else {
		in.outside, in.outsideOK = recordedMem(in.d), true
	}
	if armed {
		in.disarm()
	}
	var err error
	if cerr != nil || f.c.trap != nil {
		err = in.callError(ctx, f.name, takeFailure(cerr, f.c.trap))
		f.c.trap = nil
	}
	if in.closed {
		// Closed by a host function during the call: the store could not
		// be deleted with the guest on its stack, so it is deleted now.
		if in.calls == 0 {
			in.free()
		}
		if err == nil {
			err = fmt.Errorf("wasmtime: function[%s]: instance closed during the call", f.name)
		}
	}
	return err
}

// callError turns wasmtime's failure message into the engines contract, as
// instance.callError does for the binding variant: the context's error when
// the call was ended by it, else a trap, wrapping the error of the host
// function that caused it, if one did.
func (in *directInstance) callError(ctx context.Context, name, msg string) error {
	hostErr := in.hostErr
	in.hostErr = nil
	switch ctxErr := ctx.Err(); {
	case ctxErr != nil && hostErr != nil:
		return fmt.Errorf("wasmtime: function[%s]: %w (%w)", name, ctxErr, hostErr)
	case ctxErr != nil:
		return fmt.Errorf("wasmtime: function[%s]: %w (%s)", name, ctxErr, describeText(msg))
	case hostErr != nil:
		return fmt.Errorf("%w: wasmtime: function[%s]: %w", engines.ErrTrap, name, hostErr)
	}
	return fmt.Errorf("%w: wasmtime: function[%s]: %s", engines.ErrTrap, name, describeText(msg))
}

func (in *directInstance) Memory() engines.Memory {
	if !in.hasMem {
		return nil
	}
	return directMemory{in}
}

func (in *directInstance) Function(name string) engines.Function {
	if f := in.function(name); f != nil {
		return f
	}
	return nil
}

func (in *directInstance) function(name string) *directFunction {
	if f, ok := in.funcs[name]; ok {
		return f
	}
	if in.closed {
		return nil
	}
	ex, ok := in.exports.Lookup(name)
	if !ok || ex.Kind != abi.KindFunc {
		return nil
	}
	size := max(len(ex.Type.Params), len(ex.Type.Results))
	p, n := cString(name)
	c := C.kspd_func_get(in.cctx(), in.d, p, n, C.size_t(size))
	if c == nil {
		return nil
	}
	in.cfuncs = append(in.cfuncs, c)
	f := &directFunction{in: in, name: name, c: c, vals: cFuncVals(c),
		params: ex.Type.Params, results: ex.Type.Results, size: size, badParam: -1}
	for i, t := range f.params {
		if !numeric(t) {
			f.badParam = i
			break
		}
	}
	in.funcs[name] = f
	return f
}

func numeric(t abi.ValueType) bool {
	return t == abi.I32 || t == abi.I64 || t == abi.F32 || t == abi.F64
}

// Close implements engines.Instance. Called from a host function of the
// instance's own call, it ends the instance's host calls at once and frees
// the store when the guest has left it.
func (in *directInstance) Close(context.Context) error {
	if in.closed {
		return nil
	}
	in.closed = true
	receivers.clear(in.slot)
	if in.calls == 0 {
		in.free()
	}
	return nil
}

// free deletes the store (which frees its data and the interrupt flag in
// it) and the functions' buffers, and frees the slot.
func (in *directInstance) free() {
	if in.store == nil {
		return
	}
	for _, c := range in.cfuncs {
		freeFunc(c)
	}
	C.wasmtime_store_delete(in.store)
	receivers.release(in.slot)
	in.store, in.sctx, in.d = nil, nil, nil
	in.cfuncs, in.funcs, in.alloc = nil, nil, nil
	in.view, in.outside, in.viewOK, in.outsideOK = nil, nil, false, false
	in.hasMem = false
}

// data returns the instance's memory as a slice: fetched once between two
// calls into the guest (outside), and given to each host call by kspd_host
// (view, fetched again after a nested call such as allocate).
func (in *directInstance) data() []byte {
	if in.closed || !in.hasMem {
		return nil
	}
	if in.hostCtx != nil {
		if !in.viewOK {
			in.view, in.viewOK = memView(in.hostCtx, in.d), true
		}
		return in.view
	}
	if !in.outsideOK {
		in.outside, in.outsideOK = memView(in.sctx, in.d), true
	}
	return in.outside
}

// memView returns the memory of d's instance as it is now.
func memView(ctx *C.wasmtime_context_t, d *C.kspd_store_t) []byte {
	C.kspd_memory(cPtr(unsafe.Pointer(ctx)), cPtr(unsafe.Pointer(d)))
	return recordedMem(d)
}

// recordedMem returns the memory of d's instance as kspd_memory or kspd_call
// last recorded it.
func recordedMem(d *C.kspd_store_t) []byte {
	if d.memory_base == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(d.memory_base)), int(d.memory_size))
}

// Read, Write and Allocate make *directInstance an abi.Guest.

func (in *directInstance) Read(ptr, n uint32) ([]byte, bool) { return read(in.data(), ptr, n) }

func (in *directInstance) Write(ptr uint32, p []byte) bool { return write(in.data(), ptr, p) }

func (in *directInstance) Allocate(ctx context.Context, n uint32) (uint32, error) {
	if in.alloc == nil {
		f := in.function(abi.ExportAllocate)
		if f == nil {
			return 0, fmt.Errorf("%w: export[%s]", abi.ErrMissingExport, abi.ExportAllocate)
		}
		if !(abi.FuncType{Params: f.params, Results: f.results}).Equal(abi.AllocateType) {
			return 0, fmt.Errorf("%w: export[%s] must be %s", abi.ErrSignature, abi.ExportAllocate, abi.AllocateType)
		}
		in.alloc = f
	}
	var stack [1]uint64
	stack[0] = uint64(n)
	if err := in.alloc.Call(ctx, stack[:]); err != nil {
		return 0, fmt.Errorf("%w: %w", abi.ErrAllocate, err)
	}
	return uint32(stack[0]), nil
}

// host implements receiver: it runs host function index on this instance,
// with the context of the call in progress. An error or a panic becomes a
// trap, and the instance keeps the error for the call it ends.
func (in *directInstance) host(index int, cctx *C.wasmtime_context_t, args []rawVal, mem []byte) (trap *C.wasm_trap_t) {
	if index == directPollIndex {
		return in.poll(cctx, args, mem)
	}
	hf := &in.hostFuncs[index]
	size := max(len(hf.Type.Params), len(hf.Type.Results))
	var stack []uint64
	if in.hostDepth == 0 && size <= len(in.hostStack) {
		stack = in.hostStack[:size]
	} else {
		stack = make([]uint64, size)
	}
	for i, t := range hf.Type.Params {
		stack[i] = fromRaw(t, args[i])
	}
	prevCtx := in.hostCtx
	in.hostCtx, in.view, in.viewOK = cctx, mem, true
	in.hostDepth++
	defer func() {
		in.hostDepth--
		in.hostCtx, in.view, in.viewOK = prevCtx, nil, false
		if r := recover(); r != nil {
			err := fmt.Errorf("wasmtime: import[%s] panicked: %v", hf.Name, r)
			in.hostErr = err
			trap = newTrap(err.Error())
		}
	}()
	ctx := in.callCtx
	if ctx == nil {
		ctx = context.Background()
	}
	if err := hf.Call(ctx, in.imports, in, stack); err != nil {
		in.hostErr = err
		return newTrap(err.Error())
	}
	for i, t := range hf.Type.Results {
		args[i][0] = toRaw(t, stack[i])
	}
	return nil
}

// fromRaw reads a raw value as a stack value: integers zero-extended, floats
// as their bits; 0 for types a stack value cannot hold.
func fromRaw(t abi.ValueType, v rawVal) uint64 {
	switch t {
	case abi.I32, abi.F32:
		return uint64(uint32(v[0]))
	case abi.I64, abi.F64:
		return v[0]
	}
	return 0
}

// toRaw is the raw value of a stack value of type t (numbers only).
func toRaw(t abi.ValueType, v uint64) uint64 {
	if t == abi.I32 || t == abi.F32 {
		return uint64(uint32(v))
	}
	return v
}

// directFunction is an exported function of a directInstance, with its type
// (from the module's exports) and its C buffer of raw values.
type directFunction struct {
	in       *directInstance
	name     string
	c        *C.kspd_func_t
	vals     []rawVal // c's values, in C memory
	params   []abi.ValueType
	results  []abi.ValueType
	size     int // max(params, results)
	badParam int // the first parameter Call cannot pass, or -1
}

func (f *directFunction) Call(ctx context.Context, stack []uint64) error {
	in := f.in
	if in.closed {
		return fmt.Errorf("wasmtime: function[%s]: instance closed", f.name)
	}
	if len(stack) < f.size {
		return fmt.Errorf("wasmtime: function[%s]: stack holds %d values, the function needs %d", f.name, len(stack), f.size)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wasmtime: function[%s]: %w", f.name, err)
	}
	if f.badParam >= 0 {
		return fmt.Errorf("wasmtime: function[%s]: parameter %d has a reference or vector type, which Call cannot pass", f.name, f.badParam)
	}
	vals := f.vals
	for i, t := range f.params {
		vals[i][0] = toRaw(t, stack[i])
	}
	if err := in.call(ctx, f); err != nil {
		return err
	}
	for i, t := range f.results {
		stack[i] = fromRaw(t, vals[i])
	}
	return nil
}

// directMemory is an instance's exported memory.
type directMemory struct{ in *directInstance }

func (m directMemory) Size() uint64 { return uint64(len(m.in.data())) }

func (m directMemory) Read(ptr, n uint32) ([]byte, bool) { return read(m.in.data(), ptr, n) }

func (m directMemory) Write(ptr uint32, p []byte) bool { return write(m.in.data(), ptr, p) }
