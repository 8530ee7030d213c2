// Package wasmbin reads and rewrites the few parts of a WebAssembly binary
// module that kspbench needs to touch itself: the limits of its memories.
//
// An engine whose binding offers no memory limiter (wasmer-go) enforces one by
// rewriting the module before it compiles it: LimitMemories caps the maximum
// of every memory the module defines or imports, so memory.grow past the cap
// fails inside the guest, and refuses a module whose memory starts above it.
// Only the import section (id 2) and the memory section (id 5) are decoded; the
// other sections are walked by their sizes and copied byte for byte. The
// package depends on nothing outside the standard library.
package wasmbin
