// Package conformance is the suite that tells, engine by engine, whether the
// contract of package abi holds: the cluster-monitor plugin's routes, every
// host import, and the ABI's edge cases (traps, out-of-bounds results,
// runaway calls, memory limits, malformed modules, concurrency).
//
// Any engine runs the suite on itself with Run, in the manner of
// testing/fstest.TestFS; RunCase runs one case without package testing, which
// is how a per-engine worker process runs it for `go test ./conformance`.
// The guests under testdata are embedded in Guests.
package conformance
