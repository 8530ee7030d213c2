package plugindir

import (
	"context"
	"errors"
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
	// Profile is the ABI profile the plugin follows, chosen by ReadWith;
	// Evidence says why.
	Profile  *abi.Profile
	Evidence []abi.Evidence
	// Warnings lists what a lenient reading of the manifest accepted but
	// kspbench does not use ("file:line:column: field: message"); empty
	// when the manifest passed the strict reading.
	Warnings []string
}

// Read reads dir's plugin.yml and the wasm file it names, and detects the
// plugin's ABI profile. It is ReadWith(dir, nil).
func Read(dir string) (*Folder, error) { return ReadWith(dir, nil) }

// ReadWith reads dir's plugin.yml and the wasm file it names, and chooses the
// plugin's ABI profile: profile when not nil (the CLI's --abi), else the one
// the module and the manifest show (plugin.ChooseProfile).
//
// The manifest is read strictly (ABI v1's rules, package manifest). When
// that fails, it is read as the KubeStellar UI reference host reads it
// (manifest.Options.Lenient: any apiVersion, unknown keys and a backend
// without routes accepted, with warnings); that reading is kept only for a
// plugin of profile kubestellar-ui, and counts as evidence for it.
//
// # Errors
//
// A manifest that fails both readings returns the lenient reading's
// problems; one that passes only the lenient reading, for a plugin of
// profile v1, returns the strict reading's problems, saying so.
func ReadWith(dir string, profile *abi.Profile) (*Folder, error) {
	path := filepath.Join(dir, manifest.FileName)
	m, strictErr := manifest.Load(path)
	var warnings []string
	if strictErr != nil {
		var verr *manifest.ValidationError
		if !errors.As(strictErr, &verr) {
			return nil, strictErr // not a problem of the content: the file cannot be read
		}
		if profile == abi.V1 {
			if _, _, err := loadLenient(path); err == nil {
				return nil, fmt.Errorf("ABI v1 reads manifests strictly, by kspbench's own rules, which the KubeStellar UI reference host does not apply (load with --abi auto or %s to read it as that host does): %w",
					abi.KubeStellarUI.Name, strictErr)
			}
			return nil, strictErr
		}
		var err error
		if m, warnings, err = loadLenient(path); err != nil {
			return nil, err
		}
	}
	wasm, err := os.ReadFile(filepath.Join(dir, m.WasmFile()))
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", m.Metadata.Name, err)
	}
	f := &Folder{Dir: dir, Manifest: m, Wasm: wasm, Warnings: warnings}
	info, err := plugin.ReadModule(wasm)
	if err != nil {
		// Bytes that do not decode: plugin.Load reports the compile error.
		f.Profile = profile
		if f.Profile == nil {
			f.Profile = abi.V1
		}
		return f, nil
	}
	var weak []abi.Evidence
	if strictErr != nil {
		weak = append(weak, abi.Evidence{Profile: abi.KubeStellarUI, Reason: "the manifest reads only as the reference host reads it"})
	}
	if m.APIVersion != manifest.APIVersion {
		weak = append(weak, abi.Evidence{Profile: abi.KubeStellarUI, Reason: fmt.Sprintf("the manifest's apiVersion is %q, not %q", m.APIVersion, manifest.APIVersion)})
	}
	if m.Spec.Wasm.Entrypoint != "" {
		weak = append(weak, abi.Evidence{Profile: abi.KubeStellarUI, Reason: "the manifest sets spec.wasm.entrypoint, which only the reference host uses"})
	}
	if f.Profile, f.Evidence, err = plugin.ChooseProfile(info, profile, m.Handlers(), weak...); err != nil {
		return nil, fmt.Errorf("plugin %s: %w", m.Metadata.Name, err)
	}
	if strictErr != nil && f.Profile == abi.V1 {
		return nil, fmt.Errorf("plugin %s follows ABI v1, whose manifests are read strictly (the lenient reading is for profile %s): %w",
			m.Metadata.Name, abi.KubeStellarUI.Name, strictErr)
	}
	return f, nil
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
		Limits: f.limits(o.Limits), MaxInstances: o.MaxInstances,
		Profile: f.Profile, Entrypoint: f.Manifest.Spec.Wasm.Entrypoint}
}

// Load compiles the folder's wasm on eng and returns the checked plugin.
func (f *Folder) Load(ctx context.Context, eng engines.Engine, o Options) (*plugin.Plugin, error) {
	svc, err := f.Services(o)
	if err != nil {
		return nil, err
	}
	return plugin.Load(ctx, eng, f.Wasm, f.Spec(svc, o))
}
