// Package runner owns a kspbench run: the typed operations a worker process
// serves (one definition, used by `kspbench run`, `go test ./conformance` and
// the tests), the conformance driver, the sampling loop, the end-to-end HTTP
// workload and the benchfmt output. cmd/kspbench parses flags and calls it.
//
// The sampling loop talks to workers through the Worker interface, so it can
// be tested without starting processes; Start gives the real one, a worker
// process per engine (package worker).
package runner
