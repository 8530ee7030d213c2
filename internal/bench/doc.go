// Package bench holds the workloads kspbench measures on every engine: cold
// start phase by phase, per-call overhead beside the same operation through
// the engine's own API, memory copy bandwidth beside Go's copy, footprint and
// throughput. Each workload checks its output before it times anything.
//
// A workload produces one sample of each of its figures per run; kspbench
// runs it in a worker process per engine and interleaves engines across
// samples. The same workloads run under `go test -bench` through Benchmarks.
//
// A figure that calls one instance of a plugin over and over, outside the
// plugin's pool, replaces it at its profile's recycling budget as the pool
// does (recycling). A figure that fails while timed is left out: the
// workload returns the others' samples with a *FiguresFailed error naming it.
package bench
