package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/wasmbin"
	"github.com/kspbench/kspbench/manifest"
)

// runInspect prints what a plugin folder (or a lone .wasm) holds: the manifest
// summary, the module's size, its exports checked against the ABI.
func runInspect(ctx context.Context, _ io.Reader, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := fs.String("engine", "wazero", "engine used to decode the module")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("inspect: want one argument, a plugin folder or a .wasm file")
	}
	path := fs.Arg(0)
	var m *manifest.Manifest
	wasmPath := path
	if st, err := os.Stat(path); err != nil {
		return fmt.Errorf("inspect: %w", err)
	} else if st.IsDir() {
		if m, err = manifest.Load(filepath.Join(path, "plugin.yml")); err != nil {
			return fmt.Errorf("inspect: %w", err)
		}
		wasmPath = filepath.Join(path, m.WasmFile())
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	var handlers []string
	if m != nil {
		md := m.Metadata
		fmt.Fprintf(stdout, "plugin       %s %s by %s\n", md.Name, md.Version, md.Author)
		if md.Description != "" {
			fmt.Fprintf(stdout, "description  %s\n", md.Description)
		}
		for _, r := range m.Routes() {
			fmt.Fprintf(stdout, "route        %-7s %s -> %s\n", strings.Join(r.Methods, ","), r.Path, r.Handler)
		}
		for _, p := range m.Spec.Permissions {
			fmt.Fprintf(stdout, "permission   %s\n", p)
		}
		if pages := m.MemoryLimitPages(); pages != 0 {
			fmt.Fprintf(stdout, "memory limit %d pages (%d MiB)\n", pages, pages*abi.PageSize>>20)
		}
		handlers = m.Handlers()
	}
	fmt.Fprintf(stdout, "wasm         %s, %d bytes (%.1f MiB)\n", wasmPath, len(wasm), float64(len(wasm))/(1<<20))
	eng, err := engines.Open(*engine, engines.Config{})
	if err != nil {
		return err
	}
	defer eng.Close(ctx)
	mod, err := eng.Compile(ctx, wasm, engines.ModuleConfig{})
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
	imports, err := wasmbin.Imports(wasm)
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	var unknown []string
	for _, im := range imports {
		fmt.Fprintf(stdout, "import       %s\n", im)
		if im.Module == abi.ImportModule && !slices.ContainsFunc(abi.HostFuncs, func(hf abi.HostFunc) bool { return hf.Name == im.Name }) {
			unknown = append(unknown, im.Name)
		}
	}
	if len(unknown) > 0 {
		err := fmt.Errorf("imports %s.%v, which ABI v%d does not define: the module will not link", abi.ImportModule, unknown, abi.Version)
		fmt.Fprintf(stdout, "abi          v%d: FAILS: %v\n", abi.Version, err)
		return err
	}
	if err := mod.Exports().Check(handlers); err != nil {
		fmt.Fprintf(stdout, "abi          v%d: FAILS: %v\n", abi.Version, err)
		return err
	}
	fmt.Fprintf(stdout, "abi          v%d: exports conform\n", abi.Version)
	return nil
}
