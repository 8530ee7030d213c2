package worker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Op serves one operation: it decodes args and returns a JSON-encodable
// result. During the operation, CallHost(ctx, ...) asks the parent for a host
// service.
type Op func(ctx context.Context, args json.RawMessage) (any, error)

// MaxLine is the longest request line a worker reads.
const MaxLine = 64 << 20

// ErrNoHost is CallHost's error outside an operation of Serve, or once the
// parent has closed the worker's input.
var ErrNoHost = errors.New("worker: no parent to serve host calls")

// Serve reads requests from r and writes responses to w, one at a time, until
// r ends, or ctx is done when a request has been served. An unknown operation
// or a panic in an Op is an error response, not the end of the worker. While
// an operation runs, CallHost reads the answers to its host calls from r.
//
// r is read in the goroutine that waits for the line, Serve's or
// CallHost's, with no reader goroutine between (a hand-off costs a scheduler
// wake-up per line), so ctx does not interrupt a read: the parent ends a
// worker by closing r or by killing it.
func Serve(ctx context.Context, r io.Reader, w io.Writer, ops map[string]Op) error {
	c := &conn{w: w, in: bufio.NewScanner(r)}
	c.in.Buffer(make([]byte, 64<<10), MaxLine)
	for ctx.Err() == nil {
		m, err := c.next()
		if errors.Is(err, errEnd) {
			return nil
		}
		if err != nil {
			return err
		}
		if m.Host != 0 {
			continue // the reply to a host call nobody waits for
		}
		h := &hostCtx{c: c, call: m.ID}
		c.active.Store(h)
		// m.Args points into the reader's buffer, which the operation's
		// host calls reuse: the operation gets its own copy.
		req := Request{ID: m.ID, Op: m.Op, Args: bytes.Clone(m.Args)}
		resp := serveOne(context.WithValue(ctx, hostKey{}, h), req, ops)
		// A host call of the operation's that is still running (from a
		// goroutine it left behind) ends before Serve reads r again.
		c.hmu.Lock()
		c.active.Store(nil)
		c.hmu.Unlock()
		if err := c.writeResponse(resp); err != nil {
			return fmt.Errorf("worker: write response: %w", err)
		}
	}
	return ctx.Err()
}

// conn is the worker's side of the pipes.
type conn struct {
	wmu  sync.Mutex // one line at a time on w
	w    io.Writer
	wbuf []byte

	in *bufio.Scanner // read by Serve between operations, by CallHost (hmu) during one

	hmu      sync.Mutex // one host call at a time
	nextHost uint64
	gone     bool                    // r has ended (hmu)
	active   atomic.Pointer[hostCtx] // the operation in flight, nil between
}

// next reads the next protocol line, answering a malformed one with an
// error response; at the end of r it returns errEnd.
func (c *conn) next() (message, error) {
	for c.in.Scan() {
		m, err := parseLine(c.in.Bytes())
		if err != nil {
			if err := c.write(Response{Error: fmt.Sprintf("worker: malformed request line: %v", err)}); err != nil {
				return m, fmt.Errorf("worker: answer a malformed line: %w", err)
			}
			continue
		}
		return m, nil
	}
	if err := c.in.Err(); err != nil {
		return message{}, fmt.Errorf("worker: read requests: %w", err)
	}
	return message{}, errEnd
}

// errEnd is next's error at the end of r: Serve returns nil for it.
var errEnd = errors.New("worker: end of input")

func (c *conn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLine(append(append(c.wbuf[:0], b...), '\n'))
}

// writeResponse writes resp, whose Result is already JSON, without
// encoding (and so scanning) it a second time.
func (c *conn) writeResponse(resp Response) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLine(appendReply(c.wbuf[:0], "id", resp.ID, resp.Result, resp.Error))
}

// writeLine writes b, which is c.wbuf's array, and keeps it for the next
// line unless it has grown large. The caller holds wmu.
func (c *conn) writeLine(b []byte) error {
	if cap(b) <= 64<<10 {
		c.wbuf = b
	} else {
		c.wbuf = nil
	}
	_, err := c.w.Write(b)
	return err
}

// writeHostCall writes a HostCall line.
func (c *conn) writeHostCall(host, call uint64, op string, args []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := appendUintField(append(c.wbuf[:0], '{'), "host", host)
	b = appendStringField(appendUintField(append(b, ','), "call", call), "op", op)
	b = append(appendRawField(b, "args", args), "}\n"...)
	return c.writeLine(b)
}

type hostKey struct{}

type hostCtx struct {
	c    *conn
	call uint64
}

// CallHost asks the parent, during an operation of Serve (ctx is the
// operation's, or derived from it), to run the host service op with args,
// and decodes its result into result. It waits for the answer, which the
// parent writes unless it kills the worker (at the end of the call's
// context in the parent); ctx is checked before the call, not during it.
//
// # Errors
//
// ErrNoHost outside an operation or once the parent has gone; ctx's error
// when it has ended; the parent's error message when the service failed or
// the parent serves no host calls.
func CallHost(ctx context.Context, op string, args, result any) error {
	h, _ := ctx.Value(hostKey{}).(*hostCtx)
	if h == nil {
		return ErrNoHost
	}
	c := h.c
	raw, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("worker: encode host call %s: %w", op, err)
	}
	c.hmu.Lock()
	defer c.hmu.Unlock()
	if c.active.Load() != h || c.gone {
		return fmt.Errorf("host call %s: %w", op, ErrNoHost)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("host call %s: %w", op, err)
	}
	c.nextHost++
	id := c.nextHost
	if err := c.writeHostCall(id, h.call, op, raw); err != nil {
		return fmt.Errorf("worker: write host call %s: %w", op, err)
	}
	for {
		m, err := c.next()
		if err != nil {
			c.gone = true
			return fmt.Errorf("host call %s: %w", op, ErrNoHost)
		}
		if m.Host == 0 {
			// The parent sends a request only once the previous one is
			// answered; this one cannot be served now.
			if err := c.write(Response{ID: m.ID, Error: fmt.Sprintf("worker: request %d arrived while request %d waits for host call %s", m.ID, h.call, op)}); err != nil {
				return fmt.Errorf("worker: write response: %w", err)
			}
			continue
		}
		if m.Host != id {
			continue // the answer to an earlier call, answered twice
		}
		if m.Error != "" {
			return fmt.Errorf("host call %s: %s", op, m.Error)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("worker: decode host call %s result: %w", op, err)
			}
		}
		return nil
	}
}

func serveOne(ctx context.Context, req Request, ops map[string]Op) (resp Response) {
	resp.ID = req.ID
	op, ok := ops[req.Op]
	if !ok {
		resp.Error = fmt.Sprintf("worker: unknown operation %q", req.Op)
		return resp
	}
	defer func() {
		if r := recover(); r != nil {
			// The stack goes to the worker's stderr (the parent keeps its
			// tail, shown if the worker dies), not into the error, which
			// the parent shows its user.
			fmt.Fprintf(os.Stderr, "worker: operation %s panicked: %v\n%s", req.Op, r, debug.Stack())
			resp.Result, resp.Error = nil, fmt.Sprintf("worker: operation %s panicked: %v (a bug in kspbench or the engine; the stack is on the worker's stderr)", req.Op, r)
		}
	}()
	v, err := op(ctx, req.Args)
	if err != nil {
		resp.Error = err.Error()
		return resp
	}
	b, err := json.Marshal(v)
	if err != nil {
		resp.Error = fmt.Sprintf("worker: encode result of %s: %v", req.Op, err)
		return resp
	}
	resp.Result = b
	return resp
}
