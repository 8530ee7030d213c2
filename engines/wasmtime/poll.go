package wasmtime

import (
	"context"
	"fmt"
	"time"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/kspbench/kspbench/engines/internal/wasipoll"
)

// WASI sleeps and the call's context.
//
// Wasmtime's WASI poll_oneoff waits for a clock inside Rust, where epoch
// interruption cannot reach it: a guest asleep there (any Go guest's
// time.Sleep, wasi-libc's nanosleep) held its call, and its instance, for as
// long as it asked, past any deadline. So both variants shadow the import
// wasi_snapshot_preview1.poll_oneoff on their linkers, after WASI is defined,
// with the adapter's own host function: package wasipoll's poll_oneoff (see
// that package for its semantics), whose wait ends when the context of the
// call in progress ends. The host function then traps with an error wrapping
// the context's, and the call ends with it (callError), as a looping guest's
// ends by epoch interruption.
//
// The WASI monotonic clock of Wasmtime's clock_time_get counts from the
// creation of the store's WASI context, not from the host's CLOCK_MONOTONIC,
// so absolute monotonic subscriptions are read against the time elapsed
// since the store was given its WASI context (wasiBase, taken just after, so
// that a deadline built on the guest's clock is never reached early).
//
// Descriptor subscriptions are reported ready at once (wasipoll), where
// Wasmtime's own poll_oneoff checked the descriptor: the guest's next read or
// write reports the descriptor's state instead.

// pollParams and pollResults are poll_oneoff's type: (in, out,
// nsubscriptions, nevents i32) -> errno i32.
const pollParams, pollResults = 4, 1

// definePoll shadows WASI's poll_oneoff on linker, which must already hold
// WASI, with the adapter's (see above).
func (e *Engine) definePoll(linker *wt.Linker) error {
	i32 := func() *wt.ValType { return wt.NewValType(wt.KindI32) }
	ty := wt.NewFuncType([]*wt.ValType{i32(), i32(), i32(), i32()}, []*wt.ValType{i32()})
	linker.AllowShadowing(true)
	defer linker.AllowShadowing(false)
	if err := linker.FuncNew(wasipoll.Module, wasipoll.Name, ty, e.pollFunc); err != nil {
		return fmt.Errorf("wasmtime: define import[%s.%s]: %w", wasipoll.Module, wasipoll.Name, err)
	}
	return nil
}

// pollFunc is the wasmtime callback of poll_oneoff.
func (e *Engine) pollFunc(c *wt.Caller, args []wt.Val) ([]wt.Val, *wt.Trap) {
	in := e.callerInstance(c)
	if in == nil {
		return nil, wt.NewTrap("kspbench: import[" + wasipoll.Module + "." + wasipoll.Name + "] called from a store this engine did not make")
	}
	return in.poll(c, args)
}

func (in *instance) poll(c *wt.Caller, args []wt.Val) (res []wt.Val, trap *wt.Trap) {
	if in.closed {
		return nil, wt.NewTrap(msgDiscarded)
	}
	if len(args) != pollParams {
		return nil, wt.NewTrap(fmt.Sprintf("kspbench: import[%s.%s] called with %d parameters", wasipoll.Module, wasipoll.Name, len(args)))
	}
	prevCaller := in.caller
	in.caller, in.view = c, nil
	defer func() {
		in.caller, in.view = prevCaller, nil
		if r := recover(); r != nil {
			err := fmt.Errorf("wasmtime: import[%s.%s] panicked: %v", wasipoll.Module, wasipoll.Name, r)
			in.hostErr = err
			res, trap = nil, wt.NewTrap(err.Error())
		}
	}()
	ctx := in.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	arg := func(i int) uint32 { return uint32(args[i].I32()) }
	errno, err := wasipoll.PollOneoff(ctx, in, wasipoll.Clocks{Monotonic: in.monotonic}, arg(0), arg(1), arg(2), arg(3))
	if err != nil {
		err = fmt.Errorf("wasmtime: %w", err)
		in.hostErr = err
		return nil, wt.NewTrap(err.Error())
	}
	return []wt.Val{wt.ValI32(int32(errno))}, nil
}

// monotonic reads the store's WASI monotonic clock as Wasmtime's
// clock_time_get does (see above).
func (in *instance) monotonic() uint64 { return uint64(time.Since(in.wasiBase)) }
