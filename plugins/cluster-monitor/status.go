package main

import "strconv"

// status is a result code of ABI v1 (abi/ABI.md §5), as the host imports
// return it. The plugin does not import the root module, so it keeps its own
// copy of the table.
type status uint32

const (
	statusOK               status = 0
	statusNotFound         status = 1
	statusBadArgument      status = 2
	statusPermissionDenied status = 3
	statusLimitExceeded    status = 4
	statusInternal         status = 5
	statusUnavailable      status = 6
	statusAllocationFailed status = 7
	statusConflict         status = 8
)

var statusNames = [...]string{
	statusOK:               "OK",
	statusNotFound:         "NOT_FOUND",
	statusBadArgument:      "BAD_ARGUMENT",
	statusPermissionDenied: "PERMISSION_DENIED",
	statusLimitExceeded:    "LIMIT_EXCEEDED",
	statusInternal:         "INTERNAL",
	statusUnavailable:      "UNAVAILABLE",
	statusAllocationFailed: "ALLOCATION_FAILED",
	statusConflict:         "CONFLICT",
}

// String returns the name ABI.md gives the status, or STATUS_<n> for a code
// this plugin does not know (which it treats as a failure).
func (s status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "STATUS_" + strconv.FormatUint(uint64(s), 10)
}
