package serve

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/kspbench/kspbench/host"
)

// recorder wraps a response to remember what the middleware logs and counts:
// the status, the size, and the labels the handlers fill in.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool

	plugin string // plugin label: a loaded plugin's name, labelUnknownPlugin, or "" for the host's endpoints
	route  string // the manifest route, or the host endpoint's pattern
	kind   string // error kind, "" for success
	detail string // error text for the log
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// recorderOf returns the middleware's recorder behind w, or a throwaway one
// when the handler runs without the middleware.
func recorderOf(w http.ResponseWriter) *recorder {
	if r, ok := w.(*recorder); ok {
		return r
	}
	return &recorder{}
}

// maxRequestIDLen bounds a client's X-Request-Id; a longer or non-printable
// one is replaced.
const maxRequestIDLen = 128

// validRequestID accepts 1 to maxRequestIDLen printable ASCII characters
// without spaces, so a client cannot inject text into log lines.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// Request ids are a random prefix drawn once per process and a counter:
// unique within the process and, by the prefix, across processes, and cheaper
// than random bytes per request. They are not secrets.
var (
	requestIDPrefix  = newRequestIDPrefix()
	requestIDCounter atomic.Uint64
)

func newRequestIDPrefix() [16]byte {
	var r [8]byte
	rand.Read(r[:])
	var p [16]byte
	hex.Encode(p[:], r[:])
	return p
}

// newRequestID returns 28 hex digits: the process's prefix, then the
// request's number.
func newRequestID() string {
	const digits = "0123456789abcdef"
	var b [28]byte
	copy(b[:], requestIDPrefix[:])
	n := requestIDCounter.Add(1)
	for i := len(b) - 1; i >= len(requestIDPrefix); i-- {
		b[i] = digits[n&15]
		n >>= 4
	}
	return string(b[:])
}

// withRequestLog gives every request an id (the client's X-Request-Id when it
// is sane, a new one otherwise), echoes it in the response, recovers a
// panicking handler, then logs one line per request and records its metrics.
func (s *Server) withRequestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(host.RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
			r.Header.Set(host.RequestIDHeader, id)
		}
		w.Header()[host.RequestIDHeader] = []string{id} // the constant is canonical
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				rec.kind, rec.detail = kindPanic, fmt.Sprint(v)
				s.log.Error("handler panicked", "request_id", id, "panic", v, "stack", string(debug.Stack()))
				if !rec.wrote {
					writeJSON(rec, http.StatusInternalServerError, errorBody{Status: "error", Kind: kindPanic,
						Message: "internal error (see the server log)", RequestID: id})
				}
			}
			s.finish(r, rec, id, time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

// finish logs the request line and records the request's metrics.
func (s *Server) finish(r *http.Request, rec *recorder, id string, d time.Duration) {
	route := rec.route
	if route == "" {
		route = r.Pattern
	}
	if route == "" {
		route = labelNoRoute
	}
	status := rec.status
	if !rec.wrote {
		status = http.StatusOK
	}
	s.metrics.observe(rec.plugin, route, r.Method, status, rec.kind, d)
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelWarn
	case rec.plugin == "" && (r.Pattern == patternHealth || r.Pattern == patternMetrics):
		level = slog.LevelDebug // probes and scrapes: frequent and dull
	}
	if !s.log.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
		slog.Duration("duration", d), slog.Int64("bytes", rec.bytes), slog.String("request_id", id),
		slog.String("remote", r.RemoteAddr),
	}
	if rec.plugin != "" {
		attrs = append(attrs, slog.String("plugin", rec.plugin), slog.String("route", route))
	}
	if rec.kind != "" {
		attrs = append(attrs, slog.String("kind", rec.kind), slog.String("error", rec.detail))
	}
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// errorBody is every JSON error the server writes itself, in the shape of
// the cluster-monitor plugin's own errors ({"status":"error","message":...}).
type errorBody struct {
	Status    string `json:"status"`
	Message   string `json:"message"`
	Kind      string `json:"kind,omitempty"`
	Plugin    string `json:"plugin,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// fail writes a JSON error and notes its kind for the log and the metrics.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, kind string, err error) {
	rec := recorderOf(w)
	rec.kind, rec.detail = kind, s.relErr(err)
	writeJSON(w, code, errorBody{Status: "error", Message: s.relErr(err), Kind: kind, Plugin: rec.plugin,
		RequestID: r.Header.Get(host.RequestIDHeader)})
}

// writeJSON writes v as indented JSON (for people with curl), without
// escaping <, > and & (the answers are not HTML).
func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"status":"error","message":"response not encodable"}` + "\n")
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

var errNotFound = errors.New("no such endpoint: plugins are served under /api/plugins/<name>/, management under " + adminPrefix)
