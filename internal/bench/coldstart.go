package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/plugin"
	"github.com/kspbench/kspbench/plugindir"
)

// ColdStart measures, once per sample, how long each guest takes to become
// ready, phase by phase: compile without a cache; compile with a warm
// on-disk cache through a new engine and cache object, so that memory does
// not answer for the disk; instantiate; _initialize; the first call. The two
// times to first response are the sums with and without the cache.
func ColdStart(ctx context.Context, c Config) ([]Sample, error) {
	folders, err := c.plugins()
	if err != nil {
		return nil, err
	}
	var out []Sample
	type guest struct {
		name string
		load func(context.Context, engines.Engine) (*plugin.Plugin, error)
		wasm []byte
		call func(context.Context, *plugin.Instance) error
	}
	var guests []guest
	for _, f := range folders {
		guests = append(guests, guest{f.Manifest.Metadata.Name, func(ctx context.Context, eng engines.Engine) (*plugin.Plugin, error) {
			return f.Load(ctx, eng, plugindir.Options{Logger: quiet, Storage: storage.NewMemory()})
		}, f.Wasm, firstRouteCall(f)})
	}
	guests = append(guests, guest{"reference", func(ctx context.Context, eng engines.Engine) (*plugin.Plugin, error) {
		svc, err := referenceServices()
		if err != nil {
			return nil, err
		}
		return plugin.Load(ctx, eng, c.Reference, plugin.Spec{Name: "reference", Handlers: []string{"handle_echo"}, Imports: svc})
	}, c.Reference, func(ctx context.Context, i *plugin.Instance) error {
		got, err := i.Call(ctx, "handle_echo", []byte("ping"))
		return check("ColdStart/guest=reference/phase=first-call", got, []byte("ping"), err)
	}})
	for _, g := range guests {
		s, err := coldStartOnce(ctx, c, g.name, g.wasm, g.load, g.call)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

func coldStartOnce(ctx context.Context, c Config, guest string, wasm []byte,
	load func(context.Context, engines.Engine) (*plugin.Plugin, error), call func(context.Context, *plugin.Instance) error) ([]Sample, error) {
	name := func(phase string) string { return "ColdStart/guest=" + guest + "/phase=" + phase }

	// Compile without a cache, on an engine of its own.
	eng, err := c.Open(engines.Config{})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	mod, err := eng.Compile(ctx, wasm, engines.ModuleConfig{})
	compile := time.Since(start)
	if err != nil {
		eng.Close(ctx)
		return nil, fmt.Errorf("bench %s: %w", name("compile"), err)
	}
	mod.Close(ctx)
	eng.Close(ctx)

	// Warm the on-disk cache once (the first sample does it), then compile
	// through a new engine, hence a new cache object, that must read it.
	dir := c.cacheDir(guest)
	if _, err := os.Stat(dir); err != nil {
		warm, err := c.Open(engines.Config{CacheDir: dir})
		if err != nil {
			return nil, err
		}
		p, err := load(ctx, warm)
		if err != nil {
			warm.Close(ctx)
			return nil, err
		}
		p.Close(ctx)
		warm.Close(ctx)
	}
	eng, err = c.Open(engines.Config{CacheDir: dir})
	if err != nil {
		return nil, err
	}
	defer eng.Close(ctx)
	start = time.Now()
	p, err := load(ctx, eng)
	compileCached := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("bench %s: %w", name("compile-cached"), err)
	}
	defer p.Close(ctx)

	start = time.Now()
	inst, err := p.Instantiate(ctx)
	instantiate := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("bench %s: %w", name("instantiate"), err)
	}
	defer inst.Close(ctx)
	start = time.Now()
	err = inst.Initialize(ctx)
	initialize := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("bench %s: %w", name("initialize"), err)
	}
	start = time.Now()
	err = call(ctx, inst)
	first := time.Since(start)
	if err != nil {
		return nil, err
	}
	rest := instantiate + initialize + first
	phases := []struct {
		phase string
		d     time.Duration
	}{
		{"compile", compile}, {"compile-cached", compileCached}, {"instantiate", instantiate},
		{"initialize", initialize}, {"first-call", first},
		{"ttfr-cached", compileCached + rest}, {"ttfr-uncached", compile + rest},
	}
	var out []Sample
	for _, ph := range phases {
		if ph.phase == "initialize" && !p.HasInitialize() {
			continue
		}
		out = append(out, Sample{Name: name(ph.phase), Iters: 1, Values: []Value{seconds(ph.d)}})
	}
	return out, nil
}

// firstRouteCall calls the plugin's first GET route without a body, as a
// client's first request would, and checks it answers 2xx with a body.
func firstRouteCall(f *plugindir.Folder) func(context.Context, *plugin.Instance) error {
	return func(ctx context.Context, i *plugin.Instance) error {
		r, err := firstGetRoute(f)
		if err != nil {
			return err
		}
		x := &abi.Exchange{Request: abi.Request{Method: "GET", Path: r.Path, Route: r.Path}}
		body, err := i.Call(abi.WithExchange(ctx, x), r.Handler, nil)
		if err != nil {
			return fmt.Errorf("bench first call GET %s: %w", r.Path, err)
		}
		if x.ResponseStatus >= 300 || len(body) == 0 {
			return fmt.Errorf("bench first call GET %s: status %d, %d bytes: not timing a failing call", r.Path, x.ResponseStatus, len(body))
		}
		return nil
	}
}

func firstGetRoute(f *plugindir.Folder) (plugin.Route, error) {
	for _, r := range f.Routes() {
		for _, m := range r.Methods {
			if m == "GET" {
				return r, nil
			}
		}
	}
	return plugin.Route{}, errors.New("bench: the plugin has no GET route to call")
}
