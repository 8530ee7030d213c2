package engines

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/kspbench/kspbench/abi"
)

// Config is what a host asks of an engine. The zero value is valid.
type Config struct {
	// MemoryLimitPages is the default cap on each instance's linear memory,
	// in 64 KiB pages, for modules compiled without their own limit. Zero
	// means abi.DefaultLimits.MemoryPages.
	MemoryLimitPages uint32
	// CacheDir, when set, is a directory where the engine keeps compiled code
	// between processes. Empty means no cache.
	CacheDir string
	// Interpreter asks for the engine's interpreter instead of its compiler,
	// where it has one.
	Interpreter bool
	// NoDeadline promises that no call will need to be interrupted, so the
	// engine may leave out the machinery that ends a running guest (wazero's
	// close-on-context-done, wasmtime's epoch checks). A call's context then
	// cannot stop a looping guest: only ending the process does.
	NoDeadline bool
	// CompileWorkers is how many threads compile a module where the engine
	// lets the host choose; zero means the engine's production default
	// (GOMAXPROCS for wazero).
	CompileWorkers int
	// Variant selects an engine-specific configuration by name, such as
	// "direct" (wasmtime through its C API) or "singlepass" (wasmer); empty is
	// the engine's default. An engine refuses a name it does not know.
	Variant string
}

// UnknownVariant is the error an engine's Open returns for a Config.Variant it
// does not offer.
func UnknownVariant(engine, variant string, known ...string) error {
	return fmt.Errorf("engine %s has no variant %q (known: %v)", engine, variant, known)
}

// ModuleConfig holds the per-module settings of Compile. The zero value is valid.
type ModuleConfig struct {
	// MemoryLimitPages overrides Config.MemoryLimitPages for this module.
	MemoryLimitPages uint32
	// Profile selects the host functions of module env that the module's
	// instances link against (Profile.HostFuncs); nil means abi.V1.
	Profile *abi.Profile
}

// HostFuncs returns the env functions a module compiled with c links
// against: its profile's, or ABI v1's.
func (c ModuleConfig) HostFuncs() []abi.HostFunc {
	if c.Profile == nil {
		return abi.V1.HostFuncs
	}
	return c.Profile.HostFuncs
}

// ProfileName returns the name of c's profile, "v1" when none is set.
func (c ModuleConfig) ProfileName() string {
	if c.Profile == nil {
		return abi.V1.Name
	}
	return c.Profile.Name
}

// Info says which engine ran, from the binding itself.
type Info struct {
	Name    string // registered name: "wazero", "wasmtime", "wasmer"
	Version string // the engine's version as its binding reports it
	Mode    string // how code runs: "compiler", "interpreter", "cranelift", ...
	Notes   string // anything a reader of results must know, such as a fallback
}

// Engine compiles modules. It is safe for concurrent use.
type Engine interface {
	Info() Info
	// Compile decodes, validates and compiles wasm. It does not check the
	// ABI; callers do that with Module.Exports.
	Compile(ctx context.Context, wasm []byte, cfg ModuleConfig) (Module, error)
	// Close releases the engine. Modules and instances must be closed first.
	Close(ctx context.Context) error
}

// Module is a compiled module. It is safe for concurrent use.
type Module interface {
	// Exports lists the module's exports with their types.
	Exports() abi.Exports
	// Instantiate links the host imports of the module's profile (module
	// env; see ModuleConfig.Profile) and WASI, and instantiates the module.
	// It does not call _initialize.
	Instantiate(ctx context.Context, imports abi.Imports) (Instance, error)
	Close(ctx context.Context) error
}

// Instance is one instantiation of a Module.
//
// # Notes
//
// An Instance is not safe for concurrent use: a WebAssembly instance runs one
// call at a time. Hosts that serve concurrently keep one instance per call.
type Instance interface {
	// Memory is the instance's exported memory, or nil.
	Memory() Memory
	// Function returns the exported function called name, or nil.
	Function(name string) Function
	Close(ctx context.Context) error
}

// Function is an exported function of an Instance.
type Function interface {
	// Call runs the function with its parameters in stack and writes its
	// results over them; stack must hold max(params, results) values. Integers
	// are passed zero-extended (an i32 in the low 32 bits).
	//
	// # Errors
	//
	// A trap returns an error wrapping ErrTrap. A call ended because ctx was
	// done returns an error wrapping ctx.Err(). Either way the instance must
	// not be used again.
	Call(ctx context.Context, stack []uint64) error
}

// Memory is an instance's linear memory.
type Memory interface {
	// Size is the memory's current size in bytes.
	Size() uint64
	// Read returns a view of n bytes at ptr, valid until the guest runs
	// again, or false when the range is outside memory.
	Read(ptr, n uint32) ([]byte, bool)
	// Write copies p to ptr, or returns false when the range is outside memory.
	Write(ptr uint32, p []byte) bool
}

// Errors common to all engines.
var (
	// ErrTrap: the guest trapped (unreachable, a bad memory access, stack
	// overflow, a host import's error, ...).
	ErrTrap = errors.New("engines: guest trapped")
	// ErrCompile: the bytes are not a valid module.
	ErrCompile = errors.New("engines: compile failed")
	// ErrInstantiate: the module did not instantiate (for example its memory
	// starts above the limit).
	ErrInstantiate = errors.New("engines: instantiate failed")
)

// StackValue turns a result boxed by a binding's call API (int32, int64,
// float32, float64) into a stack value as Function.Call passes it: integers
// zero-extended, floats as their bits. Anything else is 0.
func StackValue(v any) uint64 {
	switch v := v.(type) {
	case int32:
		return uint64(uint32(v))
	case int64:
		return uint64(v)
	case float32:
		return uint64(math.Float32bits(v))
	case float64:
		return math.Float64bits(v)
	}
	return 0
}
