package abi

import "time"

// PageSize is the size of one WebAssembly memory page.
const PageSize = 65536

// Limits bound what one plugin may use. The zero value of a field means the
// default of DefaultLimits.
type Limits struct {
	// MemoryPages caps each instance's linear memory. A memory.grow past it
	// fails (returns -1) inside the guest; a module whose memory starts above
	// it does not instantiate.
	MemoryPages uint32
	// CallTimeout ends a handler call that runs longer; the instance that ran
	// it is discarded.
	CallTimeout time.Duration
	// MaxRequestBytes is the largest body the host passes to a handler;
	// larger requests are refused before the guest runs.
	MaxRequestBytes uint32
	// MaxResponseBytes is the largest response the host accepts from a
	// handler; a larger one is an error and is not read.
	MaxResponseBytes uint32
	// MaxLogBytes is the longest log message kept; the rest is cut.
	MaxLogBytes uint32
	// MaxStorageKeyBytes and MaxStorageValueBytes bound host_storage_set.
	MaxStorageKeyBytes   uint32
	MaxStorageValueBytes uint32
	// MaxStorageBytes and MaxStorageKeys are the plugin's storage quota: the
	// bytes of its keys and values together, and the number of its keys. A
	// host_storage_set or host_storage_cas that would pass either answers
	// LIMIT_EXCEEDED and writes nothing; writes that do not grow the
	// plugin's storage, and deletes, always pass.
	MaxStorageBytes uint64
	MaxStorageKeys  uint32
}

// DefaultLimits are the limits a host applies when the manifest and the host
// configuration leave a field unset.
var DefaultLimits = Limits{
	MemoryPages:          4096, // 256 MiB
	CallTimeout:          5 * time.Second,
	MaxRequestBytes:      4 << 20,
	MaxResponseBytes:     16 << 20,
	MaxLogBytes:          16 << 10,
	MaxStorageKeyBytes:   1 << 10,
	MaxStorageValueBytes: 4 << 20,
	MaxStorageBytes:      64 << 20,
	MaxStorageKeys:       65536,
}

// WithDefaults returns l with every zero field replaced by its default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	if l.MemoryPages != 0 {
		d.MemoryPages = l.MemoryPages
	}
	if l.CallTimeout != 0 {
		d.CallTimeout = l.CallTimeout
	}
	if l.MaxRequestBytes != 0 {
		d.MaxRequestBytes = l.MaxRequestBytes
	}
	if l.MaxResponseBytes != 0 {
		d.MaxResponseBytes = l.MaxResponseBytes
	}
	if l.MaxLogBytes != 0 {
		d.MaxLogBytes = l.MaxLogBytes
	}
	if l.MaxStorageKeyBytes != 0 {
		d.MaxStorageKeyBytes = l.MaxStorageKeyBytes
	}
	if l.MaxStorageValueBytes != 0 {
		d.MaxStorageValueBytes = l.MaxStorageValueBytes
	}
	if l.MaxStorageBytes != 0 {
		d.MaxStorageBytes = l.MaxStorageBytes
	}
	if l.MaxStorageKeys != 0 {
		d.MaxStorageKeys = l.MaxStorageKeys
	}
	return d
}
