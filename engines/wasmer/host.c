#include "host.h"
#include "_cgo_export.h"

// libwasmer's functions, declared weak: see library.go.
extern void *wasm_func_new_with_env(void *store, void *functype,
	void *(*callback)(void *env, const ksp_val_vec_t *args, ksp_val_vec_t *results),
	void *env, void (*finalizer)(void *)) __attribute__((weak));
extern void *wasm_func_as_extern(void *func) __attribute__((weak));
extern void wasm_func_delete(void *func) __attribute__((weak));
extern void *wasm_trap_new(void *store, const void *message) __attribute__((weak));
extern void wasm_byte_vec_new(void *out, size_t size, const char *data) __attribute__((weak));
extern void wasm_byte_vec_delete(void *vec) __attribute__((weak));
extern void wasm_val_vec_delete(ksp_val_vec_t *vec) __attribute__((weak));

typedef struct ksp_byte_vec_t {
	size_t size;
	char *data;
} ksp_byte_vec_t;

_Static_assert(sizeof(ksp_val_t) == 16 && offsetof(ksp_val_t, bits) == 8, "ksp_val_t must match wasm_val_t");

int ksp_host_ready(void) {
	return wasm_func_new_with_env && wasm_func_as_extern && wasm_func_delete && wasm_trap_new &&
		wasm_byte_vec_new && wasm_byte_vec_delete && wasm_val_vec_delete;
}

// ksp_trap returns a new trap, which the caller (Wasmer) owns. The message
// is fixed: the host's error reaches Go's caller through the instance.
static void *ksp_trap(void *store) {
	static const char msg[] = "kspbench: host import failed";
	ksp_byte_vec_t m;
	wasm_byte_vec_new(&m, sizeof msg, msg); // with its NUL: wasm_message_t is null-terminated
	void *trap = wasm_trap_new(store, &m);
	wasm_byte_vec_delete(&m);
	return trap;
}

// ksp_results holds a host call's results while Wasmer reads them; see
// ksp_trampoline. A nested host call (an import that calls back into the
// guest) is over before the outer one copies its results here.
static __thread ksp_val_t ksp_results[8];

// ksp_trampoline is the callback of every host function. Wasmer 2.0's C API
// allocates the argument and result vectors of each call and never frees
// them (its vector types have no destructor): 16 bytes a value, every host
// call. The trampoline frees both: the arguments once Go has read them, the
// results once copied to ksp_results, from which Wasmer reads them after the
// callback returns (and which it does not free either).
static void *ksp_trampoline(void *env, const ksp_val_vec_t *args, ksp_val_vec_t *results) {
	void *store = kspHostCall((uintptr_t)env, args->data, args->size, results->data, results->size);
	wasm_val_vec_delete((ksp_val_vec_t *)args);
	if (store != NULL) {
		wasm_val_vec_delete(results); // not read on a trap
		return ksp_trap(store);
	}
	size_t n = results->size;
	if (n <= sizeof ksp_results / sizeof ksp_results[0]) {
		for (size_t i = 0; i < n; i++) {
			ksp_results[i] = results->data[i];
		}
		wasm_val_vec_delete(results);
		results->data = ksp_results;
		results->size = n;
	}
	return NULL;
}

void *ksp_func_new(void *store, void *functype, uintptr_t env, void **extern_) {
	void *f = wasm_func_new_with_env(store, functype, ksp_trampoline, (void *)env, NULL);
	*extern_ = f == NULL ? NULL : wasm_func_as_extern(f);
	return f;
}

void ksp_func_delete(void *func) {
	wasm_func_delete(func);
}
