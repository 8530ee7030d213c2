package manifest

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, and that what it returns is
// consistent: a manifest whose accessors work, or a *ValidationError that
// lists at least one problem, each naming the file.
func FuzzParse(f *testing.F) {
	for _, path := range []string{"testdata/cluster-monitor.yml", "testdata/full.yml", "testdata/invalid.yml"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		"",
		"---\n",
		"~",
		"- a\n",
		head,
		head + route,
		head + route + "---\nkind: Plugin\n",
		head + "  wasm: {file: x.wasm, memory_limit: 0.5GiB}\n",
		head + "  backend: &b\n    <<: *b\n",
		head + "  backend:\n    <<: [*x]\n",
		head + "  configuration:\n    - {name: a, default: &d [1, *d]}\n",
		head + "  configuration:\n    - {name: a, type: object, default: {1: [a, {b: .nan}]}}\n",
		"a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nspec:\n  permissions: *c\n",
		"apiVersion: &v kubestellar.io/v1\nkind: Plugin\nmetadata: {name: *v, version: *v}\n",
		"? [a, b]\n: c\n",
		"{a: b: c}",
		"a: 'unterminated\n",
		"\t- tab",
		"a: \xff\n",
		"!!binary abc: x\n",
		"metadata: !!map {name: !!int x}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		m, err := Parse([]byte(src), "fuzz.yml")
		if err != nil {
			if m != nil {
				t.Fatalf("Parse returned a manifest and an error: %v", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) == 0 {
				t.Fatalf("error %T %v is not a non-empty *ValidationError", err, err)
			}
			for _, fe := range ve.Errors {
				if !strings.HasPrefix(fe.Error(), "fuzz.yml") || fe.Message == "" {
					t.Fatalf("malformed problem %#v", fe)
				}
			}
			return
		}
		if m == nil {
			t.Fatal("Parse returned neither a manifest nor an error")
		}
		if pages := m.MemoryLimitPages(); pages > maxPages || (m.Spec.Wasm.MemoryLimit != "" && pages == 0) {
			t.Fatalf("MemoryLimitPages() = %d for %q", pages, m.Spec.Wasm.MemoryLimit)
		}
		if !strings.HasSuffix(m.WasmFile(), ".wasm") {
			t.Fatalf("WasmFile() = %q", m.WasmFile())
		}
		seen := make(map[string]bool)
		for _, r := range m.Routes() {
			if seen[r.Path] || !strings.HasPrefix(r.Path, "/") || len(r.Methods) == 0 || r.Handler == "" {
				t.Fatalf("accepted a bad route %+v", r)
			}
			seen[r.Path] = true
		}
		_ = m.Handlers()
		_ = m.ConfigValues()
	})
}
