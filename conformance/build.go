package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kspbench/kspbench/worker"
)

// ModulePath is the Go module path of this repository.
const ModulePath = "github.com/kspbench/kspbench"

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
			return "", errors.New("conformance: not inside the kspbench source tree (no go.mod of " + ModulePath + " above the current directory)")
		}
		dir = parent
	}
}

// BuildClusterMonitor builds plugins/cluster-monitor of the tree at root to
// WebAssembly with the standard Go toolchain (GOOS=wasip1, c-shared) and
// returns a folder under out holding plugin.yml and cluster-monitor.wasm.
func BuildClusterMonitor(ctx context.Context, root, out string) (string, error) {
	src := filepath.Join(root, "plugins", "cluster-monitor")
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
	cmd := exec.CommandContext(ctx, worker.GoTool(), "build", "-buildmode=c-shared", "-o", filepath.Join(dir, "cluster-monitor.wasm"), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("conformance: build plugins/cluster-monitor (GOOS=wasip1 go build -buildmode=c-shared): %w\n%s", err, strings.TrimSpace(string(out)))
	}
	return dir, nil
}
