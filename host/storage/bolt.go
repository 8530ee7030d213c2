package storage

import (
	"bytes"
	"context"
	"encoding/binary"
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
	db        *bolt.DB
	path      string
	compacted Compaction
}

var _ QuotaStore = (*Bolt)(nil)

// Open opens the bbolt file at path, creating it (mode 0600) when absent.
// When at least half of an existing file (and at least 4 MiB) is free space,
// Open first compacts it as Compact does, so the file gives back what deleted
// data held; Compaction says what it did.
//
// # Errors
//
// bbolt locks the file for one writer. When another process (or another Bolt
// in this process) holds the lock, Open fails after OpenTimeout with an error
// that names the file, instead of waiting for ever. A compaction that fails
// does not fail Open: the original file is kept and opened.
func Open(path string) (*Bolt, error) {
	db, err := openFile(path, nil)
	if err != nil {
		return nil, err
	}
	b := &Bolt{db: db, path: path}
	removeLeftovers(path)
	size, err := fileSize(path)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	worth, err := worthCompacting(db, size)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: open file[%s]: read its free space: %w", path, err)
	}
	if worth {
		if dst, c, err := compact(db, path, size); err != nil {
			b.compacted = Compaction{Before: size, After: size, Err: err}
		} else {
			b.db, b.compacted = dst, c
		}
	}
	return b, nil
}

// Compaction returns what Open's compaction of the file did; the zero value
// when the file was not worth compacting.
func (b *Bolt) Compaction() Compaction { return b.compacted }

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
	return b.SetWithin(ctx, namespace, key, value, Quota{})
}

// SetWithin implements QuotaStore.SetWithin.
func (b *Bolt) SetWithin(ctx context.Context, namespace string, key, value []byte, q Quota) error {
	if err := checkArgs(ctx, "set", namespace, key); err != nil {
		return err
	}
	_, err := b.write(namespace, key, q, false, func([]byte, bool) ([]byte, bool, bool) {
		// bbolt keeps key and value until the transaction ends, which is
		// before Set returns: the caller's slices are not retained.
		return value, false, true
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
	_, err := b.write(namespace, key, Quota{}, true, func(_ []byte, present bool) ([]byte, bool, bool) {
		return nil, true, present
	})
	if err != nil {
		return b.wrap("delete", namespace, err)
	}
	return nil
}

// CompareAndSwap implements Store.CompareAndSwap in one bbolt transaction.
func (b *Bolt) CompareAndSwap(ctx context.Context, namespace string, key, old, value []byte) (bool, error) {
	return b.CompareAndSwapWithin(ctx, namespace, key, old, value, Quota{})
}

// CompareAndSwapWithin implements QuotaStore.CompareAndSwapWithin in one bbolt
// transaction.
func (b *Bolt) CompareAndSwapWithin(ctx context.Context, namespace string, key, old, value []byte, q Quota) (bool, error) {
	if err := checkArgs(ctx, "compare-and-swap", namespace, key); err != nil {
		return false, err
	}
	// Only a swap that stores a value on an absent key needs the namespace
	// to exist.
	swapped, err := b.write(namespace, key, q, old != nil || value == nil, func(cur []byte, present bool) ([]byte, bool, bool) {
		if (old == nil) == present || (old != nil && !bytes.Equal(cur, old)) {
			return nil, false, false
		}
		return value, value == nil, true
	})
	if err != nil {
		return false, b.wrap("compare-and-swap", namespace, err)
	}
	return swapped, nil
}

// write changes key of namespace in one transaction: decide gets the key's
// current value (present or not) and returns the new one, whether the change
// is a delete, and whether to make it at all. The namespace's usage record
// changes with it, and q bounds the result. readOnlyIfAbsent says that when
// the namespace does not exist nothing can change, so its bucket is not
// created. wrote reports whether the change was made.
func (b *Bolt) write(namespace string, key []byte, q Quota, readOnlyIfAbsent bool,
	decide func(cur []byte, present bool) (value []byte, del, ok bool)) (wrote bool, err error) {
	err = b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(namespace))
		if bk == nil {
			if readOnlyIfAbsent {
				return nil
			}
			var err error
			if bk, err = tx.CreateBucket([]byte(namespace)); err != nil {
				return err
			}
		}
		// A cursor tells a stored empty value from an absent key, which
		// Bucket.Get does not.
		k, cur := bk.Cursor().Seek(key)
		present := k != nil && bytes.Equal(k, key)
		if !present {
			cur = nil
		}
		value, del, ok := decide(cur, present)
		if !ok || (del && !present) {
			return nil
		}
		before, err := usageIn(tx, bk, namespace)
		if err != nil {
			return err
		}
		after := before.after(key, cur, present, value, del)
		if err := q.allows(namespace, before, after); err != nil {
			return err
		}
		if del {
			err = bk.Delete(key)
		} else {
			err = bk.Put(key, value)
		}
		if err != nil {
			return err
		}
		wrote = true
		return putUsage(tx, namespace, after)
	})
	return wrote, err
}

// Each calls fn with each key of namespace and its value, in key order,
// until fn returns an error, which Each returns. key and value are valid only
// during the call; fn must not write to b.
func (b *Bolt) Each(ctx context.Context, namespace string, fn func(key, value []byte) error) error {
	if err := checkArgs(ctx, "each", namespace, []byte{0}); err != nil {
		return err
	}
	err := b.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(namespace))
		if bk == nil {
			return nil
		}
		return bk.ForEach(func(k, v []byte) error {
			if v == nil && bk.Bucket(k) != nil {
				return nil // a nested bucket: not written by this package
			}
			return fn(k, v)
		})
	})
	if err != nil {
		return b.wrap("each", namespace, err)
	}
	return nil
}

// Usage implements QuotaStore.Usage.
func (b *Bolt) Usage(ctx context.Context, namespace string) (Usage, error) {
	if err := checkArgs(ctx, "usage", namespace, []byte{0}); err != nil {
		return Usage{}, err
	}
	var u Usage
	err := b.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(namespace))
		if bk == nil {
			return nil
		}
		var err error
		u, err = usageIn(tx, bk, namespace)
		return err
	})
	if err != nil {
		return Usage{}, b.wrap("usage", namespace, err)
	}
	return u, nil
}

// usageBucket holds one usage record per namespace: 16 bytes, the keys and
// the bytes, big-endian. Its name starts with a NUL byte, which checkArgs
// refuses in a namespace, so no namespace can be it. Every write of this
// package keeps the records exact; a namespace written before records
// existed gets one, counted once, at its next write.
var usageBucket = []byte("\x00usage")

// usageIn returns namespace's usage (bk is its bucket): the record, or a count
// of the bucket when there is none yet.
func usageIn(tx *bolt.Tx, bk *bolt.Bucket, namespace string) (Usage, error) {
	if ub := tx.Bucket(usageBucket); ub != nil {
		if v := ub.Get([]byte(namespace)); len(v) == 16 {
			return Usage{Keys: int64(binary.BigEndian.Uint64(v)), Bytes: int64(binary.BigEndian.Uint64(v[8:]))}, nil
		}
	}
	var u Usage
	err := bk.ForEach(func(k, v []byte) error {
		if v == nil && bk.Bucket(k) != nil {
			return nil // a nested bucket: not written by this package
		}
		u.Keys++
		u.Bytes += entryBytes(k, v)
		return nil
	})
	return u, err
}

func putUsage(tx *bolt.Tx, namespace string, u Usage) error {
	ub, err := tx.CreateBucketIfNotExists(usageBucket)
	if err != nil {
		return err
	}
	var v [16]byte
	binary.BigEndian.PutUint64(v[:], uint64(u.Keys))
	binary.BigEndian.PutUint64(v[8:], uint64(u.Bytes))
	return ub.Put([]byte(namespace), v[:])
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
