package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
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
	p, err := worker.Start(context.Background(), worker.Spec{Engine: "fake", Path: os.Args[0], Env: []string{childEnv + "=1"}, Host: host})
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
