package plugin_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/host"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/plugin"
)

func load(t *testing.T, eng engines.Engine, guest string, handlers []string, spec plugin.Spec) *plugin.Plugin {
	t.Helper()
	svc, err := host.NewServices(host.Config{Plugin: "p", Storage: storage.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	spec.Name, spec.Handlers, spec.Imports = "p", handlers, svc
	p, err := plugin.Load(context.Background(), eng, conformance.Guest(guest), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func openWazero(t *testing.T) engines.Engine {
	t.Helper()
	eng, err := wazero.Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(context.Background()) })
	return eng
}

func TestPoolBoundsInstancesAndCallsInFlight(t *testing.T) {
	p := load(t, openWazero(t), "reference", []string{"handle_echo"}, plugin.Spec{MaxInstances: 2})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				in := []byte(fmt.Sprintf("%d-%d", w, i))
				got, err := p.Call(context.Background(), "handle_echo", in)
				if err != nil || string(got) != string(in) {
					t.Errorf("got %q, %v; want %q", got, err, in)
					return
				}
			}
		})
	}
	wg.Wait()
	if s := p.Stats(); s.Created > 2 || s.InFlight != 0 || s.Discarded != 0 {
		t.Errorf("stats %+v: want at most 2 created, none in flight or discarded", s)
	}
}

func TestFailedInstanceIsDiscardedNotReused(t *testing.T) {
	p := load(t, openWazero(t), "edge", []string{"handle_trap", "handle_ok", "handle_status"}, plugin.Spec{MaxInstances: 1})
	if _, err := p.Call(context.Background(), "handle_trap", nil); !errors.Is(err, engines.ErrTrap) {
		t.Fatalf("trap: %v", err)
	}
	var se *abi.StatusError
	if _, err := p.Call(context.Background(), "handle_status", nil); !errors.As(err, &se) {
		t.Fatalf("status: %v", err)
	}
	if got, err := p.Call(context.Background(), "handle_ok", nil); err != nil || string(got) != "ok" {
		t.Fatalf("after: %q %v", got, err)
	}
	if s := p.Stats(); s.Created != 2 || s.Discarded != 1 {
		t.Errorf("stats %+v: want 2 created (one replaced the trapped one), 1 discarded; a status answer keeps its instance", s)
	}
}

func TestCallsAfterCloseFail(t *testing.T) {
	p := load(t, openWazero(t), "reference", []string{"handle_echo"}, plugin.Spec{})
	if _, err := p.Call(context.Background(), "handle_echo", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(context.Background(), "handle_echo", []byte("x")); err == nil {
		t.Error("a call after Close succeeded")
	}
}

// uninterruptible wraps an engine and says it cannot interrupt calls, so the
// plugin takes the path it takes on wasmer.
type uninterruptible struct{ engines.Engine }

func (uninterruptible) Unsupported(f engines.Feature) string {
	if f == engines.FeatureInterrupt {
		return "test: pretends it cannot"
	}
	return ""
}

func TestUninterruptibleEngineAnswersAtTheDeadline(t *testing.T) {
	eng := uninterruptible{openWazero(t)}
	p := load(t, eng, "edge", []string{"handle_loop", "handle_ok"}, plugin.Spec{MaxInstances: 2, Limits: abi.Limits{CallTimeout: 100 * time.Millisecond}})
	start := time.Now()
	_, err := p.Call(context.Background(), "handle_loop", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("loop: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("answered after %v", d)
	}
	if got, err := p.Call(context.Background(), "handle_ok", nil); err != nil || string(got) != "ok" {
		t.Fatalf("next call: %q %v", got, err)
	}
}

func TestRoutes(t *testing.T) {
	p := load(t, openWazero(t), "reference", nil, plugin.Spec{Routes: []plugin.Route{{Path: "/echo", Methods: []string{"POST"}, Handler: "handle_echo"}}})
	r, err := p.Handle(context.Background(), &abi.Request{Method: "POST", Path: "/echo", Body: []byte("hi")})
	if err != nil || r.Status != 200 || string(r.Body) != "hi" {
		t.Fatalf("POST /echo: %+v %v", r, err)
	}
	var mna *plugin.MethodNotAllowedError
	if _, err := p.Handle(context.Background(), &abi.Request{Method: "GET", Path: "/echo"}); !errors.As(err, &mna) || mna.Allow[0] != "POST" {
		t.Errorf("GET /echo: %v", err)
	}
	if _, err := p.Handle(context.Background(), &abi.Request{Method: "GET", Path: "/nope"}); !errors.Is(err, plugin.ErrNoRoute) {
		t.Errorf("GET /nope: %v", err)
	}
	if _, err := p.Call(context.Background(), "handle_echo", make([]byte, abi.DefaultLimits.MaxRequestBytes+1)); !errors.Is(err, abi.ErrTooLarge) {
		t.Errorf("oversized body: %v", err)
	}
}
