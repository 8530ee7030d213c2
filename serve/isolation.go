package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// IsolationInfo is a process-isolated plugin's workers, in the listing.
type IsolationInfo struct {
	Mode string `json:"mode"`
	// Workers is the number of worker processes running now, PIDs their
	// process ids; MaxWorkers the most the plugin may have (its calls in
	// flight, --max-workers), started as calls overlap. A plugin without
	// backend routes has none running.
	Workers    int   `json:"workers"`
	MaxWorkers int   `json:"max_workers"`
	PIDs       []int `json:"pids"`
	// PID is the first worker's process id, 0 while it does not run.
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

// procBackend runs one plugin in a small pool of worker processes, each
// serving one call at a time (the gate admits as many requests as there are
// workers). The first worker starts with the plugin; the others when calls
// overlap. The most recently used idle worker that runs serves the next
// call, so a plugin called one request at a time keeps one worker busy and
// warm. A call past its deadline kills its worker; a worker that dies costs
// its call; either way that worker's next call starts a new one at once: the
// call was at fault, not the worker, and a wait there would hold the next
// requests (healthy routes among them) for nothing. The other workers are
// not touched.
//
// A worker that cannot start or load the plugin is a crash loop, not a bad
// call: its slot then backs off (failedStart), for a time that doubles with
// its consecutive failures up to maxBackoff. A request never sleeps through
// a backoff: it takes another idle slot, or, when every idle slot backs off,
// is answered 503 with Retry-After at once (errBackoff). Waiting would hold
// the request past its queue timeout and its call timeout, and keep its
// place in the gate from requests another slot could serve; the 503 says
// when to come back, as the queue's refusals do.
type procBackend struct {
	spec        worker.Spec
	load        PluginLoadArgs
	callTimeout time.Duration

	routes []plugin.Route
	notes  []string

	slots []*procSlot
	sem   chan struct{} // one token per slot in use
	mu    sync.Mutex    // guards idle
	idle  []*procSlot   // a stack: the most recently used last

	starts, restarts, kills, deaths, calls, backoffs atomic.Int64
	// recycled counts the instances the workers recycled (their pools'
	// PoolStats.Recycled), the ended workers' included.
	recycled atomic.Int64
}

// Backoff of a slot whose worker failed to start or to load the plugin:
// minBackoff after the first failure, doubling up to maxBackoff.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// procSlot is one worker of a procBackend; it serves one call at a time
// (whoever took it from idle owns it). Its fields are the owner's; take
// reads failures, retryAt and lastErr of idle slots only, under
// procBackend.mu, which release takes after the owner's writes.
type procSlot struct {
	proc     *worker.Process // nil until the first start
	loaded   bool            // the running worker hosts the plugin
	pid      atomic.Int64
	recycled int // PoolStats.Recycled of the running worker, as last reported
	// failures counts consecutive failures to start the worker or load the
	// plugin (not calls killed at their deadline, nor deaths in a call);
	// retryAt is when the slot may try again, lastErr the last failure.
	failures int
	retryAt  time.Time
	lastErr  string
}

// backoffError is a request refused at once because every idle worker of its
// plugin backs off after failing to start or load the plugin: 503 with
// Retry-After.
type backoffError struct {
	retryAfter time.Duration
	failures   int
	last       string
}

func (e *backoffError) Error() string {
	return fmt.Sprintf("the plugin's worker processes fail to start or to load the plugin (%d times in a row), so they back off for %s: "+
		"retry then; the server log and the listing's pool.isolation say more (a plugin file changed or removed on disk, a missing shared library, memory); last failure: %s",
		e.failures, e.retryAfter.Round(time.Millisecond), e.last)
}

// failedStart records that slot's worker failed to start or to load the
// plugin, and backs the slot off. The caller owns slot.
func (b *procBackend) failedStart(slot *procSlot, err error) {
	slot.failures++
	slot.retryAt = time.Now().Add(min(minBackoff<<min(slot.failures-1, 10), maxBackoff))
	slot.lastErr = err.Error()
	b.backoffs.Add(1)
}

// startProcBackend starts the first of size workers and loads the plugin in
// dir there.
func startProcBackend(ctx context.Context, spec worker.Spec, load PluginLoadArgs, callTimeout time.Duration, size int) (*procBackend, error) {
	size = max(size, 1)
	b := &procBackend{spec: spec, load: load, callTimeout: callTimeout, sem: make(chan struct{}, size)}
	for range size {
		b.slots = append(b.slots, &procSlot{})
	}
	// The first slot is pushed last: it serves first.
	for i := size - 1; i >= 0; i-- {
		b.idle = append(b.idle, b.slots[i])
	}
	first := b.slots[0]
	res, err := b.ensure(ctx, first)
	if err != nil {
		if first.proc != nil {
			first.proc.Close()
		}
		return nil, err
	}
	b.routes, b.notes = res.Routes, res.Notes
	if len(b.routes) == 0 {
		// A frontend-only plugin: nothing will call a worker, so the one
		// that checked the plugin ends rather than hold its memory.
		first.proc.Close()
		first.proc, first.loaded = nil, false
		first.pid.Store(0)
		b.notes = append(b.notes, "isolated (--isolation process), but without backend routes: no worker process runs (one loaded the plugin to check it, then ended)")
		return b, nil
	}
	b.notes = append(b.notes, fmt.Sprintf("isolated in up to %d worker processes (--isolation process, --max-workers): storage and Kubernetes calls go to the server through host calls; a call past its deadline kills its worker", size))
	return b, nil
}

// ensure makes sure slot's worker runs and hosts the plugin, without waiting
// for a backoff (take does not hand out a slot that backs off). The caller
// owns slot.
func (b *procBackend) ensure(ctx context.Context, slot *procSlot) (PluginLoadResult, error) {
	var res PluginLoadResult
	if slot.proc != nil && slot.loaded {
		if slot.proc.Running() {
			return res, nil
		}
		// It ended between calls (the OOM killer, a signal): the new
		// process Call starts must load the plugin again.
		slot.loaded = false
		slot.pid.Store(0)
		b.deaths.Add(1)
	}
	if slot.proc == nil {
		p, err := worker.Start(ctx, b.spec)
		if err != nil {
			return res, err
		}
		slot.proc = p
	} else {
		b.restarts.Add(1)
	}
	b.starts.Add(1)
	// A dead worker is restarted by Call.
	if err := slot.proc.Call(ctx, OpPluginLoad, b.load, &res); err != nil {
		return res, fmt.Errorf("loading the plugin in its worker: %w", err)
	}
	slot.loaded = true
	slot.pid.Store(int64(res.PID))
	slot.recycled = 0
	slot.failures, slot.retryAt, slot.lastErr = 0, time.Time{}, ""
	return res, nil
}

// acquire takes an idle slot as take does, waiting while all are busy (the
// gate admits no more requests than slots, so only briefly).
func (b *procBackend) acquire(ctx context.Context) (*procSlot, error) {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.take()
}

// take takes the most recently used idle slot whose worker runs; else the
// most recently used one that does not back off, whose worker the caller
// starts; else it gives the caller's token of sem back and returns a
// *backoffError saying when the first slot may try again. The caller holds a
// token of sem.
func (b *procBackend) take() (*procSlot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	pick := -1
	now := time.Now()
	for i := len(b.idle) - 1; i >= 0; i-- {
		s := b.idle[i]
		if s.loaded {
			pick = i
			break
		}
		if pick < 0 && !now.Before(s.retryAt) {
			pick = i
		}
	}
	if pick < 0 {
		<-b.sem
		var be *backoffError
		for _, s := range b.idle {
			if d := s.retryAt.Sub(now); be == nil || d < be.retryAfter {
				be = &backoffError{}
				be.retryAfter, be.failures, be.last = d, s.failures, s.lastErr
			}
		}
		return nil, be
	}
	slot := b.idle[pick]
	b.idle = slices.Delete(b.idle, pick, pick+1)
	return slot, nil
}

func (b *procBackend) release(slot *procSlot) {
	b.mu.Lock()
	b.idle = append(b.idle, slot)
	b.mu.Unlock()
	<-b.sem
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

// Handle implements backend: it sends the request to an idle worker and
// waits for the answer up to the call timeout, counted from when the worker
// is ready. A client that goes away does not kill the worker; the deadline
// does.
func (b *procBackend) Handle(ctx context.Context, req *abi.Request) (*plugin.Response, error) {
	b.calls.Add(1)
	defer b.calls.Add(-1)
	ctx = context.WithoutCancel(ctx)
	// The waits for a slot and for a worker get a timer only when they
	// may wait: arming a timer wakes the Go runtime's network poller,
	// a scheduler wake-up each.
	var slot *procSlot
	var err error
	select {
	case b.sem <- struct{}{}:
		slot, err = b.take()
	default:
		qctx, cancel := context.WithTimeout(ctx, b.callTimeout+30*time.Second)
		slot, err = b.acquire(qctx)
		cancel()
	}
	var be *backoffError
	switch {
	case errors.As(err, &be):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("waiting for a worker: %w", err)
	}
	defer b.release(slot)
	if slot.proc == nil || !slot.loaded || !slot.proc.Running() {
		if _, err := b.ensureWithin(ctx, slot); err != nil {
			b.failedStart(slot, err)
			return nil, &remoteError{code: http.StatusBadGateway, kind: kindInstantiate,
				msg: fmt.Sprintf("starting the plugin's worker process (the worker backs off %s before it tries again): %v",
					time.Until(slot.retryAt).Round(time.Millisecond), err)}
		}
	}
	cctx, cancel := context.WithTimeout(ctx, b.callTimeout)
	defer cancel()
	var res PluginCallResult
	err = slot.proc.Call(cctx, OpPluginCall, PluginCallArgs{Method: req.Method, Path: req.Path, Query: req.Query,
		Headers: req.Headers, Body: req.Body}, &res)
	var died *worker.DiedError
	switch {
	case errors.As(err, &died):
		// The call killed or crashed its worker: the next call on this
		// slot starts another at once (no backoff: see procBackend).
		slot.loaded = false
		slot.pid.Store(0)
		if died.Killed {
			b.kills.Add(1)
			return nil, fmt.Errorf("plugin call overran its deadline of %s: its worker was killed: %w", b.callTimeout, context.DeadlineExceeded)
		}
		b.deaths.Add(1)
		return nil, err
	case err != nil:
		return nil, err
	}
	if d := res.Recycled - slot.recycled; d > 0 {
		b.recycled.Add(int64(d))
	}
	slot.recycled = res.Recycled
	if res.Error != "" {
		return nil, &remoteError{code: res.Code, kind: res.Kind, msg: res.Error}
	}
	return &plugin.Response{Status: res.Status, Body: res.Body}, nil
}

// ensureWithin is ensure bounded by a load timeout.
func (b *procBackend) ensureWithin(ctx context.Context, slot *procSlot) (PluginLoadResult, error) {
	lctx, cancel := context.WithTimeout(ctx, b.callTimeout+30*time.Second)
	defer cancel()
	return b.ensure(lctx, slot)
}

// pids returns the process ids of the running workers, the first slot's
// first (0 when it does not run).
func (b *procBackend) pids() (first int, all []int) {
	all = []int{}
	for i, s := range b.slots {
		pid := int(s.pid.Load())
		if i == 0 {
			first = pid
		}
		if pid != 0 {
			all = append(all, pid)
		}
	}
	return first, all
}

// Stats implements backend: a worker is an instance.
func (b *procBackend) Stats() plugin.PoolStats {
	_, live := b.pids()
	st := plugin.PoolStats{Created: int(b.starts.Load()), Discarded: int(b.kills.Load() + b.deaths.Load()), Recycled: int(b.recycled.Load())}
	st.InFlight = int(b.calls.Load())
	st.Idle = max(len(live)-st.InFlight, 0)
	return st
}

// isolation describes the workers, for the listing.
func (b *procBackend) isolation() *IsolationInfo {
	first, all := b.pids()
	return &IsolationInfo{Mode: IsolationProcess, Workers: len(all), MaxWorkers: len(b.slots), PID: first, PIDs: all, Starts: b.starts.Load(),
		Restarts: b.restarts.Load(), Kills: b.kills.Load(), Deaths: b.deaths.Load()}
}

// Close implements backend: it ends the workers, waiting for the calls in
// flight.
func (b *procBackend) Close(context.Context) error {
	for range b.slots {
		b.sem <- struct{}{}
	}
	for _, s := range b.slots {
		if s.proc != nil {
			s.proc.Close()
		}
	}
	return nil
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
	spec := worker.Spec{Engine: s.info.Name, Path: bin, Args: []string{"worker", "--engine", s.cfg.Engine},
		Host: s.hostFor(name, f.Manifest.Spec.Permissions), Logger: slog.New(workerLog{Handler: s.pluginLog(name), plugin: name})}
	// The worker's own deadline is later than the server's, so that the
	// server's kill decides, on every engine alike.
	load := PluginLoadArgs{Dir: f.Dir, ABI: abiName, Kube: s.kube.Backend(),
		CacheDir: s.cacheDir(), CallTimeoutNS: int64(s.cfg.CallTimeout + time.Second),
		MaxRequestBytes: uint32(s.cfg.MaxBodyBytes), MaxStorageBytes: s.cfg.StorageMaxBytes, MaxStorageKeys: s.cfg.StorageMaxKeys,
		LogLevel: leastLevel(ctx, s.log)}
	return startProcBackend(ctx, spec, load, s.cfg.CallTimeout, s.cfg.MaxWorkers)
}

// workerLog is the server's log handler for the records of plugin's
// workers. The server does not trust a worker, whose guest may have escaped
// its engine: a record that does not name plugin as its one plugin
// attribute (as host.Services does) is logged under plugin anyway, with the
// other names it gave as claimed_plugin.
type workerLog struct {
	slog.Handler
	plugin string
}

func (h workerLog) Handle(ctx context.Context, r slog.Record) error {
	mine, claimed := 0, ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "plugin" {
			if v := a.Value.String(); v == h.plugin {
				mine++
			} else if claimed == "" {
				claimed = v
			} else {
				claimed += "," + v
			}
		}
		return true
	})
	if mine == 1 && claimed == "" {
		return h.Handler.Handle(ctx, r)
	}
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	nr.AddAttrs(slog.String("plugin", h.plugin))
	if claimed != "" {
		nr.AddAttrs(slog.String("claimed_plugin", claimed))
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "plugin" {
			nr.AddAttrs(a)
		}
		return true
	})
	return h.Handler.Handle(ctx, nr)
}

func (h workerLog) WithAttrs(as []slog.Attr) slog.Handler {
	return workerLog{Handler: h.Handler.WithAttrs(as), plugin: h.plugin}
}

func (h workerLog) WithGroup(name string) slog.Handler {
	return workerLog{Handler: h.Handler.WithGroup(name), plugin: h.plugin}
}

// leastLevel is the least of the standard levels log handles (a level above
// Error when it handles none).
func leastLevel(ctx context.Context, log *slog.Logger) slog.Level {
	for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
		if log.Enabled(ctx, l) {
			return l
		}
	}
	return slog.LevelError + 1
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
