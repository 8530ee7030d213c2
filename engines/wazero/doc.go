// Package wazero runs kspbench plugins on wazero, the pure-Go WebAssembly
// runtime (github.com/tetratelabs/wazero). Importing it registers the engine
// "wazero" with package engines.
//
// It uses wazero's compiler where the CPU supports it and reports in
// engines.Info when it fell back to the interpreter; ends runaway calls through
// wazero's close-on-context-done; caps memory with WithMemoryLimitPages; and
// binds host imports as api.GoModuleFunc, calling exports with CallWithStack,
// which are wazero's fastest paths. A guest asleep in WASI poll_oneoff is
// ended by its call's context too, through a per-instance nanosleep
// (sleep.go): close-on-context-done cannot reach a host function.
package wazero
