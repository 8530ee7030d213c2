// Package serve is the HTTP host of kspbench: it discovers plugin folders,
// compiles each once on one engine and serves its manifest routes under
// /api/plugins/<name>/ from a bounded pool of instances, with the host
// services of package host (bbolt storage shared by all plugins, one namespace
// each; Kubernetes through client-go or the named fixture), plugin management
// over HTTP behind a bearer token, Prometheus metrics, structured request logs
// and graceful shutdown. `kspbench serve` is its command.
package serve
