package abi

import (
	"context"
	"errors"
	"fmt"
)

// Imports is the host side of the env imports, expressed in bytes. An engine
// adapter never implements it: it binds the functions of HostFuncs, which read
// the guest's arguments out of memory, call Imports, and write the results back
// through the guest's allocate.
//
// # Notes
//
// The slices passed in are views of guest memory, valid only until the method
// returns: an implementation that keeps one must copy it. Calls for one
// instance never overlap; calls for different instances may.
type Imports interface {
	Log(ctx context.Context, message []byte)
	GetConfig(ctx context.Context, key []byte) ([]byte, Status)
	StorageGet(ctx context.Context, key []byte) ([]byte, Status)
	StorageSet(ctx context.Context, key, value []byte) Status
	// StorageCAS replaces key's value with value only if it is old (empty
	// old: only if the key is absent; empty value: delete), atomically.
	StorageCAS(ctx context.Context, key, old, value []byte) Status
	K8sAPICall(ctx context.Context, path, body []byte) ([]byte, Status)
	RequestInfo(ctx context.Context) ([]byte, Status)
	SetResponseStatus(ctx context.Context, code uint32) Status
}

// Guest is the calling instance as seen from inside a host import.
type Guest interface {
	// Read returns a view of n bytes at ptr, or false when the range is
	// outside memory. The view is valid until the guest runs again.
	Read(ptr, n uint32) ([]byte, bool)
	// Write copies p to ptr, or returns false when the range is outside memory.
	Write(ptr uint32, p []byte) bool
	// Allocate calls the guest's allocate export from inside the host call.
	Allocate(ctx context.Context, n uint32) (uint32, error)
}

// HostFunc is one host import: its name in module env, its signature, and the
// engine-neutral body. Call takes the parameters in stack and writes the
// results over them, in the manner of wazero's GoModuleFunc. A non-nil error
// means the guest misbehaved or the host failed in a way the guest cannot be
// told about: the adapter must end the guest's call with that error (a trap).
type HostFunc struct {
	Name string
	Type FuncType
	Call func(ctx context.Context, imp Imports, g Guest, stack []uint64) error
}

// HostFuncs lists every host import of ABI v1. Adapters bind all of them; a
// guest imports whichever it needs.
var HostFuncs = []HostFunc{
	{ImportLog, FuncType{Params: []ValueType{I32, I32}}, hostLog},
	{ImportGetConfig, FuncType{Params: []ValueType{I32, I32}, Results: []ValueType{I64}}, hostGetConfig},
	{ImportStorageGet, FuncType{Params: []ValueType{I32, I32}, Results: []ValueType{I64}}, hostStorageGet},
	{ImportStorageSet, FuncType{Params: []ValueType{I32, I32, I32, I32}, Results: []ValueType{I32}}, hostStorageSet},
	{ImportStorageCAS, FuncType{Params: []ValueType{I32, I32, I32, I32, I32, I32}, Results: []ValueType{I32}}, hostStorageCAS},
	{ImportK8sAPICall, FuncType{Params: []ValueType{I32, I32, I32, I32}, Results: []ValueType{I64}}, hostK8sAPICall},
	{ImportRequestInfo, FuncType{Results: []ValueType{I64}}, hostRequestInfo},
	{ImportSetResponseStatus, FuncType{Params: []ValueType{I32}, Results: []ValueType{I32}}, hostSetResponseStatus},
}

func read(g Guest, fn, what string, ptr, n uint64) ([]byte, error) {
	b, ok := g.Read(uint32(ptr), uint32(n))
	if !ok {
		return nil, fmt.Errorf("%w: import[%s] %s [%#x, +%d)", ErrOutOfBounds, fn, what, uint32(ptr), uint32(n))
	}
	return b, nil
}

// MaxReentryDepth bounds how deeply host imports may nest inside the guest's
// allocate: an import that returns data calls allocate (WriteResult), and an
// allocate that calls such an import again nests one level deeper. A guest
// whose allocate always does so would recurse without end, until the host's
// stack overflows (wazero: the whole process dies) or the engine's native
// stack does (wasmer: SIGSEGV). Legitimate guests nest 0 levels, or 1 when
// their allocate fetches something once; 8 leaves room for that and stops a
// runaway long before any stack is at risk.
const MaxReentryDepth = 8

// reentryKey is the context key of the current nesting depth: contexts flow
// from WriteResult into allocate and from there into the nested import on
// every engine, so the count needs nothing from the engine adapters.
type reentryKey struct{}

// ReentryError is the error of a host import called from inside allocate
// nested MaxReentryDepth deep. WriteResult returns it instead of calling
// allocate, the engine turns it into a trap, and the handler call ends with it
// (matched by errors.Is(err, ErrReentry)).
type ReentryError struct {
	// Import is the innermost import, the one refused.
	Import string
	// Depth is the number of allocate calls already nested.
	Depth int
}

func (e *ReentryError) Error() string {
	return fmt.Sprintf("%s: import[%s] called from inside %s nested %d deep (limit %d): %s must not call host imports that return data",
		ErrReentry, e.Import, ExportAllocate, e.Depth, MaxReentryDepth, ExportAllocate)
}

// Unwrap makes errors.Is(err, ErrReentry) hold.
func (e *ReentryError) Unwrap() error { return ErrReentry }

// WriteResult hands data to the guest the way every packed-returning import
// does: a status other than OK packs as pointer 0 with the code; empty data as
// 0 (OK, empty); otherwise the host calls the guest's allocate, copies the data
// there and returns the packed range, which the guest then owns.
//
// # Errors
//
// A *ReentryError when imports already nest MaxReentryDepth deep inside
// allocate (see MaxReentryDepth); an error wrapping ErrAllocate when allocate
// traps or answers outside memory. Either way the import must trap.
func WriteResult(ctx context.Context, g Guest, fn string, data []byte, st Status) (uint64, error) {
	if st != OK {
		return PackStatus(st), nil
	}
	if len(data) == 0 {
		return 0, nil
	}
	if uint64(len(data)) > 1<<32-1 {
		return PackStatus(LimitExceeded), nil
	}
	depth, _ := ctx.Value(reentryKey{}).(int)
	if depth >= MaxReentryDepth {
		return 0, &ReentryError{Import: fn, Depth: depth}
	}
	ptr, err := g.Allocate(context.WithValue(ctx, reentryKey{}, depth+1), uint32(len(data)))
	if err != nil {
		var re *ReentryError
		if errors.As(err, &re) {
			// Passed up as it is, not wrapped again at every level: the
			// error names the import and the depth, which is all there is
			// to say, and stays short however deep the chain was.
			return 0, re
		}
		return 0, fmt.Errorf("import[%s]: %w", fn, err)
	}
	if ptr == 0 {
		return PackStatus(AllocationFailed), nil
	}
	if !g.Write(ptr, data) {
		return 0, fmt.Errorf("%w: import[%s] allocate(%d) returned %#x, outside memory", ErrAllocate, fn, len(data), ptr)
	}
	return Pack(ptr, uint32(len(data))), nil
}

func hostLog(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	msg, err := read(g, ImportLog, "message", s[0], s[1])
	if err != nil {
		return err
	}
	imp.Log(ctx, msg)
	return nil
}

func hostGetConfig(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	key, err := read(g, ImportGetConfig, "key", s[0], s[1])
	if err != nil {
		return err
	}
	v, st := imp.GetConfig(ctx, key)
	s[0], err = WriteResult(ctx, g, ImportGetConfig, v, st)
	return err
}

func hostStorageGet(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	key, err := read(g, ImportStorageGet, "key", s[0], s[1])
	if err != nil {
		return err
	}
	v, st := imp.StorageGet(ctx, key)
	s[0], err = WriteResult(ctx, g, ImportStorageGet, v, st)
	return err
}

func hostStorageSet(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	key, err := read(g, ImportStorageSet, "key", s[0], s[1])
	if err != nil {
		return err
	}
	val, err := read(g, ImportStorageSet, "value", s[2], s[3])
	if err != nil {
		return err
	}
	s[0] = uint64(imp.StorageSet(ctx, key, val))
	return nil
}

func hostStorageCAS(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	key, err := read(g, ImportStorageCAS, "key", s[0], s[1])
	if err != nil {
		return err
	}
	old, err := read(g, ImportStorageCAS, "old value", s[2], s[3])
	if err != nil {
		return err
	}
	val, err := read(g, ImportStorageCAS, "new value", s[4], s[5])
	if err != nil {
		return err
	}
	s[0] = uint64(imp.StorageCAS(ctx, key, old, val))
	return nil
}

func hostK8sAPICall(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	path, err := read(g, ImportK8sAPICall, "path", s[0], s[1])
	if err != nil {
		return err
	}
	body, err := read(g, ImportK8sAPICall, "body", s[2], s[3])
	if err != nil {
		return err
	}
	v, st := imp.K8sAPICall(ctx, path, body)
	s[0], err = WriteResult(ctx, g, ImportK8sAPICall, v, st)
	return err
}

func hostRequestInfo(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	v, st := imp.RequestInfo(ctx)
	var err error
	s[0], err = WriteResult(ctx, g, ImportRequestInfo, v, st)
	return err
}

func hostSetResponseStatus(ctx context.Context, imp Imports, _ Guest, s []uint64) error {
	s[0] = uint64(imp.SetResponseStatus(ctx, uint32(s[0])))
	return nil
}
