package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/worker"
	"github.com/kspbench/kspbench/plugin"
	"github.com/kspbench/kspbench/plugindir"
)

// Isolation modes (Config.Isolation, kspbench serve --isolation).
const (
	// IsolationNone runs every plugin in the server's process, on its
	// engine: the fastest, and as safe as the engine's containment.
	IsolationNone = "none"
	// IsolationProcess runs each plugin in a worker process of its own
	// (kspbench worker), which the server kills when a call overruns its
	// deadline and restarts when it dies: for an engine that cannot
	// interrupt a guest (wasmer), or a guest that may crash its engine.
	IsolationProcess = "process"
)

// DefaultIsolation is the isolation of an engine when Config.Isolation is
// empty: process for wasmer, which cannot interrupt a call, none otherwise.
func DefaultIsolation(engine string) string {
	if engine == "wasmer" {
		return IsolationProcess
	}
	return IsolationNone
}

// backend is what the HTTP layer needs of a loaded plugin: *plugin.Plugin
// (in this process, on a pool of instances) or *procBackend (in a worker
// process).
type backend interface {
	Route(method, path string) (plugin.Route, error)
	Routes() []plugin.Route
	Handle(ctx context.Context, req *abi.Request) (*plugin.Response, error)
	Stats() plugin.PoolStats
	Notes() []string
	Close(ctx context.Context) error
}

var (
	_ backend = (*plugin.Plugin)(nil)
	_ backend = (*procBackend)(nil)
)

// remoteError is a handler call that failed in a worker process, with the
// status and kind the worker classified it as.
type remoteError struct {
	code int
	kind string
	msg  string
}

func (e *remoteError) Error() string { return e.msg }

// IsolatedDataFile is where an isolated plugin kept its storage before its
// worker reached the server's storage through host calls. The server moves
// such a file's keys into its own file when it first loads the plugin under
// process isolation, and renames the file to <file>.migrated.
func IsolatedDataFile(dataFile, plugin string) string {
	return fmt.Sprintf("%s.%s.db", dataFile, plugin)
}

// IsolationInfo is a process-isolated plugin's worker, in the listing.
type IsolationInfo struct {
	Mode string `json:"mode"`
	// PID is the worker's process id, 0 while none runs.
	PID int `json:"pid"`
	// Starts counts worker processes started, the first included;
	// Restarts those after a kill or a death.
	Starts   int64 `json:"starts"`
	Restarts int64 `json:"restarts"`
	// Kills counts workers killed because a call overran its deadline;
	// Deaths workers that died on their own (a crash, a signal).
	Kills  int64 `json:"kills"`
	Deaths int64 `json:"deaths"`
}

// procBackend runs one plugin in one worker process, one call at a time
// (the gate admits one request at once). A call past its deadline kills the
// worker; a worker that dies costs its call; either way the next call starts
// a new worker, after a backoff that grows with consecutive failures.
type procBackend struct {
	spec        worker.Spec
	load        PluginLoadArgs
	callTimeout time.Duration

	routes []plugin.Route
	notes  []string

	mu       sync.Mutex
	proc     *worker.Process // nil until the first start
	loaded   bool            // the running worker hosts the plugin
	pid      atomic.Int64
	failures int // consecutive kills and deaths
	lastFail time.Time

	starts, restarts, kills, deaths, calls atomic.Int64
}

// startProcBackend starts the worker and loads the plugin in dir there.
func startProcBackend(ctx context.Context, spec worker.Spec, load PluginLoadArgs, callTimeout time.Duration) (*procBackend, error) {
	b := &procBackend{spec: spec, load: load, callTimeout: callTimeout}
	b.mu.Lock()
	defer b.mu.Unlock()
	res, err := b.ensure(ctx)
	if err != nil {
		if b.proc != nil {
			b.proc.Close()
		}
		return nil, err
	}
	b.routes, b.notes = res.Routes, res.Notes
	b.notes = append(b.notes, "isolated in a worker process (--isolation process): storage and Kubernetes calls go to the server through host calls; a call past its deadline kills the worker")
	return b, nil
}

// ensure makes sure a worker runs and hosts the plugin. b.mu must be held.
func (b *procBackend) ensure(ctx context.Context) (PluginLoadResult, error) {
	var res PluginLoadResult
	if b.proc != nil && b.loaded {
		return res, nil
	}
	if b.failures > 0 {
		delay := min(50*time.Millisecond<<min(b.failures, 7), 5*time.Second)
		if wait := time.Until(b.lastFail.Add(delay)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return res, ctx.Err()
			}
		}
	}
	if b.proc == nil {
		p, err := worker.Start(ctx, b.spec)
		if err != nil {
			return res, err
		}
		b.proc = p
	} else {
		b.restarts.Add(1)
	}
	b.starts.Add(1)
	// A dead worker is restarted by Call.
	if err := b.proc.Call(ctx, OpPluginLoad, b.load, &res); err != nil {
		return res, fmt.Errorf("loading the plugin in its worker: %w", err)
	}
	b.loaded = true
	b.pid.Store(int64(res.PID))
	return res, nil
}

// Route implements backend.
func (b *procBackend) Route(method, path string) (plugin.Route, error) {
	for _, r := range b.routes {
		if r.Path != path {
			continue
		}
		if !slices.Contains(r.Methods, method) {
			return plugin.Route{}, &plugin.MethodNotAllowedError{Method: method, Path: path, Allow: r.Methods}
		}
		return r, nil
	}
	return plugin.Route{}, fmt.Errorf("%w: %s %s", plugin.ErrNoRoute, method, path)
}

// Routes implements backend.
func (b *procBackend) Routes() []plugin.Route { return b.routes }

// Notes implements backend.
func (b *procBackend) Notes() []string { return b.notes }

// Handle implements backend: it sends the request to the worker and waits
// for the answer up to the call timeout, counted from when the worker is
// ready. A client that goes away does not kill the worker; the deadline does.
func (b *procBackend) Handle(ctx context.Context, req *abi.Request) (*plugin.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls.Add(1)
	defer b.calls.Add(-1)
	ctx = context.WithoutCancel(ctx)
	if _, err := b.ensureWithin(ctx); err != nil {
		b.failures++ // back off from a plugin whose worker cannot start or load it
		b.lastFail = time.Now()
		return nil, &remoteError{code: http.StatusBadGateway, kind: kindInstantiate, msg: err.Error()}
	}
	cctx, cancel := context.WithTimeout(ctx, b.callTimeout)
	defer cancel()
	var res PluginCallResult
	err := b.proc.Call(cctx, OpPluginCall, PluginCallArgs{Method: req.Method, Path: req.Path, Query: req.Query,
		Headers: req.Headers, Body: req.Body}, &res)
	var died *worker.DiedError
	switch {
	case errors.As(err, &died):
		b.loaded = false
		b.pid.Store(0)
		b.failures++
		b.lastFail = time.Now()
		if died.Killed {
			b.kills.Add(1)
			return nil, fmt.Errorf("plugin call overran its deadline of %s: its worker was killed: %w", b.callTimeout, context.DeadlineExceeded)
		}
		b.deaths.Add(1)
		return nil, err
	case err != nil:
		return nil, err
	}
	b.failures = 0
	if res.Error != "" {
		return nil, &remoteError{code: res.Code, kind: res.Kind, msg: res.Error}
	}
	return &plugin.Response{Status: res.Status, Body: res.Body}, nil
}

// ensureWithin is ensure bounded by a load timeout.
func (b *procBackend) ensureWithin(ctx context.Context) (PluginLoadResult, error) {
	lctx, cancel := context.WithTimeout(ctx, b.callTimeout+30*time.Second)
	defer cancel()
	return b.ensure(lctx)
}

// Stats implements backend: one instance, in its worker.
func (b *procBackend) Stats() plugin.PoolStats {
	st := plugin.PoolStats{Created: int(b.starts.Load()), Discarded: int(b.kills.Load() + b.deaths.Load())}
	if n := int(b.calls.Load()); n > 0 {
		st.InFlight = n
	} else if b.pid.Load() != 0 {
		st.Idle = 1
	}
	return st
}

// isolation describes the worker, for the listing.
func (b *procBackend) isolation() *IsolationInfo {
	return &IsolationInfo{Mode: IsolationProcess, PID: int(b.pid.Load()), Starts: b.starts.Load(),
		Restarts: b.restarts.Load(), Kills: b.kills.Load(), Deaths: b.deaths.Load()}
}

// Close implements backend: it ends the worker.
func (b *procBackend) Close(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return nil
	}
	return b.proc.Close()
}

// workerBinary is the executable of the isolation workers: Config.WorkerBinary,
// or this process's own.
func workerBinary(cfg Config) (string, error) {
	if cfg.WorkerBinary != "" {
		return cfg.WorkerBinary, nil
	}
	return os.Executable()
}

// startIsolated starts the worker process of the plugin folder f and loads
// the plugin there.
func (s *Server) startIsolated(ctx context.Context, f *plugindir.Folder) (*procBackend, error) {
	bin, err := workerBinary(s.cfg)
	if err != nil {
		return nil, fmt.Errorf("isolation: worker binary: %w", err)
	}
	abiName := ""
	if s.cfg.ABI != nil {
		abiName = s.cfg.ABI.Name
	}
	name := f.Manifest.Metadata.Name
	if err := s.migrateIsolatedData(ctx, name); err != nil {
		return nil, err
	}
	spec := worker.Spec{Engine: s.info.Name, Path: bin, Args: []string{"worker", "--engine", s.cfg.Engine},
		Host: s.hostFor(name, f.Manifest.Spec.Permissions)}
	// The worker's own deadline is later than the server's, so that the
	// server's kill decides, on every engine alike.
	load := PluginLoadArgs{Dir: f.Dir, ABI: abiName, Kube: s.kube.Backend(),
		CacheDir: s.cacheDir(), CallTimeoutNS: int64(s.cfg.CallTimeout + time.Second),
		MaxRequestBytes: uint32(s.cfg.MaxBodyBytes), MaxStorageBytes: s.cfg.StorageMaxBytes, MaxStorageKeys: s.cfg.StorageMaxKeys}
	return startProcBackend(ctx, spec, load, s.cfg.CallTimeout)
}

// probeWorker starts a worker of cfg.Engine once, for the engine's
// description, when this process does not link the engine itself.
func probeWorker(ctx context.Context, cfg Config) (engines.Info, error) {
	bin, err := workerBinary(cfg)
	if err != nil {
		return engines.Info{}, fmt.Errorf("isolation: worker binary: %w", err)
	}
	p, err := worker.Start(ctx, worker.Spec{Engine: cfg.Engine, Path: bin, Args: []string{"worker", "--engine", cfg.Engine}})
	if err != nil {
		return engines.Info{}, fmt.Errorf("isolation: engine %s is not linked into this process, and its worker did not start: %w", cfg.Engine, err)
	}
	defer p.Close()
	h := p.Hello()
	return engines.Info{Name: h.Engine, Version: h.Version, Mode: h.Mode, Notes: h.Notes}, nil
}
