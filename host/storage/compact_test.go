package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"
)

// bigValue is the value the compaction tests write: 64 of them take a file
// to 16 MiB, past compactMinBytes, in few (synced) transactions.
var bigValue = bytes.Repeat([]byte("v"), 256<<10)

const bigKeys = 64

func mustOpen(t *testing.T, path string) *Bolt {
	t.Helper()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// writeBig writes bigKeys big values to namespace "big".
func writeBig(t *testing.T, b *Bolt) { t.Helper(); writeBigIn(t, b, "big") }

func writeBigIn(t *testing.T, b *Bolt, ns string) {
	t.Helper()
	for i := range bigKeys {
		if err := b.Set(context.Background(), ns, fmt.Appendf(nil, "k%03d", i), bigValue); err != nil {
			t.Fatal(err)
		}
	}
}

func deleteBig(t *testing.T, b *Bolt) { t.Helper(); deleteBigIn(t, b, "big") }

func deleteBigIn(t *testing.T, b *Bolt, ns string) {
	t.Helper()
	for i := range bigKeys {
		if err := b.Delete(context.Background(), ns, fmt.Appendf(nil, "k%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// freeFile makes a file at path whose big namespace was written and deleted
// (so most of it is free) and whose namespace "keep" holds two keys.
func freeFile(t *testing.T, path string) int64 {
	t.Helper()
	b := mustOpen(t, path)
	mustSet(t, b, "keep", "a", "1")
	writeBig(t, b)
	mustSet(t, b, "keep", "b", "2")
	deleteBig(t, b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return size(t, path)
}

// checkKept checks that the data freeFile kept is intact, usage included.
func checkKept(t *testing.T, b *Bolt) {
	t.Helper()
	if got := mustGet(t, b, "keep", "a"); string(got) != "1" {
		t.Errorf("keep/a = %q, want 1", got)
	}
	if got := mustGet(t, b, "keep", "b"); string(got) != "2" {
		t.Errorf("keep/b = %q, want 2", got)
	}
	u, err := b.Usage(context.Background(), "keep")
	if err != nil {
		t.Fatal(err)
	}
	if u != (Usage{Keys: 2, Bytes: 4}) {
		t.Errorf("usage of keep = %+v, want 2 keys, 4 bytes", u)
	}
	if u, _ := b.Usage(context.Background(), "big"); u != (Usage{}) {
		t.Errorf("usage of big = %+v, want nothing", u)
	}
}

func leftovers(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(path + compactSuffix + "*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// bbolt puts freed pages on its freelist and reuses them: writing, deleting
// and writing the same data again, in the same namespace or in another one
// (as another plugin would), leaves the file at its first peak.
func TestFileStopsGrowingAfterDeletes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	b := mustOpen(t, path)
	defer b.Close()
	writeBig(t, b)
	peak := size(t, path)
	for round, ns := range [][2]string{{"big", "other"}, {"other", "big"}, {"big", "big"}} {
		deleteBigIn(t, b, ns[0])
		writeBigIn(t, b, ns[1])
		if got := size(t, path); got > peak {
			t.Fatalf("round %d: file grew to %d bytes past its first peak %d: freed pages not reused", round, got, peak)
		}
	}
}

func TestOpenCompactsMostlyFreeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	before := freeFile(t, path)
	if before < 2*compactMinBytes {
		t.Fatalf("setup: file is %d bytes, want at least %d", before, 2*compactMinBytes)
	}
	b := mustOpen(t, path)
	c := b.Compaction()
	if c.Err != nil {
		t.Fatal(c.Err)
	}
	after := size(t, path)
	t.Logf("compaction at open: %d -> %d bytes", before, after)
	if c.Before != before || c.After != after {
		t.Errorf("Compaction() = %+v, want Before %d, After %d", c, before, after)
	}
	if after > 1<<20 {
		t.Errorf("compacted file is %d bytes, want under 1 MiB (two small keys)", after)
	}
	if l := leftovers(t, path); len(l) != 0 {
		t.Errorf("temporary files left: %v", l)
	}
	checkKept(t, b)
	// The store writes to the compacted file now at path, not to a file
	// renamed away or unlinked: a write survives a reopen.
	mustSet(t, b, "keep", "c", "3")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = mustOpen(t, path)
	defer b.Close()
	if c := b.Compaction(); c != (Compaction{}) {
		t.Errorf("second open compacted again: %+v", c)
	}
	if got := mustGet(t, b, "keep", "c"); string(got) != "3" {
		t.Errorf("after reopen, keep/c = %q, want 3", got)
	}
}

func TestOpenLeavesFullFileAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	b := mustOpen(t, path)
	writeBig(t, b)
	b.Close()
	before := size(t, path)
	b = mustOpen(t, path)
	defer b.Close()
	if c := b.Compaction(); c != (Compaction{}) {
		t.Errorf("a file full of data was compacted: %+v", c)
	}
	if got := size(t, path); got != before {
		t.Errorf("size changed from %d to %d", before, got)
	}
}

func TestCompactFailedRenameKeepsOriginal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	before := freeFile(t, path)
	errRename := errors.New("rename refused by the test")
	rename = func(string, string) error { return errRename }
	t.Cleanup(func() { rename = os.Rename })

	b := mustOpen(t, path)
	c := b.Compaction()
	if !errors.Is(c.Err, errRename) {
		t.Errorf("Compaction().Err = %v, want the rename's error", c.Err)
	}
	if got := size(t, path); got != before {
		t.Errorf("size changed from %d to %d although the compaction failed", before, got)
	}
	if l := leftovers(t, path); len(l) != 0 {
		t.Errorf("temporary files left: %v", l)
	}
	checkKept(t, b)
	mustSet(t, b, "later", "c", "3")
	b.Close()

	if _, err := Compact(path); !errors.Is(err, errRename) {
		t.Errorf("Compact: %v, want the rename's error", err)
	}
	rename = os.Rename
	b = mustOpen(t, path)
	defer b.Close()
	if c := b.Compaction(); c.Err != nil || c.After >= c.Before {
		t.Errorf("once renames work, Compaction() = %+v, want a smaller file", c)
	}
	checkKept(t, b)
	if got := mustGet(t, b, "later", "c"); string(got) != "3" {
		t.Errorf("later/c = %q, want 3", got)
	}
}

// crashEnv names the file that TestCompactCrashHelper compacts, dying just
// before the rename as a killed process would.
const crashEnv = "KSPBENCH_STORAGE_COMPACT_CRASH"

func TestCompactCrashHelper(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper of TestCompactCrashKeepsOriginal")
	}
	beforeRename = func() { os.Exit(3) }
	_, err := Compact(path)
	t.Fatalf("Compact returned (%v) instead of dying before the rename", err)
}

func TestCompactCrashKeepsOriginal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	before := freeFile(t, path)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCompactCrashHelper$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("helper: %v, want exit status 3 (died before the rename); output:\n%s", err, out)
	}
	if l := leftovers(t, path); len(l) != 1 {
		t.Errorf("after the crash, temporary files %v, want the one the helper wrote", l)
	}
	if got := size(t, path); got != before {
		t.Errorf("size changed from %d to %d although the compaction died", before, got)
	}
	b := mustOpen(t, path)
	defer b.Close()
	if l := leftovers(t, path); len(l) != 0 {
		t.Errorf("Open left the crashed compaction's files: %v", l)
	}
	if c := b.Compaction(); c.Err != nil || c.After >= c.Before {
		t.Errorf("Compaction() = %+v, want a smaller file", c)
	}
	checkKept(t, b)
}

func TestCompactRefusesLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	freeFile(t, path)
	b := mustOpen(t, path)
	defer b.Close()
	if _, err := Compact(path); !errors.Is(err, bolterrors.ErrTimeout) {
		t.Errorf("Compact of a file another store holds: %v, want a timeout on its lock", err)
	}
}

func TestCompact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	if _, err := Compact(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Compact of a missing file: %v, want an error matching os.ErrNotExist", err)
	}
	b := mustOpen(t, path)
	mustSet(t, b, "keep", "a", "1")
	mustSet(t, b, "keep", "b", "2")
	b.Close()
	// Compact works on any file, not only on one Open would compact.
	c, err := Compact(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Before == 0 || c.After != size(t, path) || c.After > c.Before {
		t.Errorf("Compact = %+v, file now %d bytes", c, size(t, path))
	}
	b = mustOpen(t, path)
	defer b.Close()
	checkKept(t, b)
}

// TestOpenFollowsReplacedFile: a store waiting for the lock of a file that a
// compaction renames a new file over must end up on the new file, not on the
// old one, which nothing reads again.
func TestOpenFollowsReplacedFile(t *testing.T) {
	dir := t.TempDir()
	path, next := filepath.Join(dir, "kv.db"), filepath.Join(dir, "next.db")
	holder := mustOpen(t, path)
	mustSet(t, holder, "p", "old", "1")
	opened := make(chan *Bolt)
	go func() {
		b, err := Open(path)
		if err != nil {
			t.Error(err)
		}
		opened <- b
	}()
	// Give the waiter time to open the old file and wait for its lock; if it
	// comes later, it opens the new file directly and the test still holds.
	time.Sleep(100 * time.Millisecond)
	replacement := mustOpen(t, next)
	mustSet(t, replacement, "p", "new", "2")
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	holder.Close() // the waiter wins the old file's lock, which is no longer at path
	time.Sleep(50 * time.Millisecond)
	replacement.Close()
	b := <-opened
	if b == nil {
		return
	}
	defer b.Close()
	if got := mustGet(t, b, "p", "new"); string(got) != "2" {
		t.Errorf("p/new = %q, want 2: the store opened the replaced file", got)
	}
}
