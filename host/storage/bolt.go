package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// OpenTimeout is how long Open waits for the lock on a file that another
// process (or another Open in this one) holds, before it gives up.
const OpenTimeout = time.Second

// Bolt is a Store kept in a bbolt file, with one bucket per namespace. Every
// Set and Delete is a committed, synced transaction, so a value is durable
// once the call returns.
type Bolt struct {
	db   *bolt.DB
	path string
}

var _ Store = (*Bolt)(nil)

// Open opens the bbolt file at path, creating it (mode 0600) when absent.
//
// # Errors
//
// bbolt locks the file for one writer. When another process (or another Bolt
// in this process) holds the lock, Open fails after OpenTimeout with an error
// that names the file, instead of waiting for ever.
func Open(path string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: OpenTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("storage: open file[%s]: still locked by another process or store after %s: %w", path, OpenTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open file[%s]: %w", path, err)
	}
	return &Bolt{db: db, path: path}, nil
}

// Path returns the file the store was opened on.
func (b *Bolt) Path() string { return b.path }

// Get returns a copy of the value of key in namespace.
func (b *Bolt) Get(ctx context.Context, namespace string, key []byte) ([]byte, error) {
	if err := checkArgs(ctx, "get", namespace, key); err != nil {
		return nil, err
	}
	var value []byte
	err := b.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(namespace))
		if bk == nil {
			return ErrNotFound
		}
		// A cursor tells a stored empty value from an absent key, which
		// Bucket.Get does not.
		k, v := bk.Cursor().Seek(key)
		if k == nil || !bytes.Equal(k, key) {
			return ErrNotFound
		}
		// v lives in bbolt's memory map, valid only inside the transaction.
		value = append([]byte{}, v...)
		return nil
	})
	if err != nil {
		return nil, b.wrap("get", namespace, err)
	}
	return value, nil
}

// Set stores value under key in namespace, replacing any previous value.
func (b *Bolt) Set(ctx context.Context, namespace string, key, value []byte) error {
	if err := checkArgs(ctx, "set", namespace, key); err != nil {
		return err
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(namespace))
		if err != nil {
			return err
		}
		// bbolt keeps key and value until the transaction ends, which is
		// before Set returns: the caller's slices are not retained.
		return bk.Put(key, value)
	})
	if err != nil {
		return b.wrap("set", namespace, err)
	}
	return nil
}

// Delete removes key from namespace. Deleting an absent key is not an error.
func (b *Bolt) Delete(ctx context.Context, namespace string, key []byte) error {
	if err := checkArgs(ctx, "delete", namespace, key); err != nil {
		return err
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(namespace))
		if bk == nil {
			return nil
		}
		return bk.Delete(key)
	})
	if err != nil {
		return b.wrap("delete", namespace, err)
	}
	return nil
}

// CompareAndSwap implements Store.CompareAndSwap in one bbolt transaction.
func (b *Bolt) CompareAndSwap(ctx context.Context, namespace string, key, old, value []byte) (bool, error) {
	if err := checkArgs(ctx, "compare-and-swap", namespace, key); err != nil {
		return false, err
	}
	swapped := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(namespace))
		if err != nil {
			return err
		}
		cur := bk.Get(key)
		if (old == nil) != (cur == nil) || (old != nil && !bytes.Equal(cur, old)) {
			return nil
		}
		swapped = true
		if value == nil {
			return bk.Delete(key)
		}
		return bk.Put(key, value)
	})
	if err != nil {
		return false, b.wrap("compare-and-swap", namespace, err)
	}
	return swapped, nil
}

// Close releases the file and its lock. Calls after Close fail with ErrClosed.
func (b *Bolt) Close() error {
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("storage: close file[%s]: %w", b.path, err)
	}
	return nil
}

func (b *Bolt) wrap(op, namespace string, err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrNotFound
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen):
		return fmt.Errorf("storage: %s namespace[%s] file[%s]: %w: %w", op, namespace, b.path, ErrClosed, err)
	}
	return fmt.Errorf("storage: %s namespace[%s] file[%s]: %w", op, namespace, b.path, err)
}
