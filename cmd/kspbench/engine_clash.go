//go:build wasmtime && wasmer

package main

// wasmtime-go and wasmer-go both define the C symbols of wasm.h
// (wasm_engine_new, wasm_instance_new, ...). Linked together, wasmer-go's calls
// land in wasmtime's implementation and crash or silently run on the wrong
// engine. Build with -tags wasmtime or with -tags wasmer, never both; see
// RATIONALE.md, "One cgo engine per process".
var _ = kspbench_cannot_link_wasmtime_and_wasmer_into_one_binary__build_with_one_tag_only
