package conformance

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cPluginSource is plugins/cluster-monitor-c, the C plugin's source folder.
var cPluginSource = filepath.Join("..", "plugins", ClusterMonitorCName)

// TestClusterMonitorCCopy checks that the embedded copy in
// testdata/cluster-monitor-c, which the plugin-c cases and kspbench run load,
// is plugins/cluster-monitor-c's plugin.yml, requests.yml and committed wasm.
func TestClusterMonitorCCopy(t *testing.T) {
	for _, name := range []string{"plugin.yml", "requests.yml", ClusterMonitorCName + ".wasm"} {
		src, err := os.ReadFile(filepath.Join(cPluginSource, name))
		if err != nil {
			t.Fatal(err)
		}
		embedded, err := clusterMonitorC.ReadFile("testdata/" + ClusterMonitorCName + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(src, embedded) {
			t.Errorf("conformance/testdata/%s/%s differs from plugins/%[1]s/%[2]s: copy it (cp plugins/%[1]s/{plugin.yml,requests.yml,%[1]s.wasm} conformance/testdata/%[1]s/)", ClusterMonitorCName, name)
		}
	}
}

// TestClusterMonitorCMatchesSource rebuilds plugins/cluster-monitor-c's wasm
// with its build.sh and checks that the committed file is the same, byte for
// byte. Without clang it skips, unless KSPBENCH_REQUIRE_KERNEL_TOOLCHAINS=1
// (CI installs clang).
func TestClusterMonitorCMatchesSource(t *testing.T) {
	committed, err := os.ReadFile(filepath.Join(cPluginSource, ClusterMonitorCName+".wasm"))
	if err != nil {
		t.Fatal(err)
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
		t.Skipf("clang here is not %s, which built plugins/%s", builtWith, ClusterMonitorCName)
	}
	out := t.TempDir()
	if b, err := exec.Command("sh", filepath.Join(cPluginSource, "build.sh"), out).CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	rebuilt, err := os.ReadFile(filepath.Join(out, ClusterMonitorCName+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rebuilt, committed) {
		t.Errorf("plugins/%s/%[1]s.wasm is stale or clang differs: a rebuild gives %d bytes, the committed file %d; run sh plugins/%[1]s/build.sh", ClusterMonitorCName, len(rebuilt), len(committed))
	}
}
