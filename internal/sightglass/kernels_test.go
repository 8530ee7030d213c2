package sightglass_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestKernelsMatchSources rebuilds the kernels with kernels/build.sh and
// checks that the committed wasm files are what their sources give, for each
// language whose toolchain here is the one kernels/toolchains.txt names. A
// different version skips that language with the reason; a missing
// toolchain skips too, unless KSPBENCH_REQUIRE_KERNEL_TOOLCHAINS=1 (CI)
// makes it a failure.
func TestKernelsMatchSources(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every kernel")
	}
	require := os.Getenv("KSPBENCH_REQUIRE_KERNEL_TOOLCHAINS") == "1"
	skip := func(format string, args ...any) {
		t.Helper()
		if require {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if runtime.GOOS != "linux" {
		skip("the kernels' toolchains are Debian's: not checked on %s", runtime.GOOS)
	}
	for _, tool := range []string{"clang", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("%s not on PATH (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32): %v", tool, err)
		}
	}
	for _, f := range []string{"/usr/lib/wasm32-wasi/libc.a", "/usr/bin/rustc"} {
		if _, err := os.Stat(f); err != nil {
			skip("%s missing (apt-get install wasi-libc rustc libstd-rust-dev-wasm32): %v", f, err)
		}
	}
	out := t.TempDir()
	cmd := exec.Command("sh", filepath.Join("kernels", "build.sh"), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		skip("kernels/build.sh failed (toolchain incomplete?): %v\n%s", err, b)
	}
	want := toolchains(t, filepath.Join("kernels", "toolchains.txt"))
	got := toolchains(t, filepath.Join(out, "toolchains.txt"))
	lang := map[string]string{"ksp-go-sort": "go", "ksp-rust-wordfreq": "rust"}
	wasms, err := filepath.Glob(filepath.Join("kernels", "*", "*.wasm"))
	if err != nil || len(wasms) == 0 {
		t.Fatalf("no committed kernels: %v", err)
	}
	for _, committed := range wasms {
		name := filepath.Base(filepath.Dir(committed))
		l := lang[name]
		if l == "" {
			l = "c"
		}
		t.Run(name, func(t *testing.T) {
			if got[l] != want[l] {
				// Another version is no missing toolchain: skip even in CI.
				t.Skipf("%s toolchain here is %q, the kernels were built with %q", l, got[l], want[l])
			}
			a, err := os.ReadFile(committed)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(out, name, filepath.Base(committed)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s is stale: a rebuild gives %d bytes, the committed file has %d: run make sightglass-kernels", committed, len(b), len(a))
			}
		})
	}
}

func toolchains(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			m[k] = v
		}
	}
	return m
}
