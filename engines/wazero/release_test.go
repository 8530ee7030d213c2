package wazero

import (
	"testing"
	"time"
)

// TestReleaserCoalesces drives the releaser on a fake clock: the first
// request runs at once, requests within the interval after a run wait for its
// end, and requests made while a run is scheduled add no run.
func TestReleaserCoalesces(t *testing.T) {
	now := time.Unix(1000, 0)
	var runs int
	var scheduled []time.Duration
	var queued []func()
	r := newReleaser(func() { runs++ })
	r.now = func() time.Time { return now }
	r.after = func(d time.Duration, f func()) { scheduled = append(scheduled, d); queued = append(queued, f) }
	fire := func() {
		t.Helper()
		if len(queued) != 1 {
			t.Fatalf("%d runs scheduled, want 1", len(queued))
		}
		f := queued[0]
		queued = queued[:0]
		f()
	}

	r.request()
	r.request() // coalesced with the first
	fire()
	now = now.Add(300 * time.Millisecond)
	for range 100 {
		r.request()
	}
	fire()
	now = now.Add(5 * time.Second)
	r.request()
	fire()

	if runs != 3 {
		t.Errorf("%d runs for 3 bursts of requests, want 3", runs)
	}
	want := []time.Duration{0, releaseInterval - 300*time.Millisecond, 0}
	if len(scheduled) != len(want) {
		t.Fatalf("scheduled %v, want %v", scheduled, want)
	}
	for i := range want {
		if scheduled[i] != want[i] {
			t.Errorf("run %d scheduled after %s, want %s", i, scheduled[i], want[i])
		}
	}
}
