package serve

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ConnLimits bound what clients can hold of the server without a token: time,
// connections, and memory for request headers. Every zero field takes the
// default its comment names.
//
// # Why each limit exists
//
// An attack run against an earlier build found that 300 connections stalled
// inside 4 MiB request bodies held 1.7 GiB of memory for as long as they
// stayed open, and that 20,000 idle keep-alive connections used up the
// process's file descriptors, after which no client, the operator's included,
// could connect. No token was needed for either.
//
//   - ReadHeaderTimeout ends a connection whose request headers do not arrive
//     in time (slowloris).
//   - ReadTimeout ends a request whose headers and body do not arrive in time:
//     a client that stalls inside its body no longer holds the buffer that
//     body is read into for ever (408 when the handler notices, else the
//     connection is closed). The install endpoint extends it to
//     UploadTimeout for its archive.
//   - WriteTimeout ends a connection whose client does not read its answer,
//     which would otherwise hold the answer (up to 16 MiB) in memory.
//     Management requests, which compile plugins, get UploadTimeout more.
//   - IdleTimeout closes keep-alive connections that sit idle between
//     requests.
//   - MaxConns caps the connections open at once, below the process's
//     descriptor limit, so that the storage file, plugin folders and
//     compilation cache can still be opened when clients crowd in. Past it
//     new connections wait in the kernel's backlog; and the server closes its
//     idle keep-alive connections (keep-alive is off until the count falls to
//     half the cap), so that idle connections cannot keep new clients out.
//   - MaxHeaderBytes caps each request's headers.
//
// Config.MaxBodyBytesInFlight bounds the memory that request bodies being
// read and served take across all connections (503 past it).
type ConnLimits struct {
	// ReadHeaderTimeout is how long a client may take to send a request's
	// headers. Default 10s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout is how long a client may take to send a whole request,
	// headers and body, from the request's first byte. Default 30s; with
	// the default 4 MiB body limit, clients slower than about 1.1 Mbit/s
	// cannot send the largest body.
	ReadTimeout time.Duration
	// UploadTimeout replaces ReadTimeout for the install endpoint, whose
	// archives are larger (Config.MaxUploadBytes). Default 5m.
	UploadTimeout time.Duration
	// WriteTimeout is how long the server may take to read a request's body,
	// serve it and write its answer, from the end of its headers; past it the
	// connection is closed. Default ReadTimeout + QueueTimeout + CallTimeout
	// + 30s.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle that long. Default 60s.
	IdleTimeout time.Duration
	// MaxConns caps the connections open at once. Default 1024; negative
	// means no cap.
	MaxConns int
	// MaxHeaderBytes caps a request's headers (431 past it). Default 64 KiB.
	MaxHeaderBytes int
}

func (c ConnLimits) withDefaults(cfg Config) ConnLimits {
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.UploadTimeout <= 0 {
		c.UploadTimeout = 5 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = c.ReadTimeout + cfg.QueueTimeout + cfg.CallTimeout + 30*time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.MaxConns == 0 {
		c.MaxConns = 1024
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 64 << 10
	}
	return c
}

// limitListener accepts at most cap(slots) connections at once: Accept waits
// while that many are open. When it fills, it calls full(true) (the server
// then sheds its idle keep-alive connections); once the connections open
// fall to half the cap, full(false).
type limitListener struct {
	net.Listener
	slots     chan struct{}
	full      func(bool)
	shedding  atomic.Bool
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, n int, full func(bool)) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), full: full, done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		if l.shedding.CompareAndSwap(false, true) {
			l.full(true)
		}
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		l.release()
		return nil, err
	}
	return &limitConn{Conn: c, l: l}, nil
}

func (l *limitListener) release() {
	<-l.slots
	if len(l.slots) <= cap(l.slots)/2 && l.shedding.CompareAndSwap(true, false) {
		l.full(false)
	}
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back when it is closed, once.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.l.release)
	return err
}

// errBodyBudget refuses a request whose body would take the bytes of bodies
// in flight past Config.MaxBodyBytesInFlight.
var errBodyBudget = errors.New("the server holds too many request body bytes right now")

// bodyBudget counts the bytes of request bodies held by requests in flight.
type bodyBudget struct {
	max  int64 // < 0: no bound
	used atomic.Int64
}

// take reserves n bytes, or reports that they would exceed the budget.
func (b *bodyBudget) take(n int64) bool {
	if b.max < 0 {
		return true
	}
	for {
		u := b.used.Load()
		if u+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *bodyBudget) give(n int64) {
	if b.max >= 0 {
		b.used.Add(-n)
	}
}

// readBody reads a request body of at most limit bytes into a buffer that
// grows as bytes arrive, reserving each growth from the budget first, so that
// a client that declares a large body and stalls holds only what it sent.
// The caller gives back reserved bytes (held, also on error) when it no
// longer needs the body.
//
// # Errors
//
// errBodyBudget when the budget is spent; *http.MaxBytesError past limit;
// otherwise the body's read error (a timeout when ReadTimeout passes).
func (b *bodyBudget) readBody(r io.Reader, declared, limit int64) (body []byte, held int64, err error) {
	const first = 4 << 10
	size := int64(first)
	if declared >= 0 {
		size = min(declared, first) // an exact fit for small bodies; a declared 0 reads nothing
		if declared == 0 {
			return []byte{}, 0, nil
		}
	}
	if !b.take(size) {
		return nil, 0, errBodyBudget
	}
	held = size
	buf := make([]byte, 0, size)
	for {
		if int64(len(buf)) == int64(cap(buf)) {
			// One byte past the limit tells a body at the limit from one
			// over it; the reader reports the latter.
			next := min(2*int64(cap(buf)), limit+1)
			if declared >= 0 {
				next = min(next, declared+1)
			}
			if next <= int64(cap(buf)) {
				next = int64(cap(buf)) + 1
			}
			if !b.take(next - int64(cap(buf))) {
				return nil, held, errBodyBudget
			}
			held += next - int64(cap(buf))
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, held, nil
		}
		if err != nil {
			return nil, held, err
		}
	}
}

// isTimeout reports whether err is a read deadline's.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// httpServer returns the http.Server that Serve runs.
func (s *Server) httpServer() *http.Server {
	c := s.cfg.Conn
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    c.MaxHeaderBytes,
	}
}
