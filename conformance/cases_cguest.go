package conformance

import (
	_ "embed"
	"slices"
	"strings"
)

// cReference is testdata/c/reference.wasm: the reference guest written in C
// (testdata/c/reference.c) and built by clang without libc, with the exports
// and behaviour of testdata/reference.wat.
//
//go:embed testdata/c/reference.wasm
var cReference []byte

// cReferenceCases are the ABI cases that load only the reference guest; each
// runs again as abi-c/<name> on the C build, so a guest from a compiler
// (a shadow stack, data after it, a heap from __heap_base) is held to the
// same ABI as the hand-written one.
var cReferenceCases = []string{
	"abi/empty-response", "abi/response-sizes", "abi/request-sizes", "abi/size-limits", "abi/memory-bounded",
	"abi/host-log", "abi/host-config", "abi/host-storage", "abi/host-storage-persists", "abi/host-k8s-allowed",
	"abi/host-k8s-denied", "abi/request-info", "abi/response-status", "abi/instances-isolated", "abi/concurrent",
}

// cGuestCases returns the abi-c/ variants of cReferenceCases.
func cGuestCases() []Case {
	var out []Case
	for _, c := range abiCases {
		if !slices.Contains(cReferenceCases, c.Name) {
			continue
		}
		run := c.Run
		out = append(out, Case{
			Name: "abi-c/" + strings.TrimPrefix(c.Name, "abi/"),
			Doc:  c.Doc + " (the reference guest built from C)",
			Run: func(e *Env) error {
				e.cGuest = true
				return run(e)
			},
		})
	}
	return out
}

// referenceWasm is the reference guest a case loads: the WAT build, or the C
// build in the abi-c cases.
func (e *Env) referenceWasm() []byte {
	if e.cGuest {
		return cReference
	}
	return Guest("reference")
}
