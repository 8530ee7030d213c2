package serve

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// archiveError is an uploaded archive refused for what it holds (HTTP 400),
// as opposed to a failure of the server while unpacking it (500).
type archiveError struct {
	Entry  string // the entry's name as the archive gives it; "" for the archive as a whole
	Reason string
}

func (e *archiveError) Error() string {
	if e.Entry == "" {
		return "archive refused: " + e.Reason
	}
	return fmt.Sprintf("archive refused: entry %q: %s", e.Entry, e.Reason)
}

func refuse(entry, format string, args ...any) error {
	return &archiveError{Entry: entry, Reason: fmt.Sprintf(format, args...)}
}

// errStreamTooLarge ends a decompressed stream that grew past its cap.
var errStreamTooLarge = errors.New("decompressed stream past its cap")

// cappedReader fails with errStreamTooLarge once more than left bytes were read.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errStreamTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// extractArchive unpacks the gzip-compressed tar archive r into dir, an empty
// folder, as `make package` lays a plugin out: regular files and folders
// only, at most lim.MaxFiles entries declaring at most lim.MaxBytes in total.
//
// # Notes
//
// Every write goes through an os.Root opened on dir, so no entry can land
// outside it whatever its name; names are checked first anyway, so that a
// hostile archive is refused with a reason rather than half unpacked. Modes in
// the archive are ignored: files are written 0644, folders 0755. On error the
// caller removes dir, which may hold part of the archive.
//
// # Errors
//
// An *archiveError for an archive refused for its content: not gzip or not
// tar; an entry with an empty or absolute name, a ".." component, a NUL or a
// backslash, or a name reserved by the OS; a symbolic or hard link, a device,
// a FIFO or another special entry; a duplicate entry, or a file where a folder
// is needed; too many entries or too many bytes. Other errors are the
// server's (a full disk).
func extractArchive(r io.Reader, dir string, lim ArchiveLimits) error {
	src := &readRecorder{r: r}
	err := extract(src, dir, lim)
	if errors.Is(err, syscall.ENAMETOOLONG) {
		// Past the checks of entryName, on a file system with tighter bounds.
		return refuse("", "%v", err)
	}
	if err != nil && src.err != nil {
		// The upload itself failed (past the size cap, the client gone):
		// that, not what the truncated stream looked like, is the cause.
		return fmt.Errorf("reading the upload: %w", src.err)
	}
	return err
}

// readRecorder remembers the first error other than io.EOF of its reader.
type readRecorder struct {
	r   io.Reader
	err error
}

func (rr *readRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && err != io.EOF && rr.err == nil {
		rr.err = err
	}
	return n, err
}

func extract(r io.Reader, dir string, lim ArchiveLimits) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	zr, err := gzip.NewReader(r)
	if err != nil {
		return refuse("", "not a gzip stream (want a .tar.gz as make package writes it): %v", err)
	}
	defer zr.Close()
	zr.Multistream(false)
	// Entry data is bounded by MaxBytes; headers, padding and the PAX
	// records Go's reader accepts are bounded by this allowance per entry.
	streamCap := lim.MaxBytes + int64(lim.MaxFiles+2)*8<<10
	capped := &cappedReader{r: zr, left: streamCap}
	tr := tar.NewReader(capped)
	kinds := map[string]bool{} // cleaned name -> is a folder
	var entries int
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errStreamTooLarge) {
				return refuse("", "unpacks to more than %d bytes", streamCap)
			}
			return refuse("", "not a valid tar stream: %v", err)
		}
		entries++
		if entries > lim.MaxFiles {
			return refuse("", "more than %d entries", lim.MaxFiles)
		}
		if hdr.Size < 0 {
			return refuse(hdr.Name, "negative size")
		}
		total += hdr.Size
		if total > lim.MaxBytes {
			return refuse(hdr.Name, "entries declare %d bytes or more, over the limit of %d", total, lim.MaxBytes)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // PAX global header (git archive writes one): metadata, not a file
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeDir:
		case tar.TypeSymlink:
			return refuse(hdr.Name, "symbolic link (to %q): links are not allowed", hdr.Linkname)
		case tar.TypeLink:
			return refuse(hdr.Name, "hard link (to %q): links are not allowed", hdr.Linkname)
		case tar.TypeChar, tar.TypeBlock:
			return refuse(hdr.Name, "device node: only regular files and folders are allowed")
		case tar.TypeFifo:
			return refuse(hdr.Name, "FIFO: only regular files and folders are allowed")
		default:
			return refuse(hdr.Name, "entry type %q: only regular files and folders are allowed", hdr.Typeflag)
		}
		if name == "." {
			if hdr.Typeflag != tar.TypeDir {
				return refuse(hdr.Name, "a file cannot be the archive's root")
			}
			continue // "./": the root folder itself
		}
		if _, dup := kinds[name]; dup {
			return refuse(hdr.Name, "duplicate entry")
		}
		for p := path.Dir(name); p != "."; p = path.Dir(p) {
			if isDir, seen := kinds[p]; seen && !isDir {
				return refuse(hdr.Name, "its folder %q is a file of the archive", p)
			}
		}
		isDir := hdr.Typeflag == tar.TypeDir
		kinds[name] = isDir
		local := filepath.FromSlash(name)
		if isDir {
			if err := root.MkdirAll(local, 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", name, err)
			}
			continue
		}
		if parent := filepath.Dir(local); parent != "." {
			if err := root.MkdirAll(parent, 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", name, err)
			}
		}
		f, err := root.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("unpack %s: %w", name, err)
		}
		n, err := io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			if errors.Is(err, errStreamTooLarge) {
				return refuse(hdr.Name, "archive unpacks to more than %d bytes", streamCap)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return refuse(hdr.Name, "truncated: declares %d bytes, holds %d", hdr.Size, n)
			}
			return fmt.Errorf("unpack %s: %w", name, err)
		}
	}
	if entries == 0 {
		return refuse("", "empty archive")
	}
	return nil
}

// Bounds of entry names: a longer file or folder name fails to unpack on
// Linux and most file systems (ENAMETOOLONG), which would otherwise be a
// server error (500) rather than a refused archive (400).
const (
	maxNameComponent = 255  // NAME_MAX
	maxEntryName     = 1024 // a whole path inside the archive
)

// entryName checks an archive entry's name and returns it cleaned, with
// slashes, relative to the archive's root ("." for the root itself).
func entryName(raw string) (string, error) {
	switch {
	case raw == "":
		return "", refuse(raw, "empty name")
	case strings.ContainsRune(raw, 0):
		return "", refuse(raw, "name holds a NUL byte")
	case strings.Contains(raw, `\`):
		return "", refuse(raw, "name holds a backslash")
	case strings.HasPrefix(raw, "/"):
		return "", refuse(raw, "absolute path")
	}
	if len(raw) > maxEntryName {
		return "", refuse(raw, "name of %d bytes, longer than %d", len(raw), maxEntryName)
	}
	for _, part := range strings.Split(raw, "/") {
		if part == ".." {
			return "", refuse(raw, "path with a \"..\" component")
		}
		if len(part) > maxNameComponent {
			return "", refuse(raw, "a file or folder name of %d bytes, longer than %d", len(part), maxNameComponent)
		}
	}
	name := path.Clean(raw)
	if name == "." {
		return ".", nil
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", refuse(raw, "not a local path on this system")
	}
	return name, nil
}
