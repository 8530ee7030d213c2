// Command cluster-monitor is the example plugin of kspbench: a WebAssembly
// reactor that serves GET /status, and GET and POST /data over the kspbench
// plugin ABI v1 (abi/ABI.md in the root module).
//
// The files built only for wasip1 hold the WebAssembly glue: the exports, the
// env imports and the allocator. Everything else (JSON shapes, the mapping of
// ManagedCluster objects, validation of POST bodies, responses) is plain Go
// that runs against the host interface, so it is tested natively.
package main

// main is empty: built with -buildmode=c-shared the module is a reactor, whose
// _initialize export runs package initialisation, and the host then calls the
// handlers directly.
func main() {}
