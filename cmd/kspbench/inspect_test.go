package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	_ "github.com/kspbench/kspbench/engines/wazero"
)

// referenceFolder writes a plugin folder in the shape of the KubeStellar UI's
// published plugins: a manifest with its own apiVersion and an entry point,
// and the ks_ref guest.
func referenceFolder(t *testing.T, guest string) string {
	t.Helper()
	dir := t.TempDir()
	yml := `apiVersion: echo/v1
kind: Plugin
metadata:
  name: echo
  version: "1.0.0"
spec:
  wasm:
    file: echo.wasm
    entrypoint: main
  backend:
    enabled: true
    routes:
      - path: /echo
        methods: [POST]
        handler: handle_echo
`
	if err := os.WriteFile(filepath.Join(dir, "plugin.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "echo.wasm"), conformance.Guest(guest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestInspectReferenceProfile(t *testing.T) {
	var out, errb bytes.Buffer
	if err := kspbench(context.Background(), nil, &out, &errb, []string{"inspect", referenceFolder(t, "ks_ref")}); err != nil {
		t.Fatalf("inspect: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"abi profile  kubestellar-ui",
		"because    handler handle_echo has type (i64, i64) -> (i64)",
		`the manifest's apiVersion is "echo/v1"`,
		"import       env.host_get_config (i32) -> (i32)",
		"abi          kubestellar-ui: exports and imports conform",
		"to reach ABI v1",
		"handlers handle_echo: type (i64, i64) -> (i64) -> (i32, i32) -> (i64)",
		"//go:wasmexport",
		"apiVersion: " + "kubestellar.io/v1",
		"every size, 0 included",
		"host_get_config (i32) -> (i32) -> (i32, i32) -> (i64)",
		"why: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestInspectForcedV1AndBadImports(t *testing.T) {
	var out, errb bytes.Buffer
	err := kspbench(context.Background(), nil, &out, &errb, []string{"inspect", "--abi", "v1", referenceFolder(t, "ks_ref")})
	if err == nil || !strings.Contains(err.Error(), "kspbench's own rules") {
		t.Errorf("--abi v1 on a reference manifest: %v", err)
	}
	dir := t.TempDir()
	wasm := filepath.Join(dir, "gojs.wasm")
	if err := os.WriteFile(wasm, conformance.Guest("gojs"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = kspbench(context.Background(), nil, &out, &errb, []string{"inspect", wasm})
	if err == nil || !strings.Contains(err.Error(), "GOOS=js") || !strings.Contains(out.String(), "FAILS") {
		t.Errorf("inspect of a gojs module: %v\n%s", err, out.String())
	}
	if _, err := parseABI("v2"); err == nil || !strings.Contains(err.Error(), abi.KubeStellarUI.Name) {
		t.Errorf("--abi v2: %v", err)
	}
}
