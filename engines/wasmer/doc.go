// Package wasmer runs kspbench plugins on Wasmer 2.0 through its Go binding
// wasmer-go v1.0.4 (Universal engine, Cranelift compiler). Importing it
// registers the engine "wasmer" with package engines.
//
// The binding lacks what the other adapters lean on, and the package makes up
// for it:
//
//   - memory limits, by rewriting each module's memory maximums before it
//     compiles (package internal/wasmbin);
//   - the compiled-code mappings that Wasmer frees only with its engine, by
//     recycling the wasmer Engine and Store every RecycleAfter compiles and
//     freeing an old one when its last module and instance close;
//   - host imports that know their caller and can fail safely: Wasmer's host
//     functions receive no caller, and wasmer-go's NewFunctionWithEnvironment
//     frees the trap of a failing host function twice, which crashes the
//     process at a later garbage collection, so host functions are made per
//     instance by a small C trampoline (host.c);
//   - instances that stay alive while in use: the binding's finalizers would
//     free an instance whose exported function is still being called, so
//     every Function and Memory handed out holds its instance;
//   - WASI poll_oneoff: Wasmer 2.0's own aborts the process on any clock
//     subscription (every Go guest's time.Sleep, and its scheduler's idle
//     polls), so each instance gets the adapter's own (poll.go, through the
//     same trampoline), whose sleeps end at the call's deadline.
//
// # Notes
//
// A running call cannot be interrupted: the binding has no epoch, fuel or
// metering API, so the engine reports engines.FeatureInterrupt as unsupported
// and hosts contain runaway calls themselves (package plugin abandons the
// instance at the deadline). wasmer-go and wasmtime-go define the same wasm.h
// symbols and cannot share a binary; Open refuses to run when the symbols do
// not resolve into libwasmer, and Info.Notes names the library that serves
// them. The adapter reads the C pointers of a few wasmer-go objects, which the
// binding keeps unexported; it checks their layout first and refuses to open
// (or falls back to the binding's finalizers) when it differs from v1.0.4.
package wasmer
