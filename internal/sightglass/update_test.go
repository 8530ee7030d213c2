package sightglass_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/sightglass"
)

// noDeadline is the engine configuration the Sightglass workload uses.
func noDeadline() engines.Config { return engines.Config{NoDeadline: true} }

// writeExpected runs p on eng and writes its output to the kernel's
// .expected files in the source tree.
func writeExpected(t *testing.T, eng engines.Engine, p sightglass.Program) {
	t.Helper()
	wasm, err := os.ReadFile(p.Wasm)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	nop := func() {}
	res, err := engines.RunCommand(context.Background(), eng, wasm, engines.CommandConfig{Dir: p.Dir, Stdout: &stdout, Stderr: &stderr,
		Imports: map[string]map[string]func(){"bench": {"start": nop, "end": nop}}})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%s: exit %d: %v: %s", p.Name, res.ExitCode, err, stderr.String())
	}
	src := filepath.Join("kernels", p.Name)
	for name, b := range map[string][]byte{p.Name + ".stdout.expected": stdout.Bytes(), p.Name + ".stderr.expected": stderr.Bytes()} {
		if err := os.WriteFile(filepath.Join(src, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
