package commandtest

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/kspbench/kspbench/engines"
)

// Command is testdata/command.wasm: it reads input.txt from its preopened
// folder, sums squares between bench.start and bench.end, prints the sum to
// stdout and "done" to stderr, and exits with the code its first argument
// names.
//
//go:embed testdata/command.wasm
var Command []byte

// Input is the content of the folder Command expects preopened.
const Input = "1000\n"

// Expected output of Command for Input.
const (
	WantStdout = "sum of squares to 1000 = 333833500\n"
	WantStderr = "done\n"
)

// Open opens the engine under test.
type Open func(engines.Config) (engines.Engine, error)

// Run checks the engine's CommandRunner: output, the preopened folder, the
// order of bench.start and bench.end, phase timings, proc_exit codes, and the
// errors for a module it cannot compile or link.
func Run(t *testing.T, open Open) {
	eng, err := open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(context.Background()) })
	if _, ok := eng.(engines.CommandRunner); !ok {
		t.Fatalf("engine %s does not implement engines.CommandRunner", eng.Info().Name)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "input.txt"), []byte(Input), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("Output", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		var events []string
		res, err := engines.RunCommand(ctx, eng, Command, engines.CommandConfig{Dir: dir, Stdout: &stdout, Stderr: &stderr,
			Imports: benchImports(&events)})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 0 {
			t.Errorf("exit code %d, want 0", res.ExitCode)
		}
		if stdout.String() != WantStdout || stderr.String() != WantStderr {
			t.Errorf("stdout %q stderr %q, want %q %q", stdout.String(), stderr.String(), WantStdout, WantStderr)
		}
		if len(events) != 2 || events[0] != "start" || events[1] != "end" {
			t.Errorf("bench imports called %v, want [start end]", events)
		}
		if res.Compile <= 0 || res.Instantiate <= 0 || res.Run <= 0 {
			t.Errorf("phases %+v: want every phase timed", res)
		}
	})
	t.Run("ExitCode", func(t *testing.T) {
		var events []string
		res, err := engines.RunCommand(ctx, eng, Command, engines.CommandConfig{Dir: dir, Args: []string{"3"}, Imports: benchImports(&events)})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 3 {
			t.Errorf("exit code %d, want 3", res.ExitCode)
		}
	})
	t.Run("NoDir", func(t *testing.T) {
		var events []string
		var stderr bytes.Buffer
		res, err := engines.RunCommand(ctx, eng, Command, engines.CommandConfig{Stderr: &stderr, Imports: benchImports(&events)})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 2 || stderr.String() != "cannot open input.txt\n" {
			t.Errorf("without a folder: exit code %d, stderr %q; want 2 and the guest's complaint", res.ExitCode, stderr.String())
		}
	})
	t.Run("MissingImport", func(t *testing.T) {
		_, err := engines.RunCommand(ctx, eng, Command, engines.CommandConfig{Dir: dir})
		if !errors.Is(err, engines.ErrInstantiate) || !engines.IsUnsupported(err) {
			t.Errorf("without bench imports: %v, want an error wrapping engines.ErrInstantiate", err)
		}
	})
	t.Run("NotWasm", func(t *testing.T) {
		_, err := engines.RunCommand(ctx, eng, []byte("\x00asm\x01\x00\x00\x00\xff"), engines.CommandConfig{})
		if !errors.Is(err, engines.ErrCompile) {
			t.Errorf("bad bytes: %v, want an error wrapping engines.ErrCompile", err)
		}
	})
	runtime.GC() // let finalizers of the binding's objects run while the engine is alive
}

// benchImports returns bench.start and bench.end, recording their calls.
func benchImports(events *[]string) map[string]map[string]func() {
	return map[string]map[string]func(){"bench": {
		"start": func() { *events = append(*events, "start") },
		"end":   func() { *events = append(*events, "end") },
	}}
}
