package conformance

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/plugin"
)

// referenceHandlers are the handlers of testdata/reference.wat.
var referenceHandlers = []string{
	"handle_empty", "handle_echo", "handle_size", "handle_log", "handle_config", "handle_storage_set",
	"handle_storage_get", "handle_k8s", "handle_request_info", "handle_set_status", "handle_call_host",
}

var edgeHandlers = []string{
	"handle_ok", "handle_trap", "handle_oob_ptr", "handle_oob_len", "handle_oob_wrap", "handle_status", "handle_loop",
	"handle_grow", "handle_grow_trap", "handle_bad_import_ptr", "handle_reentrant", "handle_stack_overflow",
}

func (e *Env) reference(o GuestOptions) (*Loaded, error) {
	o.Handlers = referenceHandlers
	return e.LoadGuest(e.referenceWasm(), o)
}

func (e *Env) edge(o GuestOptions) (*Loaded, error) {
	o.Handlers = edgeHandlers
	return e.LoadGuest(Guest("edge"), o)
}

// pattern is what handle_size answers: byte i is 'a' + i mod 26.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

// afterFailure checks that a plugin whose call just failed discarded that
// instance and serves the next call from a fresh one.
func afterFailure(e *Env, g *Loaded, discarded int) error {
	if s := g.Stats(); s.Discarded != discarded {
		return fmt.Errorf("instances discarded: %d, want %d", s.Discarded, discarded)
	}
	got, err := g.Call(e.ctx, "handle_ok", nil)
	return wantBytes("the next call, on a new instance", got, err, []byte("ok"))
}

var abiCases = []Case{
	{"abi/empty-response", "a handler returning length 0 gives an empty response", func(e *Env) error {
		g, err := e.reference(GuestOptions{})
		if err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_empty", []byte("ignored"))
		return wantBytes("handle_empty", got, err, []byte{})
	}},
	{"abi/response-sizes", "responses of 0 B, 1 KiB + 1 B and 1 MiB arrive whole", func(e *Env) error {
		g, err := e.reference(GuestOptions{})
		if err != nil {
			return err
		}
		for _, n := range []int{0, 1025, 1 << 20} {
			got, err := g.Call(e.ctx, "handle_size", []byte(strconv.Itoa(n)))
			if err := wantBytes(fmt.Sprintf("handle_size %d", n), got, err, pattern(n)); err != nil {
				return err
			}
		}
		return nil
	}},
	{"abi/request-sizes", "requests of 0 B, 1 KiB + 1 B and 1 MiB reach the guest whole", func(e *Env) error {
		g, err := e.reference(GuestOptions{})
		if err != nil {
			return err
		}
		for _, n := range []int{0, 1025, 1 << 20} {
			in := pattern(n)
			got, err := g.Call(e.ctx, "handle_echo", in)
			if err := wantBytes(fmt.Sprintf("handle_echo %d", n), got, err, in); err != nil {
				return err
			}
		}
		return nil
	}},
	{"abi/size-limits", "a request over the limit is refused before the guest runs; a response over it is an error", func(e *Env) error {
		g, err := e.reference(GuestOptions{Limits: abi.Limits{MaxRequestBytes: 1024, MaxResponseBytes: 1024}})
		if err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_echo", pattern(1025))
		if err := wantErr("request of 1025 B", err, abi.ErrTooLarge, "1025"); err != nil {
			return err
		}
		if s := g.Stats(); s.Discarded != 0 {
			return fmt.Errorf("a refused request discarded %d instances", s.Discarded)
		}
		_, err = g.Call(e.ctx, "handle_size", []byte("2048"))
		if err := wantErr("response of 2048 B", err, abi.ErrTooLarge, "2048"); err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_echo", pattern(1024))
		return wantBytes("request at the limit", got, err, pattern(1024))
	}},
	{"abi/memory-bounded", "10,000 calls in a row on one instance, then memory stays put over 2,000 more", func(e *Env) error {
		g, err := e.reference(GuestOptions{})
		if err != nil {
			return err
		}
		return boundedMemory(e, g, "handle_echo", func(int) []byte { return pattern(4096) }, pattern(4096), standardRun)
	}},
	{"abi/host-log", "host_log reaches the host's log under the plugin's name", func(e *Env) error {
		g, err := e.reference(GuestOptions{Name: "logger"})
		if err != nil {
			return err
		}
		if _, err := g.Call(e.ctx, "handle_log", []byte("hello from the guest")); err != nil {
			return err
		}
		for _, l := range g.Logs.Lines() {
			if strings.Contains(l, "hello from the guest") && strings.Contains(l, "plugin=logger") {
				return nil
			}
		}
		return fmt.Errorf("log lines %q lack the message with plugin=logger", g.Logs.Lines())
	}},
	{"abi/host-config", "host_get_config returns a present key's value and NOT_FOUND for an absent one", func(e *Env) error {
		g, err := e.reference(GuestOptions{Config: map[string]string{"greeting": "hello", "interval": "30"}})
		if err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_config", []byte("interval"))
		if err := wantBytes("config interval", got, err, []byte("30")); err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_config", []byte("absent"))
		return wantStatus("config absent", err, abi.NotFound)
	}},
	{"abi/host-storage", "host_storage_set and host_storage_get round-trip; an empty value deletes", func(e *Env) error {
		g, err := e.reference(GuestOptions{})
		if err != nil {
			return err
		}
		if _, err := g.Call(e.ctx, "handle_storage_set", []byte("color=blue")); err != nil {
			return fmt.Errorf("set: %w", err)
		}
		got, err := g.Call(e.ctx, "handle_storage_get", []byte("color"))
		if err := wantBytes("get", got, err, []byte("blue")); err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_storage_get", []byte("shape"))
		if err := wantStatus("get absent", err, abi.NotFound); err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_storage_set", []byte("=x"))
		if err := wantStatus("set with an empty key", err, abi.BadArgument); err != nil {
			return err
		}
		if _, err := g.Call(e.ctx, "handle_storage_set", []byte("color=")); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		_, err = g.Call(e.ctx, "handle_storage_get", []byte("color"))
		return wantStatus("get after delete", err, abi.NotFound)
	}},
	{"abi/host-storage-persists", "stored values reach a new instance, and a new host on the same database file", func(e *Env) error {
		g, err := e.reference(GuestOptions{Name: "keeper"})
		if err != nil {
			return err
		}
		if _, err := g.Call(e.ctx, "handle_storage_set", []byte("k=v1")); err != nil {
			return err
		}
		in, err := g.NewInstance(e.ctx)
		if err != nil {
			return err
		}
		got, err := in.Call(e.ctx, "handle_storage_get", []byte("k"))
		in.Close(e.ctx)
		if err := wantBytes("get on a new instance", got, err, []byte("v1")); err != nil {
			return err
		}
		if err := errors.Join(g.Close(e.ctx), g.Storage.Close()); err != nil {
			return err
		}
		g2, err := e.reference(GuestOptions{Name: "keeper"})
		if err != nil {
			return fmt.Errorf("reopen: %w", err)
		}
		got, err = g2.Call(e.ctx, "handle_storage_get", []byte("k"))
		if err := wantBytes("get after the store was closed and reopened", got, err, []byte("v1")); err != nil {
			return err
		}
		other, err := e.reference(GuestOptions{Name: "stranger", StoragePath: e.dir + "/other.db"})
		if err != nil {
			return err
		}
		_, err = other.Call(e.ctx, "handle_storage_get", []byte("k"))
		return wantStatus("another plugin's namespace", err, abi.NotFound)
	}},
	{"abi/host-k8s-allowed", "host_k8s_api_call with the permission reaches the backend and returns its JSON", func(e *Env) error {
		g, err := e.reference(GuestOptions{Permissions: []string{abi.PermReadClusters}})
		if err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_k8s", []byte("/apis/cluster.open-cluster-management.io/v1/managedclusters"))
		if err != nil {
			return err
		}
		var list struct {
			Kind  string `json:"kind"`
			Items []struct {
				Metadata struct{ Name string } `json:"metadata"`
			} `json:"items"`
		}
		if err := json.Unmarshal(got, &list); err != nil || list.Kind != "ManagedClusterList" || len(list.Items) != 2 {
			return fmt.Errorf("got %q (%v), want the fixture's ManagedClusterList of 2", clip(got), err)
		}
		if n := g.Kube.Calls(); n != 1 {
			return fmt.Errorf("backend saw %d calls, want 1", n)
		}
		_, err = g.Call(e.ctx, "handle_k8s", []byte("/apis/cluster.open-cluster-management.io/v1/managedclusters/absent"))
		return wantStatus("absent cluster", err, abi.NotFound)
	}},
	{"abi/host-k8s-denied", "a Kubernetes call without its permission is denied before it reaches the backend", func(e *Env) error {
		g, err := e.reference(GuestOptions{Permissions: []string{abi.PermReadWorkloads}})
		if err != nil {
			return err
		}
		for _, path := range []string{
			"/apis/cluster.open-cluster-management.io/v1/managedclusters",
			"DELETE /api/v1/namespaces/default/pods/x",
			"/api/v1/namespaces/default/secrets",
		} {
			_, err = g.Call(e.ctx, "handle_k8s", []byte(path))
			if err := wantStatus(path, err, abi.PermissionDenied); err != nil {
				return err
			}
		}
		if n := g.Kube.Calls(); n != 0 {
			return fmt.Errorf("denied calls reached the backend %d times", n)
		}
		for _, l := range g.Logs.Lines() {
			if strings.Contains(l, abi.PermReadClusters) {
				return nil
			}
		}
		return fmt.Errorf("no log line names the missing permission %s: %q", abi.PermReadClusters, g.Logs.Lines())
	}},
	{"abi/request-info", "host_request_info gives method, path, route, query and headers; NOT_FOUND outside a request", func(e *Env) error {
		g, err := e.reference(GuestOptions{Routes: []plugin.Route{{Path: "/info", Methods: []string{"GET", "POST"}, Handler: "handle_request_info"}}})
		if err != nil {
			return err
		}
		resp, err := g.Handle(e.ctx, &abi.Request{
			Method: "POST", Path: "/info", Query: map[string][]string{"cluster": {"c1", "c2"}},
			Headers: map[string][]string{"Content-Type": {"application/json"}}, Body: []byte("{}"),
		})
		if err != nil {
			return err
		}
		want := `{"method":"POST","path":"/info","route":"/info","query":{"cluster":["c1","c2"]},"headers":{"Content-Type":["application/json"]}}`
		if err := wantJSON("request info", resp.Body, want); err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_request_info", nil)
		return wantStatus("outside a request", err, abi.NotFound)
	}},
	{"abi/response-status", "host_set_response_status sets the HTTP status; a code outside 100..599 is BAD_ARGUMENT", func(e *Env) error {
		g, err := e.reference(GuestOptions{Routes: []plugin.Route{{Path: "/code", Methods: []string{"POST"}, Handler: "handle_set_status"}}})
		if err != nil {
			return err
		}
		resp, err := g.Handle(e.ctx, &abi.Request{Method: "POST", Path: "/code", Body: []byte("418")})
		if err != nil {
			return err
		}
		if resp.Status != 418 {
			return fmt.Errorf("status %d, want 418", resp.Status)
		}
		_, err = g.Handle(e.ctx, &abi.Request{Method: "POST", Path: "/code", Body: []byte("99")})
		return wantStatus("code 99", err, abi.BadArgument)
	}},
	{"abi/reentrant-allocate", "a host import calls the guest's allocate from inside the host call", func(e *Env) error {
		g, err := e.edge(GuestOptions{Config: map[string]string{"greeting": strings.Repeat("hi ", 1000)}})
		if err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_reentrant", nil)
		return wantBytes("handle_reentrant", got, err, []byte(strings.Repeat("hi ", 1000)))
	}},
	{"abi/status-result", "a handler returning pointer 0 with a code fails with that status and keeps its instance", func(e *Env) error {
		g, err := e.edge(GuestOptions{})
		if err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_status", nil)
		if err := wantStatus("handle_status", err, abi.BadArgument); err != nil {
			return err
		}
		return afterFailure(e, g, 0)
	}},
	{"abi/trap", "a trap is an error, the instance is replaced, and the next call succeeds", func(e *Env) error {
		g, err := e.edge(GuestOptions{})
		if err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_trap", nil)
		if err := wantErr("handle_trap", err, engines.ErrTrap, "handle_trap"); err != nil {
			return err
		}
		return afterFailure(e, g, 1)
	}},
	{"abi/stack-overflow", "unbounded recursion traps instead of crashing the host", func(e *Env) error {
		// Not a deadline case: a deep recursion under the race detector on a
		// loaded machine can outlast the default call timeout.
		g, err := e.edge(GuestOptions{Limits: abi.Limits{CallTimeout: time.Minute}})
		if err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_stack_overflow", nil)
		if err := wantErr("handle_stack_overflow", err, engines.ErrTrap); err != nil {
			return err
		}
		return afterFailure(e, g, 1)
	}},
	{"abi/out-of-bounds-result", "a result range past memory, or wrapping 2^32, is an error naming the range", func(e *Env) error {
		g, err := e.edge(GuestOptions{})
		if err != nil {
			return err
		}
		for i, h := range []string{"handle_oob_ptr", "handle_oob_len", "handle_oob_wrap"} {
			_, err = g.Call(e.ctx, h, nil)
			if err := wantErr(h, err, abi.ErrOutOfBounds, h, "memory size"); err != nil {
				return err
			}
			if err := afterFailure(e, g, i+1); err != nil {
				return err
			}
		}
		return nil
	}},
	{"abi/import-out-of-bounds", "a host import given a range past memory ends the call with an error naming the import", func(e *Env) error {
		g, err := e.edge(GuestOptions{})
		if err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_bad_import_ptr", nil)
		if err := wantErr("handle_bad_import_ptr", err, abi.ErrOutOfBounds, "host_log"); err != nil {
			return err
		}
		return afterFailure(e, g, 1)
	}},
	{"abi/deadline", "a handler that never returns is ended by the call deadline and the next call succeeds", func(e *Env) error {
		g, err := e.edge(GuestOptions{Limits: abi.Limits{CallTimeout: e.cfg.Deadline}, MaxInstances: 2})
		if err != nil {
			return err
		}
		eng, _ := e.Engine()
		why := engines.Unsupported(eng, engines.FeatureInterrupt)
		if err := runawayUncontained(eng, why); err != nil {
			return err
		}
		if err := endsInTime(e, func() error { _, err := g.Call(e.ctx, "handle_loop", nil); return err }, context.DeadlineExceeded); err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_ok", nil)
		if err := wantBytes("the next call", got, err, []byte("ok")); err != nil {
			return err
		}
		if why != "" {
			return &UnsupportedError{Recycle: true, Reason: why + "; the host answered at the deadline and abandoned the instance, whose guest code still runs until the process ends"}
		}
		return nil
	}},
	{"abi/cancel", "a handler that never returns is ended when its context is cancelled", func(e *Env) error {
		g, err := e.edge(GuestOptions{MaxInstances: 2})
		if err != nil {
			return err
		}
		eng, _ := e.Engine()
		why := engines.Unsupported(eng, engines.FeatureInterrupt)
		if err := runawayUncontained(eng, why); err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(e.ctx)
		time.AfterFunc(e.cfg.Deadline, cancel)
		if err := endsInTime(e, func() error { _, err := g.Call(ctx, "handle_loop", nil); return err }, context.Canceled); err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_ok", nil)
		if err := wantBytes("the next call", got, err, []byte("ok")); err != nil {
			return err
		}
		if why != "" {
			return &UnsupportedError{Recycle: true, Reason: why + "; the host answered at cancellation and abandoned the instance"}
		}
		return nil
	}},
	{"abi/memory-limit", "memory.grow past the limit fails inside the guest; growth within it succeeds", func(e *Env) error {
		eng, err := e.Engine()
		if err != nil {
			return err
		}
		if why := engines.Unsupported(eng, engines.FeatureMemoryLimit); why != "" {
			return &UnsupportedError{Reason: why}
		}
		g, err := e.edge(GuestOptions{Limits: abi.Limits{MemoryPages: 64}})
		if err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_grow", []byte("10"))
		if err := wantBytes("grow by 10 pages under a 64-page limit", got, err, []byte("grown")); err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_grow", []byte("100"))
		if err := wantStatus("grow by 100 pages under a 64-page limit", err, abi.LimitExceeded); err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_grow_trap", nil)
		if err := wantErr("grow until refused, then trap", err, engines.ErrTrap); err != nil {
			return err
		}
		return afterFailure(e, g, 1)
	}},
	{"abi/allocate-failures", "allocate returning 0, a range past memory, or trapping is an error, never a write", func(e *Env) error {
		for _, c := range []struct{ guest, word string }{
			{"alloc_zero", "returned 0"},
			{"alloc_oob", "memory size"},
			{"alloc_trap", "allocate"},
		} {
			g, err := e.LoadGuest(Guest(c.guest), GuestOptions{Handlers: []string{"handle_echo"}})
			if err != nil {
				return err
			}
			_, err = g.Call(e.ctx, "handle_echo", []byte("payload"))
			if err := wantErr(c.guest+" echo", err, abi.ErrAllocate, c.word); err != nil {
				return err
			}
			got, err := g.Call(e.ctx, "handle_echo", nil)
			if err := wantBytes(c.guest+" empty echo needs no allocate", got, err, []byte{}); err != nil {
				return err
			}
		}
		g, err := e.LoadGuest(Guest("alloc_trap"), GuestOptions{Handlers: []string{"handle_reentrant"}, Config: map[string]string{"greeting": "hi"}})
		if err != nil {
			return err
		}
		_, err = g.Call(e.ctx, "handle_reentrant", nil)
		return wantErr("host import whose allocate traps", err, abi.ErrAllocate, "host_get_config")
	}},
	{"abi/instances-isolated", "two instances of one module do not share memory", func(e *Env) error {
		g, err := e.reference(GuestOptions{})
		if err != nil {
			return err
		}
		a, err := g.NewInstance(e.ctx)
		if err != nil {
			return err
		}
		defer a.Close(e.ctx)
		b, err := g.NewInstance(e.ctx)
		if err != nil {
			return err
		}
		defer b.Close(e.ctx)
		secret := []byte("instance A's secret")
		if _, err := a.Call(e.ctx, "handle_echo", secret); err != nil {
			return err
		}
		am, bm := a.Engine().Memory(), b.Engine().Memory()
		av, _ := am.Read(0, uint32(am.Size()))
		if !bytes.Contains(av, secret) {
			return errors.New("instance A's memory lacks what it was sent")
		}
		bv, _ := bm.Read(0, uint32(bm.Size()))
		if bytes.Contains(bv, secret) {
			return errors.New("instance B's memory holds what was sent to instance A")
		}
		return nil
	}},
	{"abi/wasi-clock-random", "WASI gives the host's real time and unpredictable random bytes, as on every engine", func(e *Env) error {
		g, err := e.LoadGuest(Guest("wasi"), GuestOptions{Handlers: []string{"handle_time", "handle_random"}})
		if err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_time", nil)
		if err != nil || len(got) != 8 {
			return fmt.Errorf("handle_time: %d bytes, %v", len(got), err)
		}
		guest := time.Unix(0, int64(binary.LittleEndian.Uint64(got)))
		if d := time.Since(guest); d > 5*time.Minute || d < -5*time.Minute {
			return fmt.Errorf("the guest's realtime clock reads %s, the host's %s: not the real time", guest.UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339))
		}
		seen := map[string]bool{}
		for range 3 {
			in, err := g.NewInstance(e.ctx) // a fresh instance each time: a fixed seed would repeat
			if err != nil {
				return err
			}
			b, err := in.Call(e.ctx, "handle_random", nil)
			in.Close(e.ctx)
			if err != nil || len(b) != 16 {
				return fmt.Errorf("handle_random: %d bytes, %v", len(b), err)
			}
			if seen[string(b)] {
				return fmt.Errorf("random_get gave %x again in a new instance: a deterministic source", b)
			}
			seen[string(b)] = true
		}
		return nil
	}},
	{"abi/concurrent", "16 goroutines calling one plugin get their own answers, one instance per call in flight", func(e *Env) error {
		g, err := e.reference(GuestOptions{MaxInstances: 4})
		if err != nil {
			return err
		}
		return concurrently(16, 100, func(w, i int) error {
			in := []byte(fmt.Sprintf("worker %d call %d %s", w, i, pattern(w*37+i)))
			got, err := g.Call(e.ctx, "handle_echo", in)
			return wantBytes("echo", got, err, in)
		}, func() error {
			if s := g.Stats(); s.Created > 4 {
				return fmt.Errorf("%d instances created, bound is 4", s.Created)
			}
			return nil
		})
	}},
}

// endsInTime runs call, which must end with an error matching want. A call
// still running 20 s past the deadline is reported as never ending.
func endsInTime(e *Env, call func() error, want error) error {
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return wantErr("runaway call", err, want)
	case <-time.After(e.cfg.Deadline + 20*time.Second):
		return fmt.Errorf("runaway call still running %v after its %v deadline", 20*time.Second, e.cfg.Deadline)
	}
}

// memoryRun says how boundedMemory calls: first calls in a row, then rounds
// of round calls, at most max calls in all.
type memoryRun struct{ first, round, max int }

// standardRun is the ABI's: 10,000 calls in a row, then rounds of 2,000.
var standardRun = memoryRun{10000, 2000, 50000}

// boundedMemory calls handler r.first times in a row on one instance, then
// goes on in rounds of r.round calls until a round leaves memory the size it
// was: memory must reach that plateau within r.max calls. A guest that leaks
// per call never does; a garbage-collected guest (Go) grows until its heap
// goal and then stays, which a fixed window cannot tell apart from a leak.
func boundedMemory(e *Env, g *Loaded, handler string, body func(i int) []byte, want []byte, r memoryRun) error {
	in, err := g.NewInstance(e.ctx)
	if err != nil {
		return err
	}
	defer in.Close(e.ctx)
	calls := 0
	callN := func(n int) error {
		for range n {
			got, err := in.Call(e.ctx, handler, body(calls))
			if want != nil {
				err = wantBytes(fmt.Sprintf("call %d", calls), got, err, want)
			}
			if err != nil {
				return fmt.Errorf("call %d: %w", calls, err)
			}
			calls++
		}
		return nil
	}
	pages := func() uint64 { return in.Engine().Memory().Size() / abi.PageSize }
	if err := callN(100); err != nil {
		return err
	}
	sizes := []string{fmt.Sprintf("%d pages after 100 calls", pages())}
	if err := callN(r.first - 100); err != nil {
		return err
	}
	prev := pages()
	sizes = append(sizes, fmt.Sprintf("%d after %d", prev, calls))
	for calls < r.max {
		if err := callN(r.round); err != nil {
			return err
		}
		now := pages()
		if now == prev {
			return nil
		}
		sizes = append(sizes, fmt.Sprintf("%d after %d", now, calls))
		prev = now
	}
	return fmt.Errorf("memory still growing after %d calls: %s", calls, strings.Join(sizes, ", "))
}

// concurrently runs calls workers × n times from workers goroutines and then
// check, returning every failure.
func concurrently(workers, n int, call func(w, i int) error, check func() error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range workers {
		wg.Go(func() {
			for i := range n {
				if err := call(w, i); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("worker %d: %w", w, err))
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	errs = append(errs, check())
	return errors.Join(errs...)
}

// runawayUncontained returns the unsupported result of an interruption case
// on an engine that cannot interrupt a call (why) and on which a runaway
// guest would stall the whole process: the case cannot run there without
// hanging the suite, so it is not run.
func runawayUncontained(eng engines.Engine, why string) error {
	if why == "" {
		return nil
	}
	if stall := engines.Unsupported(eng, engines.FeatureRunawayContained); stall != "" {
		return &UnsupportedError{Reason: why + "; not run: " + stall}
	}
	return nil
}
