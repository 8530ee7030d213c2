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
	if engine == "wasmer" {
		// Look for libwasmer next to the binary too, so that the binary and
		// the library copied together keep working (wasmer-go's own rpath
		// points into this machine's module cache).
		args = append(args, "-ldflags=-extldflags=-Wl,-rpath,"+originToken())
	}
	args = append(args, "./cmd/kspbench")
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("worker: build %s worker (go %s): %w\n%s", engine, strings.Join(args, " "), err, b)
	}
	if engine == "wasmer" {
		if err := copyWasmerLibrary(ctx, goTool, root, outDir); err != nil {
			return "", err
		}
	}
	return out, nil
}

// originToken is the linker's name for "the folder of this binary".
func originToken() string {
	if runtime.GOOS == "darwin" {
		return "@loader_path"
	}
	return "$ORIGIN"
}

// WasmerLibrary returns the path of the libwasmer shared library that
// wasmer-go links, in the module cache.
func WasmerLibrary(ctx context.Context, goTool, root string) (string, error) {
	cmd := exec.CommandContext(ctx, goTool, "list", "-f", "{{.Dir}}", "github.com/wasmerio/wasmer-go/wasmer")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("worker: locate wasmer-go: %w", err)
	}
	arch := map[string]string{"amd64": "amd64", "arm64": "aarch64"}[runtime.GOARCH]
	name := "libwasmer.so"
	if runtime.GOOS == "darwin" {
		name = "libwasmer.dylib"
	}
	return filepath.Join(strings.TrimSpace(string(out)), "packaged", "lib", runtime.GOOS+"-"+arch, name), nil
}

// copyWasmerLibrary puts libwasmer beside the wasmer worker binary.
func copyWasmerLibrary(ctx context.Context, goTool, root, outDir string) error {
	src, err := WasmerLibrary(ctx, goTool, root)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("worker: copy libwasmer beside the wasmer worker: %w", err)
	}
	dst := filepath.Join(outDir, filepath.Base(src))
	if old, err := os.ReadFile(dst); err == nil && string(old) == string(b) {
		return nil
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
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
