// Command kspbench measures and compares WebAssembly engines that host
// kspbench plugins (wazero, wasmtime-go, wasmer-go).
//
// Usage (a cobra command tree; long flags take two dashes):
//
//	kspbench run [flags]        benchmark every engine, write reports/<run>/
//	kspbench compare OLD NEW    verdict with benchstat's test, then its tables; exit 1 on a regression
//	kspbench inspect PATH       print a plugin's manifest summary, wasm size and exports
//	kspbench worker --engine E  serve one engine over JSON lines (used by run and by tests)
//	kspbench engines            list the engines linked into this binary
//	kspbench serve [flags]      serve plugins over HTTP on one engine (/api/plugins/<name>/<route>)
//	kspbench help <command>     a command's flags and examples; kspbench completion bash|zsh|fish|powershell
//
// A binary links wazero always, and wasmtime-go or wasmer-go when built with
// -tags wasmtime or -tags wasmer; never both (they define the same C symbols).
// `kspbench run` builds or finds one worker binary per engine; `kspbench serve`
// re-executes the binary of the engine it is asked for when it does not link it.
package main
