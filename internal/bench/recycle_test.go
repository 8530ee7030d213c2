package bench_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/internal/bench"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/plugindir"
)

// bumpCalls is how many calls of handle_status one ks_bump instance serves
// before its allocate(0) answers past memory: (0x20000 - 0x1000) / 64 + 1
// (allocate(0) may answer the end of memory itself).
const bumpCalls = 1985

// ksBumpFolder writes a plugin folder of the ks_bump guest (profile
// kubestellar-ui) with GET routes for the handlers named.
func ksBumpFolder(t *testing.T, handlers ...string) string {
	t.Helper()
	dir := t.TempDir()
	var routes strings.Builder
	for _, h := range handlers {
		routes.WriteString("      - path: \"/" + strings.TrimPrefix(h, "handle_") + "\"\n        methods: [\"GET\"]\n        handler: \"" + h + "\"\n")
	}
	manifest := `apiVersion: ks-bump/v1
kind: Plugin
metadata:
  name: "ks-bump"
  version: "1.0.0"
spec:
  wasm:
    file: "ks-bump.wasm"
  backend:
    enabled: true
    routes:
` + routes.String()
	if err := os.WriteFile(filepath.Join(dir, "plugin.yml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ks-bump.wasm"), conformance.Guest("ks_bump"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ksBumpConfig(t *testing.T, dir string, d time.Duration, only ...string) bench.Config {
	return bench.Config{Open: wazero.Open, PluginDir: dir, Reference: conformance.Guest("reference"), TempDir: t.TempDir(),
		BenchTime: d, Only: func(name string) bool {
			for _, o := range only {
				if name == o {
					return true
				}
			}
			return false
		}}
}

// TestKsBumpWearsOutWithoutRecycling checks the premise of the test below:
// one instance of ks_bump fails after bumpCalls calls, with the published
// plugins' error.
func TestKsBumpWearsOutWithoutRecycling(t *testing.T) {
	ctx := context.Background()
	f, err := plugindir.Read(ksBumpFolder(t, "handle_status"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Profile != abi.KubeStellarUI || f.Profile.MaxCallsPerInstance >= bumpCalls {
		t.Fatalf("profile %s with a budget of %d calls: the test needs kubestellar-ui's, under %d", f.Profile.Name, f.Profile.MaxCallsPerInstance, bumpCalls)
	}
	eng, err := wazero.Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	p, err := f.Load(ctx, eng, plugindir.Options{Storage: storage.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	inst, err := p.NewInstance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	for n := 1; n <= bumpCalls+1; n++ {
		x := &abi.Exchange{Request: abi.Request{Method: "GET", Path: "/status", Route: "/status"}}
		_, err := inst.Call(abi.WithExchange(ctx, x), "handle_status", nil)
		switch {
		case n <= bumpCalls && err != nil:
			t.Fatalf("call %d failed: %v", n, err)
		case n > bumpCalls && !errors.Is(err, abi.ErrAllocate):
			t.Fatalf("call %d: %v, want allocate to fail", n, err)
		}
		if n == abi.KubeStellarUI.MaxCallsPerInstance && !inst.Worn() {
			t.Errorf("after %d calls the instance is not worn", n)
		}
	}
}

// TestRouteFiguresRecycleInstances runs the figures that call a plugin's
// route on instances of their own (Call's per-route figure, Route's through
// the harness, Throughput's) on ks_bump for more calls than one instance
// survives: each completes because its instance is recycled at the
// profile's budget, as serve's pool does.
func TestRouteFiguresRecycleInstances(t *testing.T) {
	dir := ksBumpFolder(t, "handle_status")
	figures := []struct {
		workload, figure string
		run              func(context.Context, bench.Config) ([]bench.Sample, error)
		calls            func(bench.Sample) int // per instance
	}{
		{"Call", results.RouteCallName("ks-bump", "get-status"), bench.Calls, func(s bench.Sample) int { return s.Iters }},
		{"Route", bench.RouteName("get-status", results.KeyVia, results.ViaHarness), bench.Routes, func(s bench.Sample) int { return s.Iters }},
		{"Throughput", "Throughput/guest=ks-bump/op=get-status", bench.Throughput,
			func(s bench.Sample) int { return s.Iters / runtime.GOMAXPROCS(0) }},
	}
	for _, fig := range figures {
		t.Run(fig.workload, func(t *testing.T) {
			// Long enough for several instances' worth of calls, even
			// under the race detector.
			samples, err := fig.run(context.Background(), ksBumpConfig(t, dir, 300*time.Millisecond, fig.figure))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range samples {
				if s.Name != fig.figure {
					continue
				}
				if n := fig.calls(s); n <= bumpCalls {
					t.Fatalf("%s ran %d calls per instance, not more than one instance survives (%d): the test shows nothing", s.Name, n, bumpCalls)
				}
				return
			}
			t.Fatalf("figure %s missing; got %v", fig.figure, names(samples))
		})
	}
}

// TestFailingFigureIsLeftOutAndNamed checks that a figure that fails while
// timed (ks_bump's handle_once traps on its second call) leaves the other
// figures of its workload measured, and is named with its cause.
func TestFailingFigureIsLeftOutAndNamed(t *testing.T) {
	dir := ksBumpFolder(t, "handle_status", "handle_once")
	status, once := results.RouteCallName("ks-bump", "get-status"), results.RouteCallName("ks-bump", "get-once")
	noop := results.CallName(results.OpNoop, results.ViaHarness)
	samples, err := bench.Calls(context.Background(), ksBumpConfig(t, dir, 5*time.Millisecond, status, once, noop))
	var ff *bench.FiguresFailed
	if !errors.As(err, &ff) {
		t.Fatalf("error %v, want *bench.FiguresFailed", err)
	}
	if len(ff.Failures) != 1 || ff.Failures[0].Figure != once || !strings.Contains(ff.Failures[0].Error, "unreachable") ||
		strings.Contains(ff.Failures[0].Error, "\n") || strings.Contains(ff.Failures[0].Error, once) {
		t.Errorf("failures %+v, want %s alone, its trap on one line without the figure's name", ff.Failures, once)
	}
	got := names(samples)
	for _, want := range []string{status, noop} {
		if !strings.Contains(strings.Join(got, " "), want) {
			t.Errorf("figure %s missing beside the failed one; got %v", want, got)
		}
	}
	for _, s := range samples {
		if s.Name == once {
			t.Errorf("the failed figure is in the samples: %+v", s)
		}
	}
}
