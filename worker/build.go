package worker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// EngineTags maps each engine to the build tags that link it into
// cmd/kspbench. wazero is pure Go and always linked; each cgo engine has a tag
// of its own, and the two tags together do not compile.
var EngineTags = map[string][]string{
	"wazero":   nil,
	"wasmtime": {"wasmtime"},
	"wasmer":   {"wasmer"},
}

// AllEngines lists the engines kspbench knows, in report order.
var AllEngines = []string{"wazero", "wasmtime", "wasmer"}

// BinaryName is the file name of the worker binary for engine.
func BinaryName(engine string) string { return "kspbench-" + engine }

// Build compiles cmd/kspbench of the source tree at root with the tags that
// link engine, into outDir, with the go command goTool, and returns the
// binary's path.
func Build(ctx context.Context, goTool, root, engine, outDir string) (string, error) {
	tags, ok := EngineTags[engine]
	if !ok {
		return "", fmt.Errorf("worker: unknown engine %q (known: %s)", engine, strings.Join(AllEngines, ", "))
	}
	out := filepath.Join(outDir, BinaryName(engine))
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, "./cmd/kspbench")
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("worker: build %s worker (go %s): %w\n%s", engine, strings.Join(args, " "), err, b)
	}
	return out, nil
}

// SpecFor returns how to start the worker binary at path for engine.
func SpecFor(engine, path string, env ...string) Spec {
	return Spec{Engine: engine, Path: path, Args: []string{"worker", "--engine", engine}, Env: env}
}

// GoTool returns the go command of the toolchain on PATH, or of the one this
// program was built with.
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
