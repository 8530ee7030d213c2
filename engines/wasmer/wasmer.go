package wasmer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/wasmbin"
	"github.com/wasmerio/wasmer-go/wasmer"
)

// Name is the name this package registers with package engines.
const Name = "wasmer"

// modulePath and pinnedVersion name the binding this adapter is built and
// tested against; pinnedVersion is what go.mod requires (a test checks it) and
// is reported only where the binary carries no module information.
const (
	modulePath    = "github.com/wasmerio/wasmer-go"
	pinnedVersion = "v1.0.4"
)

// RecycleAfter is how many modules an engine compiles (or deserializes) on
// one wasmer Engine before it starts a new one. Wasmer keeps every module's
// compiled code mapped until its Engine is freed, two memory mappings a
// module, and the kernel's limit on mappings (65,530 by default) ends the
// process after about 32,000 compiles on one Engine; a retired Engine is freed
// as soon as the last module and instance made on it are closed.
const RecycleAfter = 512

// recycleAfter is RecycleAfter, variable for tests.
var recycleAfter = RecycleAfter

// interruptReason is why this engine lacks engines.FeatureInterrupt.
const interruptReason = "wasmer-go v1.0.4 exposes no way to interrupt a running call " +
	"(no epoch, fuel or metering in its Go API; Wasmer 2.0's C metering middleware, which it does not wrap, " +
	"serves one module per engine and stops a loop only by racing the guest's own counter)"

func init() { engines.Register(Name, engines.DriverFunc(Open)) }

// Engine is the wasmer engine. It is safe for concurrent use.
type Engine struct {
	cfg   engines.Config
	info  engines.Info
	cache engines.DiskCache // Dir "" when there is no cache
	// compiler is Cranelift, or Singlepass for VariantSinglepass.
	compiler wasmer.CompilerKind

	mu       sync.Mutex
	cur      *generation // nil until the first compile after a recycle
	closed   bool
	recycled int // generations retired, for tests
}

// VariantSinglepass is the engines.Config.Variant that compiles with
// Wasmer's Singlepass compiler instead of Cranelift (x86-64 only).
const VariantSinglepass = "singlepass"

// newConfig is the wasmer configuration of an engine with compiler.
func newConfig(compiler wasmer.CompilerKind) *wasmer.Config {
	c := wasmer.NewConfig().UseUniversalEngine()
	if compiler == wasmer.SINGLEPASS {
		return c.UseSinglepassCompiler()
	}
	return c.UseCraneliftCompiler()
}

// generation is one wasmer Engine and Store and what was made on them. It is
// freed when it has been retired and the last module and instance made on it
// is closed.
type generation struct {
	engine *wasmer.Engine
	store  *wasmer.Store
	// hostTypes holds the wasmer type of each hostTable entry;
	// pollType that of WASI poll_oneoff.
	hostTypes []*wasmer.FunctionType
	pollType  *wasmer.FunctionType

	// Guarded by Engine.mu.
	compiles int  // modules compiled or deserialized on it
	refs     int  // modules and instances open, plus compiles in progress
	retired  bool // no new module is made on it
	freed    bool
}

// Open opens a wasmer engine. The wasmer Engine itself is created on the
// first compile.
//
// # Errors
//
// Open refuses to run when the wasm.h functions wasmer-go calls resolve
// outside libwasmer, as they do when wasmtime-go is linked into the same
// binary: calls would land in the other engine and crash.
func Open(cfg engines.Config) (engines.Engine, error) {
	compiler := wasmer.CRANELIFT
	switch cfg.Variant {
	case "":
	case VariantSinglepass:
		compiler = wasmer.SINGLEPASS
	default:
		return nil, engines.UnknownVariant(Name, cfg.Variant, VariantSinglepass)
	}
	if !wasmer.IsEngineAvailable(wasmer.UNIVERSAL) || !wasmer.IsCompilerAvailable(compiler) {
		return nil, fmt.Errorf("wasmer: this libwasmer lacks the Universal engine or the %s compiler", compiler)
	}
	lib, err := checkLibrary()
	if err != nil {
		return nil, err
	}
	if err := hostReady(); err != nil {
		return nil, err
	}
	version := libraryVersion()
	if version == "" {
		version = "unknown"
	}
	e := &Engine{cfg: cfg, cache: engines.DiskCache{Dir: cfg.CacheDir}, compiler: compiler}
	e.info = engines.Info{
		Name:    Name,
		Version: fmt.Sprintf("%s (wasmer-go %s)", version, engines.ModuleVersion(modulePath, pinnedVersion)),
		Mode:    compiler.String(),
	}
	notes := []string{
		"universal engine; wasm.h served by " + lib,
		"memory limit applied by rewriting each module's memory maximum",
		"no interruption of running calls",
		"compiles with Wasmer's own parallelism, which wasmer-go does not let the host set",
	}
	if cfg.NoDeadline {
		notes = append(notes, "no-deadline configuration: identical to the default, which cannot interrupt a call either")
	}
	if cfg.Interpreter {
		notes = append([]string{"interpreter requested, but Wasmer has none: ran " + compiler.String()}, notes...)
	}
	e.info.Notes = strings.Join(notes, "; ")
	return e, nil
}

// checkLibrary returns the library that holds the wasm.h functions this
// binary calls, or an error when one of them is not in libwasmer.
func checkLibrary() (string, error) {
	files := libraryOf()
	for i, f := range files {
		if f == "" {
			return "", fmt.Errorf("wasmer: cannot tell which library serves %s (dladdr failed)", wasmSymbols[i])
		}
		if !strings.HasPrefix(filepath.Base(f), "libwasmer") {
			return "", fmt.Errorf("wasmer: %s resolves to %s, not libwasmer: another engine defining wasm.h "+
				"(wasmtime-go?) is linked into this binary, and wasmer-go's calls would run on it", wasmSymbols[i], f)
		}
		if f != files[0] {
			return "", fmt.Errorf("wasmer: wasm.h functions come from two libraries, %s and %s", files[0], f)
		}
	}
	return files[0], nil
}

// Info implements engines.Engine.
func (e *Engine) Info() engines.Info { return e.info }

// Unsupported implements engines.FeatureReporter.
func (e *Engine) Unsupported(f engines.Feature) string {
	if f == engines.FeatureInterrupt {
		return interruptReason
	}
	return ""
}

// acquire returns the generation a new module is made on, counting the
// compile and a reference the caller must give back with release.
func (e *Engine) acquire() (*generation, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errors.New("wasmer: engine closed")
	}
	if e.cur != nil && e.cur.compiles >= recycleAfter {
		e.retire(e.cur)
		e.cur = nil
	}
	if e.cur == nil {
		e.cur = newGeneration(e.compiler)
	}
	e.cur.compiles++
	e.cur.refs++
	return e.cur, nil
}

// retain counts one more reference to g, which must hold one already.
func (e *Engine) retain(g *generation) {
	e.mu.Lock()
	g.refs++
	e.mu.Unlock()
}

// release gives back a reference to g and frees g when it was the last one
// of a retired generation.
func (e *Engine) release(g *generation) {
	e.mu.Lock()
	g.refs--
	free := g.retired && g.refs == 0 && !g.freed
	if free {
		g.freed = true
	}
	e.mu.Unlock()
	if free {
		g.free()
	}
}

// retire marks g so no new module is made on it, and frees it when nothing
// made on it is open. e.mu must be held.
func (e *Engine) retire(g *generation) {
	g.retired = true
	e.recycled++
	if g.refs == 0 && !g.freed {
		g.freed = true
		g.free()
	}
}

func newGeneration(compiler wasmer.CompilerKind) *generation {
	eng := wasmer.NewEngineWithConfig(newConfig(compiler))
	g := &generation{engine: eng, store: wasmer.NewStore(eng), pollType: wasmer.NewFunctionType(
		wasmer.NewValueTypes(wasmer.I32, wasmer.I32, wasmer.I32, wasmer.I32), wasmer.NewValueTypes(wasmer.I32))}
	for _, hf := range hostTable {
		g.hostTypes = append(g.hostTypes, wasmer.NewFunctionType(valueTypes(hf.Type.Params), valueTypes(hf.Type.Results)))
	}
	return g
}

// free deletes the Store and the Engine, unmapping the compiled code of
// every module made on them (host functions still waiting for the garbage
// collector keep the engine's memory until they are finalized).
func (g *generation) free() {
	g.store.Close()
	deleteEngine(g.engine)
}

// Compile implements engines.Engine.
//
// # Errors
//
// Bytes that are not a module, and a module whose memory starts above the
// limit, return an error wrapping engines.ErrCompile; the latter names the
// memory, its initial pages and the limit.
func (e *Engine) Compile(ctx context.Context, wasm []byte, cfg engines.ModuleConfig) (engines.Module, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wasmer: compile: %w", err)
	}
	limit := cfg.MemoryLimitPages
	if limit == 0 {
		limit = e.cfg.MemoryLimitPages
	}
	if limit == 0 {
		limit = abi.DefaultLimits.MemoryPages
	}
	limited, err := wasmbin.LimitMemories(wasm, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: wasmer: %w", engines.ErrCompile, err)
	}
	g, err := e.acquire()
	if err != nil {
		return nil, err
	}
	wm, err := e.compile(g, limited, limit)
	if err != nil {
		e.release(g)
		return nil, fmt.Errorf("%w: wasmer: %w", engines.ErrCompile, err)
	}
	profile := cfg.Profile
	if profile == nil {
		profile = abi.V1
	}
	return newModule(e, g, wm, profile), nil
}

// compile compiles wasm on g's store, or deserializes it from the cache.
func (e *Engine) compile(g *generation, wasm []byte, limit uint32) (*wasmer.Module, error) {
	if e.cache.Dir == "" {
		return wasmer.NewModule(g.store, wasm)
	}
	key := e.cache.Key(Name, e.info.Version, fmt.Sprintf("%s;memory-limit=%d", e.info.Mode, limit), wasm)
	if b, ok, err := e.cache.Get(key); err == nil && ok {
		if payload, ok := unframe(b); ok {
			if wm, err := wasmer.DeserializeModule(g.store, payload); err == nil {
				return wm, nil
			}
		}
		// A bad entry: compile afresh and overwrite it.
	}
	wm, err := wasmer.NewModule(g.store, wasm)
	if err != nil {
		return nil, err
	}
	if b, err := wm.Serialize(); err == nil {
		_ = e.cache.Put(key, frame(b)) // a cache that cannot be written costs only time
	}
	return wm, nil
}

// Cache entries are framed with a magic string and the SHA-256 of the
// serialized module: Wasmer deserializes without checking what it reads, so
// a truncated or corrupted file must be caught before it gets there.
const cacheMagic = "kspbench-wasmer-cache-1\x00"

func frame(payload []byte) []byte {
	sum := sha256.Sum256(payload)
	b := make([]byte, 0, len(cacheMagic)+len(sum)+len(payload))
	return append(append(append(b, cacheMagic...), sum[:]...), payload...)
}

func unframe(b []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(cacheMagic))
	if !ok || len(rest) < sha256.Size {
		return nil, false
	}
	sum, payload := rest[:sha256.Size], rest[sha256.Size:]
	if want := sha256.Sum256(payload); !bytes.Equal(sum, want[:]) {
		return nil, false
	}
	return payload, true
}

// Close implements engines.Engine. Modules and instances still open keep
// their wasmer Engine until they are closed.
func (e *Engine) Close(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if e.cur != nil {
		e.retire(e.cur)
		e.cur = nil
	}
	return nil
}

func valueTypes(ts []abi.ValueType) []*wasmer.ValueType {
	kinds := make([]wasmer.ValueKind, len(ts))
	for i, t := range ts {
		switch t {
		case abi.I32:
			kinds[i] = wasmer.I32
		case abi.I64:
			kinds[i] = wasmer.I64
		case abi.F32:
			kinds[i] = wasmer.F32
		case abi.F64:
			kinds[i] = wasmer.F64
		}
	}
	return wasmer.NewValueTypes(kinds...)
}
