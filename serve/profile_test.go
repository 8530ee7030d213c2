package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
)

// ksManifest is a manifest as written for the KubeStellar UI reference host.
const ksManifest = `apiVersion: ks-ref/v1
kind: Plugin
metadata:
  name: ks-ref
  version: "1.0.0"
  author: admin
spec:
  wasm:
    file: ks-ref.wasm
    entrypoint: main
  backend:
    enabled: true
    routes:
      - path: /echo
        methods: [POST]
        handler: handle_echo
      - path: /null
        methods: [GET]
        handler: handle_null
  frontend:
    enabled: true
`

func ksDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ks-ref")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "plugin.yml"), ksManifest)
	write(t, filepath.Join(dir, "ks-ref.wasm"), string(conformance.Guest("ks_ref")))
	return dir
}

func TestServesKubeStellarProfile(t *testing.T) {
	ts := newServer(t, Config{MaxInstances: 1}, ksDir(t))
	if r := ts.do("POST", "/api/plugins/ks-ref/echo", []byte(`{"name":"x"}`)); r.code != 200 || string(r.body) != `{"name":"x"}` {
		t.Errorf("POST /echo: %v", r)
	}
	if r := ts.do("GET", "/api/plugins/ks-ref/null", nil); r.code != 200 || string(r.body) != "{}" {
		t.Errorf("GET /null (pointer 0): %v, want 200 {} as the reference host answers", r)
	}
	for range abi.KubeStellarUI.MaxCallsPerInstance + 1 {
		if r := ts.do("GET", "/api/plugins/ks-ref/null", nil); r.code != 200 {
			t.Fatalf("GET /null: %v", r)
		}
	}
	p := ts.listing().find("ks-ref")
	if p == nil || p.ABI != abi.KubeStellarUI.Name || len(p.Warnings) == 0 || p.Pool == nil || p.Pool.Recycled == 0 {
		t.Fatalf("listing %+v: want profile kubestellar-ui, the manifest's warnings and recycled instances", p)
	}
	if !strings.Contains(strings.Join(p.Notes, " "), "recycled") {
		t.Errorf("listing notes %q do not say instances are recycled", p.Notes)
	}
}

func TestServeForcedV1RefusesReferencePlugin(t *testing.T) {
	ts := newServer(t, Config{ABI: abi.V1}, ksDir(t))
	l := ts.listing()
	if len(l.Plugins) != 1 || l.Plugins[0].State != stateFailed || !strings.Contains(l.Plugins[0].Error, "kspbench's own rules") {
		t.Errorf("listing %+v: want ks-ref failed, saying v1's manifest rules are kspbench's own", l.Plugins)
	}
}
