package wasmer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strconv"
	"time"
	"unsafe"

	"github.com/kspbench/kspbench/engines"
	"github.com/wasmerio/wasmer-go/wasmer"
)

var _ engines.CommandRunner = (*Engine)(nil)

// exitMessage is how Wasmer 2.0 words proc_exit in the error _start returns
// (WasiError::Exit's Display).
var exitMessage = regexp.MustCompile(`WASI exited with code: (\d+)`)

// RunCommand implements engines.CommandRunner.
//
// # Notes
//
// The module is compiled with wasmer.NewModule on the engine's current
// generation, without the cache directory or the memory-limit rewrite that
// Compile applies. cfg.Dir is mapped as "." read-write: wasmer-go offers no
// read-only preopen. The guest's output is captured by Wasmer and copied to
// cfg.Stdout and cfg.Stderr after _start returns. A running command cannot be
// interrupted (see Unsupported), and Wasmer 2.0 aborts the whole process on a
// poll_oneoff with a clock subscription: run commands in a process that may
// die.
func (e *Engine) RunCommand(ctx context.Context, wasm []byte, cfg engines.CommandConfig) (engines.CommandResult, error) {
	var res engines.CommandResult
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("wasmer: command: %w", err)
	}
	g, err := e.acquire()
	if err != nil {
		return res, err
	}
	defer e.release(g)

	start := time.Now()
	wm, err := wasmer.NewModule(g.store, wasm)
	res.Compile = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("%w: wasmer: %w", engines.ErrCompile, err)
	}
	defer wm.Close()

	// The WASI environment and the import object are built before the
	// instantiate timer starts, as Sightglass builds its WASI context.
	b := wasmer.NewWasiStateBuilder("main")
	for _, a := range cfg.Args {
		b = b.Argument(a)
	}
	if cfg.Dir != "" {
		b = b.MapDirectory(".", cfg.Dir)
	}
	// Capturing both streams matters: wasi_env_new has crashed without it.
	w, err := b.CaptureStdout().CaptureStderr().Finalize()
	if err != nil {
		return res, fmt.Errorf("%w: wasmer: WASI environment: %w", engines.ErrInstantiate, err)
	}
	imports, err := w.GenerateImportObject(g.store, wm)
	if err != nil {
		return res, fmt.Errorf("%w: wasmer: WASI imports: %w", engines.ErrInstantiate, err)
	}
	unit := wasmer.NewFunctionType(wasmer.NewValueTypes(), wasmer.NewValueTypes())
	for modName, funcs := range cfg.Imports {
		ns := make(map[string]wasmer.IntoExtern, len(funcs))
		for name, f := range funcs {
			ns[name] = wasmer.NewFunction(g.store, unit, func([]wasmer.Value) ([]wasmer.Value, error) {
				f()
				return nil, nil
			})
		}
		imports.Register(modName, ns)
	}

	start = time.Now()
	wi, err := wasmer.NewInstance(wm, imports)
	res.Instantiate = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("%w: wasmer: %w", engines.ErrInstantiate, err)
	}
	defer wi.Close()
	startFn, err := wi.Exports.GetWasiStartFunction()
	if err != nil {
		return res, fmt.Errorf("%w: %w", engines.ErrInstantiate, engines.ErrNotCommand)
	}
	start = time.Now()
	_, err = startFn()
	res.Run = time.Since(start)
	runtime.KeepAlive(wi)
	if err != nil {
		if m := exitMessage.FindStringSubmatch(err.Error()); m != nil {
			code, _ := strconv.ParseUint(m[1], 10, 32)
			res.ExitCode, err = uint32(code), nil
		}
	}
	env := wasiPointer(w)
	if cerr := drainAll(env, 1, cfg.Stdout); cerr != nil && err == nil {
		err = cerr
	}
	if cerr := drainAll(env, 2, cfg.Stderr); cerr != nil && err == nil {
		err = cerr
	}
	runtime.KeepAlive(w)
	if err != nil {
		var trap *wasmer.TrapError
		if errors.As(err, &trap) {
			return res, fmt.Errorf("%w: wasmer: function[_start]: %w", engines.ErrTrap, err)
		}
		return res, fmt.Errorf("wasmer: function[_start]: %w", err)
	}
	return res, nil
}

// drainAll copies everything captured on a WASI stream (1 stdout, 2 stderr)
// to w, or discards it when w is nil.
func drainAll(env unsafe.Pointer, stream int, w io.Writer) error {
	if env == nil {
		return errors.New("wasmer: cannot read the guest's output: unexpected wasmer-go layout")
	}
	buf := make([]byte, 64<<10)
	for {
		n := drainWASI(env, stream, buf)
		if n == 0 {
			return nil
		}
		if w != nil {
			if _, err := w.Write(buf[:n]); err != nil {
				return fmt.Errorf("wasmer: command output: %w", err)
			}
		}
		if n < len(buf) {
			return nil
		}
	}
}
