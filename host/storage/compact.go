package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Compaction is what a compaction of a store's file did: the file's size
// before and after, in bytes. The zero value says no compaction ran.
type Compaction struct {
	Before, After int64
	// Err, when not nil, says why a compaction that Open started was given
	// up; the original file was kept and is the one open.
	Err error
}

// Open compacts a file when at least compactMinShare of it, and at least
// compactMinBytes, is space that no data uses: freed pages on bbolt's
// freelist and what bbolt allocated past its last page. bbolt reuses freed
// pages for new writes, so a file stops growing at its peak on its own; only
// a compaction gives the space back to the file system. Below these bounds
// the rewrite costs more than the space is worth.
const (
	compactMinShare = 0.5
	compactMinBytes = 4 << 20
)

// compactTxMaxSize bounds the keys and values copied per transaction of a
// compaction, and so the memory a compaction of a large file holds.
const compactTxMaxSize = 16 << 20

// compactSuffix names the temporary file a compaction writes beside the
// store's file: <file>.compact-<random>. Open removes leftovers of a
// compaction that a crash interrupted.
const compactSuffix = ".compact-"

// Hooks replaced by the tests to interrupt a compaction where a crash or a
// failing file system would.
var (
	rename       = os.Rename
	beforeRename = func() {}
)

// Compact rewrites the bbolt file at path without its free space, as Open
// does on its own when much of a file is free. It waits OpenTimeout for the
// file's lock, so it refuses a file that a running serve (or another store)
// holds.
//
// # Notes
//
// The copy is written to a temporary file in the same folder, checked
// against the original (the same buckets with as many keys each), synced, and
// renamed over the original, so a crash at any point leaves either the
// original or the complete copy under path. On any error the original is
// kept unchanged.
func Compact(path string) (Compaction, error) {
	// bbolt would create a missing file: a mistyped path is an error here.
	if _, err := os.Stat(path); err != nil {
		return Compaction{}, fmt.Errorf("storage: compact: %w", err)
	}
	db, err := openFile(path, nil)
	if err != nil {
		return Compaction{}, err
	}
	removeLeftovers(path)
	before, err := fileSize(path)
	if err != nil {
		db.Close()
		return Compaction{}, err
	}
	dst, c, err := compact(db, path, before)
	if err != nil {
		db.Close()
		return Compaction{}, err
	}
	if err := dst.Close(); err != nil {
		return c, fmt.Errorf("storage: compact file[%s]: close the compacted file: %w", path, err)
	}
	return c, nil
}

// openFile opens the bbolt file at path under its lock, waiting up to
// OpenTimeout for it. A compaction by another store renames a new file over
// path while this one waits for the old file's lock: a lock won on a file no
// longer at path is dropped and the new file's lock is waited for, so no
// write goes to a file that nothing will read again. opts may be nil.
func openFile(path string, opts *bolt.Options) (*bolt.DB, error) {
	deadline := time.Now().Add(OpenTimeout)
	for {
		var o bolt.Options
		if opts != nil {
			o = *opts
		}
		var file *os.File
		o.OpenFile = func(name string, flag int, mode os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, mode)
			file = f
			return f, err
		}
		o.Timeout = max(time.Until(deadline), time.Millisecond)
		db, err := bolt.Open(path, 0o600, &o)
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("storage: open file[%s]: still locked by another process or store after %s: %w", path, OpenTimeout, err)
		}
		if err != nil {
			return nil, fmt.Errorf("storage: open file[%s]: %w", path, err)
		}
		if same, err := isFileAt(file, path); err != nil || same {
			if err != nil {
				db.Close()
				return nil, fmt.Errorf("storage: open file[%s]: %w", path, err)
			}
			return db, nil
		}
		db.Close()
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("storage: open file[%s]: replaced by a compaction again and again for %s: %w", path, OpenTimeout, bolterrors.ErrTimeout)
		}
	}
}

// isFileAt reports whether f is the file now at path.
func isFileAt(f *os.File, path string) (bool, error) {
	if f == nil {
		return false, errors.New("bbolt opened no file")
	}
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}

// worthCompacting reports whether db's file (size bytes) is free enough to
// compact.
func worthCompacting(db *bolt.DB, size int64) (bool, error) {
	var used int64
	if err := db.View(func(tx *bolt.Tx) error {
		used = tx.Size() // the pages up to the high-water mark
		return nil
	}); err != nil {
		return false, err
	}
	st := db.Stats()
	used -= int64(st.FreePageN+st.PendingPageN) * int64(db.Info().PageSize)
	free := size - used
	return free >= compactMinBytes && float64(free) >= compactMinShare*float64(size), nil
}

// compact copies db, the store at path (size bytes), into a new file, renames
// it over path and closes db. It returns the new file's store, open and
// locked since before the rename, so no other store can slip in between.
// On error, db is left open and path unchanged.
func compact(db *bolt.DB, path string, size int64) (*bolt.DB, Compaction, error) {
	fail := func(what string, err error) (*bolt.DB, Compaction, error) {
		return nil, Compaction{}, fmt.Errorf("storage: compact file[%s]: %s: %w (the original file is kept unchanged)", path, what, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+compactSuffix+"*")
	if err != nil {
		return fail("create the temporary file beside it (is the folder writable, the disk full?)", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	// Syncing every intermediate commit buys nothing: the copy counts only
	// once it is complete, synced once, and renamed.
	dst, err := bolt.Open(tmpPath, 0o600, &bolt.Options{Timeout: OpenTimeout, NoSync: true})
	if err != nil {
		os.Remove(tmpPath)
		return fail("open the temporary file", err)
	}
	discard := func(what string, err error) (*bolt.DB, Compaction, error) {
		dst.Close()
		os.Remove(tmpPath)
		return fail(what, err)
	}
	if err := bolt.Compact(dst, db, compactTxMaxSize); err != nil {
		return discard("copy into "+filepath.Base(tmpPath), err)
	}
	if err := sameContents(db, dst); err != nil {
		return discard("check the copy", err)
	}
	dst.NoSync = false
	if err := dst.Sync(); err != nil {
		return discard("sync the copy", err)
	}
	beforeRename()
	if err := rename(tmpPath, path); err != nil {
		return discard("rename the copy over it", err)
	}
	c := Compaction{Before: size}
	// The rename is done: the copy is the store now, whatever follows.
	if err := syncDir(filepath.Dir(path)); err != nil {
		c.Err = fmt.Errorf("storage: compact file[%s]: sync the folder after the rename (a crash now may bring back the uncompacted file, with the same data): %w", path, err)
	}
	db.Close()
	if c.After, err = fileSize(path); err != nil {
		c.After = -1
	}
	return dst, c, nil
}

// sameContents checks that dst holds the same top-level buckets as src, with
// as many keys each: a cheap guard against a copy that lost data.
func sameContents(src, dst *bolt.DB) error {
	count := func(db *bolt.DB) (map[string]int, error) {
		n := map[string]int{}
		err := db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				n[string(name)] = b.Stats().KeyN
				return nil
			})
		})
		return n, err
	}
	a, err := count(src)
	if err != nil {
		return err
	}
	b, err := count(dst)
	if err != nil {
		return err
	}
	if len(a) != len(b) {
		return fmt.Errorf("the copy has %d buckets, the original %d", len(b), len(a))
	}
	for name, n := range a {
		if b[name] != n {
			return fmt.Errorf("bucket %q has %d keys in the copy, %d in the original", name, b[name], n)
		}
	}
	return nil
}

// removeLeftovers deletes the temporary files of compactions of path that a
// crash interrupted. The caller holds path's lock, so no compaction of it is
// running.
func removeLeftovers(path string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), globEscape(filepath.Base(path))+compactSuffix+"*"))
	for _, m := range matches {
		os.Remove(m)
	}
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("storage: file[%s]: %w", path, err)
	}
	return st.Size(), nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
