package wasmtime

import (
	"context"
	"sync"
	"time"
)

// The fallback for a binary in which the deadline callback's C functions did
// not resolve (callbackAvailable is false). Without the callback a store
// traps as soon as the engine's epoch reaches its deadline, so deadlines are
// counted in ticks of a shared clock: a ticker increments the engine's epoch
// every tick while calls with a deadline are in flight, and each such call
// sets its store's deadline to the ticks left before its context's deadline.
// A context cancelled before its deadline cannot be noticed this way.

// tick is the fallback clock's period, the precision of its deadlines.
const tick = 2 * time.Millisecond

// never is a store deadline, in ticks, that no call reaches.
const never = 1 << 62

// epochTicker increments an engine's epoch every tick while at least one call
// with a deadline is in flight.
type epochTicker struct {
	inc func() // increments the epoch; a no-op once the engine is closed

	mu     sync.Mutex
	active int
	stop   chan struct{}
}

func (t *epochTicker) acquire() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.active++
	if t.active > 1 {
		return
	}
	stop := make(chan struct{})
	t.stop = stop
	go func() {
		tk := time.NewTicker(tick)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				t.inc()
			}
		}
	}()
}

func (t *epochTicker) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.active--; t.active == 0 {
		close(t.stop)
	}
}

// deadlineTicks returns the store deadline, in ticks from now, of a call
// under ctx, and whether ctx has a deadline at all. One tick more than the
// time left rounds up and covers the part of the current tick already gone,
// so a call is never ended before its deadline.
func deadlineTicks(ctx context.Context) (uint64, bool) {
	d, ok := ctx.Deadline()
	if !ok {
		return never, false
	}
	left := time.Until(d)
	if left <= 0 {
		return 1, true
	}
	return uint64((left+tick-1)/tick) + 1, true
}
