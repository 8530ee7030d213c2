package plugin

import (
	"context"
	"errors"
	"testing"
	"time"
)

// done waits for c to end; the minute is a guard against a hang, not a
// timing assertion.
func done(t *testing.T, c context.Context, what string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(time.Minute):
		t.Fatalf("%s: never ended", what)
	}
}

func TestWatchdog(t *testing.T) {
	var w watchdog
	bg := context.Background()

	// Calls end at their deadline, in order, with DeadlineExceeded, and a
	// later call's deadline is not brought forward.
	c1, c2 := w.start(bg, time.Millisecond), w.start(bg, 2*time.Millisecond)
	long := w.start(bg, time.Hour)
	done(t, c1, "first call")
	done(t, c2, "second call")
	for _, c := range []*deadlineCall{c1, c2} {
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Errorf("call past its deadline: Err %v, want DeadlineExceeded", c.Err())
		}
		c.finish()
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Errorf("finish changed Err to %v", c.Err())
		}
	}
	if long.Err() != nil {
		t.Errorf("a call an hour from its deadline ended: %v", long.Err())
	}
	if d, ok := long.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Errorf("Deadline = %v, %v; want about an hour from now", d, ok)
	}
	long.finish()
	if !errors.Is(long.Err(), context.Canceled) {
		t.Errorf("finished call: Err %v, want Canceled", long.Err())
	}

	// The queue emptied early: the timer, left armed for the first
	// call, fires on nothing; a call started after it still ends.
	early := w.start(bg, time.Hour)
	early.finish()
	late := w.start(bg, time.Millisecond)
	done(t, late, "call after an early finish")
	if !errors.Is(late.Err(), context.DeadlineExceeded) {
		t.Errorf("Err %v, want DeadlineExceeded", late.Err())
	}
	late.finish()

	// The caller's cancellation ends the call with Canceled, and the
	// watchdog's deadline does not turn it into DeadlineExceeded after.
	parent, cancel := context.WithCancel(bg)
	c := w.start(parent, time.Millisecond)
	cancel()
	done(t, c, "cancelled call")
	time.Sleep(5 * time.Millisecond) // past its deadline
	if !errors.Is(c.Err(), context.Canceled) {
		t.Errorf("cancelled call: Err %v, want Canceled", c.Err())
	}
	c.finish()

	// A caller's earlier deadline is the call's.
	pd, pcancel := context.WithTimeout(bg, time.Minute)
	defer pcancel()
	c = w.start(pd, time.Hour)
	if d, _ := c.Deadline(); time.Until(d) > 2*time.Minute {
		t.Errorf("Deadline %v is the watchdog's, not the caller's earlier one", d)
	}
	c.finish()

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.head != nil || w.tail != nil {
		t.Errorf("calls left in the queue after all finished")
	}
}
