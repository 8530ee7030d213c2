package wasmtime

// The deadline callback below is C because wasmtime calls it from inside
// running guest code, where a Go callback would cost a cgo round trip on every
// epoch tick of every store. wasmtime-go v39 does not wrap
// wasmtime_store_epoch_deadline_callback, and this package cannot include the
// binding's headers (cgo gives it no include path into the module cache), so
// the few C API functions it needs are declared here by hand, as weak symbols:
// the binding's own LDFLAGS link libwasmtime.a, and a weak reference neither
// fails cgo's link check for this package nor pulls an archive member of its
// own. callbackAvailable checks at run time that they resolved; when they did
// not, the engine falls back to a ticker (see ticker.go).

/*
#include <stdint.h>
#include <stdlib.h>

typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef uint8_t wasmtime_update_deadline_kind_t;

// From wasmtime/store.h and wasmtime/error.h of wasmtime 39.0.0.
extern void wasmtime_store_epoch_deadline_callback(
    wasmtime_store_t *store,
    wasmtime_error_t *(*func)(wasmtime_context_t *context, void *data,
                              uint64_t *epoch_deadline_delta,
                              wasmtime_update_deadline_kind_t *update_kind),
    void *data, void (*finalizer)(void *)) __attribute__((weak));
extern wasmtime_error_t *wasmtime_error_new(const char *message) __attribute__((weak));
extern wasmtime_context_t *wasmtime_store_context(wasmtime_store_t *store) __attribute__((weak));

static int ksp_callback_available(void) {
	return wasmtime_store_epoch_deadline_callback != NULL && wasmtime_error_new != NULL &&
	       wasmtime_store_context != NULL;
}

// ksp_deadline runs when the engine's epoch passes the store's deadline: the
// epoch is shared by every store of the engine, so it ends the call only when
// this store's own flag says its context is done, and otherwise waits for the
// next tick.
static wasmtime_error_t *ksp_deadline(wasmtime_context_t *context, void *data, uint64_t *delta,
                                      wasmtime_update_deadline_kind_t *kind) {
	(void)context;
	if (__atomic_load_n((int32_t *)data, __ATOMIC_ACQUIRE)) {
		return wasmtime_error_new("kspbench: call interrupted: its context is done");
	}
	*delta = 1;
	*kind = 0; // WASMTIME_UPDATE_DEADLINE_CONTINUE
	return NULL;
}

// ksp_watch installs ksp_deadline on store and returns its flag, which the
// store frees when it is deleted, or NULL when out of memory.
static int32_t *ksp_watch(wasmtime_store_t *store) {
	int32_t *flag = calloc(1, sizeof *flag);
	if (flag != NULL) {
		wasmtime_store_epoch_deadline_callback(store, ksp_deadline, flag, free);
	}
	return flag;
}

static void *ksp_store_context(void *store) {
	return wasmtime_store_context((wasmtime_store_t *)store);
}
*/
import "C"

import (
	"errors"
	"reflect"
	"runtime"
	"sync/atomic"
	"unsafe"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
)

// callbackAvailable reports whether the C functions the deadline callback
// needs resolved at link time, and whether wt.Store still starts with the
// wasmtime_store_t pointer that storePointer reads.
func callbackAvailable() bool {
	if C.ksp_callback_available() == 0 {
		return false
	}
	f, ok := reflect.TypeFor[wt.Store]().FieldByName("_ptr")
	return ok && f.Offset == 0 && f.Type.Kind() == reflect.Pointer
}

// storePointer returns the wasmtime_store_t* of s. wt.Store keeps it in its
// first, unexported field and offers no accessor; callbackAvailable checks the
// field's place and TestStorePointer that the pointer is the store's (for the
// pinned binding version).
func storePointer(s *wt.Store) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(s)) }

// storeContext returns wasmtime_store_context of a raw store pointer, for
// TestStorePointer to compare with s.Context().
func storeContext(p unsafe.Pointer) unsafe.Pointer { return C.ksp_store_context(p) }

// interruptFlag is the C-side flag of one store: set, it makes the store's
// deadline callback end the running call at the next epoch tick.
type interruptFlag struct{ p *atomic.Int32 }

// watch installs the deadline callback on s.
func watch(s *wt.Store) (interruptFlag, error) {
	p := C.ksp_watch((*C.wasmtime_store_t)(storePointer(s)))
	runtime.KeepAlive(s)
	if p == nil {
		return interruptFlag{}, errors.New("wasmtime: out of memory for the store's interrupt flag")
	}
	return interruptFlag{(*atomic.Int32)(unsafe.Pointer(p))}, nil
}

// set makes the next epoch tick end the store's call; clear undoes it. The
// store owns the flag's memory: neither may be called after the store is
// deleted.
func (f interruptFlag) set()   { f.p.Store(1) }
func (f interruptFlag) clear() { f.p.Store(0) }
