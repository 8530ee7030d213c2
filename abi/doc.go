// Package abi is the host–guest contract of kspbench, version 1, as Go code.
//
// ABI.md in this folder is the normative text; this package holds the names,
// numbers and mechanics that every other part uses: export and import names,
// packed pointer/length results, status codes, permissions, limits, the request
// envelope, and the generic steps that move bytes between host and guest. It
// depends on no engine and on nothing outside the standard library.
//
// A Profile is one contract: V1, kspbench's own, and KubeStellarUI, the
// contract of the KubeStellar UI reference host (ABI.md §12), under which the
// plugins published for that host run unchanged. DetectProfile reads a
// module's profile from its handler and import types.
package abi
