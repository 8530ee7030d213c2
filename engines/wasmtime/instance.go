package wasmtime

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
)

// instance is one wt.Store holding one instance of a module. The store's data
// is the instance itself, which is how host functions, defined once per
// engine, find the instance that called them (Caller.Data).
//
// # Notes
//
// The store's data keeps the instance reachable from the binding's global
// table of stores until Close deletes the store: an instance that is never
// closed is never freed.
type instance struct {
	eng     *Engine
	store   *wt.Store
	inst    *wt.Instance
	imports abi.Imports
	mem     *wt.Memory // nil when the module exports no memory
	funcs   map[string]*function
	alloc   *function
	closed  bool

	// The call in progress. calls counts the Function.Calls on the stack
	// (more than one when a host function calls allocate); ctx is the context
	// of the innermost.
	ctx   context.Context
	calls int

	// The host call in progress: its caller (the store to use while wasm is
	// on the stack), the memory view cached for it, how deeply host calls
	// nest, reusable buffers for the outermost one, and the error of a host
	// function that trapped, for the call that receives the trap.
	caller    *wt.Caller
	view      []byte
	hostDepth int
	outside   []byte    // memory between calls into the guest; see data
	hostStack [6]uint64 // the most values of any import (host_storage_cas)
	hostRes   [1]wt.Val
	hostErr   error

	// Interruption by the deadline callback: flag is the store's C-side
	// flag; stop unregisters the context.AfterFunc of the call in progress;
	// fired counts that AfterFunc while it may still run; interruptFn is
	// interrupt as a func value, made once.
	flag        interruptFlag
	stop        func() bool
	fired       sync.WaitGroup
	interruptFn func()
	// ctxKey is the store's context pointer, the key of Engine.byContext.
	ctxKey uintptr
	// deadlineSet says that, in ticker mode, the store's deadline is not
	// never.
	deadlineSet bool
	// wasiBase is when the store got its WASI context (see poll.go).
	wasiBase time.Time
}

func (m *module) Instantiate(ctx context.Context, imports abi.Imports) (engines.Instance, error) {
	e := m.eng
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.mod == nil {
		return nil, errors.New("wasmtime: module closed")
	}
	if e.isClosed() {
		return nil, errors.New("wasmtime: engine closed")
	}
	in := &instance{eng: e, imports: imports, funcs: map[string]*function{}}
	in.interruptFn = in.interrupt
	in.store = wt.NewStoreWithData(e.engine, in)
	switch {
	case e.cfg.NoDeadline:
		// No epoch interruption: nothing to watch, no deadline to set.
	case e.ticker == nil:
		flag, err := watch(in.store)
		if err != nil {
			in.store.Close()
			return nil, fmt.Errorf("%w: %w", engines.ErrInstantiate, err)
		}
		in.flag = flag
		// One tick ahead; from then on the callback keeps it so (see arm).
		in.store.SetEpochDeadline(1)
	default:
		in.store.SetEpochDeadline(never)
	}
	in.ctxKey = uintptr(unsafe.Pointer(in.store.Context()))
	e.byContext.Store(in.ctxKey, in)
	in.store.Limiter(m.memoryBytes, -1, -1, -1, -1)
	in.store.SetWasi(wt.NewWasiConfig())
	in.wasiBase = time.Now() // the origin of the guest's monotonic clock (poll.go)

	// A start function runs inside Instantiate: under ctx, as a call.
	err := in.run(ctx, func(s wt.Storelike) (err error) {
		in.inst, err = m.linker.Instantiate(s, m.mod)
		return err
	})
	if err != nil {
		e.byContext.Delete(in.ctxKey)
		in.store.Close()
		switch ctxErr, hostErr := ctx.Err(), in.hostErr; {
		case ctxErr != nil:
			return nil, fmt.Errorf("%w: wasmtime: %w (%s)", engines.ErrInstantiate, ctxErr, describe(err))
		case hostErr != nil:
			return nil, fmt.Errorf("%w: wasmtime: start function: %w", engines.ErrInstantiate, hostErr)
		}
		return nil, fmt.Errorf("%w: wasmtime: %s", engines.ErrInstantiate, describe(err))
	}
	if ext := in.inst.GetExport(in.store, abi.ExportMemory); ext != nil {
		in.mem = ext.Memory()
	}
	return in, nil
}

// run runs f, which enters wasm, as a call under ctx: host functions see ctx,
// and the call ends when ctx is done. Calls nest (a host function calling
// allocate); only the outermost arms the interruption.
func (in *instance) run(ctx context.Context, f func(wt.Storelike) error) error {
	in.outside = nil // guest code may grow, so move, memory
	defer func() { in.outside = nil }()
	prev := in.ctx
	in.ctx = ctx
	armed := false
	if in.calls == 0 {
		in.hostErr = nil
		armed = in.arm(ctx)
	}
	in.calls++
	defer in.endCall(prev, armed)
	return f(in.storelike())
}

func (in *instance) endCall(prev context.Context, armed bool) {
	in.calls--
	in.ctx = prev
	if armed {
		in.disarm()
	}
	if in.calls == 0 && in.closed {
		in.store.Close() // Close was called during the call
	}
}

// storelike is what to enter wasm or read memory with: the caller while a
// host function runs, else the store.
func (in *instance) storelike() wt.Storelike {
	if in.caller != nil {
		return in.caller
	}
	return in.store
}

// arm makes the call about to run under ctx end when ctx is done, and
// reports whether disarm must follow.
//
// With the deadline callback, ctx's end sets the store's flag and ticks the
// engine's epoch. The store's deadline is always at most one tick ahead of
// the epoch (Instantiate sets it so, and the callback, whenever it lets a
// call go on, sets it one tick ahead again), so that tick reaches it: the
// callback of every store running on the engine runs, and only the flagged
// one ends its call. A call whose context is never done costs nothing; one
// whose context can end costs a context.AfterFunc.
//
// With the ticker fallback, the store's deadline is counted in ticks until
// ctx's deadline, and the ticker runs while such calls are in flight.
func (in *instance) arm(ctx context.Context) bool {
	if in.eng.cfg.NoDeadline {
		return false // no epoch interruption: nothing can end the call
	}
	if t := in.eng.ticker; t != nil {
		ticks, has := deadlineTicks(ctx)
		if has || in.deadlineSet {
			in.store.SetEpochDeadline(ticks)
			in.deadlineSet = has
		}
		if has {
			t.acquire()
		}
		return has
	}
	if ctx.Done() == nil {
		return false
	}
	in.fired.Add(1)
	in.stop = context.AfterFunc(ctx, in.interruptFn)
	return true
}

// interrupt runs, on its own goroutine, when the context of the armed call is
// done.
func (in *instance) interrupt() {
	// The flag is set before the epoch ticks, so the callback that the tick
	// triggers sees it: Go's atomic store is sequentially consistent, and the
	// increment is a later read-modify-write, behind a cgo transition.
	in.flag.set()
	in.eng.incrementEpoch()
	in.fired.Done()
}

// disarm undoes arm once the call has returned. If the AfterFunc started, it
// waits for it to finish, so that it cannot flag the store's next call.
func (in *instance) disarm() {
	if t := in.eng.ticker; t != nil {
		t.release()
		return
	}
	if in.stop() {
		in.fired.Done() // it will never run
	}
	in.stop = nil
	in.fired.Wait()
	in.flag.clear()
}

func (in *instance) Memory() engines.Memory {
	if in.mem == nil {
		return nil
	}
	return memory{in}
}

func (in *instance) Function(name string) engines.Function {
	if f := in.function(name); f != nil {
		return f
	}
	return nil
}

func (in *instance) function(name string) *function {
	if f, ok := in.funcs[name]; ok {
		return f
	}
	if in.closed {
		return nil
	}
	ext := in.inst.GetExport(in.store, name)
	if ext == nil {
		return nil
	}
	fn := ext.Func()
	if fn == nil {
		return nil
	}
	ty := fn.Type(in.store)
	f := &function{in: in, name: name, fn: fn}
	for _, p := range ty.Params() {
		f.params = append(f.params, p.Kind())
	}
	for _, r := range ty.Results() {
		f.results = append(f.results, r.Kind())
	}
	f.args = make([]any, len(f.params))
	f.size = max(len(f.params), len(f.results))
	in.funcs[name] = f
	return f
}

func (in *instance) Close(context.Context) error {
	if in.closed {
		return nil
	}
	in.closed = true
	in.eng.byContext.Delete(in.ctxKey)
	in.mem, in.view, in.outside, in.funcs, in.alloc = nil, nil, nil, nil, nil
	if in.calls > 0 {
		// Closed by a host function during the instance's own call: the
		// guest is still on the store's stack, so endCall deletes the store
		// once it has left. (Deleting it here crashed the next host call.)
		return nil
	}
	in.store.Close() // frees the interrupt flag too
	return nil
}

// data returns the instance's memory as a slice. Memory grows, and so may
// move, only while guest code runs, so the slice is fetched once between two
// calls into the guest (outside) and once per host call (view, fetched again
// after each allocate). The binding's UnsafeData costs four cgo calls, more
// than a 4 KiB copy.
func (in *instance) data() []byte {
	if in.mem == nil || in.closed {
		return nil
	}
	if in.caller == nil {
		if in.outside == nil {
			in.outside = in.mem.UnsafeData(in.store)
		}
		return in.outside
	}
	if in.view == nil {
		in.view = in.mem.UnsafeData(in.caller)
	}
	return in.view
}

// Read, Write and Allocate make *instance an abi.Guest.

func (in *instance) Read(ptr, n uint32) ([]byte, bool) { return read(in.data(), ptr, n) }

func (in *instance) Write(ptr uint32, p []byte) bool { return write(in.data(), ptr, p) }

func (in *instance) Allocate(ctx context.Context, n uint32) (uint32, error) {
	if in.alloc == nil {
		f := in.function(abi.ExportAllocate)
		if f == nil {
			return 0, fmt.Errorf("%w: export[%s]", abi.ErrMissingExport, abi.ExportAllocate)
		}
		if len(f.params) != 1 || f.params[0] != wt.KindI32 || len(f.results) != 1 || f.results[0] != wt.KindI32 {
			return 0, fmt.Errorf("%w: export[%s] must be %s", abi.ErrSignature, abi.ExportAllocate, abi.AllocateType)
		}
		in.alloc = f
	}
	var stack [1]uint64
	stack[0] = uint64(n)
	err := in.alloc.Call(ctx, stack[:])
	in.view = nil // allocate may have grown memory
	if err != nil {
		return 0, fmt.Errorf("%w: %w", abi.ErrAllocate, err)
	}
	return uint32(stack[0]), nil
}

// hostFunc returns the wasmtime callback of a host function. It runs hf on
// the calling instance, with the context of the call in progress; an error
// becomes a trap, and the instance keeps the error for the call it ends.
// slowLookups counts host calls that had to find their instance through
// Caller.Data, for the test that the fast path is the one taken.
var slowLookups atomic.Int64

func (e *Engine) hostFunc(hf *abi.HostFunc) func(*wt.Caller, []wt.Val) ([]wt.Val, *wt.Trap) {
	size := max(len(hf.Type.Params), len(hf.Type.Results))
	return func(c *wt.Caller, args []wt.Val) ([]wt.Val, *wt.Trap) {
		in := e.callerInstance(c)
		if in == nil {
			return nil, wt.NewTrap("kspbench: import[" + hf.Name + "] called from a store this engine did not make")
		}
		return in.host(c, hf, size, args)
	}
}

// callerInstance finds the instance a host call comes from. The store's
// context pointer finds it in one cgo call and a lock-free map read; the
// binding's Caller.Data, the fallback, costs two cgo calls and a global mutex.
func (e *Engine) callerInstance(c *wt.Caller) *instance {
	if v, ok := e.byContext.Load(uintptr(unsafe.Pointer(c.Context()))); ok {
		return v.(*instance)
	}
	slowLookups.Add(1)
	in, _ := c.Data().(*instance)
	return in
}

func (in *instance) host(c *wt.Caller, hf *abi.HostFunc, size int, args []wt.Val) (res []wt.Val, trap *wt.Trap) {
	if in.closed {
		return nil, wt.NewTrap(msgDiscarded)
	}
	var stack []uint64
	if in.hostDepth == 0 && size <= len(in.hostStack) {
		stack = in.hostStack[:size]
		res = in.hostRes[:len(hf.Type.Results)]
	} else {
		stack = make([]uint64, size)
		res = make([]wt.Val, len(hf.Type.Results))
	}
	for i, a := range args {
		switch v := a.Get().(type) {
		case int32:
			stack[i] = uint64(uint32(v))
		case int64:
			stack[i] = uint64(v)
		}
	}
	prevCaller := in.caller
	in.caller, in.view = c, nil
	in.hostDepth++
	defer func() {
		in.hostDepth--
		in.caller, in.view = prevCaller, nil
		if r := recover(); r != nil {
			err := fmt.Errorf("wasmtime: import[%s] panicked: %v", hf.Name, r)
			in.hostErr = err
			res, trap = nil, wt.NewTrap(err.Error())
		}
	}()
	ctx := in.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if err := hf.Call(ctx, in.imports, in, stack); err != nil {
		in.hostErr = err
		return nil, wt.NewTrap(err.Error())
	}
	for i, t := range hf.Type.Results {
		if t == abi.I64 {
			res[i] = wt.ValI64(int64(stack[i]))
		} else {
			res[i] = wt.ValI32(int32(uint32(stack[i])))
		}
	}
	return res, nil
}

// function is an exported function of an instance, with its type.
type function struct {
	in      *instance
	name    string
	fn      *wt.Func
	params  []wt.ValKind
	results []wt.ValKind
	size    int   // max(params, results)
	args    []any // Call's argument buffer
}

func (f *function) Call(ctx context.Context, stack []uint64) error {
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
	for i, k := range f.params {
		switch k {
		case wt.KindI32:
			f.args[i] = int32(uint32(stack[i]))
		case wt.KindI64:
			f.args[i] = int64(stack[i])
		case wt.KindF32:
			f.args[i] = math.Float32frombits(uint32(stack[i]))
		case wt.KindF64:
			f.args[i] = math.Float64frombits(stack[i])
		default:
			return fmt.Errorf("wasmtime: function[%s]: parameter %d has a reference or vector type, which Call cannot pass", f.name, i)
		}
	}
	var res any
	err := in.run(ctx, func(s wt.Storelike) (err error) {
		res, err = f.fn.Call(s, f.args...)
		return err
	})
	if err != nil {
		return in.callError(ctx, f.name, err)
	}
	if in.closed {
		return fmt.Errorf("wasmtime: function[%s]: instance closed during the call", f.name)
	}
	switch v := res.(type) {
	case nil:
	case []wt.Val:
		for i, r := range v {
			stack[i] = engines.StackValue(r.Get())
		}
	default:
		stack[0] = engines.StackValue(v)
	}
	return nil
}

// callError turns wasmtime's error into the engines contract: the context's
// error when the call was ended by it, else a trap, wrapping the error of the
// host function that caused it, if one did.
func (in *instance) callError(ctx context.Context, name string, err error) error {
	hostErr := in.hostErr
	in.hostErr = nil
	ctxErr := ctx.Err()
	if ctxErr == nil && in.eng.ticker != nil && isInterrupt(err) {
		// The ticker may end a call at its deadline a moment before the
		// context's own timer marks it done.
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			ctxErr = context.DeadlineExceeded
		}
	}
	switch {
	case ctxErr != nil && hostErr != nil:
		return fmt.Errorf("wasmtime: function[%s]: %w (%w)", name, ctxErr, hostErr)
	case ctxErr != nil:
		return fmt.Errorf("wasmtime: function[%s]: %w (%s)", name, ctxErr, describe(err))
	case hostErr != nil:
		return fmt.Errorf("%w: wasmtime: function[%s]: %w", engines.ErrTrap, name, hostErr)
	}
	return fmt.Errorf("%w: wasmtime: function[%s]: %s", engines.ErrTrap, name, describe(err))
}

// isInterrupt reports whether err is an epoch interruption's trap.
func isInterrupt(err error) bool {
	var trap *wt.Trap
	if errors.As(err, &trap) {
		code := trap.Code()
		return code != nil && *code == wt.Interrupt
	}
	return false
}

// describe returns wasmtime's message of err on one line: the causes, and
// for a trap the innermost wasm frame, without the full wasm backtrace (a
// stack overflow's runs to thousands of frames) or the native one (printed
// when RUST_BACKTRACE is set).
//
// wasmtime formats errors as anyhow does: a head line, then optionally
// "Caused by:" and the causes, one per line (numbered when there are several),
// then optionally "Stack backtrace:". A trap's head is "error while executing
// at wasm backtrace:" followed by the frames, innermost first.
func describe(err error) string { return describeText(err.Error()) }

// describeText is describe of an error's text.
func describeText(text string) string {
	msg, _, _ := strings.Cut(text, "\nStack backtrace:")
	head, causes, _ := strings.Cut(msg, "\nCaused by:")
	var parts []string
	for line := range strings.Lines(causes) {
		line = strings.TrimSpace(line)
		if n, rest, ok := strings.Cut(line, ": "); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			line = rest
		}
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			parts = append(parts, line)
		}
	}
	frame := ""
	if rest, ok := strings.CutPrefix(strings.TrimSpace(head), "error while executing at wasm backtrace:"); ok {
		for line := range strings.Lines(rest) {
			if _, f, ok := strings.Cut(strings.TrimSpace(line), ": "); ok {
				frame = strings.Join(strings.Fields(f), " ")
				break
			}
		}
		head = ""
	}
	if head = strings.Join(strings.Fields(head), " "); head != "" {
		parts = append([]string{head}, parts...)
	}
	out := strings.Join(parts, ": ")
	if frame != "" {
		out += " (at " + frame + ")"
	}
	return out
}

// memory is an instance's exported memory.
type memory struct{ in *instance }

func (m memory) Size() uint64 {
	in := m.in
	if in.mem == nil || in.closed {
		return 0
	}
	return uint64(len(in.data())) // the cached view: no cgo call between guest calls
}

func (m memory) Read(ptr, n uint32) ([]byte, bool) { return read(m.in.data(), ptr, n) }

func (m memory) Write(ptr uint32, p []byte) bool { return write(m.in.data(), ptr, p) }

// read and write check ranges as abi.CheckRange does, in 64 bits.

func read(data []byte, ptr, n uint32) ([]byte, bool) {
	end := uint64(ptr) + uint64(n)
	if end > uint64(len(data)) {
		return nil, false
	}
	return data[ptr:end:end], true
}

func write(data []byte, ptr uint32, p []byte) bool {
	if uint64(ptr)+uint64(len(p)) > uint64(len(data)) {
		return false
	}
	copy(data[ptr:], p)
	return true
}
