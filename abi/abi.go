package abi

import "fmt"

// Version is the ABI version this package implements.
const Version = 1

// ImportModule is the module name of every host import.
const ImportModule = "env"

// Names of the guest's exports.
const (
	// ExportMemory is the guest's linear memory. Required.
	ExportMemory = "memory"
	// ExportAllocate is allocate(size i32) -> i32. Required. It returns the
	// address of size writable bytes, or 0 when it cannot.
	ExportAllocate = "allocate"
	// ExportDeallocate is deallocate(ptr i32, size i32). Optional.
	ExportDeallocate = "deallocate"
	// ExportInitialize is _initialize(). Optional; called once after
	// instantiation, before any other export.
	ExportInitialize = "_initialize"
	// ExportVersionPrefix starts the optional marker export that declares the
	// guest's ABI version: "ksp_abi_version_1" declares version 1.
	ExportVersionPrefix = "ksp_abi_version_"
)

// Names of the host's imports, all in module ImportModule.
const (
	ImportLog               = "host_log"
	ImportGetConfig         = "host_get_config"
	ImportStorageGet        = "host_storage_get"
	ImportStorageSet        = "host_storage_set"
	ImportStorageCAS        = "host_storage_cas"
	ImportK8sAPICall        = "host_k8s_api_call"
	ImportRequestInfo       = "host_request_info"
	ImportSetResponseStatus = "host_set_response_status"
)

// Pack returns ptr in the high 32 bits and length in the low 32 bits.
func Pack(ptr, length uint32) uint64 { return uint64(ptr)<<32 | uint64(length) }

// Unpack splits a packed result into its pointer and its length.
func Unpack(packed uint64) (ptr, length uint32) { return uint32(packed >> 32), uint32(packed) }

// PackStatus returns the packed form of a status without data: pointer 0 and
// the status code in the low half. PackStatus(OK) is 0: present but empty.
func PackStatus(s Status) uint64 { return uint64(uint32(s)) }

// CheckRange reports whether [ptr, ptr+length) lies inside a linear memory of
// memSize bytes, as an error that names the range and the memory size.
func CheckRange(ptr, length uint32, memSize uint64) error {
	if uint64(ptr)+uint64(length) > memSize {
		return fmt.Errorf("%w: range [%#x, %#x) past memory size %#x", ErrOutOfBounds, ptr, uint64(ptr)+uint64(length), memSize)
	}
	return nil
}

// HandlerResult reads a handler's packed result (ABI.md §3): n is 0 for an
// empty response; a pointer of 0 with a non-zero length is the handler's
// failure status, returned as a *StatusError whose Op is op. The range is not
// checked against memory: callers do that with CheckRange.
func HandlerResult(packed uint64, op string) (ptr, n uint32, err error) {
	ptr, n = Unpack(packed)
	if n != 0 && ptr == 0 {
		return 0, 0, &StatusError{Status: Status(n), Op: op}
	}
	return ptr, n, nil
}
