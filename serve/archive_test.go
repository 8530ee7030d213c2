package serve

import (
	"archive/tar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/conformance"
)

// TestInstallRefusesHostileArchives posts archives that try to write
// outside their folder, carry links or special files, or unpack to too much:
// each is refused with 400, and nothing changes on disk, inside the plugins
// folder or beside it.
func TestInstallRefusesHostileArchives(t *testing.T) {
	ts := newServer(t, Config{Token: testToken, Archive: ArchiveLimits{MaxFiles: 8, MaxBytes: 1 << 20}})
	outside := filepath.Join(ts.base, "escaped")
	manifest := file("plugin.yml", []byte(edgeManifest))
	wasm := file("edge.wasm", conformance.Guest("edge"))
	special := func(name string, typ byte, link string) tarEntry {
		return tarEntry{hdr: tar.Header{Name: name, Typeflag: typ, Linkname: link, Mode: 0o644, Devmajor: 1, Devminor: 3}}
	}
	for _, tc := range []struct {
		name    string
		entries []tarEntry
		reason  string
	}{
		{"dot-dot", []tarEntry{manifest, wasm, file("../../escaped", []byte("x"))}, "component"},
		{"dot-dot inside", []tarEntry{manifest, wasm, file("a/../../../escaped", []byte("x"))}, "component"},
		{"absolute", []tarEntry{manifest, wasm, file(outside, []byte("x"))}, "absolute"},
		{"backslash", []tarEntry{manifest, wasm, file(`..\..\escaped`, []byte("x"))}, "backslash"},
		{"symlink", []tarEntry{manifest, special("edge.wasm", tar.TypeSymlink, "../../escaped")}, "symbolic link"},
		{"symlink then write through it", []tarEntry{special("dir", tar.TypeSymlink, ".."), file("dir/escaped", []byte("x"))}, "symbolic link"},
		{"hardlink", []tarEntry{manifest, special("edge.wasm", tar.TypeLink, "/etc/passwd")}, "hard link"},
		{"fifo", []tarEntry{manifest, wasm, special("pipe", tar.TypeFifo, "")}, "FIFO"},
		{"char device", []tarEntry{manifest, wasm, special("null", tar.TypeChar, "")}, "device"},
		{"block device", []tarEntry{manifest, wasm, special("disk", tar.TypeBlock, "")}, "device"},
		{"duplicate", []tarEntry{manifest, wasm, manifest}, "duplicate"},
		{"file as a folder", []tarEntry{manifest, wasm, file("a", nil), file("a/b", nil)}, "is a file"},
		{"too many files", []tarEntry{manifest, wasm, file("1", nil), file("2", nil), file("3", nil), file("4", nil), file("5", nil), file("6", nil), file("7", nil)}, "more than 8 entries"},
		{"huge declared size", []tarEntry{manifest, {hdr: tar.Header{Name: "edge.wasm", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 40}}}, "over the limit"},
		{"bomb", []tarEntry{manifest, wasm, file("zeros", make([]byte, 2<<20))}, "over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tree(t, ts.base)
			r := ts.admin("POST", "/install", targz(t, tc.entries...))
			if r.code != 400 || r.json(t)["kind"] != kindBadArchive || !contains(string(r.body), tc.reason) {
				t.Errorf("%s: %s, want 400 %s saying %q", tc.name, r, kindBadArchive, tc.reason)
			}
			if got := tree(t, ts.base); !slices.Equal(got, before) {
				t.Errorf("the refused archive changed the files:\nbefore %v\nafter  %v", before, got)
			}
			if _, err := os.Lstat(outside); !os.IsNotExist(err) {
				t.Errorf("%s exists: %v", outside, err)
			}
		})
	}
	t.Run("not gzip", func(t *testing.T) {
		if r := ts.admin("POST", "/install", []byte("plugin.yml")); r.code != 400 || !contains(string(r.body), "gzip") {
			t.Errorf("plain bytes: %s", r)
		}
	})
	if got := ts.listing(); len(got.Plugins) != 0 {
		t.Errorf("a refused archive was installed: %+v", got.Plugins)
	}
}

func TestEntryName(t *testing.T) {
	for _, tc := range []struct {
		raw, want, refusal string
	}{
		{"plugin.yml", "plugin.yml", ""},
		{"./plugin.yml", "plugin.yml", ""},
		{"frontend/dist/", "frontend/dist", ""},
		{"a//b", "a/b", ""},
		{"./", ".", ""},
		{"", "", "empty"},
		{"/etc/passwd", "", "absolute"},
		{"../x", "", `".."`},
		{"a/../b", "", `".."`},
		{"a/..", "", `".."`},
		{"a\x00b", "", "NUL"},
		{`a\b`, "", "backslash"},
		{strings.Repeat("n", 255), strings.Repeat("n", 255), ""},
		{strings.Repeat("n", 256), "", "longer than 255"},
		{"frontend/" + strings.Repeat("n", 300) + "/x.js", "", "longer than 255"},
		{strings.Repeat("a/", 600), "", "longer than 1024"},
	} {
		got, err := entryName(tc.raw)
		if tc.refusal == "" {
			if err != nil || got != tc.want {
				t.Errorf("entryName(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
			}
			continue
		}
		if _, ok := err.(*archiveError); !ok || !strings.Contains(err.Error(), tc.refusal) {
			t.Errorf("entryName(%q) = %q, %v; want a refusal saying %q", tc.raw, got, err, tc.refusal)
		}
	}
}
