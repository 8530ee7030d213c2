//go:build wasip1

package main

// The handlers the manifest names. Each receives the request region (ptr,
// len), which it only reads: the host gives it back with deallocate after the
// call (ABI v1 §3). Each returns its response packed as ptr<<32 | len.

//go:wasmexport handle_status
func exportHandleStatus(ptr, size uint32) uint64 {
	response = nil // the previous response is no longer the host's to read
	yieldToRuntime()
	return respond(handleStatus(wasmHost{}))
}

//go:wasmexport handle_data
func exportHandleData(ptr, size uint32) uint64 {
	response = nil
	yieldToRuntime()
	body, ok := requestBody(ptr, size)
	if !ok {
		wasmHost{}.Log("handle_data: the request region was not obtained from allocate")
		return respondStatus(statusBadArgument)
	}
	return respond(handleData(wasmHost{}, body))
}
