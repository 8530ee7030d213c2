package engines

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// CommandRunner is implemented by an Engine that can run a WASI command (a
// module exporting _start, such as a Sightglass benchmark) from scratch:
// compile, instantiate, run _start. It is an optional capability, found by
// type assertion, as database/sql finds a driver's optional interfaces; use
// RunCommand to call it.
type CommandRunner interface {
	// RunCommand compiles wasm without any compilation cache, instantiates it
	// with WASI (wasi_snapshot_preview1) and cfg.Imports, and calls _start.
	//
	// # Errors
	//
	// A module the engine cannot compile (an unsupported proposal) returns an
	// error wrapping ErrCompile; one it cannot instantiate (a missing import,
	// a WASI call it lacks) an error wrapping ErrInstantiate: both are the
	// engine's answer that it does not support the program (see
	// IsUnsupported). A trap returns an error wrapping ErrTrap, with the
	// phases timed so far in the result. proc_exit(n) is not an error: it
	// ends _start with ExitCode n.
	RunCommand(ctx context.Context, wasm []byte, cfg CommandConfig) (CommandResult, error)
}

// CommandConfig is how a command runs. The zero value runs it with no
// preopened folder and its output discarded.
type CommandConfig struct {
	// Dir is preopened, read-only where the engine can say so, as the
	// guest's "." (Sightglass's convention: inputs are read by relative
	// path). Empty means no preopened folder.
	Dir string
	// Args are the command's arguments after argv[0]; Sightglass passes none.
	Args []string
	// Stdout and Stderr receive what the guest writes (nil discards). An
	// engine may buffer and copy at the end of the run.
	Stdout, Stderr io.Writer
	// Imports are host functions of type () -> (), by module and name, such
	// as Sightglass's bench.start and bench.end. They run on the goroutine of
	// RunCommand.
	Imports map[string]map[string]func()
}

// CommandResult is what a command did and how long each phase took, timed
// by the adapter around the engine's own calls.
type CommandResult struct {
	// ExitCode is what the guest passed to proc_exit, or 0 when _start
	// returned.
	ExitCode uint32
	// Compile is the time to decode, validate and compile the bytes, with no
	// cache; Instantiate the time to link WASI and the imports and
	// instantiate (the WASI context is built before it starts); Run the time
	// of the _start call, output copies excluded.
	Compile, Instantiate, Run time.Duration
}

// ErrNotCommand: the module exports no _start function.
var ErrNotCommand = errors.New("engines: module is not a WASI command (no _start export)")

// RunCommand runs a WASI command on e, or reports that e cannot.
//
// # Errors
//
// An engine that does not implement CommandRunner returns an error wrapping
// errors.ErrUnsupported.
func RunCommand(ctx context.Context, e Engine, wasm []byte, cfg CommandConfig) (CommandResult, error) {
	r, ok := e.(CommandRunner)
	if !ok {
		return CommandResult{}, fmt.Errorf("engine %s cannot run WASI commands: %w", e.Info().Name, errors.ErrUnsupported)
	}
	return r.RunCommand(ctx, wasm, cfg)
}

// IsUnsupported reports whether a RunCommand error says the engine cannot run
// the program at all (compile or instantiation refused, or no command
// support), as opposed to the program failing on it.
func IsUnsupported(err error) bool {
	return errors.Is(err, ErrCompile) || errors.Is(err, ErrInstantiate) || errors.Is(err, errors.ErrUnsupported)
}
