package wasipoll

import (
	"context"
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// flatMemory is a Memory over a byte slice.
type flatMemory []byte

func (m flatMemory) Read(ptr, n uint32) ([]byte, bool) {
	end := uint64(ptr) + uint64(n)
	if end > uint64(len(m)) {
		return nil, false
	}
	return m[ptr:end:end], true
}

// TestPollOneoffBadArguments checks the errors of the call itself that the
// WAT guest cannot provoke: no subscriptions, and each region out of bounds
// (nothing is written then).
func TestPollOneoffBadArguments(t *testing.T) {
	ctx := context.Background()
	mem := make(flatMemory, 4096)
	sub := mem[0:48]
	sub[8] = EventClock
	binary.LittleEndian.PutUint32(sub[16:], ClockMonotonic)
	binary.LittleEndian.PutUint32(mem[1024:], 0xdeadbeef)
	for _, c := range []struct {
		name                   string
		in, out, nsubs, nevent uint32
		want                   uint32
	}{
		{"no subscriptions", 0, 512, 0, 1024, ErrnoInval},
		{"subscriptions out of bounds", 4090, 512, 1, 1024, ErrnoFault},
		{"events out of bounds", 0, 4090, 1, 1024, ErrnoFault},
		{"event count out of bounds", 0, 512, 1, 4093, ErrnoFault},
		{"subscription size overflows", 0, 512, math.MaxUint32 / 40, 1024, ErrnoFault},
		{"too many subscriptions for memory", 0, 512, 100, 1024, ErrnoFault},
	} {
		errno, err := PollOneoff(ctx, mem, Clocks{}, c.in, c.out, c.nsubs, c.nevent)
		if err != nil || errno != c.want {
			t.Errorf("%s: errno %d, err %v; want errno %d", c.name, errno, err, c.want)
		}
		if n := binary.LittleEndian.Uint32(mem[1024:]); n != 0xdeadbeef {
			t.Errorf("%s: wrote nevents %d", c.name, n)
		}
	}
	// The same subscription with good pointers: one event, no wait.
	if errno, err := PollOneoff(ctx, mem, Clocks{}, 0, 512, 1, 1024); err != nil || errno != ErrnoSuccess || binary.LittleEndian.Uint32(mem[1024:]) != 1 {
		t.Errorf("valid call: errno %d, err %v, nevents %d", errno, err, binary.LittleEndian.Uint32(mem[1024:]))
	}
}

// TestPollOneoffContext checks that a wait ends with the context, and does
// not start under a context that has ended.
func TestPollOneoffContext(t *testing.T) {
	mem := make(flatMemory, 4096)
	sub := mem[0:48]
	sub[8] = EventClock
	binary.LittleEndian.PutUint64(sub[24:], uint64(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PollOneoff(ctx, mem, Clocks{}, 0, 512, 1, 1024); err == nil {
		t.Error("an hour's sleep under a cancelled context: no error")
	}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := PollOneoff(ctx, mem, Clocks{}, 0, 512, 1, 1024); err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("an hour's sleep under a 20ms deadline: err %v after %v", err, time.Since(start))
	}
}

func TestNanosSaturates(t *testing.T) {
	if nanos(math.MaxUint64) != math.MaxInt64 || nanos(5) != 5 {
		t.Error("nanos does not saturate")
	}
}

// TestAbsoluteMonotonicClock checks that an absolute monotonic deadline is
// read against the engine's clock (Clocks.Monotonic), not the host's.
func TestAbsoluteMonotonicClock(t *testing.T) {
	mem := make(flatMemory, 4096)
	sub := mem[0:48]
	sub[8] = EventClock
	binary.LittleEndian.PutUint32(sub[16:], ClockMonotonic)
	binary.LittleEndian.PutUint64(sub[24:], uint64(1030*time.Millisecond))
	binary.LittleEndian.PutUint16(sub[40:], SubscriptionAbstime)
	clocks := Clocks{Monotonic: func() uint64 { return uint64(time.Second) }}
	start := time.Now()
	errno, err := PollOneoff(context.Background(), mem, clocks, 0, 512, 1, 1024)
	if elapsed := time.Since(start); err != nil || errno != ErrnoSuccess || elapsed < 30*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("deadline 30ms ahead on the engine's clock: errno %d, err %v, after %v", errno, err, elapsed)
	}
}
