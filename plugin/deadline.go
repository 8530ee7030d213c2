package plugin

import (
	"context"
	"errors"
	"sync"
	"time"
)

// watchdog ends a pool's calls at their deadline with one timer for the
// whole pool, instead of a context.WithTimeout (a timer made and stopped)
// per call. Every call of a pool has the same timeout, so deadlines come in
// the order calls start: the calls in flight form a queue, oldest first,
// and the timer is armed at the head's deadline only. (Calls of other
// timeouts, which the pool never makes, are queued in order all the same.)
type watchdog struct {
	mu         sync.Mutex
	head, tail *deadlineCall
	timer      *time.Timer
	armed      bool      // the timer will fire (it is not re-armed when the head leaves early)
	armedAt    time.Time // when
}

// deadlineCall is one call's context: the caller's, cancelled when the
// caller's is or when the watchdog passes its deadline. Err answers
// context.DeadlineExceeded in the latter case, as a context.WithTimeout's
// would, so that engines and callers tell a deadline from a cancellation.
type deadlineCall struct {
	context.Context // a context.WithCancelCause of the caller's
	cancel          context.CancelCauseFunc
	at              time.Time
	w               *watchdog
	prev, next      *deadlineCall
	queued          bool
}

func (c *deadlineCall) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.at) {
		return d, true
	}
	return c.at, true
}

func (c *deadlineCall) Err() error {
	err := c.Context.Err()
	if err != nil && errors.Is(context.Cause(c.Context), context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}

// start returns the context of a call under parent that ends timeout from
// now; the caller calls finish when the call is over.
func (w *watchdog) start(parent context.Context, timeout time.Duration) *deadlineCall {
	ctx, cancel := context.WithCancelCause(parent)
	c := &deadlineCall{Context: ctx, cancel: cancel, at: time.Now().Add(timeout), w: w}
	w.mu.Lock()
	// Insert in deadline order, from the tail: with one timeout per pool,
	// the new call goes last at once.
	after := w.tail
	for after != nil && after.at.After(c.at) {
		after = after.prev
	}
	c.prev, c.queued = after, true
	if after != nil {
		c.next, after.next = after.next, c
	} else {
		c.next, w.head = w.head, c
	}
	if c.next != nil {
		c.next.prev = c
	} else {
		w.tail = c
	}
	switch {
	case w.timer == nil:
		w.timer = time.AfterFunc(timeout, w.fire)
		w.armed, w.armedAt = true, c.at
	case !w.armed || c.at.Before(w.armedAt):
		w.timer.Reset(timeout)
		w.armed, w.armedAt = true, c.at
	}
	w.mu.Unlock()
	return c
}

// finish ends the call: it leaves the queue and its context is cancelled.
func (c *deadlineCall) finish() {
	w := c.w
	w.mu.Lock()
	w.unlink(c)
	w.mu.Unlock()
	c.cancel(context.Canceled)
}

// unlink removes c from the queue, if it is still there. w.mu must be held.
func (w *watchdog) unlink(c *deadlineCall) {
	if !c.queued {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		w.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		w.tail = c.prev
	}
	c.prev, c.next, c.queued = nil, nil, false
}

// fire ends the calls past their deadline and re-arms the timer at the
// next one's.
func (w *watchdog) fire() {
	var due []*deadlineCall
	w.mu.Lock()
	now := time.Now()
	for w.head != nil && !w.head.at.After(now) {
		c := w.head
		w.unlink(c)
		due = append(due, c)
	}
	if w.head != nil {
		w.timer.Reset(w.head.at.Sub(now))
		w.armedAt = w.head.at
	} else {
		w.armed = false
	}
	w.mu.Unlock()
	for _, c := range due {
		c.cancel(context.DeadlineExceeded)
	}
}
