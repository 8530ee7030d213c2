package wasmer

// #include "host.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"
	"weak"

	"github.com/kspbench/kspbench/abi"
	"github.com/wasmerio/wasmer-go/wasmer"
)

// Host functions are made in C (host.c), not with wasmer-go's
// NewFunctionWithEnvironment: when such a function returns an error, v1.0.4
// hands Wasmer a trap that Wasmer frees and that a Go finalizer frees again,
// and the process crashes at a later garbage collection (wasmer-go issue
// #291, fixed after the last release by pull request #333). The C trampoline
// gives Wasmer a trap only Wasmer owns. It also reads and writes the values in
// place, where the binding boxes each one and allocates per call.

// hostEnv is what a host function's C environment names: an instance, held
// weakly so that an instance dropped without Close can still be collected,
// and its store, on which the trampoline makes traps.
type hostEnv struct {
	in    weak.Pointer[instance]
	store unsafe.Pointer
}

// hostEnvs maps the ids in host functions' environments to instances. An
// environment is id<<8 | the index of the function in abi.HostFuncs.
var hostEnvs = struct {
	sync.RWMutex
	next uint64
	m    map[uint64]hostEnv
}{m: map[uint64]hostEnv{}}

func registerHost(in *instance, store unsafe.Pointer) uint64 {
	hostEnvs.Lock()
	defer hostEnvs.Unlock()
	hostEnvs.next++
	hostEnvs.m[hostEnvs.next] = hostEnv{in: weak.Make(in), store: store}
	return hostEnvs.next
}

func unregisterHost(id uint64) {
	hostEnvs.Lock()
	delete(hostEnvs.m, id)
	hostEnvs.Unlock()
}

// wasiPollIndex is the index in a host function's environment that names
// the adapter's WASI poll_oneoff (poll.go) rather than an abi.HostFuncs entry.
const wasiPollIndex = 0xff

// newHostFunc makes the host function abi.HostFuncs[index] (or, for
// wasiPollIndex, WASI poll_oneoff) for the instance
// registered as id, and returns it with the *wasmer.Extern that an
// ImportObject takes. The caller deletes it with deleteHostFunc once the
// instance is made (the instance keeps its own reference).
func newHostFunc(store, functype unsafe.Pointer, id uint64, index int) (unsafe.Pointer, *wasmer.Extern, error) {
	var ext unsafe.Pointer
	f := C.ksp_func_new(store, functype, C.uintptr_t(id<<8|uint64(index)), &ext)
	if f == nil || ext == nil {
		name := wasiModule + "." + wasiPollName
		if index != wasiPollIndex {
			name = abi.HostFuncs[index].Name
		}
		return nil, nil, fmt.Errorf("import[%s]: wasm_func_new_with_env failed", name)
	}
	e := new(wasmer.Extern)
	*(*unsafe.Pointer)(unsafe.Pointer(e)) = ext // Extern._inner; layouts checked by hostReady
	return f, e, nil
}

func deleteHostFunc(f unsafe.Pointer) { C.ksp_func_delete(f) }

// kspHostCall runs a host import for the trampoline. It returns nil, or the
// store on which the trampoline makes the trap that ends the guest's call.
//
//export kspHostCall
func kspHostCall(env C.uintptr_t, args *C.ksp_val_t, nargs C.size_t, results *C.ksp_val_t, nresults C.size_t) unsafe.Pointer {
	id, index := uint64(env)>>8, int(env&0xff)
	hostEnvs.RLock()
	e, ok := hostEnvs.m[id]
	hostEnvs.RUnlock()
	if !ok || (index >= len(abi.HostFuncs) && index != wasiPollIndex) {
		return nil // unreachable: an instance is registered while it can run
	}
	in := e.in.Value()
	if in == nil {
		return e.store
	}
	var err error
	if index == wasiPollIndex {
		err = in.callPoll(unsafe.Slice(args, int(nargs)), unsafe.Slice(results, int(nresults)))
	} else {
		err = in.callHost(&abi.HostFuncs[index], unsafe.Slice(args, int(nargs)), unsafe.Slice(results, int(nresults)))
	}
	if err != nil {
		in.hostErr = err // Function.Call returns it with the trap
		return e.store
	}
	return nil
}

// callHost runs one host import for the instance's call in progress.
func (in *instance) callHost(hf *abi.HostFunc, args, results []C.ksp_val_t) (err error) {
	in.dataOK = false // the guest ran since memory was last fetched
	defer func() {
		// A panic must not cross the C frames between here and Go's caller.
		if r := recover(); r != nil {
			err = fmt.Errorf("wasmer: import[%s] panicked: %v", hf.Name, r)
		}
	}()
	if len(args) != len(hf.Type.Params) || len(results) != len(hf.Type.Results) {
		return fmt.Errorf("wasmer: import[%s] %s called with %d parameters and %d results", hf.Name, hf.Type, len(args), len(results))
	}
	for in.depth >= len(in.hostStacks) {
		in.hostStacks = append(in.hostStacks, [maxHostValues]uint64{})
	}
	stack := in.hostStacks[in.depth][:max(len(args), len(results))]
	for i, t := range hf.Type.Params {
		stack[i] = uint64(args[i].bits)
		if t == abi.I32 || t == abi.F32 {
			stack[i] = uint64(uint32(stack[i])) // the union's upper half is not part of the value
		}
	}
	ctx := in.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	in.depth++
	err = hf.Call(ctx, in.imports, in, stack)
	in.depth--
	if err != nil {
		return err
	}
	for i, t := range hf.Type.Results {
		switch t {
		case abi.I32:
			results[i].kind, results[i].bits = C.KSP_I32, C.uint64_t(uint32(stack[i]))
		case abi.I64:
			results[i].kind, results[i].bits = C.KSP_I64, C.uint64_t(stack[i])
		default:
			return errors.New("wasmer: import[" + hf.Name + "] has a result type this adapter does not bind")
		}
	}
	return nil
}

// callPoll runs WASI poll_oneoff (see poll.go) for the instance's call in
// progress: (in, out, nsubscriptions, nevents i32) -> errno i32.
func (in *instance) callPoll(args, results []C.ksp_val_t) (err error) {
	in.dataOK = false // the guest ran since memory was last fetched
	defer func() {
		// A panic must not cross the C frames between here and Go's caller.
		if r := recover(); r != nil {
			err = fmt.Errorf("wasmer: import[%s.%s] panicked: %v", wasiModule, wasiPollName, r)
		}
	}()
	if len(args) != 4 || len(results) != 1 {
		return fmt.Errorf("wasmer: import[%s.%s] called with %d parameters and %d results", wasiModule, wasiPollName, len(args), len(results))
	}
	ctx := in.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	arg := func(i int) uint32 { return uint32(args[i].bits) }
	errno, err := pollOneoff(ctx, in, arg(0), arg(1), arg(2), arg(3))
	if err != nil {
		return err
	}
	results[0].kind, results[0].bits = C.KSP_I32, C.uint64_t(errno)
	return nil
}
