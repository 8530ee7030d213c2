package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/internal/workerbin"
)

// TestSuiteFromAnotherModule proves that an engine outside this repository
// runs the suite on itself from its own module: it writes a throwaway module
// in a temporary folder that requires kspbench through a replace directive,
// with one test that calls conformance.Run with an engine factory (wazero's
// here; a fourth engine would pass its own), and runs go test there.
func TestSuiteFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite in another module")
	}
	root, err := workerbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := "1.26.0"
	for _, line := range strings.Split(string(gomod), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			goVersion = strings.TrimSpace(v)
		}
	}
	write("go.mod", "module example.com/fourthengine\n\ngo "+goVersion+"\n\nrequire github.com/kspbench/kspbench v0.0.0\n\nreplace github.com/kspbench/kspbench => "+root+"\n")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", string(sum))
	write("engine_test.go", `package fourthengine

import (
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines/wazero"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, wazero.Open, conformance.EngineName(wazero.Name))
}
`)
	goTool := workerbin.GoTool()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goTool, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in the outside module: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("mod", "tidy")
	out := run("test", "-count=1", "-v", ".")
	passed, skipped := strings.Count(out, "--- PASS: TestConformance/"), strings.Count(out, "--- SKIP: TestConformance/")
	t.Logf("the outside module ran the suite on wazero: %d cases passed, %d skipped", passed, skipped)
	if passed < 40 || !strings.Contains(out, "--- PASS: TestConformance/plugin/status") {
		t.Errorf("the outside module did not run the suite with its plugin cases:\n%s", out)
	}
}
