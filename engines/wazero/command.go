package wazero

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kspbench/kspbench/engines"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

var _ engines.CommandRunner = (*Engine)(nil)

// RunCommand implements engines.CommandRunner.
//
// # Notes
//
// Each command gets a runtime of its own, made before the compile timer
// starts: wazero keeps compiled code in memory per runtime even after
// CompiledModule.Close, and a second compile of the same bytes would then
// measure a lookup. The engine's cache directory is not used. With
// Config.NoDeadline the runtime leaves out close-on-context-done, which costs
// loop-heavy guests several times their run time (see RATIONALE.md).
func (e *Engine) RunCommand(ctx context.Context, wasm []byte, cfg engines.CommandConfig) (engines.CommandResult, error) {
	var res engines.CommandResult
	rc := wazero.NewRuntimeConfig()
	if e.info.Mode == "interpreter" {
		rc = wazero.NewRuntimeConfigInterpreter()
	}
	rc = rc.WithCloseOnContextDone(!e.cfg.NoDeadline)
	if e.cfg.MemoryLimitPages != 0 {
		rc = rc.WithMemoryLimitPages(e.cfg.MemoryLimitPages)
	}
	r := wazero.NewRuntimeWithConfig(ctx, rc)
	defer r.Close(context.Background())
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		return res, fmt.Errorf("wazero: instantiate WASI: %w", err)
	}
	for modName, funcs := range cfg.Imports {
		b := r.NewHostModuleBuilder(modName)
		for name, f := range funcs {
			b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(context.Context, api.Module, []uint64) { f() }),
				nil, nil).Export(name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return res, fmt.Errorf("wazero: host module[%s]: %w", modName, err)
		}
	}
	mc := wazero.NewModuleConfig().WithName("").WithStartFunctions().
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithRandSource(rand.Reader).
		WithArgs(append([]string{"main"}, cfg.Args...)...).
		WithStdout(orDiscard(cfg.Stdout)).WithStderr(orDiscard(cfg.Stderr))
	if cfg.Dir != "" {
		mc = mc.WithFSConfig(wazero.NewFSConfig().WithReadOnlyDirMount(cfg.Dir, "."))
	}

	start := time.Now()
	cm, err := r.CompileModule(ctx, wasm)
	res.Compile = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("%w: wazero: %w", engines.ErrCompile, err)
	}
	if _, ok := cm.ExportedFunctions()["_start"]; !ok {
		return res, fmt.Errorf("%w: %w", engines.ErrInstantiate, engines.ErrNotCommand)
	}
	start = time.Now()
	mod, err := r.InstantiateModule(ctx, cm, mc)
	res.Instantiate = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("%w: wazero: %w", engines.ErrInstantiate, err)
	}
	fn := mod.ExportedFunction("_start")
	start = time.Now()
	_, err = fn.Call(ctx)
	res.Run = time.Since(start)
	var exit *sys.ExitError
	if errors.As(err, &exit) && exit.ExitCode() != sys.ExitCodeDeadlineExceeded && exit.ExitCode() != sys.ExitCodeContextCanceled {
		res.ExitCode, err = exit.ExitCode(), nil
	}
	if err != nil {
		return res, callError(ctx, "_start", err)
	}
	return res, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
