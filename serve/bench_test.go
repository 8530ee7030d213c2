package serve

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// discardWriter is a ResponseWriter that keeps the status and drops the
// body, so that the benchmark times the server's handler, not a recorder.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkServePlugin times the handler path of a plugin route, without
// sockets: routing, middleware, the gate, the pool and the call of a WAT
// guest that answers a constant ("ok", the edge guest's handle_ok). POST
// carries the HTTP workload's body (80 bytes of JSON), which adds reading
// it, the guest's allocate and the copy into the guest's memory.
func BenchmarkServePlugin(b *testing.B) {
	const record = `{"id":"cluster-3","name":"Load Test","status":"healthy","nodes":1,"pods":10}`
	for _, bc := range []struct{ method, body string }{{"GET", ""}, {"POST", record}} {
		b.Run(bc.method, func(b *testing.B) {
			ts := newBenchServer(b)
			req := httptest.NewRequest(bc.method, "/api/plugins/edge/ok", nil)
			req.Header.Set("User-Agent", "bench")
			req.Header.Set("Accept", "application/json")
			body := strings.NewReader(bc.body)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				clear(w.h)
				w.code, w.n = 0, 0
				if bc.body != "" {
					body.Reset(bc.body)
					req.Body, req.ContentLength = io.NopCloser(body), int64(len(bc.body))
				}
				ts.ServeHTTP(w, req)
				if w.code != 200 || w.n != 2 {
					b.Fatalf("answer %d, %d bytes", w.code, w.n)
				}
			}
			// On a shared machine wall time per call says more about the
			// neighbours than about the server: report the process's CPU
			// time per call too (the guest, the server, the engine's
			// goroutines and the GC).
			if cpu := processCPU() - cpu; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// newBenchServer is a server of the edge plugin that logs as in production
// (request lines at info), into io.Discard.
func newBenchServer(b *testing.B) *Server { return newBenchServerWith(b, Config{}) }

// newBenchServerWith is newBenchServer with cfg's fields besides those it
// sets.
func newBenchServerWith(b *testing.B, cfg Config) *Server {
	b.Helper()
	base := b.TempDir()
	plugins := filepath.Join(base, "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		b.Fatal(err)
	}
	copyDir(b, edgeDir(b), filepath.Join(plugins, "edge"))
	cfg.Engine, cfg.PluginsDir, cfg.CacheDir = testEngine, plugins, cacheDir
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close(context.Background()) })
	return srv
}
