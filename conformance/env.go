package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host"
	"github.com/kspbench/kspbench/host/kube"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/manifest"
	"github.com/kspbench/kspbench/plugin"
	"github.com/kspbench/kspbench/plugindir"
)

// Env is what a case works with: the engine under test, a folder of its own,
// and plugins bound to real host services whose effects it can observe.
type Env struct {
	ctx     context.Context
	cfg     Config
	dir     string
	eng     engines.Engine
	stores  map[string]*sharedStore
	closers []func() error
	cGuest  bool // the reference guest is its C build (the abi-c cases)
	cPlugin bool // the cluster-monitor plugin is its C build (the plugin-c cases)
}

// Context returns the case's context.
func (e *Env) Context() context.Context { return e.ctx }

// Dir returns the case's own folder.
func (e *Env) Dir() string { return e.dir }

// Engine returns the engine under test, opened with the suite's shared cache.
func (e *Env) Engine() (engines.Engine, error) {
	if e.eng != nil {
		return e.eng, nil
	}
	eng, err := e.OpenEngine(engines.Config{CacheDir: e.cfg.CacheDir})
	if err != nil {
		return nil, err
	}
	e.eng = eng
	return eng, nil
}

// OpenEngine opens another engine under test, closed when the case ends.
func (e *Env) OpenEngine(cfg engines.Config) (engines.Engine, error) {
	eng, err := e.cfg.Open(cfg)
	if err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	e.defer_(func() error { return eng.Close(context.Background()) })
	return eng, nil
}

func (e *Env) defer_(f func() error) { e.closers = append(e.closers, f) }

func (e *Env) close() error {
	var errs []error
	for _, f := range slices.Backward(e.closers) {
		errs = append(errs, f())
	}
	e.closers = nil
	return errors.Join(errs...)
}

// Loaded is a plugin loaded by a case, with the host services it is bound to.
type Loaded struct {
	*plugin.Plugin
	Logs    *LogCapture
	Kube    *CountingKube
	Storage storage.Store
}

// GuestOptions configure LoadGuest. The zero value loads with default limits,
// an empty configuration, no permissions, the fixture Kubernetes backend and
// a bbolt store in the case's folder.
type GuestOptions struct {
	Name         string
	Routes       []plugin.Route
	Handlers     []string
	Config       map[string]string
	Permissions  []string
	Limits       abi.Limits
	StoragePath  string
	MaxInstances int
	// Profile, Hints and Entrypoint are plugin.Spec's: the ABI profile
	// (nil: detected), weak evidence for one, the manifest's entry point.
	Profile    *abi.Profile
	Hints      []abi.Evidence
	Entrypoint string
	// Engine, when set, is used instead of the case's engine.
	Engine engines.Engine
}

// LoadGuest loads wasm with fresh host services.
func (e *Env) LoadGuest(wasm []byte, o GuestOptions) (*Loaded, error) {
	eng := o.Engine
	if eng == nil {
		var err error
		if eng, err = e.Engine(); err != nil {
			return nil, err
		}
	}
	if o.Name == "" {
		o.Name = "guest"
	}
	if o.StoragePath == "" {
		o.StoragePath = filepath.Join(e.dir, "storage.db")
	}
	st, err := e.store(o.StoragePath)
	if err != nil {
		return nil, err
	}
	g := &Loaded{Logs: &LogCapture{}, Kube: &CountingKube{Client: kube.NewFixture()}, Storage: st}
	svc, err := host.NewServices(host.Config{
		Plugin:      o.Name,
		Logger:      slog.New(g.Logs),
		Config:      o.Config,
		Storage:     st,
		Kube:        g.Kube,
		Permissions: o.Permissions,
		Limits:      o.Limits,
	})
	if err != nil {
		return nil, err
	}
	p, err := plugin.Load(e.ctx, eng, wasm, plugin.Spec{
		Name: o.Name, Routes: o.Routes, Handlers: o.Handlers, Imports: svc, Limits: o.Limits, MaxInstances: o.MaxInstances,
		Profile: o.Profile, Hints: o.Hints, Entrypoint: o.Entrypoint,
	})
	if err != nil {
		return nil, err
	}
	e.defer_(func() error { return p.Close(context.Background()) })
	g.Plugin = p
	return g, nil
}

// LoadClusterMonitor loads the cluster-monitor plugin from the suite's
// ClusterMonitorDir (the embedded C build in the plugin-c cases) through package plugindir, the loader kspbench serve and
// kspbench run use; edit may change the manifest first. Options left zero
// take the manifest's values.
func (e *Env) LoadClusterMonitor(o GuestOptions, edit func(*manifest.Manifest)) (*Loaded, error) {
	dir, err := e.clusterMonitorDir()
	if err != nil {
		return nil, err
	}
	f, err := plugindir.Read(dir)
	if err != nil {
		return nil, err
	}
	if edit != nil {
		edit(f.Manifest)
	}
	eng := o.Engine
	if eng == nil {
		if eng, err = e.Engine(); err != nil {
			return nil, err
		}
	}
	if o.StoragePath == "" {
		o.StoragePath = filepath.Join(e.dir, "storage.db")
	}
	st, err := e.store(o.StoragePath)
	if err != nil {
		return nil, err
	}
	g := &Loaded{Logs: &LogCapture{}, Kube: &CountingKube{Client: kube.NewFixture()}, Storage: st}
	p, err := f.Load(e.ctx, eng, plugindir.Options{
		Storage: st, Kube: g.Kube, Logger: slog.New(g.Logs), Limits: o.Limits,
		MaxInstances: o.MaxInstances, Config: o.Config, Permissions: o.Permissions,
	})
	if err != nil {
		return nil, err
	}
	e.defer_(func() error { return p.Close(context.Background()) })
	g.Plugin = p
	return g, nil
}

// LogCapture is a slog.Handler that keeps every record's message and
// attributes as text, for cases that check what a guest logged.
type LogCapture struct {
	mu    sync.Mutex
	lines []string
	attrs []slog.Attr
}

func (l *LogCapture) Enabled(context.Context, slog.Level) bool { return true }

func (l *LogCapture) Handle(_ context.Context, r slog.Record) error {
	var b bytes.Buffer
	b.WriteString(r.Message)
	for _, a := range l.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	return nil
}

func (l *LogCapture) WithAttrs(as []slog.Attr) slog.Handler {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &logView{l, append(slices.Clone(l.attrs), as...)}
}

func (l *LogCapture) WithGroup(string) slog.Handler { return l }

// Lines returns the records logged so far.
func (l *LogCapture) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// logView is a LogCapture with attributes added by WithAttrs.
type logView struct {
	l     *LogCapture
	attrs []slog.Attr
}

func (v *logView) Enabled(context.Context, slog.Level) bool { return true }
func (v *logView) Handle(ctx context.Context, r slog.Record) error {
	r2 := r.Clone()
	r2.AddAttrs(v.attrs...)
	return v.l.Handle(ctx, r2)
}
func (v *logView) WithAttrs(as []slog.Attr) slog.Handler {
	return &logView{v.l, append(slices.Clone(v.attrs), as...)}
}
func (v *logView) WithGroup(string) slog.Handler { return v }

// CountingKube counts the calls that reach the Kubernetes backend, so a case
// can prove a denied call never got there.
type CountingKube struct {
	kube.Client
	calls atomic.Int64
}

// Do counts the call and passes it on.
func (k *CountingKube) Do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	k.calls.Add(1)
	return k.Client.Do(ctx, method, path, body)
}

// Calls returns how many calls reached the backend.
func (k *CountingKube) Calls() int64 { return k.calls.Load() }

// store returns the open bbolt store at path, opening it if it is not open:
// plugins loaded by one case share a database file, as plugins of one host do.
func (e *Env) store(path string) (*sharedStore, error) {
	if s, ok := e.stores[path]; ok && !s.closed {
		return s, nil
	}
	b, err := storage.Open(path)
	if err != nil {
		return nil, err
	}
	s := &sharedStore{Store: b}
	if e.stores == nil {
		e.stores = map[string]*sharedStore{}
	}
	e.stores[path] = s
	e.defer_(s.Close)
	return s, nil
}

// sharedStore is a store that several plugins of a case use; closing it
// once closes it for all, and a later LoadGuest opens the file again.
type sharedStore struct {
	storage.Store
	closed bool
}

func (s *sharedStore) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.Store.Close()
}
