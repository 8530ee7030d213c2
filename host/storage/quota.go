package storage

import (
	"context"
	"errors"
	"fmt"
)

// ErrQuotaExceeded: a write would take its namespace past its quota. Nothing
// was written.
var ErrQuotaExceeded = errors.New("storage: namespace quota exceeded")

// Quota bounds what one namespace holds. A zero field is no bound.
type Quota struct {
	// MaxKeys bounds the keys of the namespace.
	MaxKeys int64
	// MaxBytes bounds the bytes of its keys and values together.
	MaxBytes int64
}

// Usage is what a namespace holds: its keys, and the bytes of its keys and
// values together (what Quota.MaxBytes bounds; the store's own overhead is
// not counted).
type Usage struct {
	Keys  int64
	Bytes int64
}

// QuotaStore is a Store that enforces a Quota in the same transaction as the
// write it bounds, so that concurrent writers of a namespace cannot take it
// past its quota together. Both stores of this package are QuotaStores.
//
// # Notes
//
// A write that adds neither keys nor bytes is never refused, so that a
// namespace over a quota that was lowered can still be overwritten with
// smaller values and emptied. Delete needs no quota.
type QuotaStore interface {
	Store
	// SetWithin is Set, refused with ErrQuotaExceeded when the namespace
	// would then pass q.
	SetWithin(ctx context.Context, namespace string, key, value []byte, q Quota) error
	// CompareAndSwapWithin is CompareAndSwap, refused with ErrQuotaExceeded
	// when the swap would take the namespace past q. A comparison that fails
	// reports swapped false, whatever the quota.
	CompareAndSwapWithin(ctx context.Context, namespace string, key, old, value []byte, q Quota) (swapped bool, err error)
	// Usage returns what the namespace holds; an unused one holds nothing.
	Usage(ctx context.Context, namespace string) (Usage, error)
}

// entryBytes is what a key and its value count against Quota.MaxBytes.
func entryBytes(key, value []byte) int64 { return int64(len(key) + len(value)) }

// after returns the usage once key, whose current value is cur (present or
// not), is set to value, or deleted when del.
func (u Usage) after(key, cur []byte, present bool, value []byte, del bool) Usage {
	if present {
		u.Keys--
		u.Bytes -= entryBytes(key, cur)
	}
	if !del {
		u.Keys++
		u.Bytes += entryBytes(key, value)
	}
	return u
}

// allows returns nil when a namespace may go from before to after under q: a
// bound is checked only when the write grows what it bounds.
func (q Quota) allows(namespace string, before, after Usage) error {
	if q.MaxKeys > 0 && after.Keys > before.Keys && after.Keys > q.MaxKeys {
		return fmt.Errorf("%w: namespace[%s] would hold %d keys, quota %d", ErrQuotaExceeded, namespace, after.Keys, q.MaxKeys)
	}
	if q.MaxBytes > 0 && after.Bytes > before.Bytes && after.Bytes > q.MaxBytes {
		return fmt.Errorf("%w: namespace[%s] would hold %d bytes, quota %d", ErrQuotaExceeded, namespace, after.Bytes, q.MaxBytes)
	}
	return nil
}
