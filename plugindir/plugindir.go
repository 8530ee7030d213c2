package plugindir

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host"
	"github.com/kspbench/kspbench/host/kube"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/manifest"
	"github.com/kspbench/kspbench/plugin"
)

// Options bind a plugin to host services. The zero value works: an in-memory
// store (explicitly not durable), the fixture Kubernetes backend, the default
// logger and limits.
type Options struct {
	Storage      storage.Store
	Kube         kube.Client
	Logger       *slog.Logger
	Limits       abi.Limits // zero fields: the manifest's memory limit, then abi defaults
	MaxInstances int
	// Config overrides values of the manifest's spec.configuration.
	Config map[string]string
	// Permissions, when not nil, replace the manifest's spec.permissions
	// (a test that denies a permission the manifest grants).
	Permissions []string
}

// Folder is a plugin folder read from disk.
type Folder struct {
	Dir      string
	Manifest *manifest.Manifest
	Wasm     []byte
}

// Read reads dir's plugin.yml and the wasm file it names.
func Read(dir string) (*Folder, error) {
	m, err := manifest.Load(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return nil, err
	}
	wasm, err := os.ReadFile(filepath.Join(dir, m.WasmFile()))
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", m.Metadata.Name, err)
	}
	return &Folder{Dir: dir, Manifest: m, Wasm: wasm}, nil
}

// Routes returns the manifest's backend routes for package plugin.
func (f *Folder) Routes() []plugin.Route {
	var rs []plugin.Route
	for _, r := range f.Manifest.Routes() {
		rs = append(rs, plugin.Route{Path: r.Path, Methods: r.Methods, Handler: r.Handler})
	}
	return rs
}

// Services builds the host services the manifest asks for.
func (f *Folder) Services(o Options) (*host.Services, error) {
	if o.Storage == nil {
		o.Storage = storage.NewMemory()
	}
	if o.Kube == nil {
		o.Kube = kube.NewFixture()
	}
	cfg := f.Manifest.ConfigValues()
	for k, v := range o.Config {
		cfg[k] = v
	}
	return host.NewServices(host.Config{
		Plugin: f.Manifest.Metadata.Name, Logger: o.Logger, Config: cfg, Storage: o.Storage,
		Kube: o.Kube, Permissions: f.permissions(o), Limits: f.limits(o.Limits),
	})
}

func (f *Folder) permissions(o Options) []string {
	if o.Permissions != nil {
		return o.Permissions
	}
	return f.Manifest.Spec.Permissions
}

func (f *Folder) limits(l abi.Limits) abi.Limits {
	if l.MemoryPages == 0 {
		l.MemoryPages = f.Manifest.MemoryLimitPages()
	}
	return l
}

// Spec returns the plugin.Spec for these services.
func (f *Folder) Spec(svc abi.Imports, o Options) plugin.Spec {
	return plugin.Spec{Name: f.Manifest.Metadata.Name, Routes: f.Routes(), Imports: svc,
		Limits: f.limits(o.Limits), MaxInstances: o.MaxInstances}
}

// Load compiles the folder's wasm on eng and returns the checked plugin.
func (f *Folder) Load(ctx context.Context, eng engines.Engine, o Options) (*plugin.Plugin, error) {
	svc, err := f.Services(o)
	if err != nil {
		return nil, err
	}
	return plugin.Load(ctx, eng, f.Wasm, f.Spec(svc, o))
}
