package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/plugin"
	"github.com/kspbench/kspbench/plugindir"
)

// Throughput measures calls per second with every core busy, one instance
// per goroutine: the reference guest's 64-byte echo, and the plugin's first
// GET route. Each goroutine's instance is recycled at its profile's budget,
// as serve's pool does (recycling). A figure that fails while timed is left
// out and named in the *FiguresFailed error returned beside the others.
func Throughput(ctx context.Context, c Config) ([]Sample, error) {
	folders, err := c.plugins()
	if err != nil {
		return nil, err
	}
	f := folders[0]
	eng, err := c.Open(engines.Config{CacheDir: c.cacheDir(f.Manifest.Metadata.Name)})
	if err != nil {
		return nil, err
	}
	defer eng.Close(ctx)
	svc, err := referenceServices()
	if err != nil {
		return nil, err
	}
	ref, err := plugin.Load(ctx, eng, c.Reference, plugin.Spec{Name: "reference", Handlers: []string{"handle_echo"}, Imports: svc})
	if err != nil {
		return nil, err
	}
	defer ref.Close(ctx)
	type figure struct {
		name string
		p    *plugin.Plugin
		call func(*plugin.Instance) ([]byte, error)
		want func([]byte) bool
	}
	in64 := make([]byte, 64)
	figures := []figure{
		{"Throughput/guest=reference/op=echo-64B", ref,
			func(i *plugin.Instance) ([]byte, error) { return i.Call(ctx, "handle_echo", in64) },
			func(b []byte) bool { return len(b) == 64 }},
	}
	// The plugin, then the others of c.Others (its build in another
	// language), each on its first GET route.
	for _, f := range folders {
		p, err := f.Load(ctx, eng, plugindir.Options{Logger: quiet, Storage: storage.NewMemory()})
		if err != nil {
			return nil, err
		}
		defer p.Close(ctx)
		route, err := firstGetRoute(f)
		if err != nil {
			return nil, err
		}
		figures = append(figures, figure{"Throughput/guest=" + f.Manifest.Metadata.Name + "/op=get-" + trimSlash(route.Path), p,
			func(i *plugin.Instance) ([]byte, error) {
				x := &abi.Exchange{Request: abi.Request{Method: "GET", Path: route.Path, Route: route.Path}}
				return i.Call(abi.WithExchange(ctx, x), route.Handler, nil)
			},
			func(b []byte) bool { return len(b) > 0 }})
	}
	var out []Sample
	var fails failures
	for _, fig := range figures {
		check, err := fig.p.NewInstance(ctx)
		if err != nil {
			return nil, err
		}
		got, err := fig.call(check)
		check.Close(ctx)
		if err != nil || !fig.want(got) {
			return nil, fmt.Errorf("bench %s: answer of %d bytes (%v): not timing a wrong answer", fig.name, len(got), err)
		}
		// One instance per goroutine, created before the clock starts and
		// replaced at its profile's budget as serve's pool does (recycling).
		procs := runtime.GOMAXPROCS(0)
		insts := make([]*recycling, procs)
		for g := range insts {
			insts[g] = &recycling{p: fig.p}
			defer insts[g].close(ctx)
			if err := insts[g].ready(ctx); err != nil {
				return nil, err
			}
		}
		var failed atomic.Pointer[error]
		s := measureParallel(c.benchTime(), procs, func(g int, next func() bool) {
			for next() {
				if failed.Load() != nil {
					return
				}
				err := insts[g].ready(ctx)
				if err == nil {
					_, err = fig.call(insts[g].inst)
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		}).sample(fig.name)
		// A figure that fails while timed is left out; the others are
		// still measured.
		if err := failed.Load(); err != nil {
			fails.add(fig.name, fmt.Errorf("bench %s: %w", fig.name, *err))
			continue
		}
		secPerOp := s.Values[0].Value
		s.Values = append(s.Values, Value{Value: 1 / secPerOp, Unit: "calls/s"})
		out = append(out, s)
	}
	return out, fails.err()
}

func trimSlash(p string) string {
	for len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	if p == "" {
		return "root"
	}
	return p
}
