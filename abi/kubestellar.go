package abi

import (
	"context"
	"encoding/json"
	"fmt"
)

// kubeStellarHostFuncs are the env imports of the KubeStellarUI profile, with
// the reference host's types (wasm_runtime.go:18-43 at KubeStellarRef), backed
// by the same Imports as ABI v1's. Data goes to the guest as the reference
// host sends it, through the guest's allocate, as a bare pointer; kspbench
// adds a NUL byte after the data so that the guest can find its end (the
// reference host writes no length and no terminator). See ABI.md §12.
var kubeStellarHostFuncs = []HostFunc{
	{ImportLog, FuncType{Params: []ValueType{I32, I32}}, hostLog},
	{ImportGetConfig, FuncType{Params: []ValueType{I32}, Results: []ValueType{I32}}, ksGetConfig},
	{ImportStorageGet, FuncType{Params: []ValueType{I32, I32}, Results: []ValueType{I32}}, ksStorageGet},
	{ImportStorageSet, FuncType{Params: []ValueType{I32, I32, I32, I32}, Results: []ValueType{I32}}, ksStorageSet},
	{ImportK8sAPICall, FuncType{Params: []ValueType{I32, I32}, Results: []ValueType{I32}}, ksK8sAPICall},
}

// ConfigDocument is an optional interface of Imports: the plugin's whole
// configuration as one JSON object, which the KubeStellarUI profile's
// host_get_config answers. Imports without it answer "{}".
type ConfigDocument interface {
	ConfigJSON(ctx context.Context) []byte
}

// WriteCString hands data to the guest as the KubeStellarUI profile's imports
// do: the host calls the guest's allocate(len(data)+1), copies data and a NUL
// byte there and returns the bare pointer. It returns 0 when data is empty or
// allocate returns 0.
func WriteCString(ctx context.Context, g Guest, fn string, data []byte) (uint64, error) {
	if len(data) == 0 {
		return 0, nil
	}
	if uint64(len(data)) >= 1<<32-1 {
		return 0, nil
	}
	n := uint32(len(data)) + 1
	ptr, err := g.Allocate(ctx, n)
	if err != nil {
		return 0, fmt.Errorf("import[%s]: %w", fn, err)
	}
	if ptr == 0 {
		return 0, nil
	}
	if !g.Write(ptr, data) || !g.Write(ptr+uint32(len(data)), []byte{0}) {
		return 0, fmt.Errorf("%w: import[%s] allocate(%d) returned %#x, outside memory", ErrAllocate, fn, n, ptr)
	}
	return uint64(ptr), nil
}

func ksGetConfig(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	// The argument is ignored, as the reference host ignores it.
	doc := []byte("{}")
	if cd, ok := imp.(ConfigDocument); ok {
		doc = cd.ConfigJSON(ctx)
	}
	var err error
	s[0], err = WriteCString(ctx, g, ImportGetConfig, doc)
	return err
}

func ksStorageGet(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	key, err := read(g, ImportStorageGet, "key", s[0], s[1])
	if err != nil {
		return err
	}
	v, st := imp.StorageGet(ctx, key)
	if st != OK {
		s[0] = 0 // absent or failed: no data, as the reference host answers a read failure
		return nil
	}
	s[0], err = WriteCString(ctx, g, ImportStorageGet, v)
	return err
}

func ksStorageSet(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	key, err := read(g, ImportStorageSet, "key", s[0], s[1])
	if err != nil {
		return err
	}
	val, err := read(g, ImportStorageSet, "value", s[2], s[3])
	if err != nil {
		return err
	}
	s[0] = 0
	if imp.StorageSet(ctx, key, val) == OK {
		s[0] = 1 // the reference host's success
	}
	return nil
}

func ksK8sAPICall(ctx context.Context, imp Imports, g Guest, s []uint64) error {
	path, err := read(g, ImportK8sAPICall, "path", s[0], s[1])
	if err != nil {
		return err
	}
	v, st := imp.K8sAPICall(ctx, path, nil)
	switch {
	case st != OK:
		v, _ = json.Marshal(map[string]string{"status": "error", "error": st.String()})
	case len(v) == 0:
		v = []byte("{}")
	}
	s[0], err = WriteCString(ctx, g, ImportK8sAPICall, v)
	return err
}
