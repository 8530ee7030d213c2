package wasmer

import (
	"context"
	"fmt"

	"github.com/kspbench/kspbench/engines/internal/wasipoll"
)

// Wasmer 2.0's own WASI poll_oneoff panics on any clock subscription ("not
// implemented: Polling not implemented for clocks yet"), and the panic cannot
// unwind through the C API: the whole process aborts. Every Go wasip1 guest
// polls a clock whenever its scheduler waits for a timer (time.Sleep, and the
// runtime itself under load), and wasi-libc's nanosleep does the same. The
// adapter therefore replaces the import wasi_snapshot_preview1.poll_oneoff of
// each instance with its own host function (through the trampoline of
// host.c), package wasipoll's, whose semantics that package describes. Its
// wait ends with the call's context, and the guest's call then ends at once
// with a trap that wraps the context's error (a Wasmer call cannot otherwise
// be interrupted). Absolute monotonic deadlines are read against
// CLOCK_MONOTONIC, which Wasmer's clock_time_get reports as it is.

const (
	wasiModule   = wasipoll.Module
	wasiPollName = wasipoll.Name
)

// pollOneoff runs poll_oneoff(in, out, nsubs, neventsPtr) on mem and returns
// the WASI errno, or an error when ctx ended while the guest was waiting (the
// host function then traps).
func pollOneoff(ctx context.Context, mem wasipoll.Memory, in, out, nsubs, neventsPtr uint32) (uint32, error) {
	errno, err := wasipoll.PollOneoff(ctx, mem, wasipoll.Clocks{}, in, out, nsubs, neventsPtr)
	if err != nil {
		return 0, fmt.Errorf("wasmer: %w", err)
	}
	return errno, nil
}
