package abi

import "errors"

// Errors of the contract. Callers match them with errors.Is; the errors
// returned wrap them with the detail of what went wrong and where.
var (
	// ErrOutOfBounds: a guest handed the host a range outside its memory.
	ErrOutOfBounds = errors.New("abi: range outside guest memory")
	// ErrAllocate: the guest's allocate returned 0 or a range outside memory.
	ErrAllocate = errors.New("abi: guest allocate failed")
	// ErrMissingExport: a required export is absent.
	ErrMissingExport = errors.New("abi: missing export")
	// ErrSignature: an export has the wrong kind or type.
	ErrSignature = errors.New("abi: wrong export signature")
	// ErrVersion: the guest declares an ABI version this host does not speak.
	ErrVersion = errors.New("abi: unsupported ABI version")
	// ErrTooLarge: a request or response is past its limit.
	ErrTooLarge = errors.New("abi: size limit exceeded")
	// ErrReentry: host imports nested too deeply inside the guest's allocate
	// (see MaxReentryDepth and ReentryError).
	ErrReentry = errors.New("abi: host import re-entered too deeply")
)
