package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func usageOf(t *testing.T, s Store, ns string) Usage {
	t.Helper()
	u, err := s.(QuotaStore).Usage(context.Background(), ns)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestQuota(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		qs := s.(QuotaStore)
		keys := Quota{MaxKeys: 3}
		for _, k := range []string{"a", "b", "c"} {
			if err := qs.SetWithin(ctx, "p", []byte(k), []byte("1"), keys); err != nil {
				t.Fatalf("key %s under a 3-key quota: %v", k, err)
			}
		}
		if err := qs.SetWithin(ctx, "p", []byte("d"), []byte("1"), keys); !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("a 4th key: %v, want ErrQuotaExceeded", err)
		}
		if _, err := s.Get(ctx, "p", []byte("d")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the refused key was stored: %v", err)
		}
		if err := qs.SetWithin(ctx, "p", []byte("a"), []byte("22"), keys); err != nil {
			t.Fatalf("overwriting at the key quota: %v", err)
		}
		if swapped, err := qs.CompareAndSwapWithin(ctx, "p", []byte("d"), nil, []byte("1"), keys); swapped || !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("a 4th key by compare-and-swap: %v %v", swapped, err)
		}
		if u := usageOf(t, s, "p"); u != (Usage{Keys: 3, Bytes: 3 + 4}) {
			t.Fatalf("usage %+v", u)
		}
		if err := s.Delete(ctx, "p", []byte("a")); err != nil {
			t.Fatal(err)
		}
		if err := qs.SetWithin(ctx, "p", []byte("d"), []byte("1"), keys); err != nil {
			t.Fatalf("a key after a delete: %v", err)
		}
		if u := usageOf(t, s, "p"); u != (Usage{Keys: 3, Bytes: 6}) {
			t.Fatalf("usage %+v", u)
		}

		size := Quota{MaxBytes: 100}
		if err := qs.SetWithin(ctx, "q", []byte("k1"), bytes.Repeat([]byte("x"), 90), size); err != nil {
			t.Fatal(err)
		}
		if err := qs.SetWithin(ctx, "q", []byte("k2"), bytes.Repeat([]byte("x"), 10), size); !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("104 bytes under a 100-byte quota: %v", err)
		}
		if swapped, err := qs.CompareAndSwapWithin(ctx, "q", []byte("k1"), bytes.Repeat([]byte("x"), 90), bytes.Repeat([]byte("y"), 99), size); swapped || !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("growing past the byte quota by compare-and-swap: %v %v", swapped, err)
		}
		if swapped, err := qs.CompareAndSwapWithin(ctx, "q", []byte("k1"), bytes.Repeat([]byte("x"), 90), []byte("small"), size); !swapped || err != nil {
			t.Fatalf("shrinking by compare-and-swap: %v %v", swapped, err)
		}
		if err := qs.SetWithin(ctx, "q", []byte("k2"), bytes.Repeat([]byte("x"), 10), size); err != nil {
			t.Fatalf("after shrinking: %v", err)
		}
		if u := usageOf(t, s, "q"); u != (Usage{Keys: 2, Bytes: 7 + 12}) {
			t.Fatalf("usage %+v", u)
		}
		if u := usageOf(t, s, "p"); u.Keys != 3 {
			t.Fatalf("namespaces share a count: %+v", u)
		}

		// A quota lowered below what a namespace holds: writes that do not
		// grow it still pass; writes that grow it do not.
		low := Quota{MaxKeys: 1, MaxBytes: 5}
		if err := qs.SetWithin(ctx, "p", []byte("b"), []byte("9"), low); err != nil {
			t.Fatalf("same-size overwrite over a lowered quota: %v", err)
		}
		if err := qs.SetWithin(ctx, "p", []byte("b"), []byte("99"), low); !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("growing overwrite over a lowered quota: %v", err)
		}
		if err := qs.SetWithin(ctx, "p", []byte("e"), []byte("1"), low); !errors.Is(err, ErrQuotaExceeded) {
			t.Fatalf("new key over a lowered quota: %v", err)
		}
		if u := usageOf(t, s, "unused"); u != (Usage{}) {
			t.Fatalf("unused namespace: %+v", u)
		}
	})
}

// TestUsageRecordsSurviveAndRebuild: the usage a bbolt file records is read
// back after a reopen, and counted afresh for a file written without records.
func TestUsageRecordsSurviveAndRebuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustSet(t, b, "p", fmt.Sprint("key", i), "value")
	}
	want := Usage{Keys: 10, Bytes: 10 * (4 + 5)}
	if u := usageOf(t, b, "p"); u != want {
		t.Fatalf("usage %+v, want %+v", u, want)
	}
	b.Close()
	// Drop the records, as in a file from before they existed.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(usageBucket) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if b, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if u := usageOf(t, b, "p"); u != want {
		t.Fatalf("usage counted afresh %+v, want %+v", u, want)
	}
	if err := b.SetWithin(context.Background(), "p", []byte("key10"), []byte("v"), Quota{MaxKeys: 10}); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("an 11th key under a 10-key quota, records rebuilt: %v", err)
	}
	if _, err := b.Get(context.Background(), "\x00usage", []byte("p")); err == nil {
		t.Error("the usage records are reachable as a namespace")
	}
}

// TestBoltFileStaysBoundedUnderChurn: a plugin that overwrites and deletes
// its keys over and over, as a guest looping on host_storage_set does, does
// not grow the file: bbolt reuses the pages that earlier transactions freed.
func TestBoltFileStaysBoundedUnderChurn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	q := Quota{MaxKeys: 16, MaxBytes: 2 << 20}
	value := bytes.Repeat([]byte("v"), 128<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	churn := func(n int) {
		for range n {
			key := []byte(fmt.Sprint("key", rng.IntN(24)))
			var err error
			if rng.IntN(4) == 0 {
				err = b.Delete(ctx, "p", key)
			} else {
				value[0]++
				err = b.SetWithin(ctx, "p", key, value, q)
			}
			if err != nil && !errors.Is(err, ErrQuotaExceeded) {
				t.Fatal(err)
			}
		}
	}
	fileSize := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	churn(100)
	warm := fileSize()
	churn(600) // about 55 MiB written
	end := fileSize()
	t.Logf("file %d KiB after warm-up, %d KiB after 600 more writes; usage %+v", warm>>10, end>>10, usageOf(t, b, "p"))
	if end > 2*warm || end > 32<<20 {
		t.Errorf("file grew from %d to %d bytes under churn; live data is at most %d", warm, end, q.MaxBytes)
	}
	if u := usageOf(t, b, "p"); u.Bytes > q.MaxBytes || u.Keys > q.MaxKeys {
		t.Errorf("usage %+v past the quota %+v", u, q)
	}
}
