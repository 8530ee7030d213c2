package plugin_test

import (
	"context"
	_ "embed"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/host"
	"github.com/kspbench/kspbench/plugin"
)

// reentryWasm is testdata/reentry.wat compiled: its allocate calls
// host_request_info, whose result comes back through allocate.
//
//go:embed testdata/reentry.wasm
var reentryWasm []byte

// testEngines are the engines eachEngine runs a test on: wazero, plus the
// cgo engine a build tag links (go test -tags wasmtime ./plugin/ -run
// 'Reentry|Memory'; likewise wasmer; one cgo engine per binary).
var testEngines = []struct {
	name string
	open func(engines.Config) (engines.Engine, error)
}{{"wazero", wazero.Open}}

func eachEngine(t *testing.T, f func(t *testing.T, eng engines.Engine)) {
	for _, e := range testEngines {
		t.Run(e.name, func(t *testing.T) {
			eng, err := e.open(engines.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { eng.Close(context.Background()) })
			f(t, eng)
		})
	}
}

func loadReentry(t *testing.T, eng engines.Engine) *plugin.Plugin {
	t.Helper()
	svc, err := host.NewServices(host.Config{Plugin: "reentry"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := plugin.Load(context.Background(), eng, reentryWasm, plugin.Spec{
		Name: "reentry", Imports: svc, MaxInstances: 1,
		Routes: []plugin.Route{
			{Path: "/runaway", Methods: []string{"GET"}, Handler: "handle_runaway"},
			{Path: "/nested", Methods: []string{"POST"}, Handler: "handle_nested"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// TestReentryIsBounded: an allocate that calls host_request_info for ever
// used to recurse until the host's stack overflowed (the process died after
// seconds, with 173k goroutines); now the call traps at MaxReentryDepth.
func TestReentryIsBounded(t *testing.T) { eachEngine(t, testReentryIsBounded) }

func testReentryIsBounded(t *testing.T, eng engines.Engine) {
	p := loadReentry(t, eng)
	before := runtime.NumGoroutine()
	start := time.Now()
	_, err := p.Handle(context.Background(), &abi.Request{Method: "GET", Path: "/runaway"})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the call took %v", d)
	}
	if !errors.Is(err, abi.ErrReentry) || !errors.Is(err, engines.ErrTrap) {
		t.Fatalf("got %v; want a trap wrapping abi.ErrReentry", err)
	}
	var re *abi.ReentryError
	if !errors.As(err, &re) || re.Import != abi.ImportRequestInfo || re.Depth != abi.MaxReentryDepth {
		t.Errorf("got %#v; want import %s at depth %d", re, abi.ImportRequestInfo, abi.MaxReentryDepth)
	}
	if msg := err.Error(); !strings.Contains(msg, "allocate must not call host imports that return data") || len(msg) > 4096 {
		t.Errorf("message of %d bytes: %s", len(msg), msg)
	}
	t.Logf("error (%d bytes): %v", len(err.Error()), err)
	if n := runtime.NumGoroutine(); n > before+20 {
		t.Errorf("%d goroutines after the call, %d before", n, before)
	}
	// The trapped instance is discarded; the plugin goes on serving.
	if r, err := p.Handle(context.Background(), &abi.Request{Method: "POST", Path: "/nested", Body: []byte("0")}); err != nil || r.Status != 200 {
		t.Fatalf("after the trap: %+v %v", r, err)
	}
	if s := p.Stats(); s.Discarded != 1 {
		t.Errorf("stats %+v: want the trapped instance discarded", s)
	}
}

// TestReentryWithinTheBound: nesting up to the bound is allowed, one more
// level traps.
func TestReentryWithinTheBound(t *testing.T) { eachEngine(t, testReentryWithinTheBound) }

func testReentryWithinTheBound(t *testing.T, eng engines.Engine) {
	p := loadReentry(t, eng)
	ok := byte('0' + abi.MaxReentryDepth - 1)
	r, err := p.Handle(context.Background(), &abi.Request{Method: "POST", Path: "/nested", Body: []byte{ok}})
	if err != nil || !strings.Contains(string(r.Body), `"path":"/nested"`) {
		t.Fatalf("%d nested imports inside allocate: %+v %v", abi.MaxReentryDepth-1, r, err)
	}
	_, err = p.Handle(context.Background(), &abi.Request{Method: "POST", Path: "/nested", Body: []byte{ok + 1}})
	if !errors.Is(err, abi.ErrReentry) {
		t.Fatalf("%d nested imports inside allocate: %v; want abi.ErrReentry", abi.MaxReentryDepth, err)
	}
}
