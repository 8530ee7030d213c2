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
	closed bool
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{spaces: make(map[string]map[string][]byte)}
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
	if err := checkArgs(ctx, "set", namespace, key); err != nil {
		return err
	}
	v := append([]byte{}, value...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("storage: set namespace[%s] in memory: %w", namespace, ErrClosed)
	}
	space, ok := m.spaces[namespace]
	if !ok {
		space = make(map[string][]byte)
		m.spaces[namespace] = space
	}
	space[string(key)] = v
	return nil
}

// CompareAndSwap implements Store.CompareAndSwap under the store's lock.
func (m *Memory) CompareAndSwap(ctx context.Context, namespace string, key, old, value []byte) (bool, error) {
	if err := checkArgs(ctx, "compare-and-swap", namespace, key); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, fmt.Errorf("storage: compare-and-swap namespace[%s] in memory: %w", namespace, ErrClosed)
	}
	space, ok := m.spaces[namespace]
	if !ok {
		space = make(map[string][]byte)
		m.spaces[namespace] = space
	}
	cur, present := space[string(key)]
	if (old == nil) == present || (old != nil && !bytes.Equal(cur, old)) {
		return false, nil
	}
	if value == nil {
		delete(space, string(key))
	} else {
		space[string(key)] = append([]byte{}, value...)
	}
	return true, nil
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
	delete(m.spaces[namespace], string(key))
	return nil
}

// Close drops the contents. Calls after Close fail with ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.spaces = nil
	return nil
}
