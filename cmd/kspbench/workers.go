package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kspbench/kspbench/worker"
)

// engineBinary finds or builds the kspbench binary that links engine name:
// in dir when given (run's --workers, serve's --workers), else built from
// the source tree at root into build/bin (step announces the build), else,
// outside a source tree, beside this executable. `kspbench run` starts it as
// a worker; `kspbench serve` re-executes it when this binary does not link
// the engine asked for.
func engineBinary(ctx context.Context, dir, root string, rootErr error, name string, step func(string)) (string, error) {
	file := worker.BinaryName(name)
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
		tags := strings.Join(worker.EngineTags[name], ",")
		return "", fmt.Errorf("engine %s needs the binary %s beside kspbench or in --workers, and this is not a kspbench source tree to build it from (%v); build it in the source tree with: go build -tags '%s' -o %s ./cmd/kspbench", name, file, rootErr, tags, file)
	}
	step("building the " + name + " binary (" + filepath.Join("build", "bin", file) + ")")
	return worker.Build(ctx, worker.GoTool(), root, name, filepath.Join(root, "build", "bin"))
}
