package engines

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DiskCache keeps serialized compiled modules in a directory, one file per
// key, for engines whose binding can serialize a module but has no cache of
// its own that a host can point at a directory.
//
// # Notes
//
// Entries are written to a temporary file and renamed into place, so readers
// in other processes never see half an entry. A corrupt or stale entry is the
// engine's to detect when it deserializes; the caller then compiles afresh and
// overwrites it.
type DiskCache struct {
	Dir string
}

// Key derives a cache key from everything that changes compiled code: the
// engine and its version, its settings, and the module's bytes.
func (c DiskCache) Key(engine, version, settings string, wasm []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", engine, version, settings)
	h.Write(wasm)
	return hex.EncodeToString(h.Sum(nil))
}

// Get returns the entry for key, or ok false when there is none.
func (c DiskCache) Get(key string) (b []byte, ok bool, err error) {
	b, err = os.ReadFile(filepath.Join(c.Dir, key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("engines: cache read: %w", err)
	}
	return b, true, nil
}

// Put stores the entry for key.
func (c DiskCache) Put(key string, b []byte) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("engines: cache dir: %w", err)
	}
	f, err := os.CreateTemp(c.Dir, key+".tmp*")
	if err != nil {
		return fmt.Errorf("engines: cache write: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("engines: cache write: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(c.Dir, key)); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("engines: cache write: %w", err)
	}
	return nil
}
