package engines

import "context"

// Baseliner is implemented by an engine adapter that can run the benchmark
// operations through its engine's own API, with no kspbench code in between.
// The benchmarks run each operation both ways, side by side, so that the
// harness's own overhead is a measured number.
type Baseliner interface {
	// Baseline instantiates wasm, which must be the reference guest
	// (conformance/testdata/reference.wat), through the engine's own API.
	Baseline(ctx context.Context, wasm []byte) (Baseline, error)
}

// Baseline is one instance of the reference guest driven through an engine's
// own API. Its host functions use the engine's fastest mechanism and do the
// work the harness's do: host_get_config reads the key from guest memory,
// looks it up in a map and, the key being absent, returns
// abi.PackStatus(abi.NotFound); the other imports do nothing.
type Baseline interface {
	// Noop calls the export noop once.
	Noop(ctx context.Context) error
	// CallHost calls call_host(n): n guest-to-host calls.
	CallHost(ctx context.Context, n uint32) error
	// Echo does what plugin.Instance.Call does for handle_echo: allocate
	// len(in) bytes, write in, call handle_echo, copy the response out and
	// deallocate the request region.
	Echo(ctx context.Context, in []byte) ([]byte, error)
	// Allocate calls allocate(n).
	Allocate(ctx context.Context, n uint32) (uint32, error)
	// Write copies p into guest memory at ptr.
	Write(ptr uint32, p []byte) error
	// Read copies len(dst) bytes at ptr into dst.
	Read(ptr uint32, dst []byte) error
	Close(ctx context.Context) error
}
