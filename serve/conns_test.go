package serve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// serving runs ts's server with Serve on a loopback listener of its own (the
// httptest server bypasses Serve and its connection limits) and returns the
// listener's address.
func serving(t *testing.T, ts *testServer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// dial opens a raw connection, closed at the test's end.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// readResponse reads one response from c within d.
func readResponse(t *testing.T, c net.Conn, br *bufio.Reader, d time.Duration) (*http.Response, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, err
}

// waitClosed waits up to d for the server to close c, reading and dropping
// whatever it still sends.
func waitClosed(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after %s", d)
	}
}

const getHealth = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

// TestSlowBodyIsCutOff: a client that stalls inside its body is answered 408
// at the read timeout and its connection closed; the bytes its body held are
// given back.
func TestSlowBodyIsCutOff(t *testing.T) {
	ts := newServer(t, Config{Conn: ConnLimits{ReadTimeout: 300 * time.Millisecond}}, edgeDir(t))
	addr := serving(t, ts)
	c := dial(t, addr)
	start := time.Now()
	send(t, c, "POST /api/plugins/edge/ok HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("x", 10000))
	resp, err := readResponse(t, c, bufio.NewReader(c), 5*time.Second)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	if d := time.Since(start); resp.StatusCode != http.StatusRequestTimeout || d < 250*time.Millisecond || d > 3*time.Second {
		t.Errorf("answer %d after %v; want 408 after about 300ms", resp.StatusCode, d)
	}
	waitClosed(t, c, 2*time.Second)
	waitFor(t, 2*time.Second, "body bytes given back", func() bool { return ts.srv.bodies.used.Load() == 0 })
}

// TestIdleConnectionIsClosed: a keep-alive connection idle past IdleTimeout
// is closed by the server.
func TestIdleConnectionIsClosed(t *testing.T) {
	ts := newServer(t, Config{Conn: ConnLimits{IdleTimeout: 200 * time.Millisecond}})
	c := dial(t, serving(t, ts))
	send(t, c, getHealth)
	if resp, err := readResponse(t, c, bufio.NewReader(c), 5*time.Second); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %v %v", resp, err)
	}
	start := time.Now()
	waitClosed(t, c, 3*time.Second)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("closed after %v, before the idle timeout", d)
	}
}

// TestConnectionCap: with MaxConns open, the next connection is not served
// until one of them closes.
func TestConnectionCap(t *testing.T) {
	ts := newServer(t, Config{Conn: ConnLimits{MaxConns: 2}})
	addr := serving(t, ts)
	// Two connections busy sending headers: open, not idle.
	first, second := dial(t, addr), dial(t, addr)
	send(t, first, "GET /healthz HTTP/1.1\r\n")
	send(t, second, "GET /healthz HTTP/1.1\r\n")
	third := dial(t, addr) // the kernel completes the handshake; the server does not accept it yet
	send(t, third, getHealth)
	br := bufio.NewReader(third)
	if resp, err := readResponse(t, third, br, 500*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third connection was served past a cap of 2: %v %v", resp, err)
	}
	first.Close()
	if resp, err := readResponse(t, third, br, 3*time.Second); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after one closed, the third connection: %v %v", resp, err)
	}
	if !contains(ts.log.String(), "connection cap reached") {
		t.Error("reaching the cap was not logged")
	}
}

// TestIdleConnectionsAreShedAtTheCap: idle keep-alive connections that fill
// the cap are closed when a new connection arrives, which is then served.
func TestIdleConnectionsAreShedAtTheCap(t *testing.T) {
	ts := newServer(t, Config{Conn: ConnLimits{MaxConns: 2, IdleTimeout: time.Minute}})
	addr := serving(t, ts)
	var idle []net.Conn
	for range 2 {
		c := dial(t, addr)
		send(t, c, getHealth)
		if resp, err := readResponse(t, c, bufio.NewReader(c), 5*time.Second); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /healthz: %v %v", resp, err)
		}
		idle = append(idle, c)
	}
	c := dial(t, addr)
	send(t, c, getHealth)
	if resp, err := readResponse(t, c, bufio.NewReader(c), 3*time.Second); err != nil || resp.StatusCode != 200 {
		t.Fatalf("a new connection while idle ones fill the cap: %v %v", resp, err)
	}
	for _, c := range idle {
		waitClosed(t, c, 2*time.Second)
	}
}

// TestBodyBudget: while one client's stalled body holds the budget of body
// bytes in flight, another body is refused with 503; once the first client
// goes, bodies are served again.
func TestBodyBudget(t *testing.T) {
	ts := newServer(t, Config{MaxBodyBytes: 1 << 20, MaxBodyBytesInFlight: 64 << 10}, edgeDir(t))
	addr := serving(t, ts)
	hog := dial(t, addr)
	send(t, hog, "POST /api/plugins/edge/ok HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"+strings.Repeat("x", 60<<10))
	waitFor(t, 5*time.Second, "the stalled body to hold the budget", func() bool { return ts.srv.bodies.used.Load() == 64<<10 })

	body := strings.Repeat("y", 10<<10)
	r := doURL(t, "http://"+addr, "POST", "/api/plugins/edge/ok", []byte(body))
	if r.code != http.StatusServiceUnavailable || r.json(t)["kind"] != kindBodyBudget || r.header.Get("Retry-After") == "" {
		t.Fatalf("a body past the budget: %s; want 503 %s with Retry-After", r, kindBodyBudget)
	}
	hog.Close()
	waitFor(t, 5*time.Second, "the budget given back", func() bool { return ts.srv.bodies.used.Load() == 0 })
	if r := doURL(t, "http://"+addr, "POST", "/api/plugins/edge/ok", []byte(body)); r.code != 200 {
		t.Fatalf("after the stalled client left: %s", r)
	}
}

func TestReadBody(t *testing.T) {
	const limit = 10000
	for _, n := range []int{0, 1, 4095, 4096, 4097, 8193, limit, limit + 1} {
		for _, declared := range []bool{true, false} {
			src := strings.Repeat("z", n)
			cl := int64(-1)
			if declared {
				cl = int64(n)
			}
			b := &bodyBudget{max: 1 << 20}
			rec := &recorder{}
			body, held, err := b.readBody(http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(src)), limit), cl, limit)
			var tooBig *http.MaxBytesError
			switch {
			case n > limit:
				if !errors.As(err, &tooBig) {
					t.Errorf("%d bytes (declared %v): %v, want *http.MaxBytesError", n, declared, err)
				}
			case err != nil || string(body) != src:
				t.Errorf("%d bytes (declared %v): %d bytes, %v", n, declared, len(body), err)
			}
			if held != b.used.Load() || held < int64(len(body)) || held > 2*int64(n)+4096 {
				t.Errorf("%d bytes (declared %v): held %d, budget used %d", n, declared, held, b.used.Load())
			}
		}
	}
	b := &bodyBudget{max: 5000}
	if _, held, err := b.readBody(strings.NewReader(strings.Repeat("z", 6000)), -1, limit); !errors.Is(err, errBodyBudget) || held != b.used.Load() {
		t.Errorf("past the budget: %v, held %d of %d used", err, held, b.used.Load())
	}
}

// TestUploadGetsUploadTimeout: an archive slower than ReadTimeout but within
// UploadTimeout installs.
func TestUploadGetsUploadTimeout(t *testing.T) {
	ts := newServer(t, Config{Token: testToken, Conn: ConnLimits{ReadTimeout: 200 * time.Millisecond, UploadTimeout: 10 * time.Second}})
	c := dial(t, serving(t, ts))
	archive := packageArchive(t, edgeDir(t))
	send(t, c, fmt.Sprintf("POST %s/install HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n",
		adminPrefix, testToken, len(archive)))
	time.Sleep(500 * time.Millisecond)
	send(t, c, string(archive))
	if resp, err := readResponse(t, c, bufio.NewReader(c), 10*time.Second); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("slow upload: %v %v", resp, err)
	}
}
