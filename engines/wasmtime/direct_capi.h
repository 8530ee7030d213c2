// direct_capi.h: the C side of the engine's "direct" variant, which calls
// Wasmtime's C API itself instead of going through wasmtime-go's Go API (see
// direct.go). Included by direct_capi.c and by the cgo preambles of the
// direct*.go files.
#ifndef KSP_DIRECT_CAPI_H
#define KSP_DIRECT_CAPI_H

// Every C API function is declared weak. This package's cgo link check links
// the package's own C objects without libwasmtime.a (only the binding's cgo
// flags name it), and a weak reference does not fail it. At the final link the
// binding's strong references pull in the archive member that defines the
// whole C API (one codegen unit of the wasmtime crate), and these references
// resolve to it; kspd_available checks at run time that they did.
#define WASM_API_EXTERN __attribute__((weak))
#define WASI_API_EXTERN __attribute__((weak))

#include <stdint.h>
#include <stdlib.h>
#include <wasi.h>
#include <wasm.h>
#include <wasmtime/config.h>
#include <wasmtime/engine.h>
#include <wasmtime/error.h>
#include <wasmtime/extern.h>
#include <wasmtime/func.h>
#include <wasmtime/instance.h>
#include <wasmtime/linker.h>
#include <wasmtime/memory.h>
#include <wasmtime/module.h>
#include <wasmtime/store.h>
#include <wasmtime/trap.h>
#include <wasmtime/val.h>

// extern.h declares wasmtime_extern_delete without WASM_API_EXTERN.
#pragma weak wasmtime_extern_delete

// The deadline modes of a store (kspd_store_new).
enum {
	KSPD_EPOCH_OFF = 0,      // the engine compiles no epoch checks
	KSPD_EPOCH_CALLBACK = 1, // kspd_deadline decides at every tick
	KSPD_EPOCH_NEVER = 2,    // a deadline no call reaches (the baseline)
};

// kspd_store_t is the data of every store this package makes, freed by the
// store when it is deleted. Go reads and writes its fields only between calls
// into the guest, or from inside a host call of the same store, except
// interrupt, which is atomic.
typedef struct kspd_store {
	// interrupt, set, makes the next epoch tick end the store's call (see
	// kspd_deadline). It comes first: Go's interruptFlag points at it.
	int32_t interrupt;
	// slot is the store's entry in Go's table of host-call receivers.
	uint32_t slot;
	// The instance, once instantiated, and its exported memory, if any.
	uint8_t instantiated;
	uint8_t has_memory;
	wasmtime_instance_t instance;
	wasmtime_memory_t memory;
	// memory_base and memory_size are the memory as kspd_memory or kspd_call
	// last saw it: out-parameters kept in C memory, which Go reads without a
	// cgo call and whose taking does not allocate.
	uint8_t *memory_base;
	size_t memory_size;
	// trap is kspd_instantiate's trap, if any.
	wasm_trap_t *trap;
} kspd_store_t;

// kspd_func_t is an exported function with its raw argument and result
// buffer, allocated once per function per instance (one malloc, freed by Go
// with free when the instance is closed).
typedef struct kspd_func {
	wasmtime_func_t func;
	wasm_trap_t *trap;        // the trap of the last call, or NULL
	size_t n;                 // values in vals: max(params, results)
	wasmtime_val_raw_t *vals; // n values, right after the struct
} kspd_func_t;

int kspd_available(void);
wasm_engine_t *kspd_engine_new(int epoch, int parallel, int pooling, const char *target, wasmtime_error_t **target_err);
wasmtime_error_t *kspd_define_host(wasmtime_linker_t *linker, const char *module, size_t module_len,
                                   const char *name, size_t name_len, const uint8_t *params, size_t nparams,
                                   const uint8_t *results, size_t nresults, uintptr_t index);
wasmtime_store_t *kspd_store_new(wasm_engine_t *engine, uint32_t slot, int epoch, int64_t memory_limit,
                                 int wasi, kspd_store_t **data, wasmtime_error_t **err);
wasmtime_error_t *kspd_instantiate(const wasmtime_instance_pre_t *pre, const wasmtime_linker_t *linker,
                                   const wasmtime_module_t *module, wasmtime_context_t *ctx, kspd_store_t *d,
                                   const char *memory, size_t memory_len);
kspd_func_t *kspd_func_get(wasmtime_context_t *ctx, kspd_store_t *d, const char *name, size_t name_len, size_t n);
// The helpers called on every call take their pointers as uintptr_t: cgo
// checks a pointer argument for Go pointers on every call (cgocheck), which
// costs as much as the rest of the cgo call; these are always C pointers.
wasmtime_error_t *kspd_call(uintptr_t ctx, uintptr_t f, uintptr_t d);
uint8_t *kspd_memory(uintptr_t ctx, uintptr_t d);
void kspd_nothing(void);
void kspd_callbacks(int n);

#endif
