package manifest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

var lenient = Options{Lenient: true}

// wantWarning is a warning a test expects: its field, line and a part of
// its message.
type wantWarning struct {
	field string
	line  int
	msg   string
}

// checkWarnings fails unless ws are exactly want, in order.
func checkWarnings(t *testing.T, ws []Warning, want []wantWarning) {
	t.Helper()
	ok := len(ws) == len(want)
	for i := 0; ok && i < len(ws); i++ {
		ok = ws[i].Field == want[i].field && ws[i].Line == want[i].line && strings.Contains(ws[i].Message, want[i].msg)
	}
	if !ok {
		var got []string
		for _, w := range ws {
			got = append(got, w.String())
		}
		t.Errorf("warnings:\n%s\nwant %+v", strings.Join(got, "\n"), want)
	}
}

// TestKubeStellarManifests loads manifests shaped as the KubeStellar UI's
// published ones: refused by the strict reading with a message that points
// to the kubestellar-ui profile, loaded by the lenient one.
func TestKubeStellarManifests(t *testing.T) {
	cases := []struct {
		file       string
		apiVersion string
		handlers   []string
		warnings   []wantWarning
	}{
		{"cluster-monitor.yml", "cluster-monitor/v1", []string{"handle_status", "handle_data", "read_data"}, []wantWarning{
			{"spec.build", 19, "build information; kspbench reads it but does not use it"},
			{"spec.frontend", 36, "frontend integration; kspbench serves no frontend"},
		}},
		{"hello-world.yml", "hello-world/v1", []string{"handle_hello", "handle_status"}, []wantWarning{
			{"spec.build", 17, "build information"},
			{"spec.frontend", 31, "frontend integration"},
		}},
		{"ks-monitoring.yml", "kubestellar/v1", nil, []wantWarning{
			{"spec.backend.routes", 20, "the backend is enabled but declares no routes: the plugin loads as frontend-only"},
			{"spec.frontend", 22, "frontend integration"},
			{"spec.info", 34, `unknown key "info", ignored`},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := "testdata/kubestellar-ui/" + tc.file
			_, err := Load(path)
			wantStrict := path + `:5:1: apiVersion: must be "kubestellar.io/v1", not "` + tc.apiVersion + `": ` +
				"that is kspbench's own rule (ABI v1); manifests written for the KubeStellar UI host load with the " +
				"kubestellar-ui profile (--abi kubestellar-ui)"
			if tc.file == "hello-world.yml" {
				wantStrict = strings.Replace(wantStrict, ":5:1:", ":3:1:", 1)
			}
			if err == nil || strings.Split(err.Error(), "\n")[0] != wantStrict {
				t.Errorf("strict Load error:\n%v\nwant first:\n%s", err, wantStrict)
			}

			m, err := LoadWith(path, lenient)
			if err != nil {
				t.Fatalf("LoadWith(lenient): %v", err)
			}
			if m.APIVersion != tc.apiVersion || m.Spec.Wasm.Entrypoint != "main" || m.Source != path {
				t.Errorf("apiVersion %q, entrypoint %q, source %q", m.APIVersion, m.Spec.Wasm.Entrypoint, m.Source)
			}
			if got := m.Handlers(); !reflect.DeepEqual(got, tc.handlers) {
				t.Errorf("Handlers() = %q, want %q", got, tc.handlers)
			}
			if got, want := m.HasBackend(), tc.handlers != nil; got != want {
				t.Errorf("HasBackend() = %v, want %v", got, want)
			}
			checkWarnings(t, m.Warnings, tc.warnings)
			for _, w := range m.Warnings {
				if w.File != path || w.Column == 0 {
					t.Errorf("warning %#v: want file %s and a column", w, path)
				}
			}
		})
	}
}

// TestFrontendOnly checks that a backend without routes is "no backend"
// in a lenient reading, and still an error in a strict one.
func TestFrontendOnly(t *testing.T) {
	for _, backend := range []string{
		"  backend:\n    enabled: true\n",
		"  backend:\n    enabled: true\n    routes: []\n",
		"  backend:\n    enabled: false\n",
		"",
	} {
		src := head + backend + "  frontend:\n    enabled: true\n"
		m, err := ParseWith([]byte(src), "plugin.yml", lenient)
		if err != nil {
			t.Fatalf("lenient ParseWith(%q): %v", backend, err)
		}
		if m.HasBackend() || m.Routes() != nil || m.Handlers() != nil {
			t.Errorf("%q: HasBackend() = %v, routes %v, handlers %v; want no backend", backend, m.HasBackend(),
				m.Routes(), m.Handlers())
		}
		noRoutes := strings.Contains(backend, "enabled: true")
		if _, err := Parse([]byte(src), "plugin.yml"); (err != nil) != noRoutes {
			t.Errorf("strict Parse(%q) = %v; want an error only for an enabled backend without routes", backend, err)
		} else if noRoutes && !strings.Contains(err.Error(), "spec.backend.routes: the backend is enabled but declares no routes") {
			t.Errorf("strict Parse(%q) = %v", backend, err)
		}
	}
	m := mustParse(t, head+route, "plugin.yml")
	if !m.HasBackend() {
		t.Error("HasBackend() = false for a manifest with a route")
	}
}

// TestLenientAcceptsStrict checks that a lenient reading of a manifest the
// strict one accepts gives the same Manifest, with warnings for the
// sections kspbench does not use.
func TestLenientAcceptsStrict(t *testing.T) {
	for _, file := range []string{"testdata/full.yml", "testdata/cluster-monitor.yml"} {
		strict, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		m, err := LoadWith(file, lenient)
		if err != nil {
			t.Fatal(err)
		}
		if strict.Warnings != nil {
			t.Errorf("%s: a strict reading has warnings %v", file, strict.Warnings)
		}
		ws := m.Warnings
		m.Warnings = nil
		if !reflect.DeepEqual(m, strict) {
			t.Errorf("%s: lenient %+v\nstrict %+v", file, m, strict)
		}
		if file == "testdata/full.yml" {
			checkWarnings(t, ws, []wantWarning{
				{"spec.build", 14, "build information"},
				{"spec.frontend", 31, "frontend integration"},
				{"spec.navigation", 49, "a section of the KubeStellar UI's frontend"},
				{"spec.widgets", 55, "a section of the KubeStellar UI's frontend"},
				{"spec.routes", 61, "(not spec.backend.routes)"},
			})
		} else if ws != nil {
			t.Errorf("%s: warnings %v, want none", file, ws)
		}
	}
}

// TestLenientUnknownKeys checks that unknown keys at any level are warnings,
// with a suggestion when one is close, and that what they hold is not read.
func TestLenientUnknownKeys(t *testing.T) {
	src := head + `  premissions: [kubestellar:read:clusters]
  info:
    tags: [a, {b: [c]}]
    homepage: {unknown: !!binary "not base64"}
  backend:
    enabled: true
    extra: 1
    routes:
      - path: /status
        methods: [GET]
        handler: handle_status
        timeout: 5s
`
	m, err := ParseWith([]byte(src), "plugin.yml", lenient)
	if err != nil {
		t.Fatal(err)
	}
	checkWarnings(t, m.Warnings, []wantWarning{
		{"spec.premissions", 7, `unknown key "premissions", ignored (did you mean "permissions"?)`},
		{"spec.info", 8, `unknown key "info", ignored`},
		{"spec.backend.extra", 13, `unknown key "extra", ignored`},
		{"spec.backend.routes[0].timeout", 18, `unknown key "timeout", ignored`},
	})
	if m.Spec.Permissions != nil || len(m.Routes()) != 1 {
		t.Errorf("permissions %v, routes %v", m.Spec.Permissions, m.Routes())
	}
	if got, want := m.Warnings[0].String(), `plugin.yml:7:3: spec.premissions: unknown key "premissions", ignored (did you mean "permissions"?)`; got != want {
		t.Errorf("Warning.String() = %q, want %q", got, want)
	}
}

// TestLenientStillChecks checks that a lenient reading keeps every rule it
// does not relax, and the limits.
func TestLenientStillChecks(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want wantErr
	}{
		{"kind", strings.Replace(head, "kind: Plugin", "kind: Widget", 1), wantErr{"kind", 2, `must be "Plugin"`}},
		{"name", strings.Replace(head, "name: demo", "name: Demo", 1), wantErr{"metadata.name", 4, "is not a DNS label"}},
		{"duplicate key", head + "  info: 1\n  info: 2\n", wantErr{"spec.info", 8, `duplicate key "info"`}},
		{"wrong type", head + "  frontend:\n    enabled: maybe\n", wantErr{"spec.frontend.enabled", 8, "must be true or false"}},
		{"route", head + strings.Replace(route, "handle_status", "allocate", 1), wantErr{"spec.backend.routes[0].handler", 12, "reserves"}},
		{"permission", head + "  permissions: [kubestellar:read:secrets]\n", wantErr{"spec.permissions[0]", 7, "unknown permission"}},
		{"memory limit", head + "  wasm: {memory_limit: 64XB}\n", wantErr{"spec.wasm.memory_limit", 7, "unknown unit"}},
		{"depth", head + "  configuration:\n    - name: a\n      default: " + strings.Repeat("[", 33) + strings.Repeat("]", 33) + "\n",
			wantErr{"spec.configuration[0].default" + strings.Repeat("[0]", 32), 9, "manifest.MaxValueDepth"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWith([]byte(tc.src), "plugin.yml", lenient)
			var ve *ValidationError
			if !errors.As(err, &ve) || !hasError(ve, tc.want) {
				t.Errorf("ParseWith(lenient) = %v; want %+v", err, tc.want)
			}
		})
	}
}

// TestLenientAPIVersion checks that a lenient reading takes any apiVersion,
// or none, without a warning.
func TestLenientAPIVersion(t *testing.T) {
	for _, v := range []string{"apiVersion: kubestellar.io/v1\n", "apiVersion: whatever/v9\n", ""} {
		src := strings.Replace(head, "apiVersion: kubestellar.io/v1\n", v, 1)
		m, err := ParseWith([]byte(src), "plugin.yml", lenient)
		if err != nil || m.Warnings != nil {
			t.Errorf("%q: %v, warnings %v", v, err, m.Warnings)
		}
	}
	_, err := Parse([]byte(strings.Replace(head, "apiVersion: kubestellar.io/v1\n", "", 1)), "plugin.yml")
	if err == nil || !strings.Contains(err.Error(), `apiVersion: is required and must be "kubestellar.io/v1": that is kspbench's own rule (ABI v1)`) ||
		!strings.Contains(err.Error(), "--abi kubestellar-ui") {
		t.Errorf("strict Parse without apiVersion: %v", err)
	}
}
