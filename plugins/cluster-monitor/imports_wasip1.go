//go:build wasip1

package main

import "unsafe"

// The host imports of ABI v1 (abi/ABI.md §4) this plugin uses, with their
// exact types: pointers and lengths are i32, packed results i64.

//go:wasmimport env host_log
func hostLog(msgPtr unsafe.Pointer, msgLen uint32)

//go:wasmimport env host_k8s_api_call
func hostK8sAPICall(pathPtr unsafe.Pointer, pathLen uint32, bodyPtr unsafe.Pointer, bodyLen uint32) uint64

//go:wasmimport env host_storage_get
func hostStorageGet(keyPtr unsafe.Pointer, keyLen uint32) uint64

//go:wasmimport env host_storage_cas
func hostStorageCAS(keyPtr unsafe.Pointer, keyLen uint32, oldPtr unsafe.Pointer, oldLen uint32, valPtr unsafe.Pointer, valLen uint32) uint32

//go:wasmimport env host_request_info
func hostRequestInfo() uint64

//go:wasmimport env host_set_response_status
func hostSetResponseStatus(code uint32) uint32

// wasmHost implements host with the imports.
type wasmHost struct{}

func (wasmHost) Log(msg string) {
	hostLog(unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

func (wasmHost) K8sAPICall(path string, body []byte) ([]byte, status) {
	return takeResult(hostK8sAPICall(
		unsafe.Pointer(unsafe.StringData(path)), uint32(len(path)),
		unsafe.Pointer(unsafe.SliceData(body)), uint32(len(body))))
}

func (wasmHost) StorageGet(key string) ([]byte, status) {
	return takeResult(hostStorageGet(unsafe.Pointer(unsafe.StringData(key)), uint32(len(key))))
}

func (wasmHost) StorageCAS(key string, old, value []byte) status {
	return status(hostStorageCAS(
		unsafe.Pointer(unsafe.StringData(key)), uint32(len(key)),
		unsafe.Pointer(unsafe.SliceData(old)), uint32(len(old)),
		unsafe.Pointer(unsafe.SliceData(value)), uint32(len(value))))
}

func (wasmHost) RequestInfo() ([]byte, status) {
	return takeResult(hostRequestInfo())
}

func (wasmHost) SetResponseStatus(code uint32) status {
	return status(hostSetResponseStatus(code))
}
