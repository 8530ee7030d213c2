package serve

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kspbench/kspbench/conformance"
	_ "github.com/kspbench/kspbench/engines/wazero"
)

// The package's tests run on wazero, the engine every binary links; the
// server is engine-neutral, and `kspbench serve` on the cgo engines is
// checked by cmd/kspbench's tests and by hand.
const testEngine = "wazero"

var (
	// clusterMonitorDir is the cluster-monitor plugin built from source, once.
	clusterMonitorDir string
	// cacheDir is a compilation cache shared by every server of the tests,
	// so that the plugin compiles once.
	cacheDir string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "kspbench-serve-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	src, err := conformance.PluginSource()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if clusterMonitorDir, err = conformance.BuildClusterMonitor(ctx, src, filepath.Join(tmp, "build")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cacheDir = filepath.Join(tmp, "cache")
	code := m.Run()
	if workerBinDir != "" {
		os.RemoveAll(workerBinDir) // the isolation tests' worker binaries
	}
	return code
}

// logBuffer collects a server's log; a failed test prints it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is a Server behind an httptest server.
type testServer struct {
	t    *testing.T
	srv  *Server
	http *httptest.Server
	cfg  Config
	log  *logBuffer
	base string // the folder holding the plugins folder and the data file
}

// newServer starts a server on cfg, filling in what tests leave out: a
// plugins folder in a fresh temporary folder (when cfg has none) holding the
// plugin folders given, the shared cache, and a logger into a buffer.
func newServer(t *testing.T, cfg Config, plugins ...string) *testServer {
	t.Helper()
	ts := &testServer{t: t, log: &logBuffer{}}
	if cfg.PluginsDir == "" {
		ts.base = t.TempDir()
		cfg.PluginsDir = filepath.Join(ts.base, "plugins")
		if err := os.MkdirAll(cfg.PluginsDir, 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		ts.base = filepath.Dir(cfg.PluginsDir)
	}
	for _, p := range plugins {
		copyDir(t, p, filepath.Join(cfg.PluginsDir, filepath.Base(p)))
	}
	if cfg.Engine == "" {
		cfg.Engine = testEngine
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = cacheDir
	}
	cfg.Logger = slog.New(slog.NewTextHandler(ts.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts.cfg = cfg
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	ts.http = httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.close()
		if t.Failed() {
			t.Logf("server log:\n%s", ts.log.String())
		}
	})
	return ts
}

// close stops the HTTP server and closes the Server; it may be called twice.
func (ts *testServer) close() {
	ts.http.Close()
	if err := ts.srv.Close(context.Background()); err != nil {
		ts.t.Errorf("close: %v", err)
	}
}

// response is an answer read in full.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.code, r.body) }

// json decodes the body as a JSON object.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r.body)
	}
	return v
}

// do sends a request; header holds pairs of names and values.
func (ts *testServer) do(method, path string, body []byte, header ...string) response {
	ts.t.Helper()
	return doURL(ts.t, ts.http.URL, method, path, body, header...)
}

func doURL(t testing.TB, base, method, path string, body []byte, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

// copyDir copies the regular files of src into dst.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// edgeManifest routes the edge guest's misbehaving handlers.
const edgeManifest = `apiVersion: kubestellar.io/v1
kind: Plugin
metadata:
  name: edge
  version: 1.0.0
spec:
  backend:
    enabled: true
    routes:
      - path: /ok
        methods: [GET, POST]
        handler: handle_ok
      - path: /trap
        methods: [GET]
        handler: handle_trap
      - path: /loop
        methods: [GET]
        handler: handle_loop
      - path: /oob
        methods: [GET]
        handler: handle_oob_ptr
      - path: /status
        methods: [GET]
        handler: handle_status
`

// edgeDir writes a plugin folder for the conformance suite's edge guest
// (handle_trap traps, handle_loop never returns, handle_oob_ptr answers out
// of bounds, handle_status answers BAD_ARGUMENT without a body).
func edgeDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "edge")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "plugin.yml"), edgeManifest)
	write(t, filepath.Join(dir, "edge.wasm"), string(conformance.Guest("edge")))
	return dir
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tarEntry is one entry of a test archive.
type tarEntry struct {
	hdr  tar.Header
	body []byte
}

func file(name string, body []byte) tarEntry {
	return tarEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}, body: body}
}

// targz writes entries as a gzip-compressed tar. Headers whose size differs
// from the body (a declared size the archive does not hold) are written as
// declared; the archive then ends there.
func targz(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		if err := tw.WriteHeader(&e.hdr); err != nil {
			t.Fatalf("entry %q: %v", e.hdr.Name, err)
		}
		if e.hdr.Size != int64(len(e.body)) {
			tw.Write(e.body)
			zw.Close()
			return buf.Bytes() // a truncated archive: what its header declares is what counts
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// packageArchive builds the archive `make package` makes of a plugin folder:
// plugin.yml and the wasm at the root.
func packageArchive(t testing.TB, dir string) []byte {
	t.Helper()
	var entries []tarEntry
	for _, name := range []string{"plugin.yml", filepath.Base(dir) + ".wasm"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, file(name, b))
	}
	return targz(t, entries...)
}

// tree lists every path under dir (relative, sorted), for before/after
// comparisons of what an operation wrote.
func tree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out
}

// waitFor polls cond every few milliseconds until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// entryOf returns the published entry of name.
func (ts *testServer) entryOf(name string) *entry { return ts.srv.reg.get(name) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
