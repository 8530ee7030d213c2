// Package wasmtime runs kspbench plugins on Wasmtime through its Go binding,
// github.com/bytecodealliance/wasmtime-go (cgo, with the Wasmtime C library
// linked statically). Importing it registers the engine "wasmtime" with
// package engines.
//
// Code runs compiled by Cranelift, or on the Pulley interpreter when
// engines.Config.Interpreter asks for it. Each instance has a wt.Store of its
// own, with a memory limiter and WASI (no files, environment or arguments);
// the host imports of package abi are bound once per engine on a wt.Linker
// with Linker.FuncNew, which finds the calling instance through the store's
// data. Compiled modules are cached on disk with Module.Serialize when
// engines.Config.CacheDir is set.
//
// # Deadlines
//
// A call ends when its context is done through Wasmtime's epoch interruption.
// The epoch belongs to the engine, shared by every store, so ticking it for
// one call would end them all; instead each store gets a deadline callback,
// written in C in this package because the binding does not wrap
// wasmtime_store_epoch_deadline_callback, that ends the store's call only
// when a flag of that store is set, and otherwise lets it run to the next
// tick. A call whose context can end registers a context.AfterFunc that sets
// the flag and ticks the epoch. If the binary lacks the C functions the
// callback needs (they are linked as weak symbols), the engine falls back to
// a clock that ticks the epoch every few milliseconds and ends calls at their
// context's deadline only, and reports that through engines.FeatureReporter.
//
// A guest asleep in WASI poll_oneoff (any Go guest's time.Sleep) is out of
// epoch interruption's reach: Wasmtime's own poll_oneoff sleeps inside Rust.
// Both variants therefore shadow that import on their linkers with the
// adapter's own (poll.go, package engines/internal/wasipoll), whose sleep
// ends when the call's context does, trapping with the context's error.
//
// # The direct variant
//
// With engines.Config.Variant "direct" (VariantDirect) the engine runs the same
// statically linked library through its C API, called by this package
// (direct*.go, direct_capi.c), not through wasmtime-go's Go API, which costs
// a Go program about twenty times what wasmtime itself does for an empty
// call. A call is one cgo call of wasmtime_func_call_unchecked on a raw value
// buffer made once per function; every host function is the one C trampoline
// kspd_host, defined with wasmtime_linker_define_func_unchecked, entering one
// exported Go function that dispatches by the function's index in
// abi.HostFuncs and finds its instance by a slot number in the store's data
// (C memory never holds a Go pointer). Instances come from a per-module
// wasmtime_instance_pre_t. Deadlines, the memory limit, WASI, the cache (whose
// entries both variants share) and error mapping behave as in the binding
// variant; NoDeadline leaves epoch interruption out and CompileWorkers 1
// turns parallel compilation off. The C API headers it compiles against are
// copies of the binding's, in include/; the library is linked by the binding
// package, which is imported for that.
//
// No program may import both this package and engines/wasmer: wasmtime-go and
// wasmer-go define the same C symbols.
package wasmtime
