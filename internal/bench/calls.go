package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host"
	"github.com/kspbench/kspbench/host/kube"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/plugin"
	"github.com/kspbench/kspbench/plugindir"
)

// HostCallsPerOp is how many guest-to-host calls one call of call_host makes
// in the host-call figures; their time is reported per host call.
const HostCallsPerOp = 100

// quiet is the logger of plugins in benchmarks: guests log on every call,
// and writing that out would be timed.
var quiet = slog.New(slog.DiscardHandler)

// referenceServices are the host services the reference guest is bound to
// in benchmarks: real services with an in-memory store and no log output.
func referenceServices() (*host.Services, error) {
	return host.NewServices(host.Config{
		Plugin: "reference", Logger: quiet,
		Storage: storage.NewMemory(), Kube: kube.NewFixture(),
	})
}

// callFixture is the reference guest instantiated through the harness and,
// where the adapter offers it, through the engine's own API.
type callFixture struct {
	eng      engines.Engine
	p        *plugin.Plugin
	inst     *plugin.Instance
	baseline engines.Baseline // nil when the adapter has no Baseliner
}

func newCallFixture(ctx context.Context, c Config) (*callFixture, error) {
	eng, err := c.Open(engines.Config{})
	if err != nil {
		return nil, err
	}
	fx := &callFixture{eng: eng}
	svc, err := referenceServices()
	if err != nil {
		fx.close(ctx)
		return nil, err
	}
	if fx.p, err = plugin.Load(ctx, eng, c.Reference, plugin.Spec{Name: "reference", Handlers: []string{"handle_echo"}, Imports: svc}); err != nil {
		fx.close(ctx)
		return nil, err
	}
	if fx.inst, err = fx.p.NewInstance(ctx); err != nil {
		fx.close(ctx)
		return nil, err
	}
	if bl, ok := eng.(engines.Baseliner); ok {
		if fx.baseline, err = bl.Baseline(ctx, c.Reference); err != nil {
			fx.close(ctx)
			return nil, fmt.Errorf("bench: engine baseline: %w", err)
		}
	}
	return fx, nil
}

func (fx *callFixture) close(ctx context.Context) {
	if fx.baseline != nil {
		fx.baseline.Close(ctx)
	}
	if fx.inst != nil {
		fx.inst.Close(ctx)
	}
	if fx.p != nil {
		fx.p.Close(ctx)
	}
	fx.eng.Close(ctx)
}

// countingImports counts host_get_config calls, to check that call_host(n)
// really makes n host calls before it is timed.
type countingImports struct {
	abi.Imports
	n atomic.Int64
}

func (c *countingImports) GetConfig(ctx context.Context, key []byte) ([]byte, abi.Status) {
	c.n.Add(1)
	return c.Imports.GetConfig(ctx, key)
}

// checkHostCalls checks on a separate instance that call_host(n) makes n
// host calls that find no key.
func checkHostCalls(ctx context.Context, eng engines.Engine, wasm []byte) error {
	svc, err := referenceServices()
	if err != nil {
		return err
	}
	ci := &countingImports{Imports: svc}
	mod, err := eng.Compile(ctx, wasm, engines.ModuleConfig{})
	if err != nil {
		return err
	}
	defer mod.Close(ctx)
	in, err := mod.Instantiate(ctx, ci)
	if err != nil {
		return err
	}
	defer in.Close(ctx)
	stack := []uint64{7}
	if err := in.Function("call_host").Call(ctx, stack); err != nil {
		return err
	}
	if n := ci.n.Load(); n != 7 {
		return fmt.Errorf("bench Call/op=hostcall: call_host(7) made %d host calls: not timing a wrong answer", n)
	}
	return nil
}

// Calls measures the cost of crossing the boundary: an empty export, a
// 64-byte handler round trip and a guest-to-host call, each through the
// harness (engines and plugin) and through the engine's own API; the round
// trip through a plugin's pool under its call deadline, as a serving host
// makes it; a loop-heavy export (loop_n) and each GET route of the plugin
// under test, through the harness: the figures on which an engine's
// interruption machinery costs the most. A route's instance is recycled at
// its profile's budget, as serve's pool does (recycling).
//
// A figure that fails while timed is left out: Calls returns the samples of
// the others with a *FiguresFailed error that names it. Any other error
// (a fixture that does not load, a wrong first answer) comes with no
// samples.
func Calls(_ context.Context, c Config) ([]Sample, error) {
	// Every figure runs under a context that never ends, on both paths: the
	// engine's own API is called without any deadline machinery, so the
	// harness must be too, or the comparison would time the deadline, not
	// the harness. The pooled figure below includes the call deadline; it is
	// what a serving host pays.
	ctx := context.Background()
	fx, err := newCallFixture(ctx, c)
	if err != nil {
		return nil, err
	}
	defer fx.close(ctx)
	if err := checkHostCalls(ctx, fx.eng, c.Reference); err != nil {
		return nil, err
	}
	in64 := []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	noop := fx.inst.Engine().Function("noop")
	callHost := fx.inst.Engine().Function("call_host")
	if noop == nil || callHost == nil {
		return nil, errors.New("bench: the reference guest lacks noop or call_host")
	}
	got, err := fx.inst.Call(ctx, "handle_echo", in64)
	if err := check(results.CallName(results.OpEcho64, results.ViaHarness), got, in64, err); err != nil {
		return nil, err
	}
	var out []Sample
	var failed failures
	// add times body as the figure called name, unless c leaves it out; per
	// restates the sample (perHostCall) when set. A figure whose body fails
	// (an error or a panic) is left out and recorded in failed: the others
	// are still timed.
	add := func(name string, per func(Sample) Sample, body func(n int) error) {
		if !c.wants(name) {
			return
		}
		s, err := timedOrFailed(c, name, body)
		if err != nil {
			failed.add(name, err)
			return
		}
		if per != nil {
			s = per(s)
		}
		out = append(out, s)
	}
	add(results.CallName(results.OpNoop, results.ViaHarness), nil, func(n int) error {
		stack := make([]uint64, 1)
		for range n {
			if err := noop.Call(ctx, stack[:0]); err != nil {
				return err
			}
		}
		return nil
	})
	add(results.CallName(results.OpEcho64, results.ViaHarness), nil, func(n int) error {
		for range n {
			if _, err := fx.inst.Call(ctx, "handle_echo", in64); err != nil {
				return err
			}
		}
		return nil
	})
	// What a serving host pays: a pooled instance and the call deadline
	// (package plugin's Plugin.Call), on top of the ABI round trip.
	got, err = fx.p.Call(ctx, "handle_echo", in64)
	if err := check(results.CallName(results.OpEcho64, results.ViaPool), got, in64, err); err != nil {
		return nil, err
	}
	add(results.CallName(results.OpEcho64, results.ViaPool), nil, func(n int) error {
		for range n {
			if _, err := fx.p.Call(ctx, "handle_echo", in64); err != nil {
				return err
			}
		}
		return nil
	})
	add(results.CallName(results.OpHostcall, results.ViaHarness), perHostCall, func(n int) error {
		stack := make([]uint64, 1)
		for range n {
			stack[0] = HostCallsPerOp
			if err := callHost.Call(ctx, stack); err != nil {
				return err
			}
		}
		return nil
	})
	// Loop-heavy guest code: where an engine's interruption checks at loop
	// headers cost the most.
	if name := results.CallName(results.OpLoop, results.ViaHarness); c.wants(name) {
		loop := fx.inst.Engine().Function("loop_n")
		if loop == nil {
			return nil, errors.New("bench: the reference guest lacks loop_n")
		}
		stack := []uint64{results.LoopN}
		want := uint64(results.LoopN) * (results.LoopN - 1) / 2
		if err := loop.Call(ctx, stack); err != nil || stack[0] != want {
			return nil, fmt.Errorf("bench %s: loop_n(%d) = %d (%v), want %d: not timing a wrong answer", name, results.LoopN, stack[0], err, want)
		}
		add(name, nil, func(n int) error {
			stack := make([]uint64, 1)
			for range n {
				stack[0] = results.LoopN
				if err := loop.Call(ctx, stack); err != nil {
					return err
				}
			}
			return nil
		})
	}
	routes, err := routeCalls(ctx, c)
	if err != nil {
		return nil, err
	}
	defer routes.close(ctx)
	for _, r := range routes.calls {
		add(r.name, nil, func(n int) error {
			for range n {
				if err := r.call(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if bl := fx.baseline; bl != nil {
		got, err := bl.Echo(ctx, in64)
		if err := check(results.CallName(results.OpEcho64, results.ViaEngine), got, in64, err); err != nil {
			return nil, err
		}
		if err := bl.CallHost(ctx, 3); err != nil {
			return nil, fmt.Errorf("bench Call/op=hostcall/via=engine: %w", err)
		}
		add(results.CallName(results.OpNoop, results.ViaEngine), nil, func(n int) error {
			for range n {
				if err := bl.Noop(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		add(results.CallName(results.OpEcho64, results.ViaEngine), nil, func(n int) error {
			for range n {
				if _, err := bl.Echo(ctx, in64); err != nil {
					return err
				}
			}
			return nil
		})
		add(results.CallName(results.OpHostcall, results.ViaEngine), perHostCall, func(n int) error {
			for range n {
				if err := bl.CallHost(ctx, HostCallsPerOp); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return out, failed.err()
}

// pluginRoutes are the GET routes of the plugin under test, each ready to
// call on one instance through the harness.
type pluginRoutes struct {
	eng   engines.Engine
	p     *plugin.Plugin
	inst  recycling // of p
	calls []routeCall
}

type routeCall struct {
	name string
	call func() error
}

func (r *pluginRoutes) close(ctx context.Context) {
	r.inst.close(ctx)
	if r.p != nil {
		r.p.Close(ctx)
	}
	if r.eng != nil {
		r.eng.Close(ctx)
	}
}

// routeCalls loads the plugin of c (none when c has no PluginDir or wants
// none of its routes) on an engine of its own that compiles through the
// plugin's compilation cache (the one Throughput warms), and checks that
// each GET route answers 2xx with a body before it is timed. Each call goes
// through the harness as a serving host makes it, without the pool and its
// deadline.
func routeCalls(ctx context.Context, c Config) (*pluginRoutes, error) {
	out := &pluginRoutes{}
	if c.PluginDir == "" {
		return out, nil
	}
	f, err := c.plugin()
	if err != nil {
		return nil, err
	}
	guest := f.Manifest.Metadata.Name
	var routes []plugin.Route
	for _, r := range f.Routes() {
		if slices.Contains(r.Methods, "GET") && c.wants(results.RouteCallName(guest, results.RouteOp("GET", r.Path))) {
			routes = append(routes, r)
		}
	}
	if len(routes) == 0 {
		return out, nil
	}
	if out.eng, err = c.Open(engines.Config{CacheDir: c.cacheDir(guest)}); err != nil {
		return nil, err
	}
	if out.p, err = f.Load(ctx, out.eng, plugindir.Options{Logger: quiet, Storage: storage.NewMemory()}); err != nil {
		out.close(ctx)
		return nil, err
	}
	out.inst.p = out.p
	if err := out.inst.ready(ctx); err != nil {
		out.close(ctx)
		return nil, err
	}
	for _, r := range routes {
		name := results.RouteCallName(guest, results.RouteOp("GET", r.Path))
		call := func() (int, int, error) {
			x := &abi.Exchange{Request: abi.Request{Method: "GET", Path: r.Path, Route: r.Path}}
			if err := out.inst.ready(ctx); err != nil {
				return 0, 0, err
			}
			body, err := out.inst.inst.Call(abi.WithExchange(ctx, x), r.Handler, nil)
			return x.ResponseStatus, len(body), err
		}
		if status, n, err := call(); err != nil || status >= 300 || n == 0 {
			out.close(ctx)
			return nil, fmt.Errorf("bench %s: status %d, %d bytes (%v): not timing a failing call", name, status, n, err)
		}
		out.calls = append(out.calls, routeCall{name: name, call: func() error { _, _, err := call(); return err }})
	}
	return out, nil
}

// perHostCall restates a call_host(HostCallsPerOp) sample per host call.
func perHostCall(s Sample) Sample {
	s.Iters *= HostCallsPerOp
	for i := range s.Values {
		s.Values[i].Value /= HostCallsPerOp
	}
	return s
}
