package manifest

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, in a strict or a lenient
// reading, and that what it returns is consistent: a manifest whose
// accessors work and whose defaults are within the limits, or a
// *ValidationError that lists at least one problem and at most
// MaxProblems+1, each naming the file. A manifest the strict reading
// accepts, the lenient one accepts too, the same but for warnings.
//
// Besides the seeds added here, testdata/fuzz/FuzzParse holds a corpus of
// hostile shapes (deep nesting, alias expansion, long keys, many problems)
// that go test runs as regular cases.
func FuzzParse(f *testing.F) {
	for _, path := range []string{"testdata/cluster-monitor.yml", "testdata/full.yml", "testdata/invalid.yml",
		"testdata/kubestellar-ui/cluster-monitor.yml", "testdata/kubestellar-ui/hello-world.yml",
		"testdata/kubestellar-ui/ks-monitoring.yml"} {
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
		string(deepManifest(MaxValueDepth+1, 1)),
		string(deepManifest(200, 100)),
		head + configItem(nested(MaxValueDepth)),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		strict := checkParse(t, src, Options{})
		m := checkParse(t, src, lenient)
		if strict != nil {
			if m == nil {
				t.Fatal("the lenient reading refused a manifest the strict one accepts")
			}
			if strict.Warnings != nil {
				t.Fatalf("a strict reading has warnings %v", strict.Warnings)
			}
			if a, b := withoutWarnings(m), withoutWarnings(strict); !reflect.DeepEqual(a, b) {
				t.Fatalf("lenient reading %+v differs from strict %+v", a, b)
			}
		}
	})
}

// checkParse parses src with opts, checks what comes back, and returns the
// manifest or nil.
func checkParse(t *testing.T, src string, opts Options) *Manifest {
	m, err := ParseWith([]byte(src), "fuzz.yml", opts)
	if err != nil {
		if m != nil {
			t.Fatalf("Parse returned a manifest and an error: %v", err)
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Errors) == 0 || len(ve.Errors) > MaxProblems+1 {
			t.Fatalf("error %T %.1000v is not a *ValidationError of 1 to MaxProblems+1 problems", err, err)
		}
		for _, fe := range ve.Errors {
			if !strings.HasPrefix(fe.Error(), "fuzz.yml") || fe.Message == "" {
				t.Fatalf("malformed problem %#v", fe)
			}
		}
		return nil
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
	if m.HasBackend() != (len(m.Handlers()) > 0) {
		t.Fatalf("HasBackend() = %v with handlers %q", m.HasBackend(), m.Handlers())
	}
	if len(m.Warnings) > MaxProblems+1 {
		t.Fatalf("%d warnings", len(m.Warnings))
	}
	for _, w := range m.Warnings {
		if !strings.HasPrefix(w.String(), "fuzz.yml") || w.Message == "" {
			t.Fatalf("malformed warning %#v", w)
		}
	}
	total := 0
	for _, c := range m.Spec.Configuration {
		if d := depthOf(c.Default); d > MaxValueDepth {
			t.Fatalf("accepted a default nesting %d deep", d)
		}
		nodes, text := sizeOf(c.Default)
		if nodes > MaxValueNodes {
			t.Fatalf("accepted a default of %d values", nodes)
		}
		total += text
	}
	if total > MaxConfigBytes {
		t.Fatalf("accepted defaults of %d bytes of text", total)
	}
	_ = m.ConfigValues()
	return m
}

// sizeOf returns the number of values in a default and the length of its
// keys and strings, checking each against MaxScalarLength.
func sizeOf(v any) (nodes, text int) {
	switch x := v.(type) {
	case []any:
		nodes = 1
		for _, e := range x {
			n, l := sizeOf(e)
			nodes, text = nodes+n, text+l
		}
	case map[string]any:
		nodes = 1
		for k, e := range x {
			n, l := sizeOf(e)
			nodes, text = nodes+n, text+l+len(k)
			if len(k) > MaxScalarLength {
				nodes += MaxValueNodes // fails the caller's check
			}
		}
	case string:
		if len(x) > MaxScalarLength {
			return MaxValueNodes + 1, len(x)
		}
		return 1, len(x)
	default:
		return 1, 0
	}
	return nodes, text
}

// withoutWarnings returns a copy of m without its warnings and with each default
// rendered as text, so that reflect.DeepEqual finds a NaN equal to itself.
func withoutWarnings(m *Manifest) Manifest {
	c := *m
	c.Warnings = nil
	c.Spec.Configuration = slices.Clone(c.Spec.Configuration)
	for i, item := range c.Spec.Configuration {
		s, _ := renderValue(item.Default)
		c.Spec.Configuration[i].Default = s
	}
	return c
}
