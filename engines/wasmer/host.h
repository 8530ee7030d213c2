// host.h declares the C side of the adapter's host functions: the parts of
// wasm.h it uses, restated (this package has no include path into the module
// cache; the layouts are those of the standard wasm.h that libwasmer 2.0
// ships), and the trampoline that carries calls from Wasmer to Go.

#ifndef KSP_WASMER_HOST_H
#define KSP_WASMER_HOST_H

#include <stddef.h>
#include <stdint.h>

// ksp_val_t has the layout of wasm_val_t: a wasm_valkind_t, then an 8-byte
// union at offset 8.
typedef struct ksp_val_t {
	uint8_t kind;
	uint64_t bits;
} ksp_val_t;

// ksp_val_vec_t has the layout of wasm_val_vec_t.
typedef struct ksp_val_vec_t {
	size_t size;
	ksp_val_t *data;
} ksp_val_vec_t;

// Values of wasm_valkind_t.
enum { KSP_I32 = 0, KSP_I64 = 1, KSP_F32 = 2, KSP_F64 = 3 };

// ksp_host_ready reports whether libwasmer provides every function the
// trampoline needs.
int ksp_host_ready(void);

// ksp_func_new returns a new wasm_func_t of type functype on store whose
// calls go to kspHostCall with env, and through *extern its wasm_extern_t.
void *ksp_func_new(void *store, void *functype, uintptr_t env, void **extern_);

// ksp_func_delete deletes a wasm_func_t.
void ksp_func_delete(void *func);

#endif
