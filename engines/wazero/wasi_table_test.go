package wazero

import (
	"context"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// TestWASITable checks abi's table of WASI preview 1 functions, which the
// import check at load uses, against wazero's own WASI module.
func TestWASITable(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		t.Fatal(err)
	}
	mod := r.Module(abi.WASIModule)
	if mod == nil {
		t.Fatal("no WASI module after instantiating it")
	}
	defs := mod.ExportedFunctionDefinitions()
	for name, d := range defs {
		want := abi.FuncType{Params: abiTypes(d.ParamTypes()), Results: abiTypes(d.ResultTypes())}
		got, ok := abi.WASIFunc(name)
		if !ok {
			t.Errorf("abi's WASI table lacks %s %s", name, want)
		} else if !got.Equal(want) {
			t.Errorf("abi's WASI table has %s %s, wazero %s", name, got, want)
		}
	}
	for _, name := range abi.WASIFuncNames() {
		if _, ok := defs[name]; !ok {
			t.Errorf("abi's WASI table has %s, which wazero does not provide", name)
		}
	}
}
