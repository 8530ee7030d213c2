package worker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec says how to start a worker.
type Spec struct {
	// Engine is the engine the worker must report in its hello.
	Engine string
	// Config is the engine configuration (catalog.Configuration.Name) the
	// worker must report in its hello; empty or "default" is the default.
	Config string
	// Path is the worker executable; Args its arguments.
	Path string
	Args []string
	// Env is added to the parent's environment.
	Env []string
	// Dir is the working directory; empty means the parent's.
	Dir string
	// Host serves the worker's host calls (HostCall) during Call; nil
	// answers each with an error.
	Host HostFunc
	// Logger receives the records the worker logs through LogHandler
	// during Call, with the attribute worker_pid; nil drops them.
	Logger *slog.Logger
}

// HostFunc serves one host call: it decodes args and returns a
// JSON-encodable result. ctx is the Call's, so the Call's deadline bounds it.
type HostFunc func(ctx context.Context, op string, args json.RawMessage) (any, error)

// Process is a running worker. Its methods are safe for concurrent use, but
// calls are served one at a time.
//
// Nothing reads the worker's stdout between calls: the goroutine in Call
// reads it itself (a hand-off to another goroutine costs a scheduler
// wake-up per line on each side, which was half the parent's CPU of a
// call), and a goroutine per process only waits for its exit. A worker that
// writes lines nobody waits for blocks on the full pipe, which costs the
// parent no memory; what it wrote is read, and dropped or kept in the tail,
// at the next call or at Close.
type Process struct {
	spec  Spec
	hello Hello

	mu     sync.Mutex // serialises calls and restarts
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *os.File       // the read end of the worker's stdout
	lines  *bufio.Scanner // reads out, inside a call (mu held)
	exited chan struct{}
	exit   error // set before exited is closed
	tail   *tailBuffer
	nextID uint64
	wbuf   []byte // the request line being written
}

// DiedError reports a worker that ended while it served an operation (or
// was killed because the operation overran its context).
type DiedError struct {
	Engine string
	Op     string
	// Status is how the process ended, e.g. "signal: aborted (core dumped)".
	Status string
	// Signal is the signal that ended it, e.g. "SIGABRT", or "".
	Signal string
	// Tail is the last output the worker wrote to stderr.
	Tail string
	// Killed is true when the parent killed the worker because ctx was done.
	Killed bool
}

func (e *DiedError) Error() string {
	what := "died"
	if e.Killed {
		what = "was killed after its deadline"
	}
	msg := fmt.Sprintf("worker[%s] %s during %s: %s", e.Engine, what, e.Op, e.Status)
	if e.Tail != "" {
		msg += "\nlast output:\n" + e.Tail
	}
	return msg
}

// Start starts a worker and checks, with the "hello" operation, that it runs
// the engine spec.Engine names.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	p := &Process{spec: spec}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Hello returns what the worker said about itself when it started.
func (p *Process) Hello() Hello { return p.hello }

// Engine returns the engine the worker runs.
func (p *Process) Engine() string { return p.spec.Engine }

func (p *Process) start(ctx context.Context) error {
	if p.out != nil {
		p.out.Close() // the previous process's, which has ended
		p.out, p.lines = nil, nil
	}
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Env = append(os.Environ(), p.spec.Env...)
	cmd.Dir = p.spec.Dir
	p.tail = newTailBuffer(8 << 10)
	cmd.Stderr = p.tail
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("worker[%s]: %w", p.spec.Engine, err)
	}
	// An os.Pipe of our own rather than cmd.StdoutPipe: Wait closes the
	// latter as soon as the process ends, which would lose what the worker
	// wrote last (a crash's stray output) and race the reader in Call.
	out, w, err := os.Pipe()
	if err != nil {
		stdin.Close()
		return fmt.Errorf("worker[%s]: %w", p.spec.Engine, err)
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		out.Close()
		return fmt.Errorf("worker[%s]: start %s: %w", p.spec.Engine, p.spec.Path, err)
	}
	p.cmd, p.stdin, p.out = cmd, stdin, out
	p.lines = bufio.NewScanner(out)
	p.lines.Buffer(make([]byte, 64<<10), MaxLine)
	exited := make(chan struct{})
	p.exited = exited
	go func() {
		p.exit = cmd.Wait()
		close(exited)
	}()
	var h Hello
	if err := p.call(ctx, "hello", nil, &h); err != nil {
		p.kill()
		var died *DiedError
		if errors.As(err, &died) && strings.Contains(died.Tail, "error while loading shared libraries") {
			return fmt.Errorf("%w\nthe worker cannot find a shared library it links (for wasmer: libwasmer.so): put it beside %s (workerbin.Build does) or in a folder named by LD_LIBRARY_PATH, or rebuild on this machine with: go build -tags %s ./cmd/kspbench", err, p.spec.Path, p.spec.Engine)
		}
		return err
	}
	if h.Protocol != ProtocolVersion {
		p.kill()
		return fmt.Errorf("worker[%s]: %s speaks worker protocol %d, this kspbench speaks %d: it was built from another kspbench; rebuild it (go build ./cmd/kspbench with the engine's tag) or drop --workers", p.spec.Engine, p.spec.Path, h.Protocol, ProtocolVersion)
	}
	if want := p.spec.Config; want != "" && want != "default" && h.Config != want {
		p.kill()
		return fmt.Errorf("worker[%s]: %s reports configuration %q, not %q: it was built before engine configurations, or from another kspbench; rebuild it or drop --workers", p.spec.Engine, p.spec.Path, h.Config, want)
	}
	if h.Engine != p.spec.Engine {
		p.kill()
		return fmt.Errorf("worker[%s]: %s reports engine %q: its results would be filed under the wrong engine", p.spec.Engine, p.spec.Path, h.Engine)
	}
	p.hello = h
	return nil
}

// Call runs op with args on the worker and decodes its result into result.
// If ctx ends first, the worker is killed (it is the only way to stop an
// operation in another process) and the next Call restarts it.
//
// # Errors
//
// A worker that died or was killed returns a *DiedError; it is restarted on
// the next Call. An error the operation itself returned is returned as is.
func (p *Process) Call(ctx context.Context, op string, args, result any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead() {
		if err := p.start(ctx); err != nil {
			return err
		}
	}
	return p.call(ctx, op, args, result)
}

// Restart ends the worker and starts a new one.
func (p *Process) Restart(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kill()
	return p.start(ctx)
}

// Running reports whether the worker process runs: false once it has
// ended (killed, crashed, or told to end), until the next Call restarts it.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !p.dead()
}

func (p *Process) dead() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// pastDeadline is a read deadline that has passed: it makes a read blocked
// on the worker's stdout return at once.
var pastDeadline = time.Unix(1, 0)

// call writes the request and reads the worker's lines until its response,
// serving host calls and passing log records on meanwhile. When ctx ends,
// context.AfterFunc kills the worker, which ends a blocked read or write
// (the read deadline covers a pipe that something else keeps open).
func (p *Process) call(ctx context.Context, op string, args, result any) error {
	p.nextID++
	id := p.nextID
	line, err := appendRequest(p.wbuf[:0], id, op, args)
	if err != nil {
		return fmt.Errorf("worker[%s]: encode %s args: %w", p.spec.Engine, op, err)
	}
	p.keep(line)
	proc, out := p.cmd.Process, p.out
	stop := context.AfterFunc(ctx, func() {
		proc.Kill()
		out.SetReadDeadline(pastDeadline)
	})
	err = p.exchange(ctx, id, op, line, result)
	if !stop() {
		// ctx ended: the worker is killed, even if its answer came
		// first, so that a deadline always costs the worker.
		<-p.exited
		return p.died(op, true)
	}
	return err
}

// exchange is call's conversation with the worker.
func (p *Process) exchange(ctx context.Context, id uint64, op string, line []byte, result any) error {
	if _, err := p.stdin.Write(line); err != nil {
		return p.lost(ctx, op, nil)
	}
	for p.lines.Scan() {
		b := p.lines.Bytes()
		if len(b) == 0 || b[0] != '{' {
			p.tail.writeLine(b)
			continue
		}
		m, err := parseLine(b) // m's Args and Result point into b: used before the next Scan
		if err != nil {
			p.tail.writeLine(b)
			continue
		}
		switch {
		case m.Log != nil:
			p.log(ctx, m.Log)
			continue
		case m.Host != 0:
			// A reply that cannot be written means the worker is gone:
			// the next read ends the call.
			p.serveHost(ctx, id, m)
			continue
		case m.ID != id:
			continue // an answer to a call abandoned earlier
		case m.Error != "":
			return errors.New(m.Error)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("worker[%s]: decode %s result: %w", p.spec.Engine, op, err)
			}
		}
		return nil
	}
	return p.lost(ctx, op, p.lines.Err())
}

// lost waits for the end of a worker that stopped answering: its stdout
// ended (it exited, or was killed when ctx ended) or could not be read.
func (p *Process) lost(ctx context.Context, op string, readErr error) *DiedError {
	if readErr != nil && ctx.Err() == nil {
		// A line past MaxLine, say: the worker cannot be understood.
		p.tail.writeLine([]byte(fmt.Sprintf("worker: reading its output: %v; killed", readErr)))
		p.cmd.Process.Kill()
	}
	<-p.exited
	return p.died(op, ctx.Err() != nil)
}

// keep keeps line's array for the next line unless it has grown large.
func (p *Process) keep(line []byte) {
	if cap(line) <= 64<<10 {
		p.wbuf = line
	} else {
		p.wbuf = nil
	}
}

// appendRequest appends the line of request id to buf.
func appendRequest(buf []byte, id uint64, op string, args any) ([]byte, error) {
	buf = appendStringField(appendUintField(append(buf, '{'), "id", id), "op", op)
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return buf, err
		}
		buf = appendRawField(buf, "args", b)
	}
	return append(buf, "}\n"...), nil
}

// serveHost answers the host call m, made while request call runs.
func (p *Process) serveHost(ctx context.Context, call uint64, m message) error {
	var result []byte
	var errMsg string
	switch {
	case m.Call != call:
		errMsg = fmt.Sprintf("worker: host call %s names request %d, but request %d is the one in flight", m.Op, m.Call, call)
	case p.spec.Host == nil:
		errMsg = fmt.Sprintf("worker: host call %s: this parent serves no host calls", m.Op)
	default:
		// m.Args points into the reader's buffer: Host gets its own copy.
		v, err := p.spec.Host(ctx, m.Op, bytes.Clone(m.Args))
		if err != nil {
			errMsg = err.Error()
			break
		}
		if result, err = json.Marshal(v); err != nil {
			result, errMsg = nil, fmt.Sprintf("worker: encode host call %s result: %v", m.Op, err)
		}
	}
	line := appendReply(p.wbuf[:0], "host", m.Host, result, errMsg)
	p.keep(line)
	_, err := p.stdin.Write(line)
	return err
}

func (p *Process) died(op string, killed bool) *DiedError {
	e := &DiedError{Engine: p.spec.Engine, Op: op, Killed: killed, Tail: strings.TrimSpace(p.tail.String())}
	var ee *exec.ExitError
	if errors.As(p.exit, &ee) {
		e.Status = ee.Error()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			e.Signal = signalName(ws.Signal())
			e.Status += " (" + e.Signal + ")"
		}
	} else if p.exit != nil {
		e.Status = p.exit.Error()
	} else {
		e.Status = "exit status 0"
	}
	return e
}

// kill ends the process and waits for it.
func (p *Process) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	if !p.dead() {
		p.cmd.Process.Kill()
	}
	<-p.exited
}

// Close asks the worker to end by closing its stdin, and kills it if it has
// not ended within a few seconds.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil
	}
	p.stdin.Close()
	// Read what the worker wrote after the last call (stray output to the
	// tail), so that a worker blocked writing can end.
	if p.out.SetReadDeadline(time.Now().Add(5*time.Second)) == nil {
		for p.lines.Scan() {
			if b := p.lines.Bytes(); len(b) == 0 || b[0] != '{' || !json.Valid(b) {
				p.tail.writeLine(b)
			}
		}
	}
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.kill()
	}
	p.out.Close()
	return nil
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGBUS:
		return "SIGBUS"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGILL:
		return "SIGILL"
	case syscall.SIGFPE:
		return "SIGFPE"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return fmt.Sprintf("signal %d", int(s))
}

// tailBuffer keeps the first and the last bytes written to it: a crashing
// engine's own message usually comes first and the runtime's dump last.
type tailBuffer struct {
	mu     sync.Mutex
	n      int
	head   []byte
	tail   []byte
	elided int
}

func newTailBuffer(n int) *tailBuffer { return &tailBuffer{n: n} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	written := len(p)
	if room := t.n/4 - len(t.head); room > 0 {
		k := min(room, len(p))
		t.head = append(t.head, p[:k]...)
		p = p[k:]
	}
	t.tail = append(t.tail, p...)
	if over := len(t.tail) - (t.n - t.n/4); over > 0 {
		t.elided += over
		t.tail = append(t.tail[:0], t.tail[over:]...)
	}
	return written, nil
}

// writeLine writes line and a newline.
func (t *tailBuffer) writeLine(line []byte) {
	t.Write(line)
	t.Write([]byte{'\n'})
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.elided == 0 {
		return string(t.head) + string(t.tail)
	}
	return fmt.Sprintf("%s\n... (%d bytes not kept) ...\n%s", t.head, t.elided, t.tail)
}
