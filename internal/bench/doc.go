// Package bench holds the workloads kspbench measures on every engine: cold
// start phase by phase, per-call overhead beside the same operation through
// the engine's own API, memory copy bandwidth beside Go's copy, footprint and
// throughput. Each workload checks its output before it times anything.
//
// A workload produces one sample of each of its figures per run; kspbench
// runs it in a worker process per engine and interleaves engines across
// samples. The same workloads run under `go test -bench` through Benchmarks.
package bench
