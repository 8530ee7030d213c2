package wazero

import (
	"context"
	"errors"
	"time"

	"github.com/tetratelabs/wazero/sys"
)

// WASI sleeps and the call's context.
//
// wazero v1.12.0's poll_oneoff (imports/wasi_snapshot_preview1/poll.go)
// waits for its clock subscriptions through the module's sys.Nanosleep
// (ModuleConfig.WithNanosleep), on the goroutine of the call, without looking
// at the call's context; WithSysNanosleep is a plain time.Sleep. A guest that
// sleeps (any Go guest's time.Sleep, wasi-libc's nanosleep) would hold its
// call, and the instance, for as long as it asked, past any deadline:
// close-on-context-done only stops guest code at function entries and loop
// headers, never inside a host function.
//
// So each instance sleeps through its own nanosleep, which waits on the
// context of the call in progress (instance.ctx, which Function.Call sets
// before entering the guest, on the same goroutine). When that context ends
// during the sleep, nanosleep ends the call at once: it panics with the
// sys.ExitError that close-on-context-done would give (exit code
// ExitCodeDeadlineExceeded or ExitCodeContextCanceled), which wazero passes
// through unwrapped as the call's error (wasmdebug's FromRecovered), and
// callError turns it into an error wrapping the context's. Returning early
// instead would let the guest run on: a Go guest's scheduler, finding its
// timer not yet due, would poll again at once and spin until
// close-on-context-done caught it at a loop header.
//
// The panic does not depend on close-on-context-done, so a sleep ends with
// its call's context even if the runtime is made without it (as with
// engines.Config.NoDeadline): then only a looping guest, not a sleeping one,
// outlives its context. Either way the instance must not be used again, as
// the engines contract says of any call ended by its context.
//
// Not covered: a poll_oneoff that also subscribes to a blocking stdin waits
// in the stdin file's Poll, not in Nanosleep; this adapter gives guests no
// stdin (wazero's default is an empty reader), so no such wait blocks.

// nanosleep implements sys.Nanosleep for in: it sleeps ns nanoseconds, or
// ends the call when its context ends first.
func (in *instance) nanosleep(ns int64) {
	if ns <= 0 {
		return
	}
	d := time.Duration(ns)
	var ctx context.Context
	if in.ctx != nil {
		ctx = in.ctx.Context
	}
	if ctx == nil || ctx.Done() == nil {
		time.Sleep(d)
		return
	}
	if err := ctx.Err(); err != nil {
		panic(exitError(err))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		panic(exitError(ctx.Err()))
	}
}

// exitError is the sys.ExitError wazero gives a call whose context ended
// with err.
func exitError(err error) *sys.ExitError {
	if errors.Is(err, context.DeadlineExceeded) {
		return sys.NewExitError(sys.ExitCodeDeadlineExceeded)
	}
	return sys.NewExitError(sys.ExitCodeContextCanceled)
}
