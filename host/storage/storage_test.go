package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// stores lists every Store implementation; each test runs on all of them.
var stores = []struct {
	name string
	open func(t *testing.T) Store
}{
	{"bolt", func(t *testing.T) Store {
		b, err := Open(filepath.Join(t.TempDir(), "kv.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}},
	{"memory", func(t *testing.T) Store { return NewMemory() }},
}

func eachStore(t *testing.T, f func(t *testing.T, s Store)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { f(t, st.open(t)) })
	}
}

func mustGet(t *testing.T, s Store, ns, key string) []byte {
	t.Helper()
	v, err := s.Get(context.Background(), ns, []byte(key))
	if err != nil {
		t.Fatalf("Get(%q, %q): %v", ns, key, err)
	}
	return v
}

func mustSet(t *testing.T, s Store, ns, key, value string) {
	t.Helper()
	if err := s.Set(context.Background(), ns, []byte(key), []byte(value)); err != nil {
		t.Fatalf("Set(%q, %q): %v", ns, key, err)
	}
}

func TestRoundTrip(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		key, value := []byte("counter"), []byte("41")
		if err := s.Set(ctx, "p", key, value); err != nil {
			t.Fatal(err)
		}
		// The store must have copied: changing the caller's slices (as a guest
		// rewriting its memory would) must not change what is stored.
		key[0], value[0] = 'X', 'X'
		got := mustGet(t, s, "p", "counter")
		if string(got) != "41" {
			t.Fatalf("Get = %q, want %q", got, "41")
		}
		// The returned slice is the caller's: changing it changes nothing stored.
		got[0] = 'Y'
		if got := mustGet(t, s, "p", "counter"); string(got) != "41" {
			t.Fatalf("after changing the returned slice, Get = %q, want %q", got, "41")
		}
		mustSet(t, s, "p", "counter", "42")
		if got := mustGet(t, s, "p", "counter"); string(got) != "42" {
			t.Fatalf("after overwrite, Get = %q, want %q", got, "42")
		}
		// An empty value is stored and comes back as present and empty.
		mustSet(t, s, "p", "empty", "")
		if got := mustGet(t, s, "p", "empty"); got == nil || len(got) != 0 {
			t.Fatalf("Get of an empty value = %#v, want a non-nil empty slice", got)
		}
		// A long binary value.
		big := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1<<16)
		if err := s.Set(ctx, "p", []byte{0}, big); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, "p", []byte{0}); err != nil || !bytes.Equal(got, big) {
			t.Fatalf("Get of a 256 KiB binary value: equal=%v, err=%v", bytes.Equal(got, big), err)
		}
	})
}

func TestNotFound(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		if _, err := s.Get(ctx, "never-used", []byte("k")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get in an unused namespace: err = %v, want ErrNotFound", err)
		}
		mustSet(t, s, "p", "a", "1")
		if _, err := s.Get(ctx, "p", []byte("b")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get of an absent key: err = %v, want ErrNotFound", err)
		}
		// A key that is a prefix of a stored key is still absent.
		mustSet(t, s, "p", "abc", "1")
		if _, err := s.Get(ctx, "p", []byte("ab")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get of a prefix of a stored key: err = %v, want ErrNotFound", err)
		}
	})
}

func TestNamespacesIsolated(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		mustSet(t, s, "alpha", "k", "from alpha")
		mustSet(t, s, "beta", "k", "from beta")
		if got := mustGet(t, s, "alpha", "k"); string(got) != "from alpha" {
			t.Fatalf("alpha/k = %q", got)
		}
		if got := mustGet(t, s, "beta", "k"); string(got) != "from beta" {
			t.Fatalf("beta/k = %q", got)
		}
		if err := s.Delete(context.Background(), "alpha", []byte("k")); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, s, "beta", "k"); string(got) != "from beta" {
			t.Fatalf("after deleting alpha/k, beta/k = %q", got)
		}
		mustSet(t, s, "alpha", "only-alpha", "x")
		if _, err := s.Get(context.Background(), "beta", []byte("only-alpha")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("beta sees alpha's key: err = %v", err)
		}
	})
}

func TestDelete(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		mustSet(t, s, "p", "k", "v")
		if err := s.Delete(ctx, "p", []byte("k")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "p", []byte("k")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "p", []byte("k")); err != nil {
			t.Fatalf("Delete of an absent key: %v", err)
		}
		if err := s.Delete(ctx, "never-used", []byte("k")); err != nil {
			t.Fatalf("Delete in an unused namespace: %v", err)
		}
	})
}

func TestBadArguments(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		for _, tc := range []struct {
			name string
			call func() error
			want error
		}{
			{"get empty namespace", func() error { _, err := s.Get(ctx, "", []byte("k")); return err }, nil},
			{"get empty key", func() error { _, err := s.Get(ctx, "p", nil); return err }, nil},
			{"set empty namespace", func() error { return s.Set(ctx, "", []byte("k"), []byte("v")) }, nil},
			{"set empty key", func() error { return s.Set(ctx, "p", []byte{}, []byte("v")) }, nil},
			{"delete empty key", func() error { return s.Delete(ctx, "p", nil) }, nil},
			{"set canceled", func() error { return s.Set(canceled, "p", []byte("k"), []byte("v")) }, context.Canceled},
		} {
			err := tc.call()
			if err == nil {
				t.Errorf("%s: no error", tc.name)
				continue
			}
			if errors.Is(err, ErrNotFound) {
				t.Errorf("%s: err = %v, must not be ErrNotFound", tc.name, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
			}
		}
	})
}

func TestClosed(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		mustSet(t, s, "p", "k", "v")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(context.Background(), "p", []byte("k")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Get after Close: err = %v, want ErrClosed", err)
		}
		if err := s.Set(context.Background(), "p", []byte("k"), []byte("v")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Set after Close: err = %v, want ErrClosed", err)
		}
	})
}

func TestConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		const workers, rounds = 8, 50
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ns := fmt.Sprintf("plugin-%d", w%2) // two workers share each namespace
				for i := range rounds {
					key := fmt.Appendf(nil, "w%d-k%d", w, i%5)
					want := fmt.Appendf(nil, "w%d-v%d", w, i)
					if err := s.Set(ctx, ns, key, want); err != nil {
						errs <- err
						return
					}
					got, err := s.Get(ctx, ns, key)
					if err != nil {
						errs <- err
						return
					}
					if !bytes.Equal(got, want) {
						errs <- fmt.Errorf("worker %d round %d: Get = %q, want %q", w, i, got, want)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestBoltSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, b, "p", "kept", "value")
	mustSet(t, b, "p", "gone", "value")
	if err := b.Delete(context.Background(), "p", []byte("gone")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := mustGet(t, b, "p", "kept"); string(got) != "value" {
		t.Fatalf("after reopen, Get = %q, want %q", got, "value")
	}
	if _, err := b.Get(context.Background(), "p", []byte("gone")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after reopen, deleted key: err = %v, want ErrNotFound", err)
	}
}

func TestBoltSecondOpenFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	// bbolt's lock is a flock on the file; a second open file description in
	// this process conflicts with it as another process's would. Open must
	// give up after OpenTimeout rather than wait for ever.
	second, err := Open(path)
	if err == nil {
		second.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name the file %q", err, path)
	}
	if !strings.Contains(err.Error(), "locked") {
		t.Fatalf("error %q does not say the file is locked", err)
	}
	// The first store is unaffected.
	mustSet(t, first, "p", "k", "v")
}

func TestBoltOpenBadPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "kv.db")
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open in a missing directory: err = %v, want an error naming %q", err, path)
	}
}

func TestCompareAndSwap(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		cas := func(old, value []byte) bool {
			t.Helper()
			ok, err := s.CompareAndSwap(ctx, "ns", []byte("k"), old, value)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if cas([]byte("x"), []byte("v1")) {
			t.Error("swapped an absent key against an old value")
		}
		if !cas(nil, []byte("v1")) {
			t.Error("did not create an absent key")
		}
		if cas(nil, []byte("v2")) || cas([]byte("v0"), []byte("v2")) {
			t.Error("swapped against a wrong expectation")
		}
		if !cas([]byte("v1"), []byte("v2")) || string(mustGet(t, s, "ns", "k")) != "v2" {
			t.Error("did not swap v1 for v2")
		}
		if !cas([]byte("v2"), nil) {
			t.Error("did not delete")
		}
		if _, err := s.Get(ctx, "ns", []byte("k")); !errors.Is(err, ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if _, err := s.CompareAndSwap(ctx, "ns", nil, nil, []byte("v")); err == nil {
			t.Error("an empty key was accepted")
		}
	})
}
