package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
)

// Op serves one operation: it decodes args and returns a JSON-encodable
// result.
type Op func(ctx context.Context, args json.RawMessage) (any, error)

// MaxLine is the longest request line a worker reads.
const MaxLine = 64 << 20

// Serve reads requests from r and writes responses to w, one at a time, until
// r ends or ctx is done. An unknown operation or a panic in an Op is an error
// response, not the end of the worker.
func Serve(ctx context.Context, r io.Reader, w io.Writer, ops map[string]Op) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	enc := json.NewEncoder(w)
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var req Request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			if err := enc.Encode(Response{Error: fmt.Sprintf("worker: malformed request line: %v", err)}); err != nil {
				return err
			}
			continue
		}
		resp := serveOne(ctx, req, ops)
		if err := enc.Encode(resp); err != nil {
			return fmt.Errorf("worker: write response: %w", err)
		}
	}
	return sc.Err()
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
