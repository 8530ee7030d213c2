package conformance

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
)

// wasiCases check WASI sleeps (poll_oneoff on a clock, which every Go
// guest's time.Sleep makes) with the wasi_sleep guest.
var wasiCases = []Case{
	{"abi/wasi-sleep", "a guest sleeping 20 ms in WASI poll_oneoff wakes after at least 20 ms with its clock event", func(e *Env) error {
		g, err := e.LoadGuest(Guest("wasi_sleep"), GuestOptions{Handlers: []string{"handle_sleep"}})
		if err != nil {
			return err
		}
		for i := range 2 { // twice: the host survives a sleep
			start := time.Now()
			got, err := g.Call(e.ctx, "handle_sleep", nil)
			elapsed := time.Since(start)
			if err != nil {
				return fmt.Errorf("handle_sleep %d: %w", i, err)
			}
			r, err := parsePoll(got, 1)
			if err != nil {
				return fmt.Errorf("handle_sleep %d: %w", i, err)
			}
			if r.errno != 0 || r.nevents != 1 {
				return fmt.Errorf("handle_sleep %d: poll_oneoff gave errno %d and %d events, want 0 and 1", i, r.errno, r.nevents)
			}
			if ev := r.events[0]; ev.userdata != sleepUserdata || ev.errno != 0 || ev.typ != 0 {
				return fmt.Errorf("handle_sleep %d: event %+v, want userdata %#x, errno 0, type clock (0)", i, ev, uint64(sleepUserdata))
			}
			if elapsed < 20*time.Millisecond {
				return fmt.Errorf("handle_sleep %d: a 20ms sleep returned after %v", i, elapsed)
			}
		}
		return nil
	}},
	{"abi/wasi-sleep-deadline", "a guest sleeping an hour in WASI poll_oneoff is ended by the call deadline and the next call succeeds", func(e *Env) error {
		eng, err := e.Engine()
		if err != nil {
			return err
		}
		// An engine that cannot end a sleep would hold the call, and its
		// instance, for the hour: not run there.
		if why := engines.Unsupported(eng, engines.FeatureSleepInterrupt); why != "" {
			return &UnsupportedError{Reason: why}
		}
		g, err := e.LoadGuest(Guest("wasi_sleep"), GuestOptions{
			Handlers:     []string{"handle_poll", "handle_sleep"},
			Limits:       abi.Limits{CallTimeout: e.cfg.Deadline},
			MaxInstances: 2,
		})
		if err != nil {
			return err
		}
		// One relative monotonic clock subscription of 3600 s.
		sub := make([]byte, 48)
		binary.LittleEndian.PutUint64(sub[0:], 1)                         // userdata
		sub[8] = 0                                                        // tag: clock
		binary.LittleEndian.PutUint32(sub[16:], 1)                        // id: monotonic
		binary.LittleEndian.PutUint64(sub[24:], uint64(time.Hour))        // timeout
		binary.LittleEndian.PutUint64(sub[32:], uint64(time.Microsecond)) // precision
		start := time.Now()
		if err := endsInTime(e, func() error { _, err := g.Call(e.ctx, "handle_poll", sub); return err }, context.DeadlineExceeded); err != nil {
			return err
		}
		// endsInTime allows 20 s; a sleep must end about as soon as a loop.
		if elapsed := time.Since(start); elapsed > e.cfg.Deadline+5*time.Second {
			return fmt.Errorf("an hour's sleep ended %v after the call began, %v past its %v deadline", elapsed, elapsed-e.cfg.Deadline, e.cfg.Deadline)
		}
		got, err := g.Call(e.ctx, "handle_sleep", nil)
		if err != nil {
			return fmt.Errorf("the next call: %w", err)
		}
		if r, err := parsePoll(got, 1); err != nil || r.errno != 0 || r.nevents != 1 {
			return fmt.Errorf("the next call: %+v, %v; want errno 0 and one event", r, err)
		}
		return nil
	}},
}

// sleepUserdata is the userdata of wasi_sleep's handle_sleep subscription.
const sleepUserdata = 0x6b73702d736c6565

// pollResult is what wasi_sleep's handle_sleep and handle_poll answer: the
// errno and event count poll_oneoff gave, and one event record per
// subscription (zero past the count).
type pollResult struct {
	errno, nevents uint32
	events         []pollEvent
}

type pollEvent struct {
	userdata uint64
	errno    uint16
	typ      uint8
}

// parsePoll parses a wasi_sleep answer for n subscriptions.
func parsePoll(b []byte, n int) (pollResult, error) {
	if len(b) != 8+32*n {
		return pollResult{}, fmt.Errorf("answer of %d bytes, want %d", len(b), 8+32*n)
	}
	r := pollResult{errno: binary.LittleEndian.Uint32(b), nevents: binary.LittleEndian.Uint32(b[4:])}
	for ev := b[8:]; len(ev) > 0; ev = ev[32:] {
		r.events = append(r.events, pollEvent{
			userdata: binary.LittleEndian.Uint64(ev),
			errno:    binary.LittleEndian.Uint16(ev[8:]),
			typ:      ev[10],
		})
	}
	return r, nil
}
