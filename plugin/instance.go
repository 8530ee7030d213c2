package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
)

// Instance is one instance of a plugin. It is not safe for concurrent use.
type Instance struct {
	p        *Plugin
	in       engines.Instance
	mem      engines.Memory
	alloc    engines.Function
	dealloc  engines.Function
	handlers map[string]engines.Function
	stack    [2]uint64
	broken   error
	// calls and guestBytes count the handler calls served and the request
	// and response bytes moved, for profiles that recycle instances.
	calls      int
	guestBytes uint64
}

// Worn reports whether the instance has served as many calls or bytes as its
// profile allows one instance (abi.Profile.MaxCallsPerInstance,
// MaxGuestBytesPerInstance); the pool then replaces it. A caller that keeps
// an instance of its own (a benchmark) replaces it the same way: close it
// and make a new one. It is always false under a profile without a budget.
func (i *Instance) Worn() bool {
	pr := i.p.profile
	return (pr.MaxCallsPerInstance > 0 && i.calls >= pr.MaxCallsPerInstance) ||
		(pr.MaxGuestBytesPerInstance > 0 && i.guestBytes >= pr.MaxGuestBytesPerInstance)
}

// Engine returns the engine instance underneath, for callers that need more
// than the ABI (benchmarks, tests).
func (i *Instance) Engine() engines.Instance { return i.in }

// Broken returns the error that made the instance unusable, or nil.
func (i *Instance) Broken() error { return i.broken }

// Close closes the instance.
func (i *Instance) Close(ctx context.Context) error { return i.in.Close(ctx) }

// Call serves one request body with the handler export, following ABI.md §3,
// and returns a copy of the response.
//
// # Errors
//
// A body over the request limit wraps abi.ErrTooLarge and leaves the instance
// usable. A handler that answers with a status wraps *abi.StatusError and
// leaves it usable too. Every other error — a trap (engines.ErrTrap), the
// context's error, a range out of bounds (abi.ErrOutOfBounds), a failed
// allocate (abi.ErrAllocate), a response over the limit — marks the instance
// broken: Broken returns the error and every later call fails with it.
func (i *Instance) Call(ctx context.Context, handler string, body []byte) ([]byte, error) {
	if i.broken != nil {
		return nil, fmt.Errorf("plugin[%s]: instance unusable after an earlier failure: %w", i.p.name, i.broken)
	}
	fn, ok := i.handlers[handler]
	if !ok {
		if fn = i.in.Function(handler); fn == nil {
			return nil, fmt.Errorf("plugin[%s]: %w: export[%s]", i.p.name, abi.ErrMissingExport, handler)
		}
		i.handlers[handler] = fn
	}
	if uint64(len(body)) > uint64(i.p.limits.MaxRequestBytes) {
		return nil, fmt.Errorf("plugin[%s]: %w: request of %d bytes, limit %d", i.p.name, abi.ErrTooLarge, len(body), i.p.limits.MaxRequestBytes)
	}
	resp, err := i.call(ctx, handler, fn, body)
	if err != nil {
		var se *abi.StatusError
		if !errors.As(err, &se) {
			i.broken = err
		}
		return nil, fmt.Errorf("plugin[%s]: %w", i.p.name, err)
	}
	return resp, nil
}

func (i *Instance) call(ctx context.Context, handler string, fn engines.Function, body []byte) ([]byte, error) {
	var ptr uint32
	n := uint32(len(body))
	pr := i.p.profile
	switch {
	case n > 0:
		var err error
		if ptr, err = i.Allocate(ctx, n); err != nil {
			return nil, err
		}
		i.mem.Write(ptr, body)
	case pr.AllocateEmptyBody:
		// The reference host calls allocate(0) and passes what it returns;
		// 0 is a fine answer for no bytes.
		i.stack[0] = 0
		if err := i.alloc.Call(ctx, i.stack[:]); err != nil {
			return nil, fmt.Errorf("%w: function[%s](0): %w", abi.ErrAllocate, abi.ExportAllocate, err)
		}
		ptr = uint32(i.stack[0])
		if err := abi.CheckRange(ptr, 0, i.mem.Size()); err != nil {
			return nil, fmt.Errorf("%w: allocate(0): %w", abi.ErrAllocate, err)
		}
	}
	i.stack[0], i.stack[1] = uint64(ptr), uint64(n)
	i.calls++
	if err := fn.Call(ctx, i.stack[:]); err != nil {
		return nil, fmt.Errorf("function[%s]: %w", handler, err)
	}
	var rptr, rlen uint32
	var err error
	if pr.EmptyResult != nil {
		rptr, rlen = abi.Unpack(i.stack[0])
		if rptr == 0 {
			rlen = 0
		}
	} else if rptr, rlen, err = abi.HandlerResult(i.stack[0], "function["+handler+"]"); err != nil {
		return nil, err
	}
	i.guestBytes += uint64(n) + uint64(rlen)
	var resp []byte
	switch {
	case rlen == 0 && pr.EmptyResult != nil:
		resp = append([]byte{}, pr.EmptyResult...)
	case rlen == 0:
		resp = []byte{}
	default:
		if err := abi.CheckRange(rptr, rlen, i.mem.Size()); err != nil {
			return nil, fmt.Errorf("function[%s] result: %w", handler, err)
		}
		if rlen > i.p.limits.MaxResponseBytes {
			return nil, fmt.Errorf("%w: function[%s] answered %d bytes, limit %d", abi.ErrTooLarge, handler, rlen, i.p.limits.MaxResponseBytes)
		}
		view, _ := i.mem.Read(rptr, rlen)
		resp = append(make([]byte, 0, len(view)), view...)
	}
	if n > 0 && i.dealloc != nil {
		i.stack[0], i.stack[1] = uint64(ptr), uint64(n)
		if err := i.dealloc.Call(ctx, i.stack[:]); err != nil {
			return nil, fmt.Errorf("function[%s]: %w", abi.ExportDeallocate, err)
		}
	}
	return resp, nil
}

// Allocate calls the guest's allocate export and checks the region it
// returns lies in memory.
func (i *Instance) Allocate(ctx context.Context, n uint32) (uint32, error) {
	i.stack[0] = uint64(n)
	if err := i.alloc.Call(ctx, i.stack[:]); err != nil {
		return 0, fmt.Errorf("%w: function[%s]: %w", abi.ErrAllocate, abi.ExportAllocate, err)
	}
	ptr := uint32(i.stack[0])
	if ptr == 0 {
		return 0, fmt.Errorf("%w: allocate(%d) returned 0", abi.ErrAllocate, n)
	}
	if err := abi.CheckRange(ptr, n, i.mem.Size()); err != nil {
		return 0, fmt.Errorf("%w: allocate(%d): %w", abi.ErrAllocate, n, err)
	}
	return ptr, nil
}
