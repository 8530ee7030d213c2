// Package engines is the one interface behind which kspbench runs a
// WebAssembly engine, and the registry that names the engines linked into a
// program, in the manner of database/sql and its drivers.
//
// The interface has three levels, each with its own Close: an Engine compiles
// a Module once; a Module instantiates many Instances, each bound to the host
// imports of package abi; an Instance exposes its memory and its exported
// functions. An adapter lives in engines/<name> and registers itself from its
// init function, so a program selects engines by importing them:
//
//	import _ "github.com/kspbench/kspbench/engines/wazero"
//	eng, err := engines.Open("wazero", engines.Config{})
//
// wasmtime-go and wasmer-go both define the C symbols of wasm.h, so no program
// may import both engines/wasmtime and engines/wasmer; see RATIONALE.md.
package engines
