package storage

import (
	"context"
	"errors"
	"fmt"
)

// Errors of the stores. Callers match them with errors.Is.
var (
	// ErrNotFound: the key is not in the namespace.
	ErrNotFound = errors.New("storage: key not found")
	// ErrClosed: the store was used after Close.
	ErrClosed = errors.New("storage: store closed")
)

// Store is a key-value store split into namespaces. Keys and namespaces are
// non-empty byte strings; a namespace comes into being with its first key.
//
// # Notes
//
// Implementations are safe for concurrent use. They never keep the key or
// value slices they are given past the call, and the slices they return belong
// to the caller.
//
// # Errors
//
// Get returns an error matching ErrNotFound for an absent key. Set with an
// empty value stores an empty value (Get then returns a non-nil empty slice);
// Delete of an absent key succeeds. An empty namespace or key is an error, and
// every method of a closed store returns an error matching ErrClosed.
type Store interface {
	Get(ctx context.Context, namespace string, key []byte) ([]byte, error)
	Set(ctx context.Context, namespace string, key, value []byte) error
	Delete(ctx context.Context, namespace string, key []byte) error
	// CompareAndSwap sets key to value, or deletes it when value is nil,
	// only if its current value equals old, or, when old is nil, only if
	// the key is absent; swapped reports whether it did. The comparison and
	// the write are one transaction.
	CompareAndSwap(ctx context.Context, namespace string, key, old, value []byte) (swapped bool, err error)
	Close() error
}

func checkArgs(ctx context.Context, op, namespace string, key []byte) error {
	if namespace == "" {
		return fmt.Errorf("storage: %s: empty namespace", op)
	}
	if namespace[0] == 0 {
		return fmt.Errorf("storage: %s: namespace %q starts with a NUL byte, reserved for the store's own records", op, namespace)
	}
	if len(key) == 0 {
		return fmt.Errorf("storage: %s namespace[%s]: empty key", op, namespace)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: %s namespace[%s]: %w", op, namespace, err)
	}
	return nil
}
