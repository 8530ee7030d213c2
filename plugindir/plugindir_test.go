package plugindir_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/plugindir"
)

// referenceManifest is a manifest as written for the KubeStellar UI reference
// host: its own apiVersion, spec.wasm.entrypoint, an unknown key.
const referenceManifest = `apiVersion: echo/v1
kind: Plugin
metadata:
  name: "echo"
  version: "1.0.0"
  author: "admin"
spec:
  wasm:
    file: "echo.wasm"
    entrypoint: "main"
  backend:
    enabled: true
%s
  info:
    tags:
      - example
`

const echoRoutes = `    routes:
      - path: "/echo"
        methods: ["POST"]
        handler: "handle_echo"`

func folder(t *testing.T, manifest string, guest string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plugin.yml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "echo.wasm"), conformance.Guest(guest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReferenceManifestAndModule(t *testing.T) {
	f, err := plugindir.Read(folder(t, strings.Replace(referenceManifest, "%s", echoRoutes, 1), "ks_ref"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Profile != abi.KubeStellarUI {
		t.Errorf("profile %s, want kubestellar-ui (evidence %v)", f.Profile, f.Evidence)
	}
	ws := strings.Join(f.Warnings, "\n")
	for _, w := range []string{"plugin.yml:17:3: spec.info: unknown key"} {
		if !strings.Contains(ws, w) {
			t.Errorf("warnings %q lack %q", ws, w)
		}
	}
	eng, err := wazero.Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	p, err := f.Load(context.Background(), eng, plugindir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if got, err := p.Call(context.Background(), "handle_echo", []byte("hi")); err != nil || string(got) != "hi" {
		t.Errorf("handle_echo: %q, %v", got, err)
	}
	if got, err := p.Call(context.Background(), "handle_started", nil); err != nil || string(got) != "yes" {
		t.Errorf("the manifest's entry point did not run: %q, %v", got, err)
	}
}

func TestFrontendOnly(t *testing.T) {
	f, err := plugindir.Read(folder(t, strings.Replace(referenceManifest, "%s", "", 1), "ks_frontend"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Profile != abi.KubeStellarUI || len(f.Routes()) != 0 {
		t.Errorf("profile %s, %d routes; want kubestellar-ui and none", f.Profile, len(f.Routes()))
	}
	if !strings.Contains(strings.Join(f.Warnings, "\n"), "frontend-only") {
		t.Errorf("warnings %q do not say the plugin is frontend-only", f.Warnings)
	}
}

func TestV1ModuleKeepsTheStrictManifest(t *testing.T) {
	_, err := plugindir.Read(folder(t, strings.Replace(referenceManifest, "%s", echoRoutes, 1), "reference"))
	if err == nil || !strings.Contains(err.Error(), "follows ABI v1, whose manifests are read strictly") || !strings.Contains(err.Error(), "apiVersion") {
		t.Errorf("got %v, want the strict reading's apiVersion error, saying why", err)
	}
	_, err = plugindir.ReadWith(folder(t, strings.Replace(referenceManifest, "%s", echoRoutes, 1), "ks_ref"), abi.V1)
	if err == nil || !strings.Contains(err.Error(), "apiVersion") {
		t.Errorf("--abi v1 on a reference manifest: got %v, want the strict reading's error", err)
	}
}
