package conformance

import (
	"embed"
	"strings"
)

// Guests holds the hand-written guest modules of the conformance suite and the
// benchmarks, compiled from the .wat sources in testdata (rebuild them with
// testdata/build.sh; TestGuestsMatchSources checks that they agree). Each is
// plain WebAssembly 1.0 and imports only module env functions of its profile
// (ABI v1 unless said otherwise) and WASI preview1 functions, but for gojs.
// Read one with Guest.
//
// Valid guests, which load and run:
//
//   - reference: the minimal reference guest for the benchmarks and the ABI
//     cases. Memory of 2 pages, no maximum; allocate is a bump arena from
//     4096 that grows memory (0 when it cannot) and that every handler resets
//     before it returns, so memory stays bounded; deallocate is a no-op.
//     noop() does nothing; call_host(n i32) calls host_get_config n times on
//     the absent key "kspbench.absent". Handlers: handle_empty (empty
//     response), handle_echo (the request), handle_size (decimal N: N bytes
//     'a'+i%26; BAD_ARGUMENT when malformed, ALLOCATION_FAILED when memory
//     cannot grow), handle_log (host_log of the request), handle_config and
//     handle_storage_get (the import's result for the key), handle_storage_set
//     ("key=value": the status), handle_k8s (host_k8s_api_call of the path,
//     no body), handle_request_info (the import's result), handle_set_status
//     (decimal code: the status), handle_call_host (decimal n: call_host) and
//     handle_loop_n (decimal n: loop_n(n) as 8 bytes, little-endian).
//     loop_n(n i32) i64 sums 0..n-1 one loop iteration per term: the
//     loop-heavy code whose cost shows an engine's interruption checks.
//   - abi_v1: echo guest (memory, allocate, handle_echo) that declares ABI
//     version 1 with the export ksp_abi_version_1.
//   - big_memory: echo guest whose memory starts at 2000 pages, above a
//     1024-page limit.
//   - init: _initialize sets a flag; handle_initialized answers "yes" when it
//     is set and "no" otherwise.
//   - wasi (WASI clock_time_get and random_get): handle_time answers the
//     realtime clock, handle_random 16 random bytes.
//   - wasi_sleep (WASI poll_oneoff and clock_time_get): handle_sleep polls one
//     relative monotonic clock of 20 ms, handle_poll the subscriptions of the
//     request body (1 to 16 records of 48 bytes); both answer the errno and
//     event count (u32 each) and the event records. handle_monotonic answers
//     the monotonic clock. See testdata/wasi_sleep.wat.
//
// Guests that load but misbehave at run time:
//
//   - edge: memory of 1 page, allocate and deallocate as in reference, and
//     handle_ok ("ok"), handle_trap (unreachable), handle_oob_ptr
//     (pack(0xffff0000, 16)), handle_oob_len (pack(16, 0x7fffffff)),
//     handle_oob_wrap (pack(0xfffffff0, 0x20)), handle_status (pack(0, 2)),
//     handle_loop (never returns), handle_grow (decimal P: memory.grow(P),
//     "grown" or LIMIT_EXCEEDED), handle_grow_trap (grows until it fails,
//     then traps), handle_bad_import_ptr (host_log of an out-of-bounds range,
//     then "unreachable-after-log"), handle_reentrant (host_get_config of
//     "greeting") and handle_stack_overflow (unbounded recursion).
//   - storage_loop: handle_storage_loop calls host_storage_set("k", "v")
//     for ever (serve's isolation tests: a deadline that must still end a
//     guest looping on an import served in another process).
//   - alloc_zero: allocate always returns 0; handle_echo.
//   - alloc_oob: allocate returns 0xfffffff0, outside memory; handle_echo.
//   - alloc_trap: allocate traps; handle_echo and handle_reentrant.
//   - init_trap: echo guest whose _initialize traps.
//
// Guests of the kubestellar-ui profile (abi.KubeStellarUI, ABI.md §12), in
// the shape of the plugins published for the KubeStellar UI:
//
//   - ks_ref: handlers (i64, i64) -> i64; memory of 2 pages; a TinyGo-like
//     bump allocator from 0x1000 that never resets and traps past 0xf000
//     (about 3,500 echo calls of 8 bytes); deallocate (a no-op); main, the
//     manifest's entry point, sets a flag; _start calls proc_exit(0) and must
//     never run. Imports the reference host's env functions and WASI
//     proc_exit. Handlers: handle_echo (the request in a new allocation;
//     an empty request gives an empty result), handle_null (pointer 0,
//     length 5), handle_started ("yes" when main ran), handle_alloc_seen
//     ("yes" when allocate ran since its last call), handle_log (host_log of
//     the request; empty result), handle_config (host_get_config's document),
//     handle_storage_set (the request under key "k": "1" or "0"),
//     handle_storage_get (the value of the request's key; empty when absent)
//     and handle_k8s (host_k8s_api_call of the request's path).
//   - ks_bump: handle_status answers "ok" and bumps the allocator by 64
//     bytes it never frees; allocate never checks its end, so after 1985
//     calls on one instance the host's allocate(0) gets a pointer past the
//     2 pages of memory: the published plugins' failure when an instance is
//     not recycled (kubestellar-ui's budget is 1000 calls). handle_once
//     answers "ok" on an instance's first call of it and traps on later ones.
//   - ks_frontend: a frontend-only plugin (ks-monitoring's shape): memory and
//     a _start that calls proc_exit(0), nothing else.
//
// Guests a host must refuse to load:
//
//   - no_allocate: memory and handle_echo, no allocate.
//   - no_memory: allocate and handle_echo; the memory is not exported.
//   - bad_handler_sig: handle_echo has type (i32) -> i32.
//   - abi_v2: echo guest that declares ABI version 2 (ksp_abi_version_2).
//   - ks_mixed: handle_v1 has v1's handler type and handle_ks the
//     kubestellar-ui profile's: it reads as both profiles.
//   - gojs: exports that pass v1's export check, but imports module gojs
//     (built with GOOS=js / TinyGo -target wasm).
//
//go:embed testdata/*.wasm
var Guests embed.FS

// Guest returns the compiled module of the named guest, such as "reference"
// or "edge" (a ".wasm" suffix is accepted too), as a fresh copy the caller may
// keep. It panics when there is no such guest: the names are constants of the
// suite.
func Guest(name string) []byte {
	b, err := Guests.ReadFile("testdata/" + strings.TrimSuffix(name, ".wasm") + ".wasm")
	if err != nil {
		panic("conformance: no guest named " + name)
	}
	return b
}
