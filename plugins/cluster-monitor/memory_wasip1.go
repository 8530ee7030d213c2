//go:build wasip1

package main

import (
	"runtime"
	"unsafe"
)

// allocations keeps every region handed out by allocate referenced, keyed by
// its address, so that the garbage collector (which never moves objects)
// does not free it while the host or a pending import result still uses it.
// A region leaves the map when the host gives it back with deallocate, or
// when the plugin takes over the result of a host import.
var allocations = map[uint32][]byte{}

// response is the body of the last handler call. The host reads it after
// the handler returns; ABI v1 §3 asks that it stay valid until the host's next
// call into the instance, so it is only replaced by the next handler call.
var response []byte

// allocate returns the address of size writable bytes, or 0 when it cannot
// allocate them.
//
// # Notes
//
// A size of 0 (which the host never asks for) gets a region of one byte, so
// that 0 keeps meaning failure. Go's allocator has no failure result: when
// the runtime cannot grow memory (past the instance's memory limit) it aborts
// the module, which the host sees as a trap in allocate, not as 0.
//
//go:wasmexport allocate
func allocate(size uint32) uint32 {
	buf := make([]byte, max(size, 1))
	ptr := addressOf(buf)
	if ptr == 0 {
		return 0
	}
	allocations[ptr] = buf
	return ptr
}

// deallocate gives back a region obtained from allocate. Unknown addresses
// are ignored.
//
//go:wasmexport deallocate
func deallocate(ptr, size uint32) {
	delete(allocations, ptr)
}

// abiVersion1 declares that the module speaks ABI v1 (abi/ABI.md §2). The
// host checks the export's name and never calls it.
//
//go:wasmexport ksp_abi_version_1
func abiVersion1() {}

// addressOf returns the address of b's first byte in linear memory.
func addressOf(b []byte) uint32 {
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// requestBody returns the request region (ptr, size) the host filled through
// allocate. The host gives the region back with deallocate after the call, so
// it stays in allocations; the slice is valid only during the call.
func requestBody(ptr, size uint32) ([]byte, bool) {
	if size == 0 {
		return nil, true
	}
	buf, ok := allocations[ptr]
	if !ok || uint32(len(buf)) < size {
		return nil, false
	}
	return buf[:size:size], true
}

// takeResult unpacks the result of a packed-returning host import. Pointer 0
// carries a status (0: OK, empty). Otherwise the host has put the data in a
// region it obtained from allocate, which now belongs to the plugin: the
// region leaves allocations and is returned as an ordinary Go slice, which
// the garbage collector frees when the plugin is done with it.
func takeResult(packed uint64) ([]byte, status) {
	ptr, size := uint32(packed>>32), uint32(packed)
	if ptr == 0 {
		return nil, status(size)
	}
	buf, ok := allocations[ptr]
	if !ok || uint32(len(buf)) < size {
		return nil, statusInternal // not a region of ours: a host bug
	}
	delete(allocations, ptr)
	yieldToRuntime() // the host has just called allocate re-entrantly
	return buf[:size:size], statusOK
}

// yieldToRuntime lets the Go scheduler run its other goroutines, the garbage
// collector's workers among them. Handlers call it on entry and after each
// host import that handed over data.
//
// # Notes
//
// A garbage collection that starts inside allocate while the host calls it
// from within an import (a re-entrant call, as for every import result) can
// stall: with Go 1.26 and wazero, after about 2,600 calls whose import
// results were 40 KB (about 250 at 270 KB), the collector stopped completing
// cycles and the heap grew until the instance ran out of memory. A handler
// never blocks, so without an explicit yield the collector's workers never
// run again. runtime.Gosched costs little when nothing else is runnable.
func yieldToRuntime() { runtime.Gosched() }

// respond keeps body as the response of the current handler call and returns
// it packed as ptr<<32 | len; an empty body is 0.
func respond(body []byte) uint64 {
	response = body
	if len(body) == 0 {
		return 0
	}
	return uint64(addressOf(body))<<32 | uint64(len(body))
}

// respondStatus ends a handler call without a body: pointer 0, status code in
// the low half.
func respondStatus(st status) uint64 {
	response = nil
	return uint64(st)
}
