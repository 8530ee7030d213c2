package manifest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

const (
	// FileName is the name of the manifest inside a plugin's folder.
	FileName = "plugin.yml"
	// APIVersion is the only apiVersion a manifest may declare in a strict
	// reading; Options.Lenient accepts any.
	APIVersion = "kubestellar.io/v1"
	// KindPlugin is the only kind a manifest may declare.
	KindPlugin = "Plugin"
)

// Manifest is a parsed plugin.yml. Its fields follow the reference host's
// schema; the yaml tags give each field's key.
//
// A Manifest returned by Parse or Load has passed every check listed under
// Parse. Changing its fields afterwards is allowed (tests do it) but is not
// checked again.
type Manifest struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`
	Spec       Spec     `yaml:"spec"`

	// Source is the file name given to Parse (the path, for Load). It is
	// not part of the YAML.
	Source string `yaml:"-"`

	// Warnings lists what a lenient reading (Options.Lenient) accepted but
	// kspbench does not use, ordered by position; a strict reading leaves
	// it nil. It is not part of the YAML.
	Warnings []Warning `yaml:"-"`

	// pos holds where each field path starts, for messages.
	pos map[string]position
}

// Metadata identifies a plugin.
type Metadata struct {
	// Name is the plugin's name, a DNS label; hosts serve its routes under
	// /api/plugins/<name>/.
	Name string `yaml:"name"`
	// Version is a semantic version 2.0.0, such as "1.0.0".
	Version     string `yaml:"version"`
	Author      string `yaml:"author,omitempty"`
	Description string `yaml:"description,omitempty"`
}

// Spec is what the plugin provides and needs.
type Spec struct {
	Wasm        Wasm     `yaml:"wasm,omitempty"`
	Build       Build    `yaml:"build,omitempty"`
	Backend     Backend  `yaml:"backend,omitempty"`
	Permissions []string `yaml:"permissions,omitempty"`
	Frontend    Frontend `yaml:"frontend,omitempty"`
	// Navigation, Widgets and Routes are the reference host's top-level
	// frontend sections. kspbench reads and type-checks them but does not
	// use them.
	Navigation    []NavigationItem `yaml:"navigation,omitempty"`
	Widgets       []Widget         `yaml:"widgets,omitempty"`
	Routes        []FrontendRoute  `yaml:"routes,omitempty"`
	Configuration []ConfigItem     `yaml:"configuration,omitempty"`
}

// Wasm describes the WebAssembly module.
type Wasm struct {
	// File is the module's file name, next to plugin.yml. See
	// Manifest.WasmFile for the default.
	File string `yaml:"file,omitempty"`
	// Entrypoint is the export the reference host runs as the module's
	// start function (the published manifests say "main"). It is kept for
	// hosts that follow that host; ABI v1 does not use it.
	Entrypoint string `yaml:"entrypoint,omitempty"`
	// MemoryLimit caps each instance's memory, such as "64MiB". See
	// ParseMemoryLimit for the accepted forms.
	MemoryLimit string `yaml:"memory_limit,omitempty"`
}

// Build records the tool versions the module was built with. Informational.
type Build struct {
	GoVersion     string `yaml:"go_version,omitempty"`
	TinyGoVersion string `yaml:"tinygo_version,omitempty"`
}

// Backend lists the HTTP routes the plugin serves.
type Backend struct {
	// Enabled turns the routes on; without it a host serves none of them.
	Enabled bool    `yaml:"enabled"`
	Routes  []Route `yaml:"routes,omitempty"`
}

// Route maps an HTTP path, relative to the plugin's prefix, to a handler
// export of the module.
type Route struct {
	Path    string   `yaml:"path"`
	Methods []string `yaml:"methods"`
	Handler string   `yaml:"handler"`

	// Line and Column locate the route's entry in the manifest (1-based; 0
	// for routes built in code), for messages.
	Line   int `yaml:"-"`
	Column int `yaml:"-"`
}

// Frontend is the reference host's UI integration. kspbench reads and
// type-checks it but does not use it.
type Frontend struct {
	Enabled    bool             `yaml:"enabled"`
	Navigation []NavigationItem `yaml:"navigation,omitempty"`
	Widgets    []Widget         `yaml:"widgets,omitempty"`
	Routes     []FrontendRoute  `yaml:"routes,omitempty"`
}

// NavigationItem is an entry of the UI's navigation menu.
type NavigationItem struct {
	Label    string `yaml:"label,omitempty"`
	Icon     string `yaml:"icon,omitempty"`
	Path     string `yaml:"path,omitempty"`
	Position string `yaml:"position,omitempty"`
	Order    int    `yaml:"order,omitempty"`
}

// Widget is a dashboard widget of the UI.
type Widget struct {
	Name      string `yaml:"name,omitempty"`
	Title     string `yaml:"title,omitempty"`
	Size      string `yaml:"size,omitempty"`
	Dashboard string `yaml:"dashboard,omitempty"`
	Component string `yaml:"component,omitempty"`
}

// FrontendRoute is a UI route.
type FrontendRoute struct {
	Path      string `yaml:"path,omitempty"`
	Component string `yaml:"component,omitempty"`
	Exact     bool   `yaml:"exact,omitempty"`
}

// ConfigItem declares a configuration key the plugin reads with
// host_get_config.
type ConfigItem struct {
	// Name is the key.
	Name string `yaml:"name"`
	// Type is one of string, integer, number, boolean, object, array, or
	// empty for any.
	Type string `yaml:"type,omitempty"`
	// Default is the value as YAML gives it: nil, string, bool, int, int64,
	// uint64, float64, []any or map[string]any (keys as written). Values
	// that look like timestamps stay strings.
	Default     any    `yaml:"default,omitempty"`
	Description string `yaml:"description,omitempty"`
}

// Options select how ParseWith and LoadWith read a manifest. The zero
// value is the strict reading of ABI v1, the one of Parse and Load.
type Options struct {
	// Lenient reads manifests written for the KubeStellar UI reference
	// host (kubestellar/ui, backend/pkg/plugins) as that host does:
	//   - any apiVersion is accepted, such as "cluster-monitor/v1";
	//   - an unknown key anywhere (the published manifests have spec.info)
	//     is ignored with a Warning instead of being an error;
	//   - spec.build, spec.frontend, spec.navigation, spec.widgets and
	//     spec.routes are read and checked as in a strict reading, each with
	//     a Warning that kspbench does not use it;
	//   - an enabled backend without routes is a frontend-only plugin: it
	//     loads with a Warning and HasBackend reports false.
	// Every other rule of Parse holds, and so do the limits (MaxValueDepth
	// and the others). The warnings are in Manifest.Warnings.
	Lenient bool
}

// Parse reads a manifest from data and checks it. filename names the data
// in messages; it is not opened. It is ParseWith with the zero Options:
// the strict reading of ABI v1.
//
// Parse checks that:
//   - the data is at most MaxFileSize bytes of one YAML document holding a
//     mapping, with no unknown and no duplicate keys at any level, and each
//     value of the expected type;
//   - apiVersion is APIVersion and kind is KindPlugin;
//   - metadata.name is a DNS label (RFC 1123) and metadata.version a
//     semantic version 2.0.0 without a leading "v";
//   - each backend route has a path that starts with "/" and holds no "..",
//     "//", "?", "#" or white space, unique among the routes; one or more
//     distinct methods among GET, POST, PUT, PATCH and DELETE; and a handler
//     that is a valid export name and not one the ABI reserves (memory,
//     allocate, deallocate, _initialize, ksp_abi_version_*); an enabled
//     backend has at least one route;
//   - each permission is one of abi.KnownPermissions, listed once;
//   - spec.wasm.file, when given, is a plain file name ending in ".wasm",
//     and spec.wasm.memory_limit is accepted by ParseMemoryLimit;
//   - each configuration item has a unique name matching
//     [A-Za-z_][A-Za-z0-9_.-]*, a known type when one is given, and a
//     default of that type;
//   - no key or scalar is longer than MaxScalarLength, no default nests
//     deeper than MaxValueDepth or holds more than MaxValueNodes values,
//     and the defaults together hold at most MaxConfigBytes of text.
//
// # Errors
//
// Any problem, including a YAML syntax error, comes back as a
// *ValidationError that lists every problem found (at most MaxProblems),
// with a nil Manifest.
func Parse(data []byte, filename string) (*Manifest, error) {
	return ParseWith(data, filename, Options{})
}

// ParseWith is Parse with options: Options{Lenient: true} reads the
// manifests of the KubeStellar UI reference host.
//
// # Errors
//
// As for Parse.
func ParseWith(data []byte, filename string, opts Options) (*Manifest, error) {
	p := &problems{file: filename}
	if len(data) > MaxFileSize {
		p.addError(0, 0, schemaPath(""), nil, "the manifest is %d bytes; it may be at most %d (manifest.MaxFileSize)",
			len(data), MaxFileSize)
		return nil, p.validationError()
	}
	root, errs := parseYAML(data, filename)
	if len(errs) > 0 {
		p.errs = errs
		return nil, p.validationError()
	}
	m := &Manifest{Source: filename}
	d := newDecoder(p, len(data), opts.Lenient)
	if root != nil {
		d.pos[""] = position{root.Line, root.Column}
	}
	d.manifest(root, m)
	m.pos = d.pos
	if !d.over {
		m.validate(&validator{problems: p, pos: d.pos, bad: d.bad, lenient: opts.Lenient})
	}
	if p.errorCount() > 0 {
		return nil, p.validationError()
	}
	m.Warnings = p.warnings()
	return m, nil
}

// Load reads and checks the manifest at path, which is either a manifest
// file or a plugin folder holding FileName. Messages name the file by the
// path Load opened. It is LoadWith with the zero Options.
//
// # Errors
//
// Problems with the manifest's content come back as a *ValidationError, as
// from Parse; a file that cannot be read, or that is larger than
// MaxFileSize, as an error wrapping the cause.
func Load(path string) (*Manifest, error) {
	return LoadWith(path, Options{})
}

// LoadWith is Load with options, read as ParseWith reads them.
//
// # Errors
//
// As for Load.
func LoadWith(path string, opts Options) (*Manifest, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	if fi.IsDir() {
		path = filepath.Join(path, FileName)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load manifest[%s]: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("load manifest[%s]: file is larger than %d bytes", path, MaxFileSize)
	}
	return ParseWith(data, path, opts)
}

// WasmFile returns the module's file name: spec.wasm.file, or the plugin's
// name followed by ".wasm" when that is not given.
func (m *Manifest) WasmFile() string {
	if m.Spec.Wasm.File != "" {
		return m.Spec.Wasm.File
	}
	return m.Metadata.Name + ".wasm"
}

// MemoryLimitPages returns spec.wasm.memory_limit in 64 KiB WebAssembly
// pages, rounded down, or 0 when no limit is set (the host's default then
// applies). Units are those of ParseMemoryLimit: "64MB" is 64×10^6 bytes
// (976 pages), "64MiB" and "64Mi" are 64×2^20 bytes (1024 pages).
func (m *Manifest) MemoryLimitPages() uint32 {
	if m.Spec.Wasm.MemoryLimit == "" {
		return 0
	}
	pages, err := ParseMemoryLimit(m.Spec.Wasm.MemoryLimit)
	if err != nil {
		return 0 // Parse rejected it; only a manifest changed in code gets here
	}
	return pages
}

// Routes returns the backend routes when spec.backend.enabled is true, and
// none otherwise, in manifest order. The slice is the manifest's own.
func (m *Manifest) Routes() []Route {
	if !m.Spec.Backend.Enabled {
		return nil
	}
	return m.Spec.Backend.Routes
}

// HasBackend reports whether the plugin serves backend routes: its backend
// is enabled and declares at least one. A plugin without a backend, such as
// a frontend-only plugin read with Options.Lenient, names no handler
// exports (Handlers is empty).
func (m *Manifest) HasBackend() bool { return len(m.Routes()) > 0 }

// Handlers returns the distinct handler names of Routes, in order of first
// use: the exports a module must provide besides the ABI's own.
func (m *Manifest) Handlers() []string {
	var hs []string
	seen := make(map[string]bool)
	for _, r := range m.Routes() {
		if !seen[r.Handler] {
			seen[r.Handler] = true
			hs = append(hs, r.Handler)
		}
	}
	return hs
}
