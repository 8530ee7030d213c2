package conformance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// PluginSource returns the folder of the cluster-monitor plugin's Go source
// (plugins/cluster-monitor of the kspbench module this package was built
// from), or an error saying why there is none: a build with -trimpath, or a
// kspbench taken from the module proxy, whose archive leaves out the plugin
// (it is a Go module of its own). Require kspbench through a replace
// directive pointing at a checkout, or pass the plugin with WithPluginDir.
func PluginSource() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", errors.New("conformance: the kspbench source is not on this machine (built with -trimpath?): pass a built plugin with WithPluginDir")
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(file)), "plugins", "cluster-monitor")
	if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil {
		return "", fmt.Errorf("conformance: no cluster-monitor source at %s (a kspbench module from the proxy leaves it out; require kspbench with a replace directive pointing at a checkout, or pass a built plugin with WithPluginDir): %w", dir, err)
	}
	return dir, nil
}

// BuildClusterMonitor builds the cluster-monitor plugin from its source
// folder src (see PluginSource) to WebAssembly with the standard Go toolchain
// (GOOS=wasip1, c-shared, -trimpath, so the bytes do not depend on where the
// source lies) and returns a folder under out holding plugin.yml and
// cluster-monitor.wasm.
//
// # Errors
//
// With no go command on PATH, the error says so: callers skip the plugin
// cases with that message.
func BuildClusterMonitor(ctx context.Context, src, out string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("conformance: no go command on PATH to build the cluster-monitor plugin: %w", err)
	}
	dir := filepath.Join(out, "cluster-monitor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	manifest, err := os.ReadFile(filepath.Join(src, "plugin.yml"))
	if err != nil {
		return "", fmt.Errorf("conformance: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugin.yml"), manifest, 0o644); err != nil {
		return "", err
	}
	// The requests kspbench run makes to its routes travel with it.
	if reqs, err := os.ReadFile(filepath.Join(src, "requests.yml")); err == nil {
		if err := os.WriteFile(filepath.Join(dir, "requests.yml"), reqs, 0o644); err != nil {
			return "", err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("conformance: %w", err)
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-buildmode=c-shared", "-o", filepath.Join(dir, "cluster-monitor.wasm"), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("conformance: build %s (GOOS=wasip1 go build -trimpath -buildmode=c-shared): %w\n%s", src, err, strings.TrimSpace(string(out)))
	}
	return dir, nil
}

// built caches one build of the plugin per process: every engine's Run in a
// test binary shares it.
var built struct {
	sync.Mutex
	dir string
	err error
}

// buildOnce builds the plugin from PluginSource into a folder of its own that
// lives as long as the process (os.TempDir; removed by the OS, not by a
// test's cleanup, because later tests reuse it).
func buildOnce(ctx context.Context) (string, error) {
	built.Lock()
	defer built.Unlock()
	if built.dir != "" || built.err != nil {
		return built.dir, built.err
	}
	src, err := PluginSource()
	if err == nil {
		var tmp string
		if tmp, err = os.MkdirTemp("", "kspbench-conformance-plugin-"); err == nil {
			built.dir, err = BuildClusterMonitor(ctx, src, tmp)
		}
	}
	built.err = err
	return built.dir, built.err
}
