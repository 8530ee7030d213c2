// Package inspect prints what a plugin folder (or a lone .wasm) holds, for
// kspbench inspect: the manifest summary, the module's size, the ABI profile
// it follows and why, its exports and imports checked against that profile,
// and, for a plugin of another profile, what to change to reach ABI v1.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/manifest"
	"github.com/kspbench/kspbench/plugin"
	"github.com/kspbench/kspbench/plugindir"
)

// Inspect writes the report on path (a plugin folder or a .wasm file) to
// stdout, decoding the module with engine, under the forced profile or, when
// forced is nil, the one read from the module and manifest.
//
// # Errors
//
// Inspect returns an error when the plugin cannot be read or compiled, or
// when its exports or imports break its profile (the report says which).
func Inspect(ctx context.Context, stdout io.Writer, path, engine string, forced *abi.Profile) error {
	var (
		m        *manifest.Manifest
		f        *plugindir.Folder
		wasm     []byte
		wasmPath = path
		profile  *abi.Profile
		evidence []abi.Evidence
	)
	if st, err := os.Stat(path); err != nil {
		return fmt.Errorf("inspect: %w", err)
	} else if st.IsDir() {
		if f, err = plugindir.ReadWith(path, forced); err != nil {
			return fmt.Errorf("inspect: %w", err)
		}
		m, wasm, profile, evidence = f.Manifest, f.Wasm, f.Profile, f.Evidence
		wasmPath = filepath.Join(path, m.WasmFile())
	} else {
		if wasm, err = os.ReadFile(wasmPath); err != nil {
			return fmt.Errorf("inspect: %w", err)
		}
	}
	info, err := plugin.ReadModule(wasm)
	if err != nil {
		return fmt.Errorf("inspect: %s: %w", wasmPath, err)
	}
	if profile == nil {
		if profile, evidence, err = plugin.ChooseProfile(info, forced, nil); err != nil {
			return fmt.Errorf("inspect: %s: %w", wasmPath, err)
		}
	}
	var handlers []string
	var entrypoint string
	if m != nil {
		md := m.Metadata
		fmt.Fprintf(stdout, "plugin       %s %s by %s\n", md.Name, md.Version, md.Author)
		if md.Description != "" {
			fmt.Fprintf(stdout, "description  %s\n", md.Description)
		}
		for _, r := range m.Routes() {
			fmt.Fprintf(stdout, "route        %-7s %s -> %s\n", strings.Join(r.Methods, ","), r.Path, r.Handler)
		}
		if len(m.Routes()) == 0 {
			fmt.Fprintf(stdout, "route        none: no backend (a frontend-only plugin)\n")
		}
		for _, p := range m.Spec.Permissions {
			fmt.Fprintf(stdout, "permission   %s\n", p)
		}
		if pages := m.MemoryLimitPages(); pages != 0 {
			fmt.Fprintf(stdout, "memory limit %d pages (%d MiB)\n", pages, pages*abi.PageSize>>20)
		}
		for _, w := range f.Warnings {
			fmt.Fprintf(stdout, "manifest     warning: %s\n", w)
		}
		handlers, entrypoint = m.Handlers(), m.Spec.Wasm.Entrypoint
	}
	fmt.Fprintf(stdout, "wasm         %s, %d bytes (%.1f MiB)\n", wasmPath, len(wasm), float64(len(wasm))/(1<<20))
	fmt.Fprintf(stdout, "abi profile  %s: %s\n", profile.Name, profile.Summary)
	for _, e := range evidence {
		fmt.Fprintf(stdout, "  because    %s\n", e.Reason)
	}
	if profile != abi.V1 {
		fmt.Fprintf(stdout, "  kept       kspbench's own safety, where the reference host has none: one call per instance at a time, every range checked, memory, deadline and size limits, Kubernetes permissions enforced (abi/ABI.md §12)\n")
	}
	eng, err := engines.Open(engine, engines.Config{})
	if err != nil {
		return err
	}
	defer eng.Close(ctx)
	mod, err := eng.Compile(ctx, wasm, engines.ModuleConfig{Profile: profile})
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	defer mod.Close(ctx)
	for _, e := range mod.Exports() {
		switch e.Kind {
		case abi.KindFunc:
			fmt.Fprintf(stdout, "export       %s %s\n", e.Name, e.Type)
		case abi.KindMemory:
			fmt.Fprintf(stdout, "export       %s (memory)\n", e.Name)
		}
	}
	for _, im := range info.Imports {
		fmt.Fprintf(stdout, "import       %s\n", im)
	}
	var failed error
	if err := profile.CheckImports(info.Imports); err != nil {
		fmt.Fprintf(stdout, "abi          %s: FAILS: %v\n", profile.Name, err)
		failed = err
	}
	if err := profile.CheckExports(mod.Exports(), handlers, entrypoint); err != nil {
		fmt.Fprintf(stdout, "abi          %s: FAILS: %v\n", profile.Name, err)
		failed = errors.Join(failed, err)
	}
	if failed == nil {
		fmt.Fprintf(stdout, "abi          %s: exports and imports conform\n", profile.Name)
	}
	if profile != abi.V1 {
		changes := toV1(info, m, handlers, f)
		fmt.Fprintf(stdout, "to reach ABI v1 (%d changes):\n", len(changes))
		for i, c := range changes {
			fmt.Fprintf(stdout, "  %d. %s\n     why: %s\n", i+1, c.change, c.why)
		}
	}
	return failed
}

// change is one step from the kubestellar-ui profile to ABI v1.
type change struct{ change, why string }

// toV1 lists what to change in a plugin of the kubestellar-ui profile so that
// it follows ABI v1 (abi/ABI.md §12 lists the differences), from its module
// and, when there is one, its manifest.
func toV1(info plugin.ModuleInfo, m *manifest.Manifest, handlers []string, f *plugindir.Folder) []change {
	var cs []change
	var ksHandlers []string
	for _, h := range handlers {
		if e, ok := info.Exports.Lookup(h); ok && e.Type.Equal(abi.KubeStellarHandlerType) {
			ksHandlers = append(ksHandlers, h)
		}
	}
	if len(ksHandlers) > 0 {
		cs = append(cs, change{
			fmt.Sprintf("handlers %s: type %s -> %s (in Go: func(ptr, size uint32) uint64)",
				strings.Join(ksHandlers, ", "), abi.KubeStellarHandlerType, abi.HandlerType),
			"a wasm32 pointer and length are i32; the i64 parameters are TinyGo's uint64, which the reference host fills with (ptr, len) and v1 does not accept",
		})
	}
	if len(handlers) > 0 || hasExport(info, abi.ExportAllocate) {
		cs = append(cs, change{
			"build with the standard Go toolchain (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared), marking exports //go:wasmexport name instead of //export name",
			"to the standard Go compiler //export is a cgo directive: the build succeeds and exports nothing; -buildmode=c-shared makes a WASI reactor whose runtime _initialize sets up, which v1 calls",
		})
	}
	if _, ok := info.Exports.Lookup(abi.StartExport); ok && !hasExport(info, abi.ExportInitialize) {
		cs = append(cs, change{
			"build a WASI reactor (exports _initialize) instead of a command (exports _start)",
			"a command's _start runs main and calls proc_exit(0), which closes the instance; v1 calls _initialize and never _start, so a command's runtime is never initialised",
		})
	}
	if len(handlers) > 0 || hasExport(info, abi.ExportAllocate) {
		cs = append(cs, change{
			"allocate: return a fresh non-zero address inside memory for every size, 0 included, and reclaim what the host gives back (export deallocate, or reset at the start of each call)",
			"v1 calls deallocate on each request region and expects memory to stay bounded; a bump allocator that never resets wears an instance out after a few thousand calls (kspbench recycles instances only under kubestellar-ui), and results copied through a fixed 1024-byte array trap past 1 KiB",
		})
		cs = append(cs, change{
			"results: return ptr<<32|len with len 0 for an empty body; pointer 0 with a non-zero length only for a status (ABI.md §5)",
			"the reference host answers {} for a pointer or length of 0; v1 reads pointer 0 with a length as a failure status and an empty length as an empty body, so a guest's bug is not turned into a success",
		})
	}
	var ksImports []string
	for _, im := range info.Imports {
		if im.Module != abi.ImportModule {
			continue
		}
		if hf, ok := abi.KubeStellarUI.HostFunc(im.Name); ok && hf.Type.Equal(im.Type) {
			if v1, ok := abi.V1.HostFunc(im.Name); !ok || !v1.Type.Equal(im.Type) {
				ksImports = append(ksImports, fmt.Sprintf("%s %s -> %s", im.Name, im.Type, v1.Type))
			}
		}
	}
	if len(ksImports) > 0 {
		cs = append(cs, change{
			"imports: " + strings.Join(ksImports, "; "),
			"the reference host's imports return a bare pointer with no length (kspbench adds a NUL); v1's return ptr<<32|len, or a status when the pointer is 0, so a guest can tell absent from failed",
		})
	}
	if m != nil {
		if f != nil && len(f.Warnings) > 0 || m.APIVersion != manifest.APIVersion {
			cs = append(cs, change{
				fmt.Sprintf("plugin.yml: apiVersion: %s; fix what the warnings above name", manifest.APIVersion),
				"v1 reads manifests strictly: any other apiVersion and unknown keys (usually typos) are errors",
			})
		}
		if m.Spec.Wasm.Entrypoint != "" {
			cs = append(cs, change{
				"plugin.yml: drop spec.wasm.entrypoint",
				"v1 runs _initialize and no named entry point (the published manifests name \"main\", which no published module exports)",
			})
		}
		if len(handlers) == 0 {
			cs = append(cs, change{
				"a frontend-only plugin: set spec.backend.enabled: false (or drop spec.backend), and export memory and allocate if it is to load under v1",
				"v1 requires memory and allocate of every module, with or without handlers",
			})
		}
	}
	return cs
}

func hasExport(info plugin.ModuleInfo, name string) bool {
	_, ok := info.Exports.Lookup(name)
	return ok
}
