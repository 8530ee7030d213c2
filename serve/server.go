package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host/kube"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/manifest"
	"github.com/kspbench/kspbench/plugindir"
)

// Server hosts the plugins of one folder on one engine over HTTP. It is an
// http.Handler; Serve runs it on a listener with graceful shutdown. It is safe
// for concurrent use.
type Server struct {
	cfg    Config
	conf   catalog.Configuration // cfg.Engine, parsed
	dir    string                // PluginsDir, absolute
	log    *slog.Logger
	engine engines.Engine
	info   engines.Info
	// interrupts is whether the engine can end a running call at its deadline.
	interrupts bool
	// interruptNote is EngineInfo.Interrupt.
	interruptNote string
	store         *storage.Bolt
	kube          kube.Client
	reg           registry
	metrics       *metrics
	handler       http.Handler
	bodies        bodyBudget
	// engineHeader is the value of X-Kspbench-Engine, shared by every answer.
	engineHeader []string

	logLimitsMu sync.Mutex
	logLimits   map[string]*logLimiter // by plugin name, made on first use

	adminMu  sync.Mutex     // serialises management operations (and discovery)
	retiring sync.WaitGroup // entries being drained and closed

	closeOnce sync.Once
	closeErr  error
}

// hostNamespace is the storage namespace of the server's own records (which
// plugins are disabled). It holds a dot, so it is no plugin's name (a DNS
// label) and no plugin can reach it.
const hostNamespace = "kspbench.host"

// New opens the engine, the storage file and the Kubernetes backend, and
// loads every plugin folder of cfg.PluginsDir. A plugin that fails to load is
// recorded as failed (logged, and shown by the listing) and does not stop
// the others.
//
// # Errors
//
// A missing engine or plugins folder, an engine that is not linked into this
// binary, or a storage file that cannot be opened (another process holds its
// lock, for instance).
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Engine == "" {
		return nil, errors.New("serve: no engine given")
	}
	if cfg.PluginsDir == "" {
		return nil, errors.New("serve: no plugins folder given")
	}
	if cfg.Isolation != "" && cfg.Isolation != IsolationNone && cfg.Isolation != IsolationProcess {
		return nil, fmt.Errorf("serve: isolation %q is neither %s nor %s", cfg.Isolation, IsolationProcess, IsolationNone)
	}
	if cfg.MaxBodyBytes > int64(^uint32(0)) {
		return nil, fmt.Errorf("serve: request body limit %d is over the ABI's 4 GiB", cfg.MaxBodyBytes)
	}
	conf, err := catalog.ParseConfiguration(cfg.Engine)
	if err != nil {
		return nil, fmt.Errorf("serve: engine: %w", err)
	}
	cfg = cfg.withDefaults()
	dir, err := filepath.Abs(cfg.PluginsDir)
	if err != nil {
		return nil, fmt.Errorf("serve: plugins folder: %w", err)
	}
	s := &Server{cfg: cfg, conf: conf, dir: dir, log: cfg.Logger, kube: cfg.Kube}
	s.bodies.max = cfg.MaxBodyBytesInFlight
	if st, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("serve: plugins folder: %w", err)
		}
		s.log.Warn("plugins folder did not exist: created it empty", "dir", dir)
	} else if err != nil {
		return nil, fmt.Errorf("serve: plugins folder: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("serve: plugins folder[%s] is not a folder", dir)
	}
	cacheDir := s.cacheDir()
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("serve: compilation cache: %w", err)
	}
	if cfg.Isolation == IsolationProcess && !slices.Contains(engines.Drivers(), conf.Engine) {
		// The workers run the engine; this process needs only its name.
		if s.info, err = probeWorker(ctx, cfg); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		s.interruptNote = "by process isolation: a call past its deadline kills the plugin's worker process"
	} else {
		if s.engine, err = engines.Open(conf.Engine, conf.Apply(engines.Config{CacheDir: cacheDir})); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		s.info = s.engine.Info()
		s.interrupts = engines.Unsupported(s.engine, engines.FeatureInterrupt) == ""
		s.interruptNote = interruptNote(s.engine)
		if cfg.Isolation == IsolationProcess && !s.interrupts {
			s.interruptNote += "; but plugins run isolated (--isolation process): a call past its deadline kills the plugin's worker process"
		}
	}
	s.engineHeader = []string{s.info.Name}
	closeEngine := func() {
		if s.engine != nil {
			s.engine.Close(ctx)
		}
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DataFile), 0o755); err != nil {
		closeEngine()
		return nil, fmt.Errorf("serve: storage: %w", err)
	}
	if s.store, err = storage.Open(cfg.DataFile); err != nil {
		closeEngine()
		return nil, fmt.Errorf("serve: %w", err)
	}
	if s.kube == nil {
		s.kube = kube.NewFixture()
	}
	s.reg.byName = map[string]*entry{}
	s.metrics = newMetrics(s.info.Name, s.poolSamples)
	s.handler = s.routes()

	s.log.Info("engine", "engine", s.info.Name, "version", s.info.Version, "mode", s.info.Mode,
		"notes", s.info.Notes, "interrupt", s.interruptNote, "isolation", cfg.Isolation, "cache", cacheDir)
	if _, fixture := s.kube.(*kube.Fixture); fixture {
		s.log.Warn("kubernetes: FIXTURE backend, a test double: pass --kubeconfig or --in-cluster for a real cluster",
			"backend", s.kube.Backend())
	} else {
		s.log.Info("kubernetes", "backend", s.kube.Backend())
	}
	s.log.Info("storage", "file", cfg.DataFile)
	if c := s.store.Compaction(); c.Err != nil {
		s.log.Warn("storage: compaction at open failed; the uncompacted file is kept and in use", "file", cfg.DataFile, "error", c.Err)
	} else if c.Before > 0 {
		s.log.Info("storage: compacted at open: deleted data's space given back", "file", cfg.DataFile, "bytes_before", c.Before, "bytes_after", c.After)
	}
	if cfg.Token == "" {
		s.log.Warn("management API disabled: no token (set --token or KSPBENCH_TOKEN to enable it)")
	} else {
		s.log.Info("management API enabled", "prefix", adminPrefix)
	}
	s.log.Info("limits", "max_instances", cfg.MaxInstances, "max_workers", cfg.MaxWorkers, "queue", cfg.QueueSize, "queue_timeout", cfg.QueueTimeout,
		"call_timeout", cfg.CallTimeout, "max_body_bytes", cfg.MaxBodyBytes, "max_body_bytes_in_flight", cfg.MaxBodyBytesInFlight,
		"max_upload_bytes", cfg.MaxUploadBytes, "storage_max_bytes", cfg.StorageMaxBytes, "storage_max_keys", cfg.StorageMaxKeys,
		"plugin_log_rate", cfg.PluginLogRate, "plugin_log_burst", cfg.PluginLogBurst)
	c := cfg.Conn
	s.log.Info("connection limits", "max_conns", c.MaxConns, "read_header_timeout", c.ReadHeaderTimeout,
		"read_timeout", c.ReadTimeout, "upload_timeout", c.UploadTimeout, "write_timeout", c.WriteTimeout,
		"idle_timeout", c.IdleTimeout, "max_header_bytes", c.MaxHeaderBytes)

	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	s.removeLeftovers()
	s.discover(ctx)
	return s, nil
}

func interruptNote(e engines.Engine) string {
	if why := engines.Unsupported(e, engines.FeatureInterrupt); why != "" {
		return "unsupported: " + why + "; a call past its deadline is answered 504 but its guest runs on, holding its instance slot"
	}
	return "supported"
}

// ServeHTTP serves the routes listed in the package documentation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully: it
// stops accepting connections and waits up to Config.ShutdownTimeout for the
// requests in flight to finish. It does not close the server; call Close
// after it returns. It applies Config.Conn: timeouts, and the cap on
// connections open at once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.httpServer()
	hs.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	if n := s.cfg.Conn.MaxConns; n > 0 {
		ln = newLimitListener(ln, n, func(full bool) {
			if full {
				s.log.Warn("connection cap reached: closing idle keep-alive connections, keep-alive off until half the cap is free; new connections wait",
					"max_conns", n)
			} else {
				s.log.Info("connections down to half the cap: keep-alive on again", "max_conns", n)
			}
			hs.SetKeepAlivesEnabled(!full)
		})
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: no new connections; finishing the requests in flight", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc // http.ErrServerClosed
	if err != nil {
		hs.Close()
		return fmt.Errorf("serve: shutdown: requests still in flight after %s: %w", s.cfg.ShutdownTimeout, err)
	}
	return nil
}

// Close unloads every plugin (each after the requests using it end), then
// closes the storage file and the engine.
//
// # Notes
//
// An engine that cannot interrupt a call (wasmer) may still run a guest
// abandoned at its deadline; Close then leaves that engine open, since
// closing it under a running guest could crash the process, which is about
// to end anyway.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.adminMu.Lock()
		defer s.adminMu.Unlock()
		for _, e := range s.reg.takeAll() {
			s.retire(e)
		}
		s.retiring.Wait()
		errs := []error{s.store.Close()}
		if s.interrupts && s.engine != nil {
			errs = append(errs, s.engine.Close(ctx))
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("closed: plugins unloaded, storage closed")
	})
	return s.closeErr
}

// retire drains e in the background: once the requests that hold it end, its
// plugin is closed. Close waits for every retirement.
func (s *Server) retire(e *entry) {
	if e == nil || e.plugin == nil {
		return
	}
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		e.calls.Wait()
		if err := e.plugin.Close(context.Background()); err != nil {
			s.log.Warn("plugin close", "plugin", e.name, "error", err)
		}
	}()
}

// removeLeftovers deletes the temporary folders an interrupted install or
// uninstall left in the plugins folder. s.adminMu must be held.
func (s *Server) removeLeftovers() {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, de := range des {
		if n := de.Name(); strings.HasPrefix(n, installPrefix) || strings.HasPrefix(n, trashPrefix) {
			s.log.Warn("removing a leftover of an interrupted install or uninstall", "folder", n)
			os.RemoveAll(filepath.Join(s.dir, n))
		}
	}
}

// Temporary folders in the plugins folder; discovery skips names starting
// with a dot.
const (
	installPrefix = ".install-"
	trashPrefix   = ".trash-"
)

// discover loads every plugin folder of s.dir not yet known, and retries the
// folders that failed for want of a usable name. s.adminMu must be held.
func (s *Server) discover(ctx context.Context) (added []*entry) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		s.log.Error("cannot read the plugins folder", "dir", s.dir, "error", err)
		return nil
	}
	for _, de := range des {
		if !de.IsDir() || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		dir := filepath.Join(s.dir, de.Name())
		if _, err := os.Stat(filepath.Join(dir, manifest.FileName)); err != nil {
			s.log.Debug("not a plugin folder: no "+manifest.FileName, "folder", de.Name())
			continue
		}
		if _, ok := s.reg.known(dir); ok {
			continue
		}
		if e := s.loadFolder(ctx, dir); e != nil {
			added = append(added, e)
		}
	}
	return added
}

// loadFolder reads, checks and (unless it is disabled) compiles the plugin in
// dir, and publishes it: loaded, disabled, or failed with its error.
// s.adminMu must be held.
func (s *Server) loadFolder(ctx context.Context, dir string) *entry {
	folder := filepath.Base(dir)
	f, err := plugindir.ReadWith(dir, s.cfg.ABI)
	if err != nil {
		e := &entry{folder: folder, dir: dir, state: stateFailed, err: err, since: time.Now()}
		s.reg.putBroken(e)
		s.log.Error("plugin failed to load", "folder", folder, "error", s.relErr(err))
		return e
	}
	name := f.Manifest.Metadata.Name
	if other := s.reg.get(name); other != nil && other.dir != dir {
		err := fmt.Errorf("duplicate plugin name %q: folder %s already provides it; rename one (folders are keyed by the manifest's metadata.name)", name, other.folder)
		e := &entry{name: name, folder: folder, dir: dir, manifest: f.Manifest, state: stateFailed, err: err, since: time.Now()}
		s.reg.putBroken(e)
		s.log.Error("plugin failed to load", "folder", folder, "plugin", name, "error", err)
		return e
	}
	if s.isDisabled(ctx, name) {
		e := &entry{name: name, folder: folder, dir: dir, manifest: f.Manifest, state: stateDisabled, since: time.Now()}
		s.reg.put(e)
		s.log.Info("plugin disabled (by the management API): not loaded", "plugin", name, "folder", folder)
		return e
	}
	e := s.compile(ctx, f)
	s.retire(s.reg.put(e))
	return e
}

// compile loads folder f onto the engine and returns its entry, loaded or
// failed; it does not publish it.
func (s *Server) compile(ctx context.Context, f *plugindir.Folder) *entry {
	name := f.Manifest.Metadata.Name
	e := &entry{name: name, folder: filepath.Base(f.Dir), dir: f.Dir, manifest: f.Manifest, since: time.Now(),
		abi: f.Profile.Name, warnings: f.Warnings}
	start := time.Now()
	var p backend
	size := s.cfg.MaxInstances
	// Whatever the isolation now, a plugin once isolated by an older
	// kspbench may have data in a file of its own.
	err := s.migrateIsolatedData(ctx, name)
	switch {
	case err != nil:
		// Not loaded: it would run without the data it had.
	case s.cfg.Isolation == IsolationProcess:
		p, err = s.startIsolated(ctx, f)
		size = s.cfg.MaxWorkers // one call at a time per worker
	default:
		p, err = f.Load(ctx, s.engine, plugindir.Options{
			Storage: s.store, Kube: s.kube, Logger: slog.New(s.pluginLog(name)), MaxInstances: s.cfg.MaxInstances,
			Limits: abi.Limits{CallTimeout: s.cfg.CallTimeout, MaxRequestBytes: uint32(s.cfg.MaxBodyBytes),
				MaxStorageBytes: s.cfg.StorageMaxBytes, MaxStorageKeys: s.cfg.StorageMaxKeys},
		})
	}
	if err != nil {
		e.state, e.err = stateFailed, err
		s.log.Error("plugin failed to load", "plugin", name, "folder", e.folder, "error", s.relErr(err))
		return e
	}
	e.state, e.plugin = stateLoaded, p
	e.gate = newGate(size, s.cfg.QueueSize, s.cfg.QueueTimeout)
	var routes []string
	for _, r := range p.Routes() {
		routes = append(routes, strings.Join(r.Methods, ",")+" "+r.Path)
	}
	s.log.Info("plugin loaded", "plugin", name, "version", f.Manifest.Metadata.Version, "folder", e.folder,
		"abi", f.Profile.Name, "routes", routes, "compile", time.Since(start).Round(time.Millisecond))
	for _, w := range f.Warnings {
		s.log.Warn("plugin manifest read as the reference host reads it", "plugin", name, "warning", s.relErr(errors.New(w)))
	}
	for _, n := range p.Notes() {
		s.log.Info("plugin note", "plugin", name, "abi", f.Profile.Name, "note", n)
	}
	return e
}

func disabledKey(name string) []byte { return []byte("disabled/" + name) }

func (s *Server) isDisabled(ctx context.Context, name string) bool {
	v, err := s.store.Get(ctx, hostNamespace, disabledKey(name))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Warn("cannot read whether the plugin is disabled: loading it", "plugin", name, "error", err)
	}
	return err == nil && string(v) == "1"
}

func (s *Server) setDisabled(ctx context.Context, name string, disabled bool) error {
	if disabled {
		return s.store.Set(ctx, hostNamespace, disabledKey(name), []byte("1"))
	}
	return s.store.Delete(ctx, hostNamespace, disabledKey(name))
}

// relErr renders err with the plugins folder's path removed, so that the
// public listing does not reveal the server's file system layout.
func (s *Server) relErr(err error) string {
	if err == nil {
		return ""
	}
	return strings.ReplaceAll(err.Error(), s.dir+string(filepath.Separator), "")
}

// EngineInfo says which engine serves, as the engine's binding reports it.
type EngineInfo struct {
	Name string `json:"name"`
	// Config is the engine's configuration ("default" for its safe
	// default; `kspbench engines` lists the others).
	Config  string `json:"config"`
	Version string `json:"version"`
	Mode    string `json:"mode"`
	Notes   string `json:"notes,omitempty"`
	// Interrupt is "supported", or why a call past its deadline cannot be
	// stopped (wasmer): its guest then runs on, holding its instance slot.
	Interrupt string `json:"interrupt"`
	// Isolation is where plugins run: "none" (in the server's process) or
	// "process" (each in a worker process, kspbench serve --isolation).
	Isolation string `json:"isolation"`
}

// cacheDir is the engine configuration's compilation cache: code compiled
// without deadline checks must not be found by the safe default.
func (s *Server) cacheDir() string { return filepath.Join(s.cfg.CacheDir, s.conf.FileStem()) }

func (s *Server) engineInfo() EngineInfo {
	return EngineInfo{Name: s.info.Name, Config: s.conf.Name, Version: s.info.Version, Mode: s.info.Mode, Notes: s.info.Notes,
		Interrupt: s.interruptNote, Isolation: s.cfg.Isolation}
}

// Listing is the answer of GET /api/plugins.
type Listing struct {
	Engine     EngineInfo   `json:"engine"`
	Kubernetes string       `json:"kubernetes"`
	Storage    string       `json:"storage"`
	Management string       `json:"management"`
	Plugins    []PluginInfo `json:"plugins"`
}

// PluginInfo describes one plugin folder.
type PluginInfo struct {
	// Name is the manifest's metadata.name; empty when the manifest did not
	// load.
	Name        string      `json:"name"`
	Version     string      `json:"version,omitempty"`
	Author      string      `json:"author,omitempty"`
	Description string      `json:"description,omitempty"`
	State       string      `json:"state"`
	Error       string      `json:"error,omitempty"`
	Folder      string      `json:"folder"`
	Engine      string      `json:"engine"`
	Routes      []RouteInfo `json:"routes"`
	Permissions []string    `json:"permissions"`
	Pool        *PoolInfo   `json:"pool,omitempty"`
	// Storage is what the plugin keeps in the storage file, against its
	// quota; absent when it could not be read.
	Storage *StorageInfo `json:"storage,omitempty"`
	Since   time.Time    `json:"since"`

	// ABI is the ABI profile the plugin runs under: "v1", or
	// "kubestellar-ui" for plugins written for the KubeStellar UI's host.
	ABI string `json:"abi,omitempty"`
	// LogLinesDropped counts the plugin's log records dropped past its
	// rate limit (serve --plugin-log-rate) since the server started.
	LogLinesDropped int64 `json:"log_lines_dropped"`
	// Warnings are what a lenient reading of the manifest accepted; Notes
	// what the profile changes in how the plugin runs (instances recycled).
	Warnings []string `json:"warnings,omitempty"`
	Notes    []string `json:"notes,omitempty"`
}

// StorageInfo is a plugin's storage use and quota.
type StorageInfo struct {
	Keys     int64  `json:"keys"`
	Bytes    int64  `json:"bytes"`
	MaxKeys  uint32 `json:"max_keys"`
	MaxBytes uint64 `json:"max_bytes"`
}

// RouteInfo is a served route: Path is relative to /api/plugins/<name>.
type RouteInfo struct {
	Path    string   `json:"path"`
	Methods []string `json:"methods"`
	Handler string   `json:"handler"`
}

// PoolInfo is a loaded plugin's instance pool and queue.
type PoolInfo struct {
	Max      int `json:"max"`
	Idle     int `json:"idle"`
	InFlight int `json:"in_flight"`
	// Abandoned counts calls answered at their deadline whose guest still
	// runs, on an engine that cannot interrupt a call (wasmer): each holds
	// an instance slot until its guest returns, which may be never. When
	// they fill the pool, every call times out; a reload gives the plugin a
	// fresh pool, a restart also stops the runaway guests.
	Abandoned int `json:"abandoned"`
	Created   int `json:"created"`
	Discarded int `json:"discarded"`
	// Recycled counts sound instances retired at their profile's budget
	// (kubestellar-ui: a guest allocator that never resets), in process
	// and in isolated plugins' workers alike; always 0 under v1.
	Recycled int `json:"recycled"`
	Waiting  int `json:"waiting"`
	// Isolation describes the plugin's worker process under
	// --isolation process: its kills and restarts.
	Isolation *IsolationInfo `json:"isolation,omitempty"`
}

func (s *Server) pluginInfo(e *entry) PluginInfo {
	pi := PluginInfo{Name: e.name, State: e.state, Error: s.relErr(e.err), Folder: e.folder, Engine: s.info.Name,
		Routes: []RouteInfo{}, Permissions: []string{}, Since: e.since, ABI: e.abi, Warnings: e.warnings}
	if m := e.manifest; m != nil {
		pi.Version, pi.Author, pi.Description = m.Metadata.Version, m.Metadata.Author, m.Metadata.Description
		for _, r := range m.Routes() {
			pi.Routes = append(pi.Routes, RouteInfo{Path: r.Path, Methods: slices.Clone(r.Methods), Handler: r.Handler})
		}
		pi.Permissions = append(pi.Permissions, m.Spec.Permissions...)
	}
	if e.name != "" {
		if u, err := s.store.Usage(context.Background(), e.name); err == nil {
			l := abi.Limits{MaxStorageBytes: s.cfg.StorageMaxBytes, MaxStorageKeys: s.cfg.StorageMaxKeys}.WithDefaults()
			pi.Storage = &StorageInfo{Keys: u.Keys, Bytes: u.Bytes, MaxKeys: l.MaxStorageKeys, MaxBytes: l.MaxStorageBytes}
		}
	}
	if e.name != "" {
		pi.LogLinesDropped = s.logDropped(e.name)
	}
	if e.plugin != nil {
		st := e.plugin.Stats()
		pi.Pool = &PoolInfo{Max: e.gate.size(), Idle: st.Idle, InFlight: st.InFlight, Created: st.Created,
			Discarded: st.Discarded, Recycled: st.Recycled, Waiting: int(e.gate.waiting.Load()), Abandoned: abandoned(st.InFlight, e.gate)}
		pi.Notes = e.plugin.Notes()
		if pb, ok := e.plugin.(*procBackend); ok {
			pi.Pool.Isolation = pb.isolation()
		}
	}
	return pi
}

// listing describes the server and its plugins. The public listing names the
// storage file without its folder; the management API's (full) gives the path.
func (s *Server) listing(full bool) Listing {
	l := Listing{Engine: s.engineInfo(), Kubernetes: s.kube.Backend(), Storage: filepath.Base(s.cfg.DataFile),
		Management: "disabled", Plugins: []PluginInfo{}}
	if full {
		l.Storage = s.cfg.DataFile
	}
	if s.cfg.Token != "" {
		l.Management = "enabled"
	}
	for _, e := range s.reg.snapshot() {
		l.Plugins = append(l.Plugins, s.pluginInfo(e))
	}
	return l
}

func (s *Server) poolSamples() []poolSample {
	var out []poolSample
	for _, e := range s.reg.snapshot() {
		ps := poolSample{plugin: e.name, state: e.state, logDropped: s.logDropped(e.name)}
		if e.plugin != nil {
			st := e.plugin.Stats()
			ps.idle, ps.inFlight, ps.created, ps.discarded = st.Idle, st.InFlight, st.Created, st.Discarded
			ps.max, ps.waiting, ps.abandoned = e.gate.size(), int(e.gate.waiting.Load()), abandoned(st.InFlight, e.gate)
			if pb, ok := e.plugin.(*procBackend); ok {
				ps.isolated, ps.kills, ps.restarts, ps.deaths = true, pb.kills.Load(), pb.restarts.Load(), pb.deaths.Load()
			}
		}
		out = append(out, ps)
	}
	return out
}

// abandoned estimates the calls a pool still runs that no request waits for
// any more: the pool's calls in flight beyond the requests the gate admitted.
// The two counts are read apart, so the estimate may be off by a call that
// is just starting or ending.
func abandoned(poolInFlight int, g *gate) int {
	return max(0, poolInFlight-g.inFlight())
}

// Health is the answer of GET /healthz.
type Health struct {
	Status     string         `json:"status"`
	Engine     EngineInfo     `json:"engine"`
	Kubernetes string         `json:"kubernetes"`
	Plugins    map[string]int `json:"plugins"`
}

func (s *Server) health() Health {
	h := Health{Status: "ok", Engine: s.engineInfo(), Kubernetes: s.kube.Backend(),
		Plugins: map[string]int{stateLoaded: 0, stateFailed: 0, stateDisabled: 0}}
	for _, e := range s.reg.snapshot() {
		h.Plugins[e.state]++
	}
	return h
}

// Health returns what GET /healthz answers.
func (s *Server) Health() Health { return s.health() }
