// Package workerbin knows how to build or find the kspbench binary that links
// each engine (and the shared library that must travel beside it), for each
// platform the engine catalog supports. The worker protocol itself is package
// worker's; this package only makes the executables.
package workerbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/version"
	"github.com/kspbench/kspbench/internal/worker"
)

// ModulePath is the Go module path of kspbench.
const ModulePath = "github.com/kspbench/kspbench"

// BinaryName is the file name of the worker binary for engine.
func BinaryName(engine string) string { return "kspbench-" + engine }

// Build compiles cmd/kspbench of the source tree at root with the tags that
// link engine, into outDir, with the go command goTool, and returns the
// binary's path. The binary is stamped with the tree's commit (see package
// version), and for an engine with a shared library the library is copied
// beside it and the binary looks for it there.
func Build(ctx context.Context, goTool, root, engine, outDir string) (string, error) {
	e, err := catalog.Get(engine)
	if err != nil {
		return "", fmt.Errorf("worker: %w", err)
	}
	if ok, why := e.Supported(runtime.GOOS, runtime.GOARCH); !ok {
		return "", fmt.Errorf("worker: engine %s is not available on %s/%s: %s", engine, runtime.GOOS, runtime.GOARCH, why)
	}
	out := filepath.Join(outDir, BinaryName(engine))
	args := []string{"build", "-o", out}
	if tags := e.Tags(); len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	ld := stampFlags(ctx, root)
	if e.Library != nil {
		// Look for the library next to the binary too, so that the binary
		// and the library copied together keep working (wasmer-go's own
		// rpath points into this machine's module cache).
		ld = append(ld, "-extldflags=-Wl,-rpath,"+originToken())
	}
	if len(ld) > 0 {
		args = append(args, "-ldflags="+strings.Join(ld, " "))
	}
	args = append(args, "./cmd/kspbench")
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("worker: build %s worker (go %s): %w\n%s", engine, strings.Join(args, " "), err, b)
	}
	if e.Library != nil {
		if err := copyLibrary(ctx, goTool, root, e, outDir); err != nil {
			return "", err
		}
	}
	return out, nil
}

// stampFlags returns the -X flags that record the tree's commit, or nil when
// root is not a git checkout.
func stampFlags(ctx context.Context, root string) []string {
	rev, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		return nil
	}
	status, _ := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output()
	return version.LinkerFlags(strings.TrimSpace(string(rev)), len(bytes.TrimSpace(status)) > 0)
}

// originToken is the linker's name for "the folder of this binary".
func originToken() string {
	if runtime.GOOS == "darwin" {
		return "@loader_path"
	}
	return "$ORIGIN"
}

// Library returns the path, in the module cache, of the shared library the
// engine's binding loads at run time, or "" when it has none.
func Library(ctx context.Context, goTool, root, engine string) (string, error) {
	e, err := catalog.Get(engine)
	if err != nil {
		return "", err
	}
	if e.Library == nil {
		return "", nil
	}
	pkg := e.LibraryPackage
	cmd := exec.CommandContext(ctx, goTool, "list", "-f", "{{.Dir}}", pkg)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("worker: locate %s: %w", pkg, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), filepath.FromSlash(e.LibraryDir(runtime.GOOS, runtime.GOARCH)), e.Library(runtime.GOOS)), nil
}

// copyLibrary puts the engine's shared library beside its worker binary.
func copyLibrary(ctx context.Context, goTool, root string, e catalog.Engine, outDir string) error {
	src, err := Library(ctx, goTool, root, e.Name)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("worker: copy %s beside the %s worker: %w", filepath.Base(src), e.Name, err)
	}
	dst := filepath.Join(outDir, filepath.Base(src))
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, b) {
		return nil
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// SpecFor returns how to start the worker binary at path for engine.
func SpecFor(engine, path string, env ...string) worker.Spec {
	return worker.Spec{Engine: engine, Path: path, Args: []string{"worker", "--engine", engine}, Env: env}
}

// GoTool returns the go command: the one on PATH, or the one of the
// toolchain GOROOT names.
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		return filepath.Join(strings.TrimSpace(string(out)), "bin", "go")
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// RepoRoot returns the root of the kspbench source tree that holds the
// current directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module "+ModulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the kspbench source tree (no go.mod of " + ModulePath + " above the current directory)")
		}
		dir = parent
	}
}

// Find finds or builds the kspbench binary that links engine name: in dir
// when given (--workers), else built from the source tree at root into
// root/build/bin (step announces the build), else, outside a source tree,
// beside this executable.
func Find(ctx context.Context, dir, root string, rootErr error, name string, step func(string)) (string, error) {
	file := BinaryName(name)
	if dir != "" {
		p := filepath.Join(dir, file)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("--workers: %w", err)
		}
		return p, nil
	}
	if rootErr != nil {
		if exe, err := os.Executable(); err == nil {
			p := filepath.Join(filepath.Dir(exe), file)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		e, _ := catalog.Get(name)
		return "", fmt.Errorf("engine %s needs the binary %s beside kspbench or in --workers, and this is not a kspbench source tree to build it from (%v); build it in the source tree with: go build -tags '%s' -o %s ./cmd/kspbench", name, file, rootErr, strings.Join(e.Tags(), ","), file)
	}
	if step != nil {
		step("building the " + name + " binary (" + filepath.Join("build", "bin", file) + ")")
	}
	return Build(ctx, GoTool(), root, name, filepath.Join(root, "build", "bin"))
}
