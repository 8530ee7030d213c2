package conformance

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCGuestMatchesSource rebuilds testdata/c/reference.wasm with
// testdata/c/build.sh and checks that the committed file is the same, byte
// for byte, and is the one the abi-c cases load. Without clang it skips,
// unless KSPBENCH_REQUIRE_KERNEL_TOOLCHAINS=1 (CI installs clang).
func TestCGuestMatchesSource(t *testing.T) {
	committed, err := os.ReadFile(filepath.Join("testdata", "c", "reference.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, cReference) {
		t.Fatal("the embedded C guest is not testdata/c/reference.wasm")
	}
	if _, err := exec.LookPath("clang"); err != nil {
		if os.Getenv("KSPBENCH_REQUIRE_KERNEL_TOOLCHAINS") == "1" {
			t.Fatalf("clang not on PATH: %v", err)
		}
		t.Skipf("clang not on PATH (apt-get install clang lld): %v", err)
	}
	// Another clang may emit other bytes: compare only with the one that
	// built the committed file.
	const builtWith = "Debian clang version 14.0.6"
	if v, err := exec.Command("clang", "--version").Output(); err != nil || !strings.HasPrefix(string(v), builtWith) {
		t.Skipf("clang here is not %s, which built testdata/c/reference.wasm", builtWith)
	}
	out := t.TempDir()
	if b, err := exec.Command("sh", filepath.Join("testdata", "c", "build.sh"), out).CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	rebuilt, err := os.ReadFile(filepath.Join(out, "reference.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rebuilt, committed) {
		t.Errorf("testdata/c/reference.wasm is stale or clang differs: a rebuild gives %d bytes, the committed file %d; run sh conformance/testdata/c/build.sh", len(rebuilt), len(committed))
	}
}
