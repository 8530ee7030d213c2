package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
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
// r ends or ctx is done. An unknown operation or a panic in an Op is an error
// response, not the end of the worker. Lines of r that answer host calls go to
// the operation waiting in CallHost.
func Serve(ctx context.Context, r io.Reader, w io.Writer, ops map[string]Op) error {
	c := &conn{enc: json.NewEncoder(w), replies: make(chan HostReply, 1), gone: make(chan struct{})}
	reqs := make(chan Request)
	readErr := make(chan error, 1)
	go func() { readErr <- c.read(r, reqs) }()
	for {
		var req Request
		var ok bool
		select {
		case req, ok = <-reqs:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			return <-readErr
		}
		resp := serveOne(context.WithValue(ctx, hostKey{}, &hostCtx{c: c, call: req.ID}), req, ops)
		if err := c.write(resp); err != nil {
			return fmt.Errorf("worker: write response: %w", err)
		}
	}
}

// conn is the worker's side of the pipes.
type conn struct {
	wmu sync.Mutex // one line at a time on w
	enc *json.Encoder

	hmu      sync.Mutex // one host call at a time
	nextHost uint64
	replies  chan HostReply // the latest reply only
	gone     chan struct{}  // closed when r ends
}

func (c *conn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.enc.Encode(v)
}

// read passes requests to reqs and host replies to replies until r ends.
func (c *conn) read(r io.Reader, reqs chan<- Request) error {
	defer close(reqs)
	defer close(c.gone)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	for sc.Scan() {
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			if err := c.write(Response{Error: fmt.Sprintf("worker: malformed request line: %v", err)}); err != nil {
				return err
			}
			continue
		}
		if m.Host != 0 {
			c.deliver(HostReply{Host: m.Host, Result: m.Result, Error: m.Error})
			continue
		}
		reqs <- Request{ID: m.ID, Op: m.Op, Args: m.Args}
	}
	return sc.Err()
}

// deliver keeps only the newest reply: the one host call that may be waiting
// is the newest (hmu), so an older reply is one its caller gave up on.
func (c *conn) deliver(rep HostReply) {
	for {
		select {
		case c.replies <- rep:
			return
		default:
		}
		select {
		case <-c.replies:
		default:
		}
	}
}

type hostKey struct{}

type hostCtx struct {
	c    *conn
	call uint64
}

// CallHost asks the parent, during an operation of Serve (ctx is the
// operation's, or derived from it), to run the host service op with args,
// and decodes its result into result. It waits for the answer until ctx ends.
//
// # Errors
//
// ErrNoHost outside an operation or once the parent has gone; ctx's error
// when it ends first; the parent's error message when the service failed or
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
	c.nextHost++
	id := c.nextHost
	if err := c.write(HostCall{Host: id, Call: h.call, Op: op, Args: raw}); err != nil {
		return fmt.Errorf("worker: write host call %s: %w", op, err)
	}
	for {
		select {
		case rep := <-c.replies:
			if rep.Host != id {
				continue // the answer to a call given up earlier
			}
			if rep.Error != "" {
				return fmt.Errorf("host call %s: %s", op, rep.Error)
			}
			if result != nil {
				if err := json.Unmarshal(rep.Result, result); err != nil {
					return fmt.Errorf("worker: decode host call %s result: %w", op, err)
				}
			}
			return nil
		case <-c.gone:
			return fmt.Errorf("host call %s: %w", op, ErrNoHost)
		case <-ctx.Done():
			return fmt.Errorf("host call %s: %w", op, ctx.Err())
		}
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
			resp.Result, resp.Error = nil, fmt.Sprintf("worker: operation %s panicked: %v\n%s", req.Op, r, debug.Stack())
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
