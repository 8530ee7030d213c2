// Package worker runs work for one engine in a process of its own and talks
// to it over a small JSON-lines protocol on the process's stdin and stdout.
//
// wasmtime-go and wasmer-go cannot share a process, and an engine that
// crashes must not take other engines' results with it, so `go test
// ./conformance` and `kspbench run` drive one worker process per engine. Serve
// is the worker's side; Start and Process are the parent's, which restart a
// worker that died and report the signal and its last output. During an
// operation a worker may ask the parent for host services (CallHost, served by
// Spec.Host); HostCall documents the wire format. Its records logged through
// LogHandler reach the parent's Spec.Logger as one-way log lines.
//
// Each side reads its pipe in the goroutine that waits for the line: the
// parent's Call reads the worker's stdout itself, and the worker's Serve and
// CallHost read stdin, with no reader goroutine and channel between (a
// hand-off costs a scheduler wake-up per line, which was half of a call's
// CPU in the parent). The parent kills the worker when a Call's context
// ends (context.AfterFunc), which ends the read; a goroutine per process
// waits for its exit.
package worker
