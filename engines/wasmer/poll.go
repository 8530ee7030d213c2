package wasmer

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// Wasmer 2.0's own WASI poll_oneoff panics on any clock subscription ("not
// implemented: Polling not implemented for clocks yet"), and the panic cannot
// unwind through the C API: the whole process aborts. Every Go wasip1 guest
// polls a clock whenever its scheduler waits for a timer (time.Sleep, and the
// runtime itself under load), and wasi-libc's nanosleep does the same. The
// adapter therefore replaces the import wasi_snapshot_preview1.poll_oneoff of
// each instance with its own host function (through the trampoline of
// host.c), implemented here.
//
// # Semantics
//
// The layout is WASI preview1's: a subscription is 48 bytes (userdata u64 at
// 0, tag u8 at 8; for a clock: id u32 at 16, timeout u64 at 24, precision u64
// at 32, flags u16 at 40; for fd_read and fd_write: fd u32 at 16), an event
// 32 bytes (userdata u64 at 0, errno u16 at 8, type u8 at 10, nbytes u64 at
// 16, flags u16 at 24, the rest zero).
//
//   - Errors of the call itself (the function's result, and no events): EINVAL
//     for no subscriptions, a tag other than clock, fd_read or fd_write, clock
//     flags other than 0 and subscription_clock_abstime, or a clock id above
//     3; EFAULT when the subscriptions, the events or the event count lie
//     outside memory; ENOTSUP for an absolute time on a CPU-time clock (2, 3).
//     Nothing is written and nothing waits when the call fails.
//   - Clocks: a relative timeout (flags 0) waits that many nanoseconds on any
//     clock id 0 to 3 (CPU-time clocks are timed by the wall, as wazero does);
//     an absolute one (flags 1) waits until the realtime (0) or monotonic (1)
//     clock reads the timeout, on the clocks Wasmer's clock_time_get reads
//     (CLOCK_REALTIME and CLOCK_MONOTONIC). The precision is ignored.
//   - Descriptors: the adapter cannot see Wasmer's descriptor table (wasmer-go
//     exposes none), so an fd_read or fd_write subscription is reported ready
//     at once, errno 0, nbytes 0, no flags, whatever the descriptor: the
//     guest's next read or write then reports EBADF or the data. That is what
//     wasi-libc's poll and Go's netpoll expect of a ready descriptor (both
//     also accept a per-event error, which they turn into POLLNVAL/POLLERR or
//     a wakeup). A fresh WASI environment here holds descriptors 0 to 3
//     (stdin, captured stdout and stderr, Wasmer's virtual root).
//   - The call returns as soon as one subscription has occurred: at once when
//     there is a descriptor subscription or an expired clock, otherwise when
//     the earliest clock expires. It reports, in subscription order, every
//     descriptor subscription and every clock whose time has come, and writes
//     their number to *nevents.
//   - The wait honours the call's context: when it ends (deadline or
//     cancellation) while the guest sleeps, the host function fails and the
//     guest's call ends at once with a trap that wraps the context's error,
//     so a sleeping guest never holds the host past its deadline (a Wasmer
//     call cannot otherwise be interrupted). Without a deadline the guest
//     sleeps as long as it asked, as a looping guest runs as long as it loops.
//
// wazero v1.12.0 (imports/wasi_snapshot_preview1/poll.go) differs in three
// ways: it refuses absolute clocks (ENOTSUP), it reports every clock
// subscription and sleeps for the shortest even when a descriptor is ready,
// and it checks descriptors (EBADF for an unknown one, ENOTSUP for fd_write).

// WASI preview1 numbers used by poll_oneoff.
const (
	wasiModule   = "wasi_snapshot_preview1"
	wasiPollName = "poll_oneoff"

	errnoSuccess = 0
	errnoFault   = 21
	errnoInval   = 28
	errnoNotsup  = 58

	eventClock   = 0
	eventFdRead  = 1
	eventFdWrite = 2

	clockRealtime       = 0
	clockMonotonic      = 1
	clockThreadCPUTime  = 3
	subscriptionAbstime = 1

	subscriptionSize = 48
	eventSize        = 32
)

// guestMemory is the part of an instance poll_oneoff uses: a view of guest
// memory, valid until the guest runs again.
type guestMemory interface {
	Read(ptr, n uint32) ([]byte, bool)
}

// pollSub is one parsed subscription.
type pollSub struct {
	userdata []byte // 8 bytes, in guest memory
	tag      byte
	deadline time.Time // clocks only
}

// pollOneoff runs poll_oneoff(in, out, nsubs, neventsPtr) on mem and returns
// the WASI errno, or an error when ctx ended while the guest was waiting (the
// host function then traps).
func pollOneoff(ctx context.Context, mem guestMemory, in, out, nsubs, neventsPtr uint32) (uint32, error) {
	if nsubs == 0 {
		return errnoInval, nil
	}
	if uint64(nsubs)*subscriptionSize > math.MaxUint32 {
		return errnoFault, nil
	}
	inBuf, ok1 := mem.Read(in, nsubs*subscriptionSize)
	outBuf, ok2 := mem.Read(out, nsubs*eventSize)
	neventsBuf, ok3 := mem.Read(neventsPtr, 4)
	if !ok1 || !ok2 || !ok3 {
		return errnoFault, nil
	}

	start := time.Now()
	var buf [4]pollSub // Go's scheduler polls one clock, or a clock and a few descriptors
	subs := buf[:0]
	if nsubs > uint32(len(buf)) {
		subs = make([]pollSub, 0, nsubs)
	}
	subs = subs[:nsubs]
	ready := false // a descriptor subscription answers at once
	var earliest time.Time
	for i := range subs {
		b := inBuf[i*subscriptionSize : (i+1)*subscriptionSize]
		s := pollSub{userdata: b[0:8], tag: b[8]}
		switch s.tag {
		case eventClock:
			d, errno := clockWait(b, start)
			if errno != errnoSuccess {
				return errno, nil
			}
			s.deadline = start.Add(d)
			if earliest.IsZero() || s.deadline.Before(earliest) {
				earliest = s.deadline
			}
		case eventFdRead, eventFdWrite:
			ready = true
		default:
			return errnoInval, nil
		}
		subs[i] = s
	}

	if !ready {
		if err := sleepUntil(ctx, earliest); err != nil {
			return 0, err
		}
	}

	now := time.Now()
	clear(outBuf)
	n := uint32(0)
	for _, s := range subs {
		if s.tag == eventClock && s.deadline.After(now) {
			continue
		}
		e := outBuf[n*eventSize : (n+1)*eventSize]
		copy(e[0:8], s.userdata)
		binary.LittleEndian.PutUint16(e[8:], errnoSuccess)
		e[10] = s.tag
		n++
	}
	binary.LittleEndian.PutUint32(neventsBuf, n)
	return errnoSuccess, nil
}

// clockWait returns how long after start the clock subscription b (48 bytes)
// expires, never negative, or the errno that fails the call.
func clockWait(b []byte, start time.Time) (time.Duration, uint32) {
	id := binary.LittleEndian.Uint32(b[16:])
	timeout := binary.LittleEndian.Uint64(b[24:])
	flags := binary.LittleEndian.Uint16(b[40:])
	if id > clockThreadCPUTime {
		return 0, errnoInval
	}
	switch flags {
	case 0:
		return nanos(timeout), errnoSuccess
	case subscriptionAbstime:
		var now uint64
		switch id {
		case clockRealtime:
			now = uint64(start.UnixNano())
		case clockMonotonic:
			now = monotonicNow()
		default:
			return 0, errnoNotsup
		}
		if timeout <= now {
			return 0, errnoSuccess
		}
		return nanos(timeout - now), errnoSuccess
	default:
		return 0, errnoInval
	}
}

// nanos converts a WASI duration to a time.Duration, saturating.
func nanos(ns uint64) time.Duration {
	if ns > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// monotonicNow reads the clock Wasmer's clock_time_get reads for the WASI
// monotonic clock.
func monotonicNow() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return uint64(ts.Nano())
}

// sleepUntil waits until deadline, or returns an error as soon as ctx ends.
func sleepUntil(ctx context.Context, deadline time.Time) error {
	d := time.Until(deadline)
	if d <= 0 {
		return nil
	}
	if ctx.Done() == nil {
		time.Sleep(d)
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wasmer: wasi %s: sleep of %v not started: %w", wasiPollName, d, err)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wasmer: wasi %s: sleep of %v cut short: %w", wasiPollName, d, ctx.Err())
	}
}
