package wasmtime

/*
#include "direct_capi.h"
*/
import "C"

import (
	"context"
	"fmt"
	"time"

	"github.com/kspbench/kspbench/engines/internal/wasipoll"
)

// The direct variant's poll_oneoff: the same shadowing of Wasmtime's as the
// binding variant's (poll.go), through the variant's one trampoline with
// directPollIndex as the host function's index.

// directPollIndex is the index, in place of a position in abi.HostFuncs,
// that routes a host call to the adapter's WASI poll_oneoff.
const directPollIndex = 1 << 20

// defineDirectPoll shadows WASI's poll_oneoff on linker, which must already
// hold WASI.
func defineDirectPoll(linker *C.wasmtime_linker_t) error {
	mod, modLen := cString(wasipoll.Module)
	name, nameLen := cString(wasipoll.Name)
	params := []byte{C.WASM_I32, C.WASM_I32, C.WASM_I32, C.WASM_I32}
	results := []byte{C.WASM_I32}
	p, np := cBytes(params)
	r, nr := cBytes(results)
	C.wasmtime_linker_allow_shadowing(linker, true)
	defer C.wasmtime_linker_allow_shadowing(linker, false)
	if err := C.kspd_define_host(linker, mod, modLen, name, nameLen, p, np, r, nr, C.uintptr_t(directPollIndex)); err != nil {
		return fmt.Errorf("wasmtime: define import[%s.%s]: %s", wasipoll.Module, wasipoll.Name, takeError(err))
	}
	return nil
}

// poll runs the adapter's poll_oneoff for a host call of the instance: args
// holds (in, out, nsubscriptions, nevents) on entry and the errno on return.
func (in *directInstance) poll(cctx *C.wasmtime_context_t, args []rawVal, mem []byte) (trap *C.wasm_trap_t) {
	if len(args) < pollParams {
		return newTrap(fmt.Sprintf("kspbench: import[%s.%s] called with %d values", wasipoll.Module, wasipoll.Name, len(args)))
	}
	prevCtx := in.hostCtx
	in.hostCtx, in.view, in.viewOK = cctx, mem, true
	defer func() {
		in.hostCtx, in.view, in.viewOK = prevCtx, nil, false
		if r := recover(); r != nil {
			err := fmt.Errorf("wasmtime: import[%s.%s] panicked: %v", wasipoll.Module, wasipoll.Name, r)
			in.hostErr = err
			trap = newTrap(err.Error())
		}
	}()
	ctx := in.callCtx
	if ctx == nil {
		ctx = context.Background()
	}
	arg := func(i int) uint32 { return uint32(args[i][0]) }
	errno, err := wasipoll.PollOneoff(ctx, in, wasipoll.Clocks{Monotonic: in.monotonic}, arg(0), arg(1), arg(2), arg(3))
	if err != nil {
		err = fmt.Errorf("wasmtime: %w", err)
		in.hostErr = err
		return newTrap(err.Error())
	}
	args[0][0] = uint64(errno)
	return nil
}

// monotonic reads the store's WASI monotonic clock as Wasmtime's
// clock_time_get does (see poll.go).
func (in *directInstance) monotonic() uint64 { return uint64(time.Since(in.wasiBase)) }
