// direct_capi.c: C helpers of the "direct" variant (see direct_capi.h and
// direct.go). Each helper folds several C API calls into one cgo call, or
// keeps an out-parameter in C memory so that the Go side does not allocate.

#include <string.h>

#include "direct_capi.h"
#include "_cgo_export.h"

// kspd_available reports whether every C API function this file and the
// direct*.go files call resolved at link time (they are weak; see
// direct_capi.h).
int kspd_available(void) {
	// The list is every C API function named in this package's direct code.
	const void *fns[] = {
	    (const void *)wasm_byte_vec_delete,
	    (const void *)wasm_config_new,
	    (const void *)wasm_engine_delete,
	    (const void *)wasm_engine_new_with_config,
	    (const void *)wasm_exporttype_name,
	    (const void *)wasm_exporttype_type,
	    (const void *)wasm_exporttype_vec_delete,
	    (const void *)wasm_externtype_as_functype_const,
	    (const void *)wasm_externtype_kind,
	    (const void *)wasm_functype_delete,
	    (const void *)wasm_functype_new,
	    (const void *)wasm_functype_params,
	    (const void *)wasm_functype_results,
	    (const void *)wasm_trap_delete,
	    (const void *)wasm_trap_message,
	    (const void *)wasm_valtype_kind,
	    (const void *)wasm_valtype_new,
	    (const void *)wasm_valtype_vec_new_uninitialized,
	    (const void *)wasi_config_new,
	    (const void *)wasmtime_caller_context,
	    (const void *)wasmtime_config_epoch_interruption_set,
	    (const void *)wasmtime_config_parallel_compilation_set,
	    (const void *)wasmtime_config_target_set,
	    (const void *)wasmtime_context_get_data,
	    (const void *)wasmtime_context_set_epoch_deadline,
	    (const void *)wasmtime_context_set_wasi,
	    (const void *)wasmtime_engine_increment_epoch,
	    (const void *)wasmtime_engine_is_pulley,
	    (const void *)wasmtime_error_delete,
	    (const void *)wasmtime_error_message,
	    (const void *)wasmtime_error_new,
	    (const void *)wasmtime_extern_delete,
	    (const void *)wasmtime_func_call_unchecked,
	    (const void *)wasmtime_instance_export_get,
	    (const void *)wasmtime_instance_pre_delete,
	    (const void *)wasmtime_instance_pre_instantiate,
	    (const void *)wasmtime_linker_define_func_unchecked,
	    (const void *)wasmtime_linker_allow_shadowing,
	    (const void *)wasmtime_linker_define_wasi,
	    (const void *)wasmtime_linker_delete,
	    (const void *)wasmtime_linker_instantiate,
	    (const void *)wasmtime_linker_instantiate_pre,
	    (const void *)wasmtime_linker_new,
	    (const void *)wasmtime_memory_data,
	    (const void *)wasmtime_memory_data_size,
	    (const void *)wasmtime_module_delete,
	    (const void *)wasmtime_module_deserialize,
	    (const void *)wasmtime_module_exports,
	    (const void *)wasmtime_module_new,
	    (const void *)wasmtime_module_serialize,
	    (const void *)wasmtime_store_context,
	    (const void *)wasmtime_store_delete,
	    (const void *)wasmtime_store_epoch_deadline_callback,
	    (const void *)wasmtime_store_limiter,
	    (const void *)wasmtime_pooling_allocation_config_delete,
	    (const void *)wasmtime_pooling_allocation_config_new,
	    (const void *)wasmtime_pooling_allocation_strategy_set,
	    (const void *)wasmtime_store_new,
	    (const void *)wasmtime_trap_code,
	    (const void *)wasmtime_trap_new,
	};
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		if (fns[i] == NULL) {
			return 0;
		}
	}
	return 1;
}

// kspd_engine_new makes an engine. epoch turns on epoch interruption (which
// changes the compiled code); parallel = 0 compiles each module on one
// thread; pooling = 1 allocates instances, memories and tables from
// wasmtime's pooling allocator with its default limits (1,000 of each at
// once); target, if not NULL, is a compilation target such as "pulley64".
// A target wasmtime refuses is reported in *target_err and left out: the
// engine then compiles for the host.
wasm_engine_t *kspd_engine_new(int epoch, int parallel, int pooling, const char *target,
                               wasmtime_error_t **target_err) {
	wasm_config_t *config = wasm_config_new();
	if (config == NULL) {
		return NULL;
	}
	wasmtime_config_epoch_interruption_set(config, epoch != 0);
	if (!parallel) {
		wasmtime_config_parallel_compilation_set(config, false);
	}
	if (pooling) {
		wasmtime_pooling_allocation_config_t *pool = wasmtime_pooling_allocation_config_new();
		wasmtime_pooling_allocation_strategy_set(config, pool); // copies it
		wasmtime_pooling_allocation_config_delete(pool);
	}
	*target_err = NULL;
	if (target != NULL) {
		*target_err = wasmtime_config_target_set(config, target);
	}
	return wasm_engine_new_with_config(config); // takes the config
}

// kspd_host is the one callback of every host function this package defines:
// it finds the calling store's data, the guest memory as it is now, and hands
// the call to Go's kspdHost with index, the host function's position in
// abi.HostFuncs. Its values are raw (args_and_results: the parameters on
// entry, the results on return), their types checked once, when the linker
// matched the guest's imports against the types kspd_define_host gave.
static wasm_trap_t *kspd_host(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results,
                              size_t n) {
	wasmtime_context_t *ctx = wasmtime_caller_context(caller);
	kspd_store_t *d = wasmtime_context_get_data(ctx);
	uint8_t *base = kspd_memory((uintptr_t)ctx, (uintptr_t)d);
	return (wasm_trap_t *)kspdHost(d->slot, (uintptr_t)env, ctx, args_and_results, n, base, d->memory_size);
}

// kspd_define_host defines module.name on linker as kspd_host with index as
// its environment, of the function type given by value kinds (wasm_valkind_t).
wasmtime_error_t *kspd_define_host(wasmtime_linker_t *linker, const char *module, size_t module_len,
                                   const char *name, size_t name_len, const uint8_t *params, size_t nparams,
                                   const uint8_t *results, size_t nresults, uintptr_t index) {
	wasm_valtype_vec_t p, r;
	wasm_valtype_vec_new_uninitialized(&p, nparams);
	for (size_t i = 0; i < nparams; i++) {
		p.data[i] = wasm_valtype_new(params[i]);
	}
	wasm_valtype_vec_new_uninitialized(&r, nresults);
	for (size_t i = 0; i < nresults; i++) {
		r.data[i] = wasm_valtype_new(results[i]);
	}
	wasm_functype_t *ty = wasm_functype_new(&p, &r); // takes both vectors
	wasmtime_error_t *err = wasmtime_linker_define_func_unchecked(linker, module, module_len, name, name_len, ty,
	                                                              kspd_host, (void *)index, NULL);
	wasm_functype_delete(ty); // the linker keeps its own copy
	return err;
}

// kspd_deadline runs when the engine's epoch passes the store's deadline. The
// epoch is shared by every store of the engine, so it ends the call only when
// this store's own flag says the call's context is done, and otherwise lets it
// run to the next tick. It is the same callback as the binding variant's
// (interrupt.go), on this variant's store data.
static wasmtime_error_t *kspd_deadline(wasmtime_context_t *context, void *data, uint64_t *delta,
                                       wasmtime_update_deadline_kind_t *kind) {
	(void)context;
	kspd_store_t *d = data;
	if (__atomic_load_n(&d->interrupt, __ATOMIC_ACQUIRE)) {
		return wasmtime_error_new("kspbench: call interrupted: its context is done");
	}
	*delta = 1;
	*kind = WASMTIME_UPDATE_DEADLINE_CONTINUE;
	return NULL;
}

// kspd_store_new makes a store whose data is a new kspd_store_t (returned in
// *data, freed with the store) with slot; epoch is a KSPD_EPOCH_* mode;
// memory_limit caps each linear memory in bytes; wasi, when not 0, gives the
// store a default WASI context: no arguments, environment, files or stdin,
// and stdout and stderr discarded, as the binding variant's
// wt.NewWasiConfig() does. Returns NULL when out of memory or, with *err
// set, when WASI was refused.
wasmtime_store_t *kspd_store_new(wasm_engine_t *engine, uint32_t slot, int epoch, int64_t memory_limit,
                                 int wasi, kspd_store_t **data, wasmtime_error_t **err) {
	*err = NULL;
	kspd_store_t *d = calloc(1, sizeof *d);
	if (d == NULL) {
		return NULL;
	}
	d->slot = slot;
	wasmtime_store_t *store = wasmtime_store_new(engine, d, free);
	wasmtime_context_t *ctx = wasmtime_store_context(store);
	switch (epoch) {
	case KSPD_EPOCH_CALLBACK:
		// The store owns d (its data), so the callback needs no finalizer.
		wasmtime_store_epoch_deadline_callback(store, kspd_deadline, d, NULL);
		// One tick ahead; from then on the callback keeps it so.
		wasmtime_context_set_epoch_deadline(ctx, 1);
		break;
	case KSPD_EPOCH_NEVER:
		wasmtime_context_set_epoch_deadline(ctx, (uint64_t)1 << 62);
		break;
	}
	wasmtime_store_limiter(store, memory_limit, -1, -1, -1, -1);
	if (wasi) {
		*err = wasmtime_context_set_wasi(ctx, wasi_config_new()); // takes the config
		if (*err != NULL) {
			wasmtime_store_delete(store);
			return NULL;
		}
	}
	*data = d;
	return store;
}

// kspd_instantiate instantiates, from pre when it is not NULL and else from
// linker and module, into d's store (whose context is ctx), and records the
// instance and its export called memory, if that is a memory. A trap of the
// start function is left in d->trap.
wasmtime_error_t *kspd_instantiate(const wasmtime_instance_pre_t *pre, const wasmtime_linker_t *linker,
                                   const wasmtime_module_t *module, wasmtime_context_t *ctx, kspd_store_t *d,
                                   const char *memory, size_t memory_len) {
	d->trap = NULL;
	wasmtime_error_t *err;
	if (pre != NULL) {
		err = wasmtime_instance_pre_instantiate(pre, ctx, &d->instance, &d->trap);
	} else {
		err = wasmtime_linker_instantiate(linker, ctx, module, &d->instance, &d->trap);
	}
	if (err != NULL || d->trap != NULL) {
		return err;
	}
	d->instantiated = 1;
	wasmtime_extern_t item;
	if (wasmtime_instance_export_get(ctx, &d->instance, memory, memory_len, &item)) {
		if (item.kind == WASMTIME_EXTERN_MEMORY) {
			d->memory = item.of.memory;
			d->has_memory = 1;
		} else {
			wasmtime_extern_delete(&item); // frees a shared memory's handle; no-op otherwise
		}
	}
	return NULL;
}

// kspd_func_get returns the instance's exported function called name with a
// buffer of n raw values, or NULL when there is no such function (or no
// memory for it).
kspd_func_t *kspd_func_get(wasmtime_context_t *ctx, kspd_store_t *d, const char *name, size_t name_len, size_t n) {
	if (!d->instantiated) {
		return NULL;
	}
	wasmtime_extern_t item;
	if (!wasmtime_instance_export_get(ctx, &d->instance, name, name_len, &item)) {
		return NULL;
	}
	if (item.kind != WASMTIME_EXTERN_FUNC) {
		wasmtime_extern_delete(&item);
		return NULL;
	}
	kspd_func_t *f = calloc(1, sizeof *f + (n > 0 ? n : 1) * sizeof(wasmtime_val_raw_t));
	if (f == NULL) {
		return NULL;
	}
	f->func = item.of.func;
	f->n = n;
	f->vals = (wasmtime_val_raw_t *)(f + 1); // sizeof *f is a multiple of 8
	return f;
}

// kspd_call calls f with its values (the parameters in, the results out),
// leaving a trap in f->trap and returning any other error. When data (a
// kspd_store_t) is not 0, it then records the memory as the guest left it
// (kspd_memory), which the host reads next in nearly every case: two C API
// calls here instead of a cgo call later.
wasmtime_error_t *kspd_call(uintptr_t context, uintptr_t func, uintptr_t data) {
	wasmtime_context_t *ctx = (wasmtime_context_t *)context;
	kspd_func_t *f = (kspd_func_t *)func;
	f->trap = NULL;
	wasmtime_error_t *err = wasmtime_func_call_unchecked(ctx, &f->func, f->vals, f->n, &f->trap);
	if (data != 0) {
		kspd_memory(context, data);
	}
	return err;
}

// kspd_memory returns the base of d's memory and records it and its size in
// bytes in d; NULL and 0 when the instance exports no memory. Memory grows,
// and may move, only while the guest runs: the pair stays valid until then.
uint8_t *kspd_memory(uintptr_t context, uintptr_t data) {
	wasmtime_context_t *ctx = (wasmtime_context_t *)context;
	kspd_store_t *d = (kspd_store_t *)data;
	if (!d->has_memory) {
		d->memory_base = NULL;
		d->memory_size = 0;
		return NULL;
	}
	d->memory_size = wasmtime_memory_data_size(ctx, &d->memory);
	d->memory_base = wasmtime_memory_data(ctx, &d->memory);
	return d->memory_base;
}

// kspd_nothing does nothing: the benchmarks' bare cgo call.
void kspd_nothing(void) {}

// kspd_callbacks calls Go's empty kspdNothing n times: the benchmarks' bare
// C-to-Go callback, which every host call pays once.
void kspd_callbacks(int n) {
	for (int i = 0; i < n; i++) {
		kspdNothing();
	}
}
