// reference.c is the reference guest of kspbench (ABI v1) in C: the same
// exports and behaviour as ../reference.wat, built without libc by
// build.sh (clang --target=wasm32 -mcpu=mvp, so plain WebAssembly 1.0). The
// conformance suite runs the reference guest's ABI cases on it too
// (abi-c/...), so a guest from a compiler meets the ABI as the hand-written
// one does.
//
// Memory: the heap is a bump arena from __heap_base (after the data and
// C's shadow stack) that grows memory as needed; every handler resets it just
// before it returns, so memory stays bounded over any number of calls.
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

IMPORT(host_log) void host_log(uint32_t ptr, uint32_t len);
IMPORT(host_get_config) uint64_t host_get_config(uint32_t ptr, uint32_t len);
IMPORT(host_storage_get) uint64_t host_storage_get(uint32_t ptr, uint32_t len);
IMPORT(host_storage_set) uint32_t host_storage_set(uint32_t kptr, uint32_t klen, uint32_t vptr, uint32_t vlen);
IMPORT(host_k8s_api_call) uint64_t host_k8s_api_call(uint32_t pptr, uint32_t plen, uint32_t bptr, uint32_t blen);
IMPORT(host_request_info) uint64_t host_request_info(void);
IMPORT(host_set_response_status) uint32_t host_set_response_status(uint32_t code);

// Status codes of abi/ABI.md.
enum { BAD_ARGUMENT = 2, ALLOCATION_FAILED = 7 };

extern unsigned char __heap_base;

// The key the guest-to-host benchmark asks for; no host has it.
static const char absent[] = "kspbench.absent";

static uint32_t bump;

static uint32_t heap_base(void) { return (uint32_t)(uintptr_t)&__heap_base; }

static uint32_t addr(const void *p) { return (uint32_t)(uintptr_t)p; }

static uint64_t pack(uint32_t ptr, uint32_t len) { return (uint64_t)ptr << 32 | len; }

// allocate(size) returns the 8-byte aligned address of size writable bytes,
// growing memory when needed, or 0 when memory cannot grow.
EXPORT(allocate) uint32_t allocate(uint32_t size) {
	if (bump == 0) {
		bump = heap_base();
	}
	// All in 64 bits, so nothing wraps around 2^32.
	uint64_t ptr = ((uint64_t)bump + 7) & ~(uint64_t)7;
	uint64_t end = ptr + size;
	if (end >= (uint64_t)1 << 32) {
		return 0;
	}
	uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) << 16;
	if (end > have) {
		if (__builtin_wasm_memory_grow(0, (uint32_t)((end - have + 0xffff) >> 16)) == (uintptr_t)-1) {
			return 0;
		}
	}
	bump = (uint32_t)end;
	return (uint32_t)ptr;
}

// deallocate is a no-op: the arena is reset at the end of every handler.
EXPORT(deallocate) void deallocate(uint32_t ptr, uint32_t size) {
	(void)ptr;
	(void)size;
}

// end_call resets the arena and passes the handler's result through.
static uint64_t end_call(uint64_t result) {
	bump = heap_base();
	return result;
}

// parse_u32 reads 1 to 10 ASCII digits as a number below 2^32, or returns -1
// when the text is anything else.
static int64_t parse_u32(uint32_t ptr, uint32_t len) {
	const unsigned char *p = (const unsigned char *)(uintptr_t)ptr;
	if (len == 0 || len > 10) {
		return -1;
	}
	uint64_t v = 0;
	for (uint32_t i = 0; i < len; i++) {
		uint32_t d = (uint32_t)p[i] - '0';
		if (d > 9) {
			return -1;
		}
		v = v * 10 + d;
	}
	return v > 0xffffffffu ? -1 : (int64_t)v;
}

// fill writes 'a' + (i mod 26) to byte i of [p, p+n).
static void fill(uint32_t ptr, uint32_t n) {
	unsigned char *p = (unsigned char *)(uintptr_t)ptr;
	unsigned char c = 'a';
	for (uint32_t i = 0; i < n; i++) {
		p[i] = c;
		c = c == 'z' ? 'a' : c + 1;
	}
}

// noop: the empty call, for the host-to-guest call benchmark.
EXPORT(noop) void noop(void) {}

// call_host(n): n calls of host_get_config on a key no host has, results
// discarded; anything a host allocates for a result is given back after each.
EXPORT(call_host) void call_host(uint32_t n) {
	uint32_t mark = bump;
	for (; n > 0; n--) {
		host_get_config(addr(absent), sizeof absent - 1);
		bump = mark;
	}
}

EXPORT(handle_empty) uint64_t handle_empty(uint32_t ptr, uint32_t len) {
	(void)ptr;
	(void)len;
	return end_call(0);
}

EXPORT(handle_echo) uint64_t handle_echo(uint32_t ptr, uint32_t len) { return end_call(pack(ptr, len)); }

// handle_size: the request is a decimal N; the response is N bytes, byte i
// being 'a' + (i mod 26). N = 0 is an empty response; a malformed N is
// BAD_ARGUMENT; N bytes that cannot be allocated is ALLOCATION_FAILED.
static uint64_t size(uint32_t ptr, uint32_t len) {
	int64_t n = parse_u32(ptr, len);
	if (n < 0) {
		return BAD_ARGUMENT;
	}
	if (n == 0) {
		return 0;
	}
	uint32_t out = allocate((uint32_t)n);
	if (out == 0) {
		return ALLOCATION_FAILED;
	}
	fill(out, (uint32_t)n);
	return pack(out, (uint32_t)n);
}

EXPORT(handle_size) uint64_t handle_size(uint32_t ptr, uint32_t len) { return end_call(size(ptr, len)); }

EXPORT(handle_log) uint64_t handle_log(uint32_t ptr, uint32_t len) {
	host_log(ptr, len);
	return end_call(0);
}

EXPORT(handle_config) uint64_t handle_config(uint32_t ptr, uint32_t len) {
	return end_call(host_get_config(ptr, len));
}

// handle_storage_set: the request is key=value (split at the first '=');
// host_storage_set's status as pack(0, status). No '=' is BAD_ARGUMENT.
static uint64_t storage_set(uint32_t ptr, uint32_t len) {
	const unsigned char *p = (const unsigned char *)(uintptr_t)ptr;
	for (uint32_t i = 0; i < len; i++) {
		if (p[i] == '=') {
			return host_storage_set(ptr, i, ptr + i + 1, len - i - 1);
		}
	}
	return BAD_ARGUMENT;
}

EXPORT(handle_storage_set) uint64_t handle_storage_set(uint32_t ptr, uint32_t len) {
	return end_call(storage_set(ptr, len));
}

EXPORT(handle_storage_get) uint64_t handle_storage_get(uint32_t ptr, uint32_t len) {
	return end_call(host_storage_get(ptr, len));
}

EXPORT(handle_k8s) uint64_t handle_k8s(uint32_t ptr, uint32_t len) {
	return end_call(host_k8s_api_call(ptr, len, 0, 0));
}

EXPORT(handle_request_info) uint64_t handle_request_info(uint32_t ptr, uint32_t len) {
	(void)ptr;
	(void)len;
	return end_call(host_request_info());
}

static uint64_t set_status(uint32_t ptr, uint32_t len) {
	int64_t code = parse_u32(ptr, len);
	if (code < 0) {
		return BAD_ARGUMENT;
	}
	return host_set_response_status((uint32_t)code);
}

EXPORT(handle_set_status) uint64_t handle_set_status(uint32_t ptr, uint32_t len) {
	return end_call(set_status(ptr, len));
}

static uint64_t call_host_n(uint32_t ptr, uint32_t len) {
	int64_t n = parse_u32(ptr, len);
	if (n < 0) {
		return BAD_ARGUMENT;
	}
	call_host((uint32_t)n);
	return 0;
}

EXPORT(handle_call_host) uint64_t handle_call_host(uint32_t ptr, uint32_t len) {
	return end_call(call_host_n(ptr, len));
}
