package wasmer

// The C side of the adapter: what libwasmer exports and wasmer-go does not
// wrap. This package has no include path into the module cache and does not
// link libwasmer itself (wasmer-go's package does, with an rpath into the
// module cache), so every libwasmer function is declared here, weak: cgo's link
// check of this package then passes, the final link binds the symbols to
// libwasmer, and a NULL address at run time means the symbol is absent.

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include "host.h"

extern const char *wasmer_version(void) __attribute__((weak));
extern void wasm_engine_new(void) __attribute__((weak));
extern void wasm_instance_new(void) __attribute__((weak));
extern void *wasm_func_call(const void *func, const ksp_val_vec_t *args, ksp_val_vec_t *results) __attribute__((weak));
extern void wasm_engine_delete(void *engine) __attribute__((weak));
extern intptr_t wasi_env_read_stdout(void *env, char *buf, uintptr_t len) __attribute__((weak));
extern intptr_t wasi_env_read_stderr(void *env, char *buf, uintptr_t len) __attribute__((weak));

static const char *ksp_wasmer_version(void) {
	return wasmer_version ? wasmer_version() : NULL;
}

// ksp_library_of names the shared object (or executable) that holds the code
// a wasm.h symbol resolved to, as this binary calls it: 0 engine_new,
// 1 instance_new, 2 func_call.
static const char *ksp_library_of(int which) {
	void *addr = NULL;
	switch (which) {
	case 0: addr = (void *)wasm_engine_new; break;
	case 1: addr = (void *)wasm_instance_new; break;
	case 2: addr = (void *)wasm_func_call; break;
	}
	Dl_info info;
	if (addr == NULL || dladdr(addr, &info) == 0 || info.dli_fname == NULL) {
		return NULL;
	}
	return info.dli_fname;
}

// ksp_func_call_empty calls a wasm_func_t of type [] -> [] n times through
// wasm_func_call itself, with empty value vectors made once: the call as it
// costs without wasmer-go's binding. It returns the first trap, NULL when
// none, and func itself when libwasmer lacks wasm_func_call.
static void *ksp_func_call_empty(void *func, int n) {
	static const ksp_val_vec_t args = {0, NULL};
	ksp_val_vec_t results = {0, NULL};
	if (wasm_func_call == NULL) {
		return func;
	}
	for (int i = 0; i < n; i++) {
		void *trap = wasm_func_call(func, &args, &results);
		if (trap != NULL) {
			return trap;
		}
	}
	return NULL;
}

static int ksp_has_engine_delete(void) {
	return wasm_engine_delete != NULL;
}

static void ksp_engine_delete(void *engine) {
	wasm_engine_delete(engine);
}

// ksp_wasi_drain moves what the guest wrote to its captured stdout
// (stream 1) or stderr (stream 2) into buf and returns how many bytes.
static size_t ksp_wasi_drain(void *env, int stream, char *buf, size_t len) {
	intptr_t n = -1;
	if (stream == 1 && wasi_env_read_stdout) {
		n = wasi_env_read_stdout(env, buf, len);
	} else if (stream == 2 && wasi_env_read_stderr) {
		n = wasi_env_read_stderr(env, buf, len);
	}
	return n < 0 ? 0 : (size_t)n;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	"github.com/wasmerio/wasmer-go/wasmer"
)

// libraryVersion returns the version libwasmer reports, or "" when the
// library does not export wasmer_version.
func libraryVersion() string {
	if v := C.ksp_wasmer_version(); v != nil {
		return C.GoString(v)
	}
	return ""
}

// wasmSymbols are the wasm.h functions whose home libraryOf checks.
var wasmSymbols = []string{"wasm_engine_new", "wasm_instance_new", "wasm_func_call"}

// libraryOf returns the file that holds the code of each symbol of
// wasmSymbols as this binary calls it ("" when it cannot tell).
func libraryOf() []string {
	files := make([]string, len(wasmSymbols))
	for i := range wasmSymbols {
		if f := C.ksp_library_of(C.int(i)); f != nil {
			files[i] = C.GoString(f)
		}
	}
	return files
}

// innerLayout reports whether a wasmer-go type keeps its C pointer in its
// first field, _inner, as v1.0.4 does. The adapter reaches that pointer only
// for what the binding does not offer (freeing an engine at a known time,
// draining captured WASI output), and only when the layout is as expected.
func innerLayout(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t.NumField() == 0 {
		return false
	}
	f := t.Field(0)
	return f.Name == "_inner" && f.Offset == 0 && f.Type.Kind() == reflect.Pointer
}

var (
	engineDeletable = innerLayout(reflect.TypeFor[wasmer.Engine]()) && C.ksp_has_engine_delete() != 0
	wasiLayout      = innerLayout(reflect.TypeFor[wasmer.WasiEnvironment]())
)

// hostReady reports whether host functions can be made in C: libwasmer
// provides what the trampoline calls, and the wasmer-go types whose C
// pointers it needs (Store, FunctionType) or builds (Extern) have the layout
// of v1.0.4.
func hostReady() error {
	if C.ksp_host_ready() == 0 {
		return errors.New("wasmer: libwasmer lacks a function the host-function trampoline needs")
	}
	for _, t := range []reflect.Type{reflect.TypeFor[wasmer.Store](), reflect.TypeFor[wasmer.FunctionType](), reflect.TypeFor[wasmer.Extern]()} {
		if !innerLayout(t) {
			return fmt.Errorf("wasmer: %s does not keep its C pointer in its first field _inner, as wasmer-go v1.0.4 does", t)
		}
	}
	return nil
}

// storePointer and functypePointer return the C pointers of wasmer-go
// objects whose layout hostReady checked.
func storePointer(s *wasmer.Store) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(s)) }

func functypePointer(t *wasmer.FunctionType) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(t))
}

// funcLayout says whether wasmer.Function keeps its wasm_func_t in _inner,
// as v1.0.4 does.
var funcLayout = innerLayout(reflect.TypeFor[wasmer.Function]())

// callEmptyDirect calls f, an export of type [] -> [], n times through
// wasm_func_call with preallocated empty value vectors, in one cgo call
// when n > 1: what a direct variant's call would cost (RATIONALE.md, "wasmer
// has no direct variant (yet)"). The caller keeps f's instance alive.
func callEmptyDirect(f *wasmer.Function, n int) error {
	if !funcLayout {
		return errors.New("wasmer: wasmer.Function does not keep its C pointer in _inner, as wasmer-go v1.0.4 does")
	}
	switch p := *(*unsafe.Pointer)(unsafe.Pointer(f)); C.ksp_func_call_empty(p, C.int(n)) {
	case nil:
		return nil
	case p:
		return errors.New("wasmer: libwasmer lacks wasm_func_call")
	}
	return errors.New("wasmer: the direct call trapped") // the trap is leaked: a benchmark's failure
}

// deleteEngine frees a wasmer engine now rather than when the garbage
// collector finalizes it, so the compiled code it holds is unmapped at once.
// The caller must hold no other object of the engine that is still in use.
func deleteEngine(e *wasmer.Engine) {
	if !engineDeletable {
		return // the binding's finalizer frees it when the collector finds it
	}
	runtime.SetFinalizer(e, nil)
	C.ksp_engine_delete(*(*unsafe.Pointer)(unsafe.Pointer(e)))
}

// wasiPointer returns the wasi_env_t of a WASI environment, or nil.
func wasiPointer(w *wasmer.WasiEnvironment) unsafe.Pointer {
	if !wasiLayout {
		return nil
	}
	return *(*unsafe.Pointer)(unsafe.Pointer(w))
}

// drainWASI moves captured output of stream (1 stdout, 2 stderr) into buf
// and returns how many bytes it moved.
func drainWASI(env unsafe.Pointer, stream int, buf []byte) int {
	if env == nil || len(buf) == 0 {
		return 0
	}
	return int(C.ksp_wasi_drain(env, C.int(stream), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))))
}
