package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
}

// HostFunc serves one host call: it decodes args and returns a
// JSON-encodable result. ctx is the Call's, so the Call's deadline bounds it.
type HostFunc func(ctx context.Context, op string, args json.RawMessage) (any, error)

// Process is a running worker. Its methods are safe for concurrent use, but
// calls are served one at a time.
type Process struct {
	spec  Spec
	hello Hello

	mu     sync.Mutex // serialises calls and restarts
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	msgs   chan message  // responses and host calls, read from stdout
	stop   chan struct{} // closed by kill: read stops passing lines on
	exited chan struct{}
	exit   error // set before exited is closed
	tail   *tailBuffer
	nextID uint64
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
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Env = append(os.Environ(), p.spec.Env...)
	cmd.Dir = p.spec.Dir
	p.tail = newTailBuffer(8 << 10)
	cmd.Stderr = p.tail
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("worker[%s]: start %s: %w", p.spec.Engine, p.spec.Path, err)
	}
	p.cmd, p.stdin = cmd, stdin
	// Room for a response and a host call: a worker has at most one host
	// call unanswered, and read blocks past that, so a worker writing lines
	// the parent does not wait for costs the parent no memory.
	p.msgs = make(chan message, 2)
	p.stop = make(chan struct{})
	p.exited = make(chan struct{})
	go p.read(stdout)
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

// read passes protocol lines (responses and host calls) to msgs and anything
// else to the tail, then records how the process ended.
func (p *Process) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	stopped := false
	for sc.Scan() {
		line := sc.Bytes()
		var m message
		if len(line) > 0 && line[0] == '{' && json.Unmarshal(line, &m) == nil {
			if !stopped {
				select {
				case p.msgs <- m:
				case <-p.stop:
					stopped = true // killed: drain stdout until it ends
				}
			}
			continue
		}
		p.tail.Write(append(line, '\n'))
	}
	p.exit = p.cmd.Wait()
	close(p.exited)
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

func (p *Process) call(ctx context.Context, op string, args, result any) error {
	p.nextID++
	req := Request{ID: p.nextID, Op: op}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return fmt.Errorf("worker[%s]: encode %s args: %w", p.spec.Engine, op, err)
		}
		req.Args = b
	}
	line, _ := json.Marshal(req)
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		<-p.exited
		return p.died(op, false)
	}
	for {
		select {
		case r := <-p.msgs:
			if r.Host != 0 {
				// A reply that cannot be written means the worker is
				// gone: its exit (or ctx) ends the call.
				p.serveHost(ctx, req.ID, r)
				continue
			}
			if r.ID != req.ID {
				continue // an answer to a call abandoned earlier
			}
			if r.Error != "" {
				return errors.New(r.Error)
			}
			if result != nil {
				if err := json.Unmarshal(r.Result, result); err != nil {
					return fmt.Errorf("worker[%s]: decode %s result: %w", p.spec.Engine, op, err)
				}
			}
			return nil
		case <-p.exited:
			return p.died(op, false)
		case <-ctx.Done():
			p.kill()
			return p.died(op, true)
		}
	}
}

// serveHost answers the host call m, made while request call runs.
func (p *Process) serveHost(ctx context.Context, call uint64, m message) error {
	rep := HostReply{Host: m.Host}
	switch {
	case m.Call != call:
		rep.Error = fmt.Sprintf("worker: host call %s names request %d, but request %d is the one in flight", m.Op, m.Call, call)
	case p.spec.Host == nil:
		rep.Error = fmt.Sprintf("worker: host call %s: this parent serves no host calls", m.Op)
	default:
		v, err := p.spec.Host(ctx, m.Op, m.Args)
		if err != nil {
			rep.Error = err.Error()
			break
		}
		if rep.Result, err = json.Marshal(v); err != nil {
			rep.Result, rep.Error = nil, fmt.Sprintf("worker: encode host call %s result: %v", m.Op, err)
		}
	}
	line, _ := json.Marshal(rep)
	_, err := p.stdin.Write(append(line, '\n'))
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
	select {
	case <-p.stop:
	default:
		close(p.stop)
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
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.kill()
	}
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

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.elided == 0 {
		return string(t.head) + string(t.tail)
	}
	return fmt.Sprintf("%s\n... (%d bytes not kept) ...\n%s", t.head, t.elided, t.tail)
}
