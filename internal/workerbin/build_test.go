package workerbin_test

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/internal/worker"
	"github.com/kspbench/kspbench/internal/workerbin"
)

// TestWasmerWorkerTravelsWithItsLibrary checks that the wasmer worker looks
// for libwasmer beside itself and that Build puts it there, so the two copied
// together keep working on a machine without this module cache.
func TestWasmerWorkerTravelsWithItsLibrary(t *testing.T) {
	if runtime.GOOS != "linux" || testing.Short() {
		t.Skip("checks an ELF RUNPATH; builds the wasmer worker")
	}
	root, err := workerbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin, err := workerbin.Build(context.Background(), workerbin.GoTool(), root, "wasmer", dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "libwasmer.so")); err != nil {
		t.Errorf("libwasmer.so not beside the worker: %v", err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	paths, err := f.DynString(elf.DT_RUNPATH)
	if err != nil {
		t.Fatal(err)
	}
	rpath, _ := f.DynString(elf.DT_RPATH)
	if all := strings.Join(append(paths, rpath...), ":"); !strings.Contains(all, "$ORIGIN") {
		t.Errorf("RUNPATH %q lacks $ORIGIN", all)
	}
	p, err := worker.Start(context.Background(), workerbin.SpecFor("wasmer", bin))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if h := p.Hello(); !strings.Contains(h.Notes, "libwasmer") {
		t.Errorf("hello notes %q do not name the library serving wasm.h", h.Notes)
	}
}
