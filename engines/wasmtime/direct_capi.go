package wasmtime

// The Go side of the C helpers of the "direct" variant (direct_capi.c): the
// table that routes host calls to their instance, the one exported Go function
// every host call enters, and small wrappers of C API calls made outside the
// hot paths.
//
// The rules this code keeps, which cgo does not check for it: C memory never
// holds a Go pointer (a store's data carries a slot number, not the instance);
// Go holds only C handles this package made itself (engine, linker, module,
// store, functions), never the binding's; every C object is freed by the Go
// value that owns it (Close), not by a finalizer; and a store's context is
// used only by the goroutine running that store's call, or between calls.

/*
#cgo CFLAGS: -I${SRCDIR}/include
#include "direct_capi.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// directAvailable reports whether the C API functions the direct variant
// calls resolved at link time (they are weak symbols; see direct_capi.h).
func directAvailable() bool { return C.kspd_available() != 0 }

// rawVal is wasmtime_val_raw_t: 16 bytes, of which numbers use the first 8,
// little-endian (an i32 or f32 only the low 4 bytes).
type rawVal [2]uint64

// receiver answers the host calls of one store.
type receiver interface {
	// host runs host function index of abi.HostFuncs with args, the raw
	// parameters on entry and the results on return. ctx is the caller's
	// store context, valid until host returns; mem is the guest memory as it
	// is on entry (nil without one). A non-nil result is a trap the caller
	// owns, which ends the guest's call.
	host(index int, ctx *C.wasmtime_context_t, args []rawVal, mem []byte) *C.wasm_trap_t
}

// receivers maps each live store's slot (kspd_store_t.slot) to its receiver.
// Host calls read it without a lock; Instantiate and Close write it.
var receivers slotTable

const (
	slotChunkBits = 10
	slotChunkSize = 1 << slotChunkBits
	slotChunks    = 1 << 12 // up to 4 Mi stores alive at once
)

type slotEntry struct{ r receiver }

// slotTable is a table of receivers in chunks allocated as it grows, so that
// a lookup is two atomic loads and never sees a chunk move.
type slotTable struct {
	mu     sync.Mutex // guards free and next
	free   []uint32
	next   uint32
	chunks [slotChunks]atomic.Pointer[[slotChunkSize]atomic.Pointer[slotEntry]]
}

// add takes a slot for r.
func (t *slotTable) add(r receiver) (uint32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var slot uint32
	if n := len(t.free); n > 0 {
		slot = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		if t.next == slotChunks*slotChunkSize {
			return 0, fmt.Errorf("wasmtime: more than %d stores alive", slotChunks*slotChunkSize)
		}
		slot = t.next
		t.next++
		if c := slot >> slotChunkBits; t.chunks[c].Load() == nil {
			t.chunks[c].Store(new([slotChunkSize]atomic.Pointer[slotEntry]))
		}
	}
	t.entry(slot).Store(&slotEntry{r})
	return slot, nil
}

func (t *slotTable) entry(slot uint32) *atomic.Pointer[slotEntry] {
	return &t.chunks[slot>>slotChunkBits].Load()[slot&(slotChunkSize-1)]
}

// get returns the receiver of slot, or nil once it is cleared.
func (t *slotTable) get(slot uint32) receiver {
	c := t.chunks[slot>>slotChunkBits].Load()
	if c == nil {
		return nil
	}
	if e := c[slot&(slotChunkSize-1)].Load(); e != nil {
		return e.r
	}
	return nil
}

// clear makes host calls of slot find no receiver; the slot stays taken.
func (t *slotTable) clear(slot uint32) { t.entry(slot).Store(nil) }

// release clears slot and frees it for another store. Only after its store is
// deleted: until then a host call could find the next store's receiver.
func (t *slotTable) release(slot uint32) {
	t.clear(slot)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.free = append(t.free, slot)
}

// kspdHost is where every host call of every direct store enters Go, from
// kspd_host. It finds the store's receiver by slot and runs host function
// index there. It must not panic: a Go panic cannot unwind through
// wasmtime's frames, so a receiver's panics become traps, and this function
// recovers anything left as a last resort.
//
// The trap is returned as a uintptr_t, which cgo does not check for Go
// pointers on the way out, as it would a pointer on every host call.
//
//export kspdHost
func kspdHost(slot C.uint32_t, index C.uintptr_t, ctx *C.wasmtime_context_t, args *C.wasmtime_val_raw_t, n C.size_t, base *C.uint8_t, size C.size_t) (trap C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			trap = trapBits(newTrap(fmt.Sprintf("kspbench: host call panicked: %v", r)))
		}
	}()
	r := receivers.get(uint32(slot))
	if r == nil {
		return trapBits(newTrap(msgDiscarded))
	}
	var mem []byte
	if base != nil {
		mem = unsafe.Slice((*byte)(unsafe.Pointer(base)), int(size))
	}
	return trapBits(r.host(int(index), ctx, unsafe.Slice((*rawVal)(unsafe.Pointer(args)), int(n)), mem))
}

// trapBits is a trap (C memory) as kspdHost returns it.
func trapBits(t *C.wasm_trap_t) C.uintptr_t { return C.uintptr_t(uintptr(unsafe.Pointer(t))) }

// cPtr is a C pointer as the hot-path helpers take it (see direct_capi.h).
func cPtr(p unsafe.Pointer) C.uintptr_t { return C.uintptr_t(uintptr(p)) }

// msgDiscarded is the trap of a host call from a store whose instance was
// closed during the call.
const msgDiscarded = "kspbench: host call from an instance that was closed"

// newTrap returns a trap with msg, for wasmtime to raise in the guest.
func newTrap(msg string) *C.wasm_trap_t {
	p, n := cString(msg)
	return C.wasmtime_trap_new(p, n) // copies msg
}

// zeroByte is where cString points for an empty string: the C API builds
// Rust slices from its pointers, which must not be NULL even when empty.
var zeroByte byte

// cString returns s as a pointer and length for the C API, which copies or
// reads it during the call only. s's bytes hold no Go pointers, so cgo lets
// C read them in place.
func cString(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return (*C.char)(unsafe.Pointer(&zeroByte)), 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// cBytes does for b what cString does for a string.
func cBytes(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return (*C.uint8_t)(unsafe.Pointer(&zeroByte)), 0
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

// takeError returns the message of err and deletes it.
func takeError(err *C.wasmtime_error_t) string {
	var v C.wasm_byte_vec_t
	C.wasmtime_error_message(err, &v)
	C.wasmtime_error_delete(err)
	return takeBytes(&v)
}

// takeTrap returns the message of trap and deletes it.
func takeTrap(trap *C.wasm_trap_t) string {
	var v C.wasm_byte_vec_t
	C.wasm_trap_message(trap, &v)
	C.wasm_trap_delete(trap)
	s := takeBytes(&v)
	if len(s) > 0 && s[len(s)-1] == 0 { // the message counts its NUL
		s = s[:len(s)-1]
	}
	return s
}

// takeFailure returns the message of whichever of err and trap is set,
// deleting both.
func takeFailure(err *C.wasmtime_error_t, trap *C.wasm_trap_t) string {
	var msg string
	if trap != nil {
		msg = takeTrap(trap)
	}
	if err != nil {
		if m := takeError(err); msg == "" {
			msg = m
		}
	}
	return msg
}

// takeBytes copies a byte vector the caller owns into Go and deletes it.
func takeBytes(v *C.wasm_byte_vec_t) string {
	s := C.GoStringN((*C.char)(unsafe.Pointer(v.data)), C.int(v.size))
	C.wasm_byte_vec_delete(v)
	return s
}

// cFuncVals returns the raw value buffer of f.
func cFuncVals(f *C.kspd_func_t) []rawVal {
	return unsafe.Slice((*rawVal)(unsafe.Pointer(f.vals)), int(f.n))
}

// freeFunc frees what kspd_func_get allocated.
func freeFunc(f *C.kspd_func_t) { C.free(unsafe.Pointer(f)) }

// bareCgoCall makes a cgo call to an empty C function, for the benchmarks.
func bareCgoCall() { C.kspd_nothing() }

// bareCallbacks makes one cgo call in which C calls the empty Go function
// kspdNothing n times, for the benchmarks.
func bareCallbacks(n int) { C.kspd_callbacks(C.int(n)) }

// kspdNothing does nothing: see bareCallbacks.
//
//export kspdNothing
func kspdNothing() {}

// kspdHostForTest makes a host call to slot as kspd_host would, with no
// arguments or memory, and returns the trap's message, or "".
func kspdHostForTest(slot uint32) string {
	trap := kspdHost(C.uint32_t(slot), 0, nil, nil, 0, nil, 0)
	if trap == 0 {
		return ""
	}
	return takeTrap(*(**C.wasm_trap_t)(unsafe.Pointer(&trap)))
}
