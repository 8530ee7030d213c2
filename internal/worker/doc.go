// Package worker runs work for one engine in a process of its own and talks
// to it over a small JSON-lines protocol on the process's stdin and stdout.
//
// wasmtime-go and wasmer-go cannot share a process, and an engine that
// crashes must not take other engines' results with it, so `go test
// ./conformance` and `kspbench run` drive one worker process per engine. Serve
// is the worker's side; Start and Process are the parent's, which restart a
// worker that died and report the signal and its last output. During an
// operation a worker may ask the parent for host services (CallHost, served by
// Spec.Host); HostCall documents the wire format.
package worker
