package bench

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/internal/requests"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/plugin"
	"github.com/kspbench/kspbench/plugindir"
)

// CountImports wraps imp so that every host call through it is counted in
// the returned counter. The wrapper keeps imp's optional
// abi.ConfigDocument.
func CountImports(imp abi.Imports) (abi.Imports, *atomic.Int64) {
	c := &hostCounter{Imports: imp}
	if doc, ok := imp.(abi.ConfigDocument); ok {
		return hostCounterConfig{c, doc}, &c.n
	}
	return c, &c.n
}

// hostCounter counts the host calls of a handler call.
type hostCounter struct {
	abi.Imports
	n atomic.Int64
}

func (c *hostCounter) Log(ctx context.Context, m []byte) { c.n.Add(1); c.Imports.Log(ctx, m) }
func (c *hostCounter) GetConfig(ctx context.Context, k []byte) ([]byte, abi.Status) {
	c.n.Add(1)
	return c.Imports.GetConfig(ctx, k)
}
func (c *hostCounter) StorageGet(ctx context.Context, k []byte) ([]byte, abi.Status) {
	c.n.Add(1)
	return c.Imports.StorageGet(ctx, k)
}
func (c *hostCounter) StorageSet(ctx context.Context, k, v []byte) abi.Status {
	c.n.Add(1)
	return c.Imports.StorageSet(ctx, k, v)
}
func (c *hostCounter) StorageCAS(ctx context.Context, k, old, v []byte) abi.Status {
	c.n.Add(1)
	return c.Imports.StorageCAS(ctx, k, old, v)
}
func (c *hostCounter) K8sAPICall(ctx context.Context, p, b []byte) ([]byte, abi.Status) {
	c.n.Add(1)
	return c.Imports.K8sAPICall(ctx, p, b)
}
func (c *hostCounter) RequestInfo(ctx context.Context) ([]byte, abi.Status) {
	c.n.Add(1)
	return c.Imports.RequestInfo(ctx)
}
func (c *hostCounter) SetResponseStatus(ctx context.Context, code uint32) abi.Status {
	c.n.Add(1)
	return c.Imports.SetResponseStatus(ctx, code)
}

// hostCounterConfig is hostCounter over services that give the KubeStellar
// profile its configuration document.
type hostCounterConfig struct {
	*hostCounter
	doc abi.ConfigDocument
}

func (c hostCounterConfig) ConfigJSON(ctx context.Context) []byte {
	c.n.Add(1)
	return c.doc.ConfigJSON(ctx)
}

// RouteName is the name of a Route figure: "Route/route=post-data/via=pool",
// "Route/route=get-status/what=hostcalls".
func RouteName(op, key, value string) string {
	return results.Name(results.Route, results.KeyRoute, op, key, value)
}

// Routes times every request of c.Requests (every route and method with an
// empty body when nil) on the plugin of c: the handler call through the
// harness on one instance, and through the pool as a serving host makes it,
// with the host calls and the response's size per request. The plugin is
// loaded for each sample with a new in-memory store, so a route that writes
// starts from the same state on every engine and sample. A request whose
// first answer fails (an error, the call's deadline, a status other than
// the one expected) is not timed: the run's answers.md reports it. One that
// fails while timed is left out and named in the *FiguresFailed error
// returned beside the other samples.
func Routes(ctx context.Context, c Config) ([]Sample, error) {
	f, err := c.plugin()
	if err != nil {
		return nil, err
	}
	reqs := c.Requests
	if reqs == nil {
		reqs = requests.Defaults(f.Routes())
	}
	eng, err := c.Open(engines.Config{CacheDir: c.cacheDir(f.Manifest.Metadata.Name)})
	if err != nil {
		return nil, err
	}
	defer eng.Close(ctx)
	o := plugindir.Options{Logger: quiet, Storage: storage.NewMemory()}
	svc, err := f.Services(o)
	if err != nil {
		return nil, err
	}
	imp, count := CountImports(svc)
	p, err := plugin.Load(ctx, eng, f.Wasm, f.Spec(imp, o))
	if err != nil {
		return nil, err
	}
	defer p.Close(ctx)
	// The harness figures call one instance, replaced at its profile's
	// budget as the pool does (and after a failure), so that they time what
	// a serving host runs.
	rt := &recycling{p: p}
	defer rt.close(ctx)
	if err := rt.ready(ctx); err != nil {
		return nil, err
	}

	var out []Sample
	var failed failures
	seen := map[string]int{}
	for _, r := range reqs {
		op := results.RouteOp(r.Method, r.Path)
		if seen[op]++; seen[op] > 1 {
			op = fmt.Sprintf("%s-%d", op, seen[op])
		}
		harness, pool := RouteName(op, results.KeyVia, results.ViaHarness), RouteName(op, results.KeyVia, results.ViaPool)
		calls, size := RouteName(op, results.KeyWhat, "hostcalls"), RouteName(op, results.KeyWhat, "response-bytes")
		if !c.wants(harness) && !c.wants(pool) && !c.wants(calls) && !c.wants(size) {
			continue
		}
		route, err := p.Route(r.Method, r.Path)
		if err != nil {
			continue // the requests were checked against the manifest
		}
		req := &abi.Request{Method: r.Method, Path: r.Path, Route: route.Path, Headers: r.Headers, Body: r.Body}
		count.Store(0)
		resp, err := p.Handle(ctx, req)
		if err != nil || !r.StatusOK(resp.Status) {
			continue
		}
		if c.wants(calls) {
			out = append(out, Sample{Name: calls, Iters: 1, Values: []Value{{Value: float64(count.Load()), Unit: "calls/op"}}})
		}
		if c.wants(size) {
			out = append(out, Sample{Name: size, Iters: 1, Values: []Value{{Value: float64(len(resp.Body)), Unit: "B"}}})
		}
		// A call that fails while timed (a store that fills up) ends the
		// figure: it is left out rather than timed on failures, and
		// reported (FiguresFailed).
		if c.wants(harness) {
			s, err := timedOrFailed(c, harness, func(n int) error {
				for range n {
					if err := rt.ready(ctx); err != nil {
						return err
					}
					x := &abi.Exchange{Request: *req}
					if _, err := rt.inst.Call(abi.WithExchange(ctx, x), route.Handler, r.Body); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				failed.add(harness, err)
			} else {
				out = append(out, s)
			}
		}
		if c.wants(pool) {
			s, err := timedOrFailed(c, pool, func(n int) error {
				for range n {
					if _, err := p.Handle(ctx, req); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				failed.add(pool, err)
			} else {
				out = append(out, s)
			}
		}
	}
	return out, failed.err()
}
