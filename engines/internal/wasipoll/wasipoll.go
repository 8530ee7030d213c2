// Package wasipoll is an engine's own WASI preview1 poll_oneoff, for the
// adapters whose engine's cannot be stopped while it sleeps (wasmtime's
// sleeps inside Rust, out of reach of epoch interruption) or cannot sleep at
// all (Wasmer 2.0's aborts the process on a clock subscription). An adapter
// defines the import wasi_snapshot_preview1.poll_oneoff with a host function
// of its own that calls PollOneoff with the guest's memory and the context of
// the call in progress.
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
//     clock reads the timeout: the realtime clock is CLOCK_REALTIME (Go's
//     time.Now), the monotonic one whatever the engine's clock_time_get
//     reads (Clocks.Monotonic). The precision is ignored.
//   - Descriptors: an adapter cannot see its engine's descriptor table, so an
//     fd_read or fd_write subscription is reported ready at once, errno 0,
//     nbytes 0, no flags, whatever the descriptor: the guest's next read or
//     write then reports EBADF or the data. That is what wasi-libc's poll and
//     Go's netpoll expect of a ready descriptor (both also accept a
//     per-event error, which they turn into POLLNVAL/POLLERR or a wakeup).
//   - The call returns as soon as one subscription has occurred: at once when
//     there is a descriptor subscription or an expired clock, otherwise when
//     the earliest clock expires. It reports, in subscription order, every
//     descriptor subscription and every clock whose time has come, and writes
//     their number to *nevents.
//   - The wait honours the call's context: when it ends (deadline or
//     cancellation) while the guest sleeps, PollOneoff returns an error
//     wrapping the context's, which the adapter raises as a trap, so a
//     sleeping guest never holds its call past its deadline. Without a
//     deadline the guest sleeps as long as it asked, as a looping guest runs
//     as long as it loops.
//
// wazero v1.12.0 (imports/wasi_snapshot_preview1/poll.go) differs in three
// ways: it refuses absolute clocks (ENOTSUP), it reports every clock
// subscription and sleeps for the shortest even when a descriptor is ready,
// and it checks descriptors (EBADF for an unknown one, ENOTSUP for fd_write).
package wasipoll

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// The import this package implements.
const (
	Module = "wasi_snapshot_preview1"
	Name   = "poll_oneoff"
)

// WASI preview1 numbers used by poll_oneoff.
const (
	ErrnoSuccess = 0
	ErrnoFault   = 21
	ErrnoInval   = 28
	ErrnoNotsup  = 58

	EventClock   = 0
	EventFdRead  = 1
	EventFdWrite = 2

	ClockRealtime       = 0
	ClockMonotonic      = 1
	ClockThreadCPUTime  = 3
	SubscriptionAbstime = 1

	SubscriptionSize = 48
	EventSize        = 32
)

// Memory is the part of an instance PollOneoff uses: a view of guest memory,
// valid until the guest runs again.
type Memory interface {
	Read(ptr, n uint32) ([]byte, bool)
}

// Clocks says how the engine's clock_time_get reads the clocks that absolute
// subscriptions name.
type Clocks struct {
	// Monotonic reads the WASI monotonic clock in nanoseconds, as the
	// engine's clock_time_get reports it; nil means CLOCK_MONOTONIC
	// (HostMonotonic).
	Monotonic func() uint64
}

// sub is one parsed subscription.
type sub struct {
	userdata []byte // 8 bytes, in guest memory
	tag      byte
	deadline time.Time // clocks only
}

// PollOneoff runs poll_oneoff(in, out, nsubs, neventsPtr) on mem and returns
// the WASI errno, or an error when ctx ended while the guest was waiting (the
// host function must then trap).
func PollOneoff(ctx context.Context, mem Memory, clocks Clocks, in, out, nsubs, neventsPtr uint32) (uint32, error) {
	if nsubs == 0 {
		return ErrnoInval, nil
	}
	if uint64(nsubs)*SubscriptionSize > math.MaxUint32 {
		return ErrnoFault, nil
	}
	inBuf, ok1 := mem.Read(in, nsubs*SubscriptionSize)
	outBuf, ok2 := mem.Read(out, nsubs*EventSize)
	neventsBuf, ok3 := mem.Read(neventsPtr, 4)
	if !ok1 || !ok2 || !ok3 {
		return ErrnoFault, nil
	}

	start := time.Now()
	var buf [4]sub // Go's scheduler polls one clock, or a clock and a few descriptors
	subs := buf[:0]
	if nsubs > uint32(len(buf)) {
		subs = make([]sub, 0, nsubs)
	}
	subs = subs[:nsubs]
	ready := false // a descriptor subscription answers at once
	var earliest time.Time
	for i := range subs {
		b := inBuf[i*SubscriptionSize : (i+1)*SubscriptionSize]
		s := sub{userdata: b[0:8], tag: b[8]}
		switch s.tag {
		case EventClock:
			d, errno := clockWait(b, start, clocks)
			if errno != ErrnoSuccess {
				return errno, nil
			}
			s.deadline = start.Add(d)
			if earliest.IsZero() || s.deadline.Before(earliest) {
				earliest = s.deadline
			}
		case EventFdRead, EventFdWrite:
			ready = true
		default:
			return ErrnoInval, nil
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
		if s.tag == EventClock && s.deadline.After(now) {
			continue
		}
		e := outBuf[n*EventSize : (n+1)*EventSize]
		copy(e[0:8], s.userdata)
		binary.LittleEndian.PutUint16(e[8:], ErrnoSuccess)
		e[10] = s.tag
		n++
	}
	binary.LittleEndian.PutUint32(neventsBuf, n)
	return ErrnoSuccess, nil
}

// clockWait returns how long after start the clock subscription b (48 bytes)
// expires, never negative, or the errno that fails the call.
func clockWait(b []byte, start time.Time, clocks Clocks) (time.Duration, uint32) {
	id := binary.LittleEndian.Uint32(b[16:])
	timeout := binary.LittleEndian.Uint64(b[24:])
	flags := binary.LittleEndian.Uint16(b[40:])
	if id > ClockThreadCPUTime {
		return 0, ErrnoInval
	}
	switch flags {
	case 0:
		return nanos(timeout), ErrnoSuccess
	case SubscriptionAbstime:
		var now uint64
		switch id {
		case ClockRealtime:
			now = uint64(start.UnixNano())
		case ClockMonotonic:
			if clocks.Monotonic != nil {
				now = clocks.Monotonic()
			} else {
				now = HostMonotonic()
			}
		default:
			return 0, ErrnoNotsup
		}
		if timeout <= now {
			return 0, ErrnoSuccess
		}
		return nanos(timeout - now), ErrnoSuccess
	default:
		return 0, ErrnoInval
	}
}

// nanos converts a WASI duration to a time.Duration, saturating.
func nanos(ns uint64) time.Duration {
	if ns > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// HostMonotonic reads CLOCK_MONOTONIC in nanoseconds: the WASI monotonic
// clock of an engine whose clock_time_get reports it as it is (Wasmer).
func HostMonotonic() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return uint64(ts.Nano())
}

// Since returns a monotonic clock reading the time elapsed since base (on
// Go's monotonic clock): the WASI monotonic clock of an engine whose
// clock_time_get counts from the creation of the instance's WASI context
// (wasmtime), with base taken just after that creation, so that a deadline
// built on the guest's clock is never reached early.
func Since(base time.Time) func() uint64 {
	return func() uint64 { return uint64(time.Since(base)) }
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
		return fmt.Errorf("wasi %s: sleep of %v not started: %w", Name, d, err)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wasi %s: sleep of %v cut short: %w", Name, d, ctx.Err())
	}
}
