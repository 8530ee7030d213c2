package manifest

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata")

// head is a valid start of a manifest, six lines long: what tests append
// under spec starts on line 7.
const head = `apiVersion: kubestellar.io/v1
kind: Plugin
metadata:
  name: demo
  version: 1.0.0
spec:
`

// route is a valid backend section whose single route starts on line 9
// when appended to head.
const route = `  backend:
    enabled: true
    routes:
      - path: /status
        methods: [GET]
        handler: handle_status
`

func mustParse(t testing.TB, data, name string) *Manifest {
	t.Helper()
	m, err := Parse([]byte(data), name)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return m
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSeedManifest parses the cluster-monitor manifest of the reference
// host's example plugin.
func TestSeedManifest(t *testing.T) {
	m, err := Load("testdata/cluster-monitor.yml")
	if err != nil {
		t.Fatal(err)
	}
	wantRoutes := []Route{
		{Path: "/status", Methods: []string{"GET"}, Handler: "handle_status", Line: 12, Column: 9},
		{Path: "/data", Methods: []string{"GET", "POST"}, Handler: "handle_data", Line: 15, Column: 9},
	}
	if got := m.Routes(); !reflect.DeepEqual(got, wantRoutes) {
		t.Errorf("Routes() = %+v, want %+v", got, wantRoutes)
	}
	if got, want := m.Handlers(), []string{"handle_status", "handle_data"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Handlers() = %q, want %q", got, want)
	}
	if got, want := m.Spec.Permissions, []string{"kubestellar:read:clusters", "kubestellar:read:workloads"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Spec.Permissions = %q, want %q", got, want)
	}
	wantMeta := Metadata{Name: "cluster-monitor", Version: "1.0.0", Author: "developer@company.com",
		Description: "Simple cluster monitoring dashboard"}
	if m.Metadata != wantMeta {
		t.Errorf("Metadata = %+v, want %+v", m.Metadata, wantMeta)
	}
	if m.APIVersion != APIVersion || m.Kind != KindPlugin {
		t.Errorf("apiVersion, kind = %q, %q", m.APIVersion, m.Kind)
	}
	if got := m.WasmFile(); got != "cluster-monitor.wasm" {
		t.Errorf("WasmFile() = %q, want cluster-monitor.wasm", got)
	}
	if got := m.MemoryLimitPages(); got != 0 {
		t.Errorf("MemoryLimitPages() = %d, want 0 (unset)", got)
	}
	if got := m.ConfigValues(); len(got) != 0 {
		t.Errorf("ConfigValues() = %v, want none", got)
	}
	if m.Source != "testdata/cluster-monitor.yml" {
		t.Errorf("Source = %q", m.Source)
	}
}

// TestReferenceSections parses a manifest with every optional section of
// the reference host's schema.
func TestReferenceSections(t *testing.T) {
	m := mustParse(t, readFile(t, "testdata/full.yml"), "full.yml")
	if got := m.WasmFile(); got != "monitor.wasm" {
		t.Errorf("WasmFile() = %q, want monitor.wasm", got)
	}
	// 64MB is 64,000,000 bytes: 976.56 pages, rounded down.
	if got := m.MemoryLimitPages(); got != 976 {
		t.Errorf("MemoryLimitPages() = %d, want 976", got)
	}
	wantConfig := map[string]string{
		"refresh_interval": "30",
		"ratio":            "0.75",
		"verbose":          "true",
		"cluster.label":    "production",
		"since":            "2024-01-31",
		"namespaces":       `["default","kube-system"]`,
		"thresholds":       `{"cpu":80,"memory":90.5,"note":"<b>&</b>"}`,
	}
	if got := m.ConfigValues(); !reflect.DeepEqual(got, wantConfig) {
		t.Errorf("ConfigValues() = %q, want %q", got, wantConfig)
	}
	if got, want := m.Handlers(), []string{"handle_status", "handle_data"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Handlers() = %q, want %q", got, want)
	}
	if got := len(m.Routes()); got != 3 {
		t.Errorf("len(Routes()) = %d, want 3", got)
	}
	if got := m.Spec.Configuration[0].Default; got != 30 {
		t.Errorf("refresh_interval default = %#v, want int 30", got)
	}
	wantFrontend := Frontend{
		Enabled: true,
		Navigation: []NavigationItem{{Label: "Cluster Monitor", Icon: "monitor", Path: "/plugins/cluster-monitor",
			Position: "main", Order: 10}},
		Widgets: []Widget{{Name: "cluster-status", Title: "Cluster Status", Size: "medium", Dashboard: "overview",
			Component: "ClusterStatusWidget"}},
		Routes: []FrontendRoute{{Path: "/plugins/cluster-monitor", Component: "ClusterMonitorPage", Exact: true}},
	}
	if !reflect.DeepEqual(m.Spec.Frontend, wantFrontend) {
		t.Errorf("Spec.Frontend = %+v, want %+v", m.Spec.Frontend, wantFrontend)
	}
	if got := m.Spec.Navigation; len(got) != 1 || got[0].Order != 2 || got[0].Position != "secondary" {
		t.Errorf("Spec.Navigation = %+v", got)
	}
	if got := m.Spec.Widgets; len(got) != 1 || got[0].Component != "NodeCountWidget" {
		t.Errorf("Spec.Widgets = %+v", got)
	}
	if got := m.Spec.Routes; len(got) != 1 || got[0].Path != "/monitor" || got[0].Exact {
		t.Errorf("Spec.Routes = %+v", got)
	}
	wantBuild := Build{GoVersion: "1.21", TinyGoVersion: "0.30.0"}
	if m.Spec.Build != wantBuild || m.Spec.Wasm.Entrypoint != "main" {
		t.Errorf("Spec.Build = %+v, entrypoint %q", m.Spec.Build, m.Spec.Wasm.Entrypoint)
	}
	if m.Metadata.Version != "1.2.0-rc.1+build.7" {
		t.Errorf("Metadata.Version = %q", m.Metadata.Version)
	}
}

func TestDisabledBackend(t *testing.T) {
	m := mustParse(t, head+strings.Replace(route, "enabled: true", "enabled: false", 1), "plugin.yml")
	if rs, hs := m.Routes(), m.Handlers(); rs != nil || hs != nil {
		t.Errorf("Routes() = %v, Handlers() = %v, want none with the backend disabled", rs, hs)
	}
	if len(m.Spec.Backend.Routes) != 1 {
		t.Errorf("Spec.Backend.Routes = %v, want the declared route kept", m.Spec.Backend.Routes)
	}
}

func TestMinimalManifest(t *testing.T) {
	m := mustParse(t, "apiVersion: kubestellar.io/v1\nkind: Plugin\nmetadata: {name: x1, version: 0.0.1}\n", "plugin.yml")
	if m.Routes() != nil || m.Handlers() != nil || m.MemoryLimitPages() != 0 || m.WasmFile() != "x1.wasm" {
		t.Errorf("minimal manifest: routes %v handlers %v pages %d wasm %q",
			m.Routes(), m.Handlers(), m.MemoryLimitPages(), m.WasmFile())
	}
}

// TestAnchors checks that anchors, aliases and merge keys read as in
// yaml.v3, with explicit keys winning over merged ones.
func TestAnchors(t *testing.T) {
	src := head + `  backend:
    enabled: true
    routes:
      - &base
        path: /a
        methods: &get [GET]
        handler: handle
      - <<: *base
        path: /b
      - {path: /c, methods: *get, handler: other}
  permissions: &perms
    - kubestellar:read:clusters
`
	m := mustParse(t, src, "plugin.yml")
	var got []string
	for _, r := range m.Routes() {
		got = append(got, r.Path+" "+strings.Join(r.Methods, ",")+" "+r.Handler)
	}
	want := []string{"/a GET handle", "/b GET handle", "/c GET other"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes = %q, want %q", got, want)
	}
}

type wantErr struct {
	field string
	line  int
	msg   string // a part of the message
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", 64)
	cases := []struct {
		name string
		src  string
		want []wantErr
		// count, when not 0, is the exact number of problems.
		count int
	}{
		// Header.
		{"apiVersion wrong", "apiVersion: v1\nkind: Plugin\nmetadata: {name: a, version: 1.0.0}\n",
			[]wantErr{{"apiVersion", 1, `must be "kubestellar.io/v1", not "v1"`}}, 1},
		{"apiVersion missing", "kind: Plugin\nmetadata: {name: a, version: 1.0.0}\n",
			[]wantErr{{"apiVersion", 1, "is required"}}, 1},
		{"kind wrong", "apiVersion: kubestellar.io/v1\nkind: plugin\nmetadata: {name: a, version: 1.0.0}\n",
			[]wantErr{{"kind", 2, `must be "Plugin", not "plugin"`}}, 1},
		{"name missing", "apiVersion: kubestellar.io/v1\nkind: Plugin\nmetadata:\n  version: 1.0.0\n",
			[]wantErr{{"metadata.name", 3, "is required"}}, 1},
		{"metadata missing", "apiVersion: kubestellar.io/v1\nkind: Plugin\n",
			[]wantErr{{"metadata.name", 1, "is required"}, {"metadata.version", 1, "is required"}}, 2},
		{"name upper case", strings.Replace(head, "name: demo", "name: My_Plugin", 1),
			[]wantErr{{"metadata.name", 4, `"My_Plugin" is not a DNS label`}}, 1},
		{"name too long", strings.Replace(head, "name: demo", "name: "+long, 1),
			[]wantErr{{"metadata.name", 4, "is not a DNS label"}}, 1},
		{"name ends with dash", strings.Replace(head, "name: demo", "name: demo-", 1),
			[]wantErr{{"metadata.name", 4, "is not a DNS label"}}, 1},
		{"version leading v", strings.Replace(head, "version: 1.0.0", "version: v1.0.0", 1),
			[]wantErr{{"metadata.version", 5, `drop the leading "v"`}}, 1},
		{"version leading zero", strings.Replace(head, "version: 1.0.0", "version: 01.0.0", 1),
			[]wantErr{{"metadata.version", 5, "is not a semantic version"}}, 1},
		{"version two parts", strings.Replace(head, "version: 1.0.0", "version: 1.0", 1),
			[]wantErr{{"metadata.version", 5, `"1.0" is not a semantic version`}}, 1},
		{"version bad prerelease", strings.Replace(head, "version: 1.0.0", "version: 1.0.0-01", 1),
			[]wantErr{{"metadata.version", 5, "is not a semantic version"}}, 1},
		{"version missing", strings.Replace(head, "  version: 1.0.0\n", "", 1),
			[]wantErr{{"metadata.version", 3, "is required"}}, 1},
		{"author not a string", strings.Replace(head, "version: 1.0.0", "version: 1.0.0\n  author: [a]", 1),
			[]wantErr{{"metadata.author", 6, "must be a string, not a list"}}, 1},

		// Keys.
		{"unknown key with suggestion", head + "  premissions: []\n",
			[]wantErr{{"spec.premissions", 7, `unknown key "premissions" (did you mean "permissions"?)`}}, 1},
		{"unknown key listing known keys", "apiVersion: kubestellar.io/v1\nkind: Plugin\nmetadata: {name: a, version: 1.0.0}\nextra: 1\n",
			[]wantErr{{"extra", 4, "known keys are apiVersion, kind, metadata, spec"}}, 1},
		{"unknown key in metadata", strings.Replace(head, "name: demo", "name: demo\n  autor: me", 1),
			[]wantErr{{"metadata.autor", 5, `(did you mean "author"?)`}}, 1},
		{"unknown key in route", head + route + "        handlr: x\n",
			[]wantErr{{"spec.backend.routes[0].handlr", 13, `did you mean "handler"`}}, 1},
		{"duplicate key", head + "  permissions: []\n  permissions: []\n",
			[]wantErr{{"spec.permissions", 8, `duplicate key "permissions" (first at line 7)`}}, 1},
		{"duplicate top-level key", "kind: Plugin\n" + head,
			[]wantErr{{"kind", 3, "duplicate key \"kind\" (first at line 1)"}}, 1},
		{"key that is a list", head + "  [a]: 1\n",
			[]wantErr{{"spec", 7, "keys must be plain text"}}, 1},

		// Kinds of values.
		{"root is a list", "- a\n- b\n", []wantErr{{"", 1, "the manifest must be a mapping, not a list"}}, 1},
		{"spec is a list", head + "  - a\n", []wantErr{{"spec", 7, "must be a mapping, not a list"}}, 1},
		{"metadata is text", "apiVersion: kubestellar.io/v1\nkind: Plugin\nmetadata: demo\n",
			[]wantErr{{"metadata", 3, `must be a mapping, not "demo"`}}, 1},
		{"enabled not a bool", head + strings.Replace(route, "enabled: true", "enabled: maybe", 1),
			[]wantErr{{"spec.backend.enabled", 8, `must be true or false, not "maybe"`}}, 1},
		{"methods not a list", head + strings.Replace(route, "methods: [GET]", "methods: GET", 1),
			[]wantErr{{"spec.backend.routes[0].methods", 11, `must be a list, not "GET"`}}, 1},
		{"route not a mapping", head + route + "      - /data\n",
			[]wantErr{{"spec.backend.routes[1]", 13, `must be a mapping, not "/data"`}}, 1},
		{"order not an integer", head + "  navigation:\n    - label: x\n      order: first\n",
			[]wantErr{{"spec.navigation[0].order", 9, `must be an integer, not "first"`}}, 1},
		{"exact not a bool", head + "  routes:\n    - path: /x\n      exact: 2\n",
			[]wantErr{{"spec.routes[0].exact", 9, `must be true or false, not "2"`}}, 1},
		{"permissions not a list", head + "  permissions: kubestellar:read:clusters\n",
			[]wantErr{{"spec.permissions", 7, "must be a list"}}, 1},

		// Backend routes.
		{"route path missing", head + strings.Replace(route, "- path: /status\n        methods", "- methods", 1),
			[]wantErr{{"spec.backend.routes[0].path", 10, "is required"}}, 1},
		{"route path relative", head + strings.Replace(route, "/status", "status", 1),
			[]wantErr{{"spec.backend.routes[0].path", 10, `"status" must start with /`}}, 1},
		{"route path dot dot", head + strings.Replace(route, "/status", "/a/../b", 1),
			[]wantErr{{"spec.backend.routes[0].path", 10, "must not contain '..'"}}, 1},
		{"route path double slash", head + strings.Replace(route, "/status", "/a//b", 1),
			[]wantErr{{"spec.backend.routes[0].path", 10, "must not contain '//'"}}, 1},
		{"route path query", head + strings.Replace(route, "/status", `"/status?x=1"`, 1),
			[]wantErr{{"spec.backend.routes[0].path", 10, "must not contain '?' or '#'"}}, 1},
		{"route path fragment", head + strings.Replace(route, "/status", `"/status#x"`, 1),
			[]wantErr{{"spec.backend.routes[0].path", 10, "must not contain '?' or '#'"}}, 1},
		{"route path space", head + strings.Replace(route, "/status", `"/sta tus"`, 1),
			[]wantErr{{"spec.backend.routes[0].path", 10, "white space"}}, 1},
		{"route path twice", head + route + "      - path: /status\n        methods: [POST]\n        handler: handle_post\n",
			[]wantErr{{"spec.backend.routes[1].path", 13, `"/status" is declared twice (first at line 10)`}}, 1},
		{"methods empty", head + strings.Replace(route, "[GET]", "[]", 1),
			[]wantErr{{"spec.backend.routes[0].methods", 11, "is required"}}, 1},
		{"methods missing", head + strings.Replace(route, "        methods: [GET]\n", "", 1),
			[]wantErr{{"spec.backend.routes[0].methods", 10, "is required"}}, 1},
		{"method lower case", head + strings.Replace(route, "[GET]", "\n          - get", 1),
			[]wantErr{{"spec.backend.routes[0].methods[0]", 12, `"get" must be upper case: GET`}}, 1},
		{"method unknown", head + strings.Replace(route, "[GET]", "[GET, OPTIONS]", 1),
			[]wantErr{{"spec.backend.routes[0].methods[1]", 11, `"OPTIONS" is not one of GET, POST, PUT, PATCH, DELETE`}}, 1},
		{"method twice", head + strings.Replace(route, "[GET]", "\n          - GET\n          - POST\n          - GET", 1),
			[]wantErr{{"spec.backend.routes[0].methods[2]", 14, "GET is listed twice (first at line 12)"}}, 1},
		{"handler missing", head + strings.Replace(route, "        handler: handle_status\n", "", 1),
			[]wantErr{{"spec.backend.routes[0].handler", 10, "is required"}}, 1},
		{"handler starts with digit", head + strings.Replace(route, "handle_status", "2fast", 1),
			[]wantErr{{"spec.backend.routes[0].handler", 12, `"2fast" is not a valid export name`}}, 1},
		{"handler with dash", head + strings.Replace(route, "handle_status", "handle-status", 1),
			[]wantErr{{"spec.backend.routes[0].handler", 12, "is not a valid export name"}}, 1},
		{"handler memory", head + strings.Replace(route, "handle_status", "memory", 1),
			[]wantErr{{"spec.backend.routes[0].handler", 12, `"memory" is an export the plugin ABI reserves`}}, 1},
		{"handler allocate", head + strings.Replace(route, "handle_status", "allocate", 1),
			[]wantErr{{"spec.backend.routes[0].handler", 12, "reserves"}}, 1},
		{"handler deallocate", head + strings.Replace(route, "handle_status", "deallocate", 1),
			[]wantErr{{"spec.backend.routes[0].handler", 12, "reserves"}}, 1},
		{"handler _initialize", head + strings.Replace(route, "handle_status", "_initialize", 1),
			[]wantErr{{"spec.backend.routes[0].handler", 12, "reserves"}}, 1},
		{"handler version marker", head + strings.Replace(route, "handle_status", "ksp_abi_version_1", 1),
			[]wantErr{{"spec.backend.routes[0].handler", 12, "reserves"}}, 1},
		{"enabled without routes", head + "  backend:\n    enabled: true\n",
			[]wantErr{{"spec.backend.routes", 8, "enabled but declares no routes"}}, 1},
		{"enabled with empty routes", head + "  backend:\n    enabled: true\n    routes: []\n",
			[]wantErr{{"spec.backend.routes", 9, "enabled but declares no routes"}}, 1},

		// Permissions.
		{"permission unknown", head + "  permissions:\n    - kubestellar:read:secrets\n",
			[]wantErr{{"spec.permissions[0]", 8, `unknown permission "kubestellar:read:secrets"; known permissions are ` +
				"kubestellar:read:clusters, kubestellar:write:clusters, kubestellar:read:workloads, " +
				"kubestellar:write:workloads, kubestellar:read:bindingpolicies, kubestellar:write:bindingpolicies"}}, 1},
		{"permission typo", head + "  permissions:\n    - kubestellar:read:cluster\n",
			[]wantErr{{"spec.permissions[0]", 8, `(did you mean "kubestellar:read:clusters"?)`}}, 1},
		{"permission twice", head + "  permissions:\n    - kubestellar:read:clusters\n    - kubestellar:read:clusters\n",
			[]wantErr{{"spec.permissions[1]", 9, `"kubestellar:read:clusters" is listed twice (first at line 8)`}}, 1},
		{"permission empty", head + "  permissions: ['']\n",
			[]wantErr{{"spec.permissions[0]", 7, "is empty"}}, 1},

		// Wasm.
		{"wasm file with slash", head + "  wasm:\n    file: lib/x.wasm\n",
			[]wantErr{{"spec.wasm.file", 8, "must be a plain file name"}}, 1},
		{"wasm file with backslash", head + "  wasm:\n    file: 'lib\\x.wasm'\n",
			[]wantErr{{"spec.wasm.file", 8, "must be a plain file name"}}, 1},
		{"wasm file with dot dot", head + "  wasm:\n    file: x..wasm\n",
			[]wantErr{{"spec.wasm.file", 8, "must be a plain file name"}}, 1},
		{"wasm file not wasm", head + "  wasm:\n    file: x.wat\n",
			[]wantErr{{"spec.wasm.file", 8, "ending in .wasm"}}, 1},
		{"wasm file only extension", head + "  wasm:\n    file: .wasm\n",
			[]wantErr{{"spec.wasm.file", 8, "ending in .wasm"}}, 1},
		{"memory limit unit", head + "  wasm:\n    memory_limit: 64XB\n",
			[]wantErr{{"spec.wasm.memory_limit", 8, `unknown unit "XB"`}}, 1},
		{"memory limit too small", head + "  wasm:\n    memory_limit: 1KiB\n",
			[]wantErr{{"spec.wasm.memory_limit", 8, "less than one 64 KiB page"}}, 1},
		{"memory limit too large", head + "  wasm:\n    memory_limit: 5GiB\n",
			[]wantErr{{"spec.wasm.memory_limit", 8, "more than 65536 pages"}}, 1},
		{"memory limit not a number", head + "  wasm:\n    memory_limit: lots\n",
			[]wantErr{{"spec.wasm.memory_limit", 8, "does not start with a number"}}, 1},

		// Configuration.
		{"config name missing", head + "  configuration:\n    - type: string\n",
			[]wantErr{{"spec.configuration[0].name", 8, "is required"}}, 1},
		{"config name invalid", head + "  configuration:\n    - name: 9lives\n",
			[]wantErr{{"spec.configuration[0].name", 8, `"9lives" is not a valid name`}}, 1},
		{"config name twice", head + "  configuration:\n    - name: a\n    - name: a\n",
			[]wantErr{{"spec.configuration[1].name", 9, `"a" is declared twice (first at line 8)`}}, 1},
		{"config type unknown", head + "  configuration:\n    - name: a\n      type: duration\n",
			[]wantErr{{"spec.configuration[0].type", 9, `unknown type "duration"; use one of string, integer`}}, 1},
		{"config integer default text", head + "  configuration:\n    - name: a\n      type: integer\n      default: thirty\n",
			[]wantErr{{"spec.configuration[0].default", 10, `"thirty" is a string, not an integer`}}, 1},
		{"config integer default float", head + "  configuration:\n    - name: a\n      type: integer\n      default: 1.5\n",
			[]wantErr{{"spec.configuration[0].default", 10, "1.5 is a number, not an integer"}}, 1},
		{"config number default bool", head + "  configuration:\n    - name: a\n      type: number\n      default: true\n",
			[]wantErr{{"spec.configuration[0].default", 10, "true is a boolean, not a number"}}, 1},
		{"config string default int", head + "  configuration:\n    - name: a\n      type: string\n      default: 5\n",
			[]wantErr{{"spec.configuration[0].default", 10, "5 is an integer, not a string"}}, 1},
		{"config boolean default text", head + "  configuration:\n    - name: a\n      type: boolean\n      default: yes\n",
			[]wantErr{{"spec.configuration[0].default", 10, `"yes" is a string, not a boolean`}}, 1},
		{"config array default map", head + "  configuration:\n    - name: a\n      type: array\n      default: {x: 1}\n",
			[]wantErr{{"spec.configuration[0].default", 10, "the default is an object, not an array"}}, 1},
		{"config object default list", head + "  configuration:\n    - name: a\n      type: object\n      default: [1]\n",
			[]wantErr{{"spec.configuration[0].default", 10, "the default is an array, not an object"}}, 1},
		{"config default duplicate key", head + "  configuration:\n    - name: a\n      default: {x: 1, x: 2}\n",
			[]wantErr{{"spec.configuration[0].default.x", 9, `duplicate key "x"`}}, 1},
		{"config default contains itself", head + "  configuration:\n    - name: a\n      default: &d [1, *d]\n",
			[]wantErr{{"spec.configuration[0].default[1]", 9, "contains itself"}}, 1},

		// Documents.
		{"empty", "", []wantErr{{"", 0, "the manifest is empty"}}, 1},
		{"comments only", "# nothing\n", []wantErr{{"", 0, "the manifest is empty"}}, 1},
		{"null document", "---\n~\n", []wantErr{{"", 0, "the manifest is empty"}}, 1},
		{"two documents", head + "---\nkind: Plugin\n",
			[]wantErr{{"", 8, "a second YAML document starts here"}}, 1},
		{"syntax error on line 1", "apiVersion: a: b\n", []wantErr{{"", 1, "invalid YAML: mapping values are not allowed"}}, 1},
		{"syntax error indentation", "apiVersion: kubestellar.io/v1\nkind: Plugin\nmetadata:\n  name: a\n   version: 1.0.0\n",
			[]wantErr{{"", 5, "invalid YAML"}}, 1},
		{"syntax error unclosed list", head + "  permissions: [a,\n", []wantErr{{"", 7, "invalid YAML"}}, 1},
		{"syntax error tab", head + "\tpermissions: []\n", []wantErr{{"", 7, "invalid YAML"}}, 1},
		{"unknown anchor", head + "  permissions: *nope\n", []wantErr{{"", 7, "invalid YAML: unknown anchor 'nope'"}}, 1},
		{"merge into itself", head + "  backend: &b\n    <<: *b\n    enabled: false\n",
			[]wantErr{{"spec.backend", 8, "merges a mapping into itself"}}, 0},
		{"merge of text", head + "  backend:\n    <<: text\n",
			[]wantErr{{"spec.backend", 8, "a merge key (<<) takes a mapping"}}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.src), "plugin.yml")
			if err == nil {
				t.Fatalf("Parse succeeded, want errors %v; source:\n%s", tc.want, tc.src)
			}
			if m != nil {
				t.Errorf("Parse returned a manifest with an error")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *ValidationError: %v", err, err)
			}
			for _, w := range tc.want {
				if !hasError(ve, w) {
					t.Errorf("no error for field %q at line %d containing %q; got:\n%v", w.field, w.line, w.msg, err)
				}
			}
			if tc.count != 0 && len(ve.Errors) != tc.count {
				t.Errorf("got %d errors, want %d:\n%v", len(ve.Errors), tc.count, err)
			}
			for _, fe := range ve.Errors {
				if fe.File != "plugin.yml" {
					t.Errorf("error %v has file %q", fe, fe.File)
				}
				prefix := "plugin.yml"
				if fe.Line > 0 {
					prefix += ":"
				}
				if !strings.HasPrefix(fe.Error(), prefix) {
					t.Errorf("error %q does not start with %q", fe.Error(), prefix)
				}
			}
		})
	}
}

func hasError(ve *ValidationError, w wantErr) bool {
	for _, fe := range ve.Errors {
		if fe.Field == w.field && fe.Line == w.line && strings.Contains(fe.Message, w.msg) {
			return true
		}
	}
	return false
}

// TestErrorText checks the exact form of a problem, and that the problems
// come out in order, one per line.
func TestErrorText(t *testing.T) {
	src := head + `  backend:
    enabled: true
    routes:
      - path: /status
        methods: [GET]
        handler: handle_status
      - path: "/status"
        methods: [POST]
        handler: handle_post
  premissions: []
`
	_, err := Parse([]byte(src), "plugin.yml")
	want := `plugin.yml:13:9: spec.backend.routes[1].path: "/status" is declared twice (first at line 10)` + "\n" +
		`plugin.yml:16:3: spec.premissions: unknown key "premissions" (did you mean "permissions"?)`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

// TestAllProblems checks, against a golden file, that a manifest with many
// problems reports each of them. Run with -update to rewrite the file.
func TestAllProblems(t *testing.T) {
	_, err := Load("testdata/invalid.yml")
	if err == nil {
		t.Fatal("Load(testdata/invalid.yml) succeeded")
	}
	got := err.Error() + "\n"
	golden := "testdata/invalid.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, golden); got != want {
		gotFile := strings.TrimSuffix(golden, ".golden") + ".got"
		os.WriteFile(gotFile, []byte(got), 0o644)
		t.Errorf("errors differ from %s (got written to %s):\n%s", golden, gotFile, got)
	}
}

func TestSyntaxErrorWrapsCause(t *testing.T) {
	_, err := Parse([]byte("a: b: c\n"), "plugin.yml")
	var fe FieldError
	if !errors.As(err, &fe) || fe.Err == nil || fe.Line != 1 {
		t.Fatalf("error %v: want a FieldError at line 1 wrapping the YAML error", err)
	}
	if !strings.HasPrefix(fe.Err.Error(), "yaml: ") {
		t.Errorf("cause %q is not the yaml.v3 error", fe.Err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	src := readFile(t, "testdata/cluster-monitor.yml")
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir, filepath.Join(dir, FileName)} {
		m, err := Load(path)
		if err != nil {
			t.Fatalf("Load(%s): %v", path, err)
		}
		if m.Metadata.Name != "cluster-monitor" || m.Source != filepath.Join(dir, FileName) {
			t.Errorf("Load(%s): name %q, source %q", path, m.Metadata.Name, m.Source)
		}
	}

	empty := t.TempDir()
	if _, err := Load(empty); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a folder without %s: %v, want fs.ErrNotExist", FileName, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want fs.ErrNotExist", err)
	}

	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("apiVersion: v1\n"), 0o644)
	_, err := Load(bad)
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.HasPrefix(err.Error(), bad+":1:1: apiVersion:") {
		t.Errorf("Load(bad.yml) = %v, want a *ValidationError naming %s", err, bad)
	}

	big := filepath.Join(dir, "big.yml")
	os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxFileSize)+"\n"), 0o644)
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(big.yml) = %v, want a size error", err)
	}
}

func TestParseMemoryLimit(t *testing.T) {
	cases := []struct {
		in    string
		pages uint32
		err   string
	}{
		{"64MiB", 1024, ""},
		{"64Mi", 1024, ""},
		{"64mib", 1024, ""},
		{"65536KiB", 1024, ""},
		{"64MB", 976, ""},
		{"64M", 976, ""},
		{"64 MB", 976, ""},
		{"1GB", 15258, ""},
		{"1Gi", 16384, ""},
		{"4GiB", 65536, ""},
		{"4GB", 61035, ""},
		{"0.5GiB", 8192, ""},
		{"1.5MiB", 24, ""},
		{"65536", 1, ""},
		{"131071B", 1, ""},
		{"1048576", 16, ""},
		{"64k", 0, "less than one 64 KiB page"},
		{"0", 0, "less than one"},
		{"65535", 0, "less than one"},
		{"4295032832", 0, "more than 65536 pages"},
		{"4295032831", 65536, ""},
		{"5GiB", 0, "more than 65536 pages"},
		{"64XB", 0, `unknown unit "XB"`},
		{"64TB", 0, "unknown unit"},
		{"", 0, "does not start with a number"},
		{"-64MB", 0, "does not start with a number"},
		{"MB", 0, "does not start with a number"},
		{"1.2.3MB", 0, "is not a number"},
		{"64.MB", 0, "is not a number"},
		{"1e6", 0, "unknown unit"},
		{strings.Repeat("9", 30) + "GB", 0, "is not a number"},
	}
	for _, tc := range cases {
		pages, err := ParseMemoryLimit(tc.in)
		switch {
		case tc.err == "" && (err != nil || pages != tc.pages):
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d", tc.in, pages, err, tc.pages)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want an error containing %q", tc.in, pages, err, tc.err)
		}
	}
}

func TestConfigValues(t *testing.T) {
	src := head + `  configuration:
    - {name: text, default: hello}
    - {name: quoted_number, default: "42"}
    - {name: int, default: 42}
    - {name: hex, default: 0x1F}
    - {name: negative, default: -7}
    - {name: big, default: 18446744073709551615}
    - {name: float, default: 2.50}
    - {name: exp, default: 1e6}
    - {name: inf, default: .inf}
    - {name: bool, default: True}
    - {name: yes_text, default: yes}
    - {name: date, default: 2001-12-14}
    - {name: empty_text, default: ""}
    - {name: nothing, default: ~}
    - {name: absent}
    - {name: list, default: [1, "two", 3.5, true, null, .nan]}
    - {name: map, default: {b: 1, a: [x], 1: one, "<": ">"}}
    - {name: empty_list, default: []}
`
	m := mustParse(t, src, "plugin.yml")
	want := map[string]string{
		"text":          "hello",
		"quoted_number": "42",
		"int":           "42",
		"hex":           "31",
		"negative":      "-7",
		"big":           "18446744073709551615",
		"float":         "2.5",
		"exp":           "1e+06",
		"inf":           ".inf",
		"bool":          "true",
		"yes_text":      "yes",
		"date":          "2001-12-14",
		"empty_text":    "",
		"list":          `[1,"two",3.5,true,null,".nan"]`,
		"map":           `{"1":"one","<":">","a":["x"],"b":1}`,
		"empty_list":    `[]`,
	}
	got := m.ConfigValues()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("ConfigValues()[%q] = %q (present %v), want %q", k, g, ok, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("ConfigValues() has %q = %q, want no entry", k, got[k])
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"premissions", "permissions", 2}, {"kitten", "sitting", 3}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}

// TestAliasKeys checks that a key written as an alias is the text of the
// anchored scalar, as yaml.v3 decodes it, not the anchor's name.
func TestAliasKeys(t *testing.T) {
	src := "apiVersion: &k kind\n*k : Plugin\nmetadata: {name: a, version: 1.0.0}\nspec:\n" +
		"  configuration:\n    - {name: &n b, default: {*n : 1, c: *n}}\n"
	m, err := ParseWith([]byte(src), "plugin.yml", Options{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindPlugin {
		t.Errorf("Kind = %q, want %q", m.Kind, KindPlugin)
	}
	if got, want := m.ConfigValues()["b"], `{"b":1,"c":"b"}`; got != want {
		t.Errorf("default = %s, want %s", got, want)
	}
}
