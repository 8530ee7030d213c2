package abi

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Profile is one contract between a host and its guests: the handlers'
// signature, the host imports of module env, and how a handler call goes.
// ABI v1 (V1) is kspbench's own contract; KubeStellarUI is the contract of the
// KubeStellar UI reference host, so that the plugins published for it run
// unchanged. Profiles are values of this package; hosts never build their own.
//
// # Notes
//
// A profile changes what crosses the boundary, never the host's safety: under
// every profile an instance serves one call at a time, ranges are checked,
// limits and deadlines apply, and Kubernetes calls are checked against the
// manifest's permissions.
type Profile struct {
	// Name is how the CLI and reports name the profile: "v1",
	// "kubestellar-ui".
	Name string
	// Summary says in one line what the profile is.
	Summary string
	// HandlerType is the type of every handler export.
	HandlerType FuncType
	// HostFuncs are the functions of module env the host binds for guests
	// of this profile. Names may repeat across profiles with other types,
	// so an engine binds one profile's table per module.
	HostFuncs []HostFunc
	// AllocateEmptyBody: the host calls allocate(0) for an empty body and
	// passes the pointer it returns (the reference host does), instead of
	// passing (0, 0) without calling allocate.
	AllocateEmptyBody bool
	// EmptyResult, when not nil, is the response to a handler result whose
	// pointer or length is 0 (the reference host answers "{}" with status
	// 200). When nil, ABI v1's rules apply: length 0 is an empty response,
	// pointer 0 with a length is a status.
	EmptyResult []byte
	// CallsDeallocate: the host calls the guest's deallocate, when exported,
	// on the request region after each call.
	CallsDeallocate bool
	// RunsEntrypoint: after _initialize, the host calls the export the
	// manifest's spec.wasm.entrypoint names, when the module exports it
	// (never _start, see StartExport).
	RunsEntrypoint bool
	// AllocateAlways: the module must export allocate and memory even when
	// the manifest names no handler. When false, a module with no handlers
	// (a frontend-only plugin) needs neither.
	AllocateAlways bool
	// VersionMarker: the module may declare its version with a
	// ksp_abi_version_<N> export, which the host checks.
	VersionMarker bool
	// MaxCallsPerInstance, when not 0, retires an instance after that many
	// handler calls; the pool makes a fresh one for the next call.
	MaxCallsPerInstance int
	// MaxGuestBytesPerInstance, when not 0, retires an instance once the
	// request and response bytes it has handled reach this many: guests of
	// the reference shape allocate both from a bump allocator that never
	// resets.
	MaxGuestBytesPerInstance uint64
	// Source says where the contract was read from.
	Source string
}

// StartExport is the WASI command entry point. No profile calls it: a TinyGo
// command's _start runs main and then calls proc_exit(0), which closes the
// instance on every engine.
const StartExport = "_start"

// KubeStellarRef is the commit of kubestellar/ui the KubeStellarUI profile was
// read from (2025-10-18, backend/pkg/plugins).
const KubeStellarRef = "kubestellar/ui@ab605a19ac1823e680f89952717ee49525acb1a8"

// Handler types of the profiles.
var (
	// KubeStellarHandlerType is (i64, i64) -> i64: TinyGo's uint64
	// parameters, which the reference host calls with (ptr, len).
	KubeStellarHandlerType = FuncType{Params: []ValueType{I64, I64}, Results: []ValueType{I64}}
)

// V1 is ABI v1, kspbench's own contract (ABI.md §1-§8).
var V1 = &Profile{
	Name:            "v1",
	Summary:         "kspbench ABI v1: (i32, i32) -> i64 handlers, packed import results with statuses",
	HandlerType:     HandlerType,
	HostFuncs:       HostFuncs,
	CallsDeallocate: true,
	AllocateAlways:  true,
	VersionMarker:   true,
	Source:          "abi/ABI.md",
}

// KubeStellarUI is the contract of the KubeStellar UI reference host as it is
// at KubeStellarRef (ABI.md §12).
var KubeStellarUI = &Profile{
	Name:                     "kubestellar-ui",
	Summary:                  "the KubeStellar UI reference host's contract: (i64, i64) -> i64 handlers, bare-pointer import results",
	HandlerType:              KubeStellarHandlerType,
	HostFuncs:                kubeStellarHostFuncs,
	AllocateEmptyBody:        true,
	EmptyResult:              []byte("{}"),
	RunsEntrypoint:           true,
	MaxCallsPerInstance:      1000,
	MaxGuestBytesPerInstance: 16 << 10,
	Source:                   KubeStellarRef + " backend/pkg/plugins/manager.go, wasm_runtime.go",
}

// Profiles lists every profile, V1 first.
var Profiles = []*Profile{V1, KubeStellarUI}

// ProfileNames returns the names of Profiles.
func ProfileNames() []string {
	var ns []string
	for _, p := range Profiles {
		ns = append(ns, p.Name)
	}
	return ns
}

// ProfileByName returns the profile called name.
func ProfileByName(name string) (*Profile, error) {
	for _, p := range Profiles {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("unknown ABI profile %q (known: %s)", name, strings.Join(ProfileNames(), ", "))
}

// HostFunc returns the profile's host function called name.
func (p *Profile) HostFunc(name string) (HostFunc, bool) {
	for _, hf := range p.HostFuncs {
		if hf.Name == name {
			return hf, true
		}
	}
	return HostFunc{}, false
}

func (p *Profile) String() string { return p.Name }

// CheckExports checks a module's exports against the profile for the given
// handler names and, under a profile that runs it, the manifest's entry
// point. The error names the first export at fault and wraps
// ErrMissingExport, ErrSignature or ErrVersion.
func (p *Profile) CheckExports(es Exports, handlers []string, entrypoint string) error {
	if p == V1 {
		return es.Check(handlers)
	}
	for _, e := range es {
		if strings.HasPrefix(e.Name, ExportVersionPrefix) {
			return fmt.Errorf("%w: export[%s] declares a kspbench ABI version, which profile %s does not have: load the module as v1",
				ErrVersion, e.Name, p.Name)
		}
	}
	if p.AllocateAlways || len(handlers) > 0 {
		if e, ok := es.Lookup(ExportMemory); !ok {
			return fmt.Errorf("%w: export[%s] (the guest's linear memory, which the host writes requests into)", ErrMissingExport, ExportMemory)
		} else if e.Kind != KindMemory {
			return fmt.Errorf("%w: export[%s] must be a memory", ErrSignature, ExportMemory)
		}
		if err := es.checkFunc(ExportAllocate, AllocateType, true); err != nil {
			return err
		}
	}
	if err := es.checkFunc(ExportInitialize, InitializeType, false); err != nil {
		return err
	}
	if p.RunsEntrypoint && entrypoint != "" && entrypoint != StartExport {
		if err := es.checkFunc(entrypoint, InitializeType, false); err != nil {
			return fmt.Errorf("spec.wasm.entrypoint: %w", err)
		}
	}
	for _, h := range handlers {
		if err := es.checkFunc(h, p.HandlerType, true); err != nil {
			return err
		}
	}
	return nil
}

// Import is one import of a module, as CheckImports and DetectProfile read
// it. Type is set for functions.
type Import struct {
	Module, Name string
	Kind         string // func, table, memory, global or tag
	Type         FuncType
}

func (i Import) String() string {
	if i.Kind == "func" {
		return fmt.Sprintf("%s.%s %s", i.Module, i.Name, i.Type)
	}
	return fmt.Sprintf("%s.%s (%s)", i.Module, i.Name, i.Kind)
}

// ErrImport: the module imports something the host does not provide, so it
// would not link.
var ErrImport = errors.New("abi: import the host does not provide")

// CheckImports checks every import of a module against what a host of this
// profile provides: the profile's env functions with their types, and the
// functions of WASI preview 1. The error lists every import at fault, each
// with what it usually means, and wraps ErrImport.
func (p *Profile) CheckImports(imports []Import) error {
	var bad []string
	said := map[string]bool{}
	for _, im := range imports {
		if msg := p.importProblem(im, said); msg != "" {
			bad = append(bad, msg)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w (profile %s): %s", ErrImport, p.Name, strings.Join(bad, "; "))
}

func (p *Profile) importProblem(im Import, said map[string]bool) string {
	switch im.Module {
	case ImportModule, WASIModule:
	case "gojs", "go":
		if said[im.Module] {
			return ""
		}
		said[im.Module] = true
		return fmt.Sprintf("imports module %q (%s.%s...): the module was built for GOOS=js (TinyGo -target wasm, or Go GOOS=js), "+
			"which needs a JavaScript host; rebuild it for WASI (tinygo build -target wasi, or GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared)",
			im.Module, im.Module, im.Name)
	case "wasi_unstable":
		if said[im.Module] {
			return ""
		}
		said[im.Module] = true
		return fmt.Sprintf("imports module %q (%s.%s...): that is the WASI of old toolchains (before wasi_snapshot_preview1); rebuild with a current toolchain",
			im.Module, im.Module, im.Name)
	default:
		return fmt.Sprintf("import %s: module %q is not provided (the host provides %s and %s)", im, im.Module, ImportModule, WASIModule)
	}
	if im.Kind != "func" {
		return fmt.Sprintf("import %s: the host provides only functions in module %s", im, im.Module)
	}
	var want FuncType
	if im.Module == WASIModule {
		t, ok := WASIFunc(im.Name)
		if !ok {
			return fmt.Sprintf("import %s: WASI preview 1 has no such function", im)
		}
		want = t
	} else {
		hf, ok := p.HostFunc(im.Name)
		if !ok {
			msg := fmt.Sprintf("import %s: profile %s has no host function %s", im, p.Name, im.Name)
			if o := otherProfileWith(p, im); o != nil {
				msg += fmt.Sprintf(" (profile %s has; the module mixes profiles, or needs --abi %s)", o.Name, o.Name)
			}
			return msg
		}
		want = hf.Type
	}
	if !im.Type.Equal(want) {
		msg := fmt.Sprintf("import %s: the host provides %s.%s with type %s", im, im.Module, im.Name, want)
		if o := otherProfileWith(p, im); o != nil {
			msg += fmt.Sprintf(" (the module's type is profile %s's)", o.Name)
		}
		return msg
	}
	return ""
}

// otherProfileWith returns a profile other than p that provides im with its
// exact type, or nil.
func otherProfileWith(p *Profile, im Import) *Profile {
	for _, o := range Profiles {
		if o == p || im.Module != ImportModule {
			continue
		}
		if hf, ok := o.HostFunc(im.Name); ok && hf.Type.Equal(im.Type) {
			return o
		}
	}
	return nil
}

// Evidence is one reason to read a module under a profile. Strong evidence
// comes from the module itself (a handler's type, an import's type, a version
// marker); weak evidence from elsewhere (the manifest) decides only when the
// module says nothing.
type Evidence struct {
	Profile *Profile
	Reason  string
	Strong  bool
}

// ErrAmbiguous: the module reads as two profiles at once.
var ErrAmbiguous = errors.New("abi: module matches more than one profile")

// DetectProfile chooses the profile a module follows from its exports, its
// imports, the handler names the manifest gives, and any weak evidence the
// caller adds (such as a manifest written for the reference host). It
// returns the profile with the evidence it rests on; with no evidence at all
// it returns V1.
//
// # Errors
//
// A module with strong evidence for two profiles (handlers of both types, or
// imports of one profile's types and handlers of another's) is an error
// wrapping ErrAmbiguous that names both readings and why.
func DetectProfile(es Exports, imports []Import, handlers []string, weak ...Evidence) (*Profile, []Evidence, error) {
	var ev []Evidence
	for _, h := range handlers {
		e, ok := es.Lookup(h)
		if !ok || e.Kind != KindFunc {
			continue
		}
		for _, p := range Profiles {
			if e.Type.Equal(p.HandlerType) {
				ev = append(ev, Evidence{p, fmt.Sprintf("handler %s has type %s", h, e.Type), true})
			}
		}
	}
	for _, im := range imports {
		if im.Module != ImportModule || im.Kind != "func" {
			continue
		}
		var match []*Profile
		for _, p := range Profiles {
			if hf, ok := p.HostFunc(im.Name); ok && hf.Type.Equal(im.Type) {
				match = append(match, p)
			}
		}
		if len(match) == 1 {
			ev = append(ev, Evidence{match[0], fmt.Sprintf("import %s", im), true})
		}
	}
	for _, e := range es {
		if strings.HasPrefix(e.Name, ExportVersionPrefix) {
			ev = append(ev, Evidence{V1, fmt.Sprintf("export %s declares a kspbench ABI version", e.Name), true})
		}
	}
	strong := profilesOf(ev)
	switch len(strong) {
	case 1:
		return strong[0], append(ev, weak...), nil
	case 0:
	default:
		var readings []string
		for _, p := range strong {
			var why []string
			for _, e := range ev {
				if e.Profile == p {
					why = append(why, e.Reason)
				}
			}
			readings = append(readings, fmt.Sprintf("as %s because %s", p.Name, strings.Join(why, ", ")))
		}
		return nil, ev, fmt.Errorf("%w: it reads %s; a module must follow one profile (rebuild it so every handler and import has one profile's types)",
			ErrAmbiguous, strings.Join(readings, ", and "))
	}
	if ws := profilesOf(weak); len(ws) == 1 {
		return ws[0], weak, nil
	}
	return V1, append(weak, Evidence{V1, "nothing in the module names a profile: v1 is the default", false}), nil
}

func profilesOf(ev []Evidence) []*Profile {
	var ps []*Profile
	for _, e := range ev {
		if !slices.Contains(ps, e.Profile) {
			ps = append(ps, e.Profile)
		}
	}
	return ps
}
