package wasmtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/kspbench/kspbench/engines"
)

var _ engines.CommandRunner = (*Engine)(nil)

// RunCommand implements engines.CommandRunner.
//
// # Notes
//
// The module is compiled with wt.NewModule on the engine's own wt.Engine,
// never from the cache directory. Each command gets its own linker (WASI plus
// cfg.Imports, defined before the instantiate timer starts) and store. The
// binding can send a guest's stdout and stderr only to files: they go to
// temporary files, copied to cfg.Stdout and cfg.Stderr after _start returns.
// The call ends when ctx is done through the engine's epoch interruption, as
// other calls do; with Config.NoDeadline nothing interrupts it.
func (e *Engine) RunCommand(ctx context.Context, wasm []byte, cfg engines.CommandConfig) (engines.CommandResult, error) {
	var res engines.CommandResult
	if e.isClosed() {
		return res, errors.New("wasmtime: engine closed")
	}
	tmp, err := os.MkdirTemp("", "kspbench-wasmtime-command-")
	if err != nil {
		return res, fmt.Errorf("wasmtime: command output: %w", err)
	}
	defer os.RemoveAll(tmp)
	stdout, stderr := filepath.Join(tmp, "stdout"), filepath.Join(tmp, "stderr")

	wasi := wt.NewWasiConfig()
	wasi.SetArgv(append([]string{"main"}, cfg.Args...))
	if err := wasi.SetStdoutFile(stdout); err != nil {
		return res, fmt.Errorf("wasmtime: stdout file: %w", err)
	}
	if err := wasi.SetStderrFile(stderr); err != nil {
		return res, fmt.Errorf("wasmtime: stderr file: %w", err)
	}
	if cfg.Dir != "" {
		if err := wasi.PreopenDir(cfg.Dir, ".", wt.DIR_READ, wt.FILE_READ); err != nil {
			return res, fmt.Errorf("wasmtime: preopen %s: %w", cfg.Dir, err)
		}
	}
	linker := wt.NewLinker(e.engine)
	defer linker.Close()
	if err := linker.DefineWasi(); err != nil {
		return res, fmt.Errorf("wasmtime: define WASI: %w", err)
	}
	for modName, funcs := range cfg.Imports {
		for name, f := range funcs {
			if err := linker.FuncWrap(modName, name, func() { f() }); err != nil {
				return res, fmt.Errorf("wasmtime: define import[%s.%s]: %w", modName, name, err)
			}
		}
	}
	store := wt.NewStore(e.engine)
	defer store.Close()
	store.SetWasi(wasi)
	switch {
	case e.cfg.NoDeadline:
		// Compiled without epoch checks: nothing can interrupt the run.
	case e.ticker == nil:
		flag, err := watch(store)
		if err != nil {
			return res, err
		}
		store.SetEpochDeadline(1)
		stop := context.AfterFunc(ctx, func() {
			flag.set()
			e.incrementEpoch()
		})
		defer stop()
	default:
		store.SetEpochDeadline(never)
	}

	start := time.Now()
	mod, err := wt.NewModule(e.engine, wasm)
	res.Compile = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("%w: wasmtime: %s", engines.ErrCompile, describe(err))
	}
	defer mod.Close()
	start = time.Now()
	inst, err := linker.Instantiate(store, mod)
	res.Instantiate = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("%w: wasmtime: %s", engines.ErrInstantiate, describe(err))
	}
	fn := inst.GetFunc(store, "_start")
	if fn == nil {
		return res, fmt.Errorf("%w: %w", engines.ErrInstantiate, engines.ErrNotCommand)
	}
	start = time.Now()
	_, err = fn.Call(store)
	res.Run = time.Since(start)
	var wtErr *wt.Error
	if errors.As(err, &wtErr) {
		if code, ok := wtErr.ExitStatus(); ok {
			res.ExitCode, err = uint32(code), nil
		}
	}
	if cerr := copyOutput(stdout, cfg.Stdout); cerr != nil && err == nil {
		err = cerr
	}
	if cerr := copyOutput(stderr, cfg.Stderr); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return res, fmt.Errorf("wasmtime: function[_start]: %w (%s)", ctxErr, describe(err))
		}
		return res, fmt.Errorf("%w: wasmtime: function[_start]: %s", engines.ErrTrap, describe(err))
	}
	return res, nil
}

// copyOutput copies the file a guest wrote to w, if w is not nil.
func copyOutput(file string, w io.Writer) error {
	if w == nil {
		return nil
	}
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("wasmtime: command output: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("wasmtime: command output: %w", err)
	}
	return nil
}
