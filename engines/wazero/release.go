package wazero

import (
	"runtime/debug"
	"sync"
	"time"
)

// wazero keeps each instance's linear memory on the Go heap (a []byte; this
// adapter sets no experimental.MemoryAllocator). Once an instance is closed
// that memory is garbage, but the Go runtime frees it only at its next
// collection, due when the heap has grown by GOGC percent again, and hands
// the freed pages to the OS only gradually (its background scavenger):
// measured here, the memory of four closed instances of 64 MiB was still
// resident 30 seconds later. A host that discards an instance after a trap or
// a timeout, typically of a guest that grew its memory to the limit, would
// keep that memory for minutes.
//
// So closing an instance whose memory grew past releaseThreshold asks for
// debug.FreeOSMemory: a forced collection that returns every free page at
// once. It runs on a goroutine of its own, never in Close's caller, at most
// once per releaseInterval, and requests in between are coalesced into one
// run at the interval's end, so a storm of discards costs at most one
// collection per interval. Small instances (a typical plugin's few MiB)
// never ask: their memory is reused by the next instance anyway.
//
// An mmap-backed experimental.MemoryAllocator would give memory back at
// Close without a collection, but its Free unmaps memory that a host
// function may still be reading through a slice, turning a late read into a
// crash; the heap cannot.
const (
	releaseThreshold = 16 << 20
	releaseInterval  = time.Second
)

// heapRelease is process-wide, as the Go heap is.
var heapRelease = newReleaser(debug.FreeOSMemory)

// releaser runs free on request, at most once per releaseInterval,
// coalescing requests that come within an interval into one run at its end.
type releaser struct {
	free  func()
	now   func() time.Time
	after func(time.Duration, func())

	mu      sync.Mutex
	last    time.Time // when the last run started
	pending bool      // a run is scheduled and has not started
}

func newReleaser(free func()) *releaser {
	return &releaser{free: free, now: time.Now, after: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// request schedules a run of free, unless one is already scheduled.
func (r *releaser) request() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending {
		return
	}
	r.pending = true
	wait := max(releaseInterval-r.now().Sub(r.last), 0)
	if r.last.IsZero() {
		wait = 0
	}
	r.after(wait, r.run)
}

func (r *releaser) run() {
	r.mu.Lock()
	r.pending = false
	r.last = r.now()
	r.mu.Unlock()
	r.free()
}
