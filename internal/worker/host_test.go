package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kspbench/kspbench/internal/worker"
)

// childEnv makes this test binary a worker (TestMain) instead of running the
// tests, so that Process and Serve talk over real pipes.
const childEnv = "KSPBENCH_WORKER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := worker.Serve(context.Background(), os.Stdin, os.Stdout, childOps()); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childOps: "add" asks the parent for host call "add" n times and returns
// the sum of the answers; "add-forever" never stops asking.
func childOps() map[string]worker.Op {
	return map[string]worker.Op{
		"hello": func(context.Context, json.RawMessage) (any, error) {
			return worker.Hello{Protocol: worker.ProtocolVersion, Engine: "fake", PID: os.Getpid()}, nil
		},
		"add": func(ctx context.Context, raw json.RawMessage) (any, error) {
			var n int
			if err := json.Unmarshal(raw, &n); err != nil {
				return nil, err
			}
			sum := 0
			for i := range n {
				var v int
				if err := worker.CallHost(ctx, "add", i, &v); err != nil {
					return nil, err
				}
				sum += v
			}
			return sum, nil
		},
		"log": func(ctx context.Context, raw json.RawMessage) (any, error) {
			var n int
			if err := json.Unmarshal(raw, &n); err != nil {
				return nil, err
			}
			log := slog.New(worker.LogHandler(slog.LevelInfo, slog.NewTextHandler(os.Stderr, nil))).With("plugin", "p")
			log.DebugContext(ctx, "not sent: below the level")
			for i := range n {
				log.WithGroup("g").InfoContext(ctx, "hello", "i", i, "d", time.Second, "err", errors.New("boom"))
			}
			log.Info("no operation in its context: to stderr")
			return n, nil
		},
		"log-forever": func(ctx context.Context, _ json.RawMessage) (any, error) {
			log := slog.New(worker.LogHandler(slog.LevelInfo, slog.NewTextHandler(os.Stderr, nil)))
			for {
				log.InfoContext(ctx, strings.Repeat("x", 1000))
			}
		},
		"panic": func(context.Context, json.RawMessage) (any, error) {
			panic("planted panic")
		},
		"stray-exit": func(context.Context, json.RawMessage) (any, error) {
			os.Stdout.WriteString("not a protocol line\n")
			os.Exit(3)
			return nil, nil
		},
		"add-forever": func(ctx context.Context, _ json.RawMessage) (any, error) {
			for {
				if err := worker.CallHost(ctx, "add", 1, nil); err != nil {
					return nil, err
				}
			}
		},
	}
}

func start(t *testing.T, host worker.HostFunc) *worker.Process {
	t.Helper()
	return startSpec(t, worker.Spec{Host: host})
}

func startSpec(t *testing.T, spec worker.Spec) *worker.Process {
	t.Helper()
	spec.Engine, spec.Path, spec.Env = "fake", os.Args[0], []string{childEnv + "=1"}
	p, err := worker.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestHostCalls: an operation's host calls are served by Spec.Host, in
// order, and their answers reach the operation.
func TestHostCalls(t *testing.T) {
	var calls atomic.Int64
	p := start(t, func(_ context.Context, op string, args json.RawMessage) (any, error) {
		calls.Add(1)
		var i int
		if err := json.Unmarshal(args, &i); err != nil || op != "add" {
			return nil, errors.New("bad host call " + op + " " + string(args))
		}
		return i * 2, nil
	})
	for range 2 {
		var sum int
		if err := p.Call(context.Background(), "add", 100, &sum); err != nil {
			t.Fatal(err)
		}
		if sum != 2*(99*100/2) {
			t.Errorf("sum of 100 host calls = %d, want %d", sum, 99*100)
		}
	}
	if n := calls.Load(); n != 200 {
		t.Errorf("%d host calls served, want 200", n)
	}
}

// TestHostCallErrors: a host service's error, and a parent that serves no
// host calls, reach the operation as errors, and the worker goes on.
func TestHostCallErrors(t *testing.T) {
	p := start(t, func(context.Context, string, json.RawMessage) (any, error) {
		return nil, errors.New("no such thing")
	})
	if err := p.Call(context.Background(), "add", 1, nil); err == nil || !strings.Contains(err.Error(), "no such thing") {
		t.Errorf("host call whose service fails: %v", err)
	}
	q := start(t, nil)
	if err := q.Call(context.Background(), "add", 1, nil); err == nil || !strings.Contains(err.Error(), "serves no host calls") {
		t.Errorf("host call to a parent without Host: %v", err)
	}
	if err := q.Call(context.Background(), "add", 0, nil); err != nil {
		t.Errorf("an operation without host calls after a failed one: %v", err)
	}
}

// TestHostCallLoopKilled: an operation that never stops making host calls
// is killed when its context ends, and the next call runs on a new worker.
func TestHostCallLoopKilled(t *testing.T) {
	var calls atomic.Int64
	p := start(t, func(context.Context, string, json.RawMessage) (any, error) {
		calls.Add(1)
		return 1, nil
	})
	pid := p.Hello().PID
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := p.Call(ctx, "add-forever", nil, nil)
	var died *worker.DiedError
	if !errors.As(err, &died) || !died.Killed {
		t.Fatalf("endless host calls: %v, want the worker killed at the deadline", err)
	}
	if n := calls.Load(); n < 2 {
		t.Errorf("%d host calls served before the deadline, want many", n)
	}
	var sum int
	if err := p.Call(context.Background(), "add", 3, &sum); err != nil || sum != 3 {
		t.Errorf("after the kill: sum %d, %v; want 3", sum, err)
	}
	if p.Hello().PID == pid {
		t.Errorf("the worker was not restarted")
	}
}

// TestLogLines: records an operation logs through LogHandler reach the
// parent's Spec.Logger with their level, message and attributes, and the
// worker's pid; records outside an operation stay in the worker.
func TestLogLines(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(b)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := startSpec(t, worker.Spec{Logger: logger})
	var n int
	if err := p.Call(context.Background(), "log", 3, &n); err != nil || n != 3 {
		t.Fatalf("log: %d, %v", n, err)
	}
	mu.Lock()
	got := buf.String()
	mu.Unlock()
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines logged, want 3:\n%s", len(lines), got)
	}
	pid := fmt.Sprintf("worker_pid=%d", p.Hello().PID)
	for i, l := range lines {
		for _, want := range []string{"level=INFO", "msg=hello", "plugin=p", fmt.Sprintf("g.i=%d", i), "g.d=1s", "g.err=boom", pid} {
			if !strings.Contains(l, want) {
				t.Errorf("line %d lacks %s: %s", i, want, l)
			}
		}
	}
	if strings.Contains(got, "not sent") || strings.Contains(got, "to stderr") {
		t.Errorf("records below the level or outside an operation reached the parent:\n%s", got)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// TestStrayOutput: what a worker writes on stdout that is not a protocol
// line is kept in the tail a dying worker's error reports, and the next
// call starts a new worker.
func TestStrayOutput(t *testing.T) {
	p := start(t, nil)
	err := p.Call(context.Background(), "stray-exit", nil, nil)
	var died *worker.DiedError
	if !errors.As(err, &died) || died.Killed || !strings.Contains(died.Tail, "not a protocol line") || !strings.Contains(died.Status, "exit status 3") {
		t.Fatalf("stray output then exit: %v, want a death with the output in its tail", err)
	}
	var sum int
	if err := p.Call(context.Background(), "add", 0, &sum); err != nil {
		t.Errorf("after the death: %v", err)
	}
}

// TestPanicIsAnError: an operation that panics answers with an error that
// gives the panic's value on one line, not its stack, which goes to the
// worker's stderr (the tail a death shows); the worker serves on.
func TestPanicIsAnError(t *testing.T) {
	p := start(t, nil)
	err := p.Call(context.Background(), "panic", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "operation panic panicked: planted panic") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v, want the panic's value on one line", err)
	}
	var sum int
	if err := p.Call(context.Background(), "add", 0, &sum); err != nil {
		t.Fatalf("after the panic: %v", err)
	}
	err = p.Call(context.Background(), "stray-exit", nil, nil)
	var died *worker.DiedError
	if !errors.As(err, &died) || !strings.Contains(died.Tail, "planted panic") || !strings.Contains(died.Tail, "goroutine ") {
		t.Errorf("the worker's stderr lacks the panic's stack: %v", err)
	}
}

// TestLogLoopKilled: an operation that never stops logging is killed when
// its context ends, its records having reached the parent's logger one at a
// time, and the next call runs on a new worker.
func TestLogLoopKilled(t *testing.T) {
	var records atomic.Int64
	logger := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		records.Add(1)
		return len(b), nil
	}), nil))
	p := startSpec(t, worker.Spec{Logger: logger})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := p.Call(ctx, "log-forever", nil, nil)
	var died *worker.DiedError
	if !errors.As(err, &died) || !died.Killed {
		t.Fatalf("endless logging: %v, want the worker killed at the deadline", err)
	}
	if n := records.Load(); n < 2 {
		t.Errorf("%d records logged before the deadline, want many", n)
	}
	if err := p.Call(context.Background(), "add", 0, nil); err != nil {
		t.Errorf("after the kill: %v", err)
	}
}
