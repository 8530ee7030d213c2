// Command kspbench measures and compares WebAssembly engines that host
// kspbench plugins (wazero, wasmtime-go, wasmer-go).
//
// Usage:
//
//	kspbench run [flags]        benchmark every engine, write reports/<run>/
//	kspbench inspect PATH       print a plugin's manifest summary, wasm size and exports
//	kspbench worker --engine E  serve one engine over JSON lines (used by run and by tests)
//	kspbench engines            list the engines linked into this binary
//
// A binary links wazero always, and wasmtime-go or wasmer-go when built with
// -tags wasmtime or -tags wasmer; never both (they define the same C symbols).
// `kspbench run` builds or finds one worker binary per engine.
package main
