package abi

import "fmt"

// Status is the one table of result codes shared by every host import and by
// handlers that fail without a body.
type Status uint32

// The status codes of ABI v1. Codes are stable; new ones may be added.
const (
	OK               Status = 0 // success
	NotFound         Status = 1 // no such key, resource or route
	BadArgument      Status = 2 // malformed key, path, body or value
	PermissionDenied Status = 3 // the manifest does not grant the permission the call needs
	LimitExceeded    Status = 4 // a size or count limit was hit
	Internal         Status = 5 // the host failed; details are in the host's log
	Unavailable      Status = 6 // a backend (database, Kubernetes API) could not be reached
	AllocationFailed Status = 7 // the guest's allocate returned 0
	Conflict         Status = 8 // host_storage_cas: the stored value was not the expected one
)

var statusNames = [...]string{
	OK:               "OK",
	NotFound:         "NOT_FOUND",
	BadArgument:      "BAD_ARGUMENT",
	PermissionDenied: "PERMISSION_DENIED",
	LimitExceeded:    "LIMIT_EXCEEDED",
	Internal:         "INTERNAL",
	Unavailable:      "UNAVAILABLE",
	AllocationFailed: "ALLOCATION_FAILED",
	Conflict:         "CONFLICT",
}

// String returns the status's name as ABI.md spells it, such as "NOT_FOUND".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("STATUS_%d", uint32(s))
}

// StatusError is the error of a call that ended with a status other than OK.
type StatusError struct {
	Status Status
	// Op names what failed, such as "handler handle_data" or "host_storage_get".
	Op string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%s: status %s", e.Op, e.Status) }

// HTTPStatus is the HTTP status a host answers when a handler fails with st
// and no body (ABI.md §3): the closest HTTP meaning, else 502 Bad Gateway.
func HTTPStatus(st Status) int {
	switch st {
	case NotFound:
		return 404
	case BadArgument:
		return 400
	case PermissionDenied:
		return 403
	case LimitExceeded:
		return 413
	case Conflict:
		return 409
	case Unavailable:
		return 503
	case Internal, AllocationFailed:
		return 500
	}
	return 502
}
