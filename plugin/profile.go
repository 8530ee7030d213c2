package plugin

import (
	"fmt"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/internal/wasmbin"
)

// ModuleInfo is what a module's bytes say about it before it is compiled:
// its exports with their types and its imports.
type ModuleInfo struct {
	Exports abi.Exports
	Imports []abi.Import
}

// ReadModule reads a module's exports and imports from its bytes, without
// compiling it.
func ReadModule(wasm []byte) (ModuleInfo, error) {
	exps, err := wasmbin.Exports(wasm)
	if err != nil {
		return ModuleInfo{}, err
	}
	imps, err := wasmbin.Imports(wasm)
	if err != nil {
		return ModuleInfo{}, err
	}
	var info ModuleInfo
	for _, e := range exps {
		x := abi.Export{Name: e.Name, Kind: abi.KindOther}
		switch e.Kind {
		case "func":
			x.Kind, x.Type = abi.KindFunc, funcType(e.Params, e.Results)
		case "memory":
			x.Kind = abi.KindMemory
		}
		info.Exports = append(info.Exports, x)
	}
	for _, im := range imps {
		info.Imports = append(info.Imports, abi.Import{Module: im.Module, Name: im.Name, Kind: im.Kind, Type: funcType(im.Params, im.Results)})
	}
	return info, nil
}

func funcType(params, results []byte) abi.FuncType {
	var t abi.FuncType
	for _, v := range params {
		t.Params = append(t.Params, abi.ValueType(v))
	}
	for _, v := range results {
		t.Results = append(t.Results, abi.ValueType(v))
	}
	return t
}

// ChooseProfile returns forced when it is not nil, and otherwise the profile
// abi.DetectProfile reads from the module, the handler names and the weak
// evidence (from the manifest), with the evidence either way.
func ChooseProfile(info ModuleInfo, forced *abi.Profile, handlers []string, weak ...abi.Evidence) (*abi.Profile, []abi.Evidence, error) {
	if forced != nil {
		return forced, []abi.Evidence{{Profile: forced, Reason: "chosen with --abi " + forced.Name, Strong: true}}, nil
	}
	p, ev, err := abi.DetectProfile(info.Exports, info.Imports, handlers, weak...)
	if err != nil {
		return nil, ev, fmt.Errorf("detect ABI profile: %w", err)
	}
	return p, ev, nil
}
