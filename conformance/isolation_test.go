package conformance_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/workerbin"
)

// cgoBindings are the Go packages of the cgo engines' bindings, from the
// engine catalog.
func cgoBindings() []string {
	var out []string
	for _, e := range catalog.Engines {
		if e.Cgo {
			out = append(out, e.Package)
		}
	}
	return out
}

// tagSets are the build tag sets a binary can be built with: none, and each
// engine's own tag.
func tagSets() []string {
	sets := []string{""}
	for _, e := range catalog.Engines {
		if e.Tag != "" {
			sets = append(sets, e.Tag)
		}
	}
	return sets
}

// TestNoBinaryLinksBothCgoEngines walks the dependency graph of every main
// package and every test binary in the repository, under each engine's build
// tags, and fails if one would link both wasmtime-go and wasmer-go.
func TestNoBinaryLinksBothCgoEngines(t *testing.T) {
	root, err := workerbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, tags := range tagSets() {
		// Each line: the package (or test binary), then its dependencies.
		out := goList(t, root, "-tags", tags, "-deps=false", "-test", "-f", `{{.ImportPath}} {{if or (eq .Name "main") .ForTest}}{{join .Deps " "}}{{end}}`, "./...")
		binaries := 0
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			pkg, deps, _ := strings.Cut(line, " ")
			if deps == "" {
				continue
			}
			binaries++
			var linked []string
			for _, b := range cgoBindings() {
				if strings.Contains(" "+deps+" ", " "+b+" ") {
					linked = append(linked, b)
				}
			}
			if len(linked) > 1 {
				t.Errorf("tags %q: %s links both %v", tags, pkg, linked)
			}
		}
		if binaries == 0 {
			t.Errorf("tags %q: go list found no binaries to check", tags)
		}
		t.Logf("tags %q: %d binaries checked", tags, binaries)
	}
}

// TestBothEngineTagsDoNotCompile checks that asking for both cgo engines in
// one binary fails at compile time with a message that says why.
func TestBothEngineTagsDoNotCompile(t *testing.T) {
	root, err := workerbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(workerbin.GoTool(), "vet", "-tags", "wasmtime,wasmer", "./cmd/kspbench")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("cmd/kspbench compiled with -tags wasmtime,wasmer")
	}
	if !strings.Contains(string(out), "kspbench_cannot_link_wasmtime_and_wasmer_into_one_binary") {
		t.Errorf("compile error does not say why:\n%s", out)
	}
}

func goList(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(workerbin.GoTool(), append([]string{"list"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list %v: %v\n%s", args, err, stderr)
	}
	return string(out)
}
