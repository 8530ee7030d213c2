// Package abi is the host–guest contract of kspbench, version 1, as Go code.
//
// ABI.md in this folder is the normative text; this package holds the names,
// numbers and mechanics that every other part uses: export and import names,
// packed pointer/length results, status codes, permissions, limits, the request
// envelope, and the generic steps that move bytes between host and guest. It
// depends on no engine and on nothing outside the standard library.
package abi
