package storage

import (
	"bytes"
	"context"
	"fmt"
	"sync"
)

// Memory is a Store that keeps everything in process memory and nothing on
// disk: its contents are lost when the process ends (or the store is closed).
// It is for callers that ask for no persistence, such as benchmarks and tests;
// it does not give host_storage_set the durability ABI.md asks of a host.
type Memory struct {
	mu     sync.RWMutex
	spaces map[string]map[string][]byte
	usage  map[string]Usage
	closed bool
}

var _ QuotaStore = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{spaces: make(map[string]map[string][]byte), usage: make(map[string]Usage)}
}

// Get returns a copy of the value of key in namespace.
func (m *Memory) Get(ctx context.Context, namespace string, key []byte) ([]byte, error) {
	if err := checkArgs(ctx, "get", namespace, key); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, fmt.Errorf("storage: get namespace[%s] in memory: %w", namespace, ErrClosed)
	}
	v, ok := m.spaces[namespace][string(key)]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte{}, v...), nil
}

// Set stores a copy of value under a copy of key in namespace.
func (m *Memory) Set(ctx context.Context, namespace string, key, value []byte) error {
	return m.SetWithin(ctx, namespace, key, value, Quota{})
}

// SetWithin implements QuotaStore.SetWithin.
func (m *Memory) SetWithin(ctx context.Context, namespace string, key, value []byte, q Quota) error {
	if err := checkArgs(ctx, "set", namespace, key); err != nil {
		return err
	}
	v := append([]byte{}, value...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("storage: set namespace[%s] in memory: %w", namespace, ErrClosed)
	}
	_, err := m.write(namespace, key, q, func([]byte, bool) ([]byte, bool, bool) { return v, false, true })
	return err
}

// CompareAndSwap implements Store.CompareAndSwap under the store's lock.
func (m *Memory) CompareAndSwap(ctx context.Context, namespace string, key, old, value []byte) (bool, error) {
	return m.CompareAndSwapWithin(ctx, namespace, key, old, value, Quota{})
}

// CompareAndSwapWithin implements QuotaStore.CompareAndSwapWithin under the
// store's lock.
func (m *Memory) CompareAndSwapWithin(ctx context.Context, namespace string, key, old, value []byte, q Quota) (bool, error) {
	if err := checkArgs(ctx, "compare-and-swap", namespace, key); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, fmt.Errorf("storage: compare-and-swap namespace[%s] in memory: %w", namespace, ErrClosed)
	}
	return m.write(namespace, key, q, func(cur []byte, present bool) ([]byte, bool, bool) {
		if (old == nil) == present || (old != nil && !bytes.Equal(cur, old)) {
			return nil, false, false
		}
		if value == nil {
			return nil, true, true
		}
		return append([]byte{}, value...), false, true
	})
}

// Delete removes key from namespace. Deleting an absent key is not an error.
func (m *Memory) Delete(ctx context.Context, namespace string, key []byte) error {
	if err := checkArgs(ctx, "delete", namespace, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("storage: delete namespace[%s] in memory: %w", namespace, ErrClosed)
	}
	_, err := m.write(namespace, key, Quota{}, func(_ []byte, present bool) ([]byte, bool, bool) { return nil, true, present })
	return err
}

// Usage implements QuotaStore.Usage.
func (m *Memory) Usage(ctx context.Context, namespace string) (Usage, error) {
	if err := checkArgs(ctx, "usage", namespace, []byte{0}); err != nil {
		return Usage{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Usage{}, fmt.Errorf("storage: usage namespace[%s] in memory: %w", namespace, ErrClosed)
	}
	return m.usage[namespace], nil
}

// write changes key of namespace as decide says (see Bolt.write), keeping
// the namespace's usage and bounding it by q. m.mu must be held.
func (m *Memory) write(namespace string, key []byte, q Quota, decide func(cur []byte, present bool) (value []byte, del, ok bool)) (bool, error) {
	space := m.spaces[namespace]
	cur, present := space[string(key)]
	value, del, ok := decide(cur, present)
	if !ok || (del && !present) {
		return false, nil
	}
	before := m.usage[namespace]
	after := before.after(key, cur, present, value, del)
	if err := q.allows(namespace, before, after); err != nil {
		return false, err
	}
	if del {
		delete(space, string(key))
	} else {
		if space == nil {
			space = make(map[string][]byte)
			m.spaces[namespace] = space
		}
		space[string(key)] = value
	}
	m.usage[namespace] = after
	return true, nil
}

// Close drops the contents. Calls after Close fail with ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.spaces, m.usage = nil, nil
	return nil
}
