package serve

import (
	"context"
	"errors"
	"sync"

	"github.com/kspbench/kspbench/host/storage"
)

// lazyStore is an isolated plugin's storage file, opened at its first use
// and waiting for the lock as long as the call's context allows: when a
// plugin is reloaded, its new worker loads while the old one still holds the
// file, until the old one's calls end and it exits.
type lazyStore struct {
	path string
	mu   sync.Mutex
	db   *storage.Bolt
}

var _ storage.QuotaStore = (*lazyStore)(nil)

func (l *lazyStore) open(ctx context.Context) (*storage.Bolt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.db == nil {
		db, err := storage.Open(l.path) // waits storage.OpenTimeout for the lock
		if err == nil {
			l.db = db
			break
		}
		if ctx.Err() != nil {
			return nil, errors.Join(err, ctx.Err())
		}
	}
	return l.db, nil
}

func (l *lazyStore) Get(ctx context.Context, ns string, key []byte) ([]byte, error) {
	db, err := l.open(ctx)
	if err != nil {
		return nil, err
	}
	return db.Get(ctx, ns, key)
}

func (l *lazyStore) Set(ctx context.Context, ns string, key, value []byte) error {
	db, err := l.open(ctx)
	if err != nil {
		return err
	}
	return db.Set(ctx, ns, key, value)
}

func (l *lazyStore) Delete(ctx context.Context, ns string, key []byte) error {
	db, err := l.open(ctx)
	if err != nil {
		return err
	}
	return db.Delete(ctx, ns, key)
}

func (l *lazyStore) CompareAndSwap(ctx context.Context, ns string, key, old, value []byte) (bool, error) {
	db, err := l.open(ctx)
	if err != nil {
		return false, err
	}
	return db.CompareAndSwap(ctx, ns, key, old, value)
}

func (l *lazyStore) SetWithin(ctx context.Context, ns string, key, value []byte, q storage.Quota) error {
	db, err := l.open(ctx)
	if err != nil {
		return err
	}
	return db.SetWithin(ctx, ns, key, value, q)
}

func (l *lazyStore) CompareAndSwapWithin(ctx context.Context, ns string, key, old, value []byte, q storage.Quota) (bool, error) {
	db, err := l.open(ctx)
	if err != nil {
		return false, err
	}
	return db.CompareAndSwapWithin(ctx, ns, key, old, value, q)
}

func (l *lazyStore) Usage(ctx context.Context, ns string) (storage.Usage, error) {
	db, err := l.open(ctx)
	if err != nil {
		return storage.Usage{}, err
	}
	return db.Usage(ctx, ns)
}

func (l *lazyStore) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.db == nil {
		return nil
	}
	return l.db.Close()
}
