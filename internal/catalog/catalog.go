// Package catalog is the one list of the engines kspbench knows: each
// engine's name, the build tag that links it, whether it needs cgo, the
// shared library its binary needs beside it, the platforms it links on, and
// the configurations it offers. The worker build, the isolation test, the
// report's engine order, the CLI's help and the Makefile all read it.
//
// It imports no engine adapter, only package engines for the Config an
// engine configuration maps to: it is data, near the bottom of the import
// graph, so that reports and the CLI can know the engines without linking
// them.
package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// Engine is one engine kspbench can build a worker for.
type Engine struct {
	// Name is the name the engine registers with engines.Register.
	Name string
	// Tag is the build tag that links it into cmd/kspbench; empty when it is
	// always linked.
	Tag string
	// Module is the Go module of its binding, as the worker's build
	// information lists it.
	Module string
	// Package is the binding's Go package that the adapter imports.
	Package string
	// Cgo is true when the binding needs cgo; at most one cgo engine may be
	// linked into one process (their C symbols clash).
	Cgo bool
	// Library is the shared library the worker loads at run time and that
	// must travel beside it ("" when the engine links statically). It is
	// found in the binding's module under LibraryDir.
	Library func(goos string) string
	// LibraryPackage is the binding's Go package whose directory holds the
	// library, under LibraryDir(goos, goarch).
	LibraryPackage string
	// LibraryDir is the folder of Library inside LibraryPackage's directory,
	// for goos-goarch.
	LibraryDir func(goos, goarch string) string
	// Unsupported lists the goos/goarch pairs the engine does not link on,
	// each with the reason.
	Unsupported map[string]string
	// Doc says in one line what the engine is.
	Doc string
}

// Engines lists the engines in report order.
var Engines = []Engine{
	{
		Name:    "wazero",
		Module:  "github.com/tetratelabs/wazero",
		Package: "github.com/tetratelabs/wazero",
		Doc:     "pure Go (tetratelabs/wazero): compiler on amd64/arm64, interpreter elsewhere",
	},
	{
		Name:    "wasmtime",
		Tag:     "wasmtime",
		Module:  "github.com/bytecodealliance/wasmtime-go/v39",
		Package: "github.com/bytecodealliance/wasmtime-go/v39",
		Cgo:     true,
		Doc:     "wasmtime-go: Cranelift, libwasmtime linked statically",
	},
	{
		Name:    "wasmer",
		Tag:     "wasmer",
		Module:  "github.com/wasmerio/wasmer-go",
		Package: "github.com/wasmerio/wasmer-go/wasmer",
		Cgo:     true,
		Library: func(goos string) string {
			if goos == "darwin" {
				return "libwasmer.dylib"
			}
			return "libwasmer.so"
		},
		LibraryPackage: "github.com/wasmerio/wasmer-go/wasmer",
		LibraryDir: func(goos, goarch string) string {
			arch := map[string]string{"amd64": "amd64", "arm64": "aarch64"}[goarch]
			return "packaged/lib/" + goos + "-" + arch
		},
		Unsupported: map[string]string{
			"linux/arm64": "wasmer-go 1.0.4 does not link on linux/arm64 (its cgo line for that platform is commented out, and the library it ships there is Wasmer 1.0.2)",
		},
		Doc: "wasmer-go 1.0.4: Wasmer 2.0, Cranelift, libwasmer loaded at run time",
	},
}

// Names returns every engine's name, in report order.
func Names() []string {
	out := make([]string, len(Engines))
	for i, e := range Engines {
		out[i] = e.Name
	}
	return out
}

// Lookup returns the engine called name.
func Lookup(name string) (Engine, bool) {
	i := slices.IndexFunc(Engines, func(e Engine) bool { return e.Name == name })
	if i < 0 {
		return Engine{}, false
	}
	return Engines[i], true
}

// Get returns the engine called name, or an error that lists the known ones.
func Get(name string) (Engine, error) {
	if e, ok := Lookup(name); ok {
		return e, nil
	}
	return Engine{}, fmt.Errorf("unknown engine %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Supported returns why the engine does not link on goos/goarch, or "".
func (e Engine) Supported(goos, goarch string) (ok bool, why string) {
	why, bad := e.Unsupported[goos+"/"+goarch]
	return !bad, why
}

// On returns the names of the engines that link on goos/goarch, in report
// order.
func On(goos, goarch string) []string {
	var out []string
	for _, e := range Engines {
		if ok, _ := e.Supported(goos, goarch); ok {
			out = append(out, e.Name)
		}
	}
	return out
}

// Tags returns the build tags that link the engine ("" tags left out).
func (e Engine) Tags() []string {
	if e.Tag == "" {
		return nil
	}
	return []string{e.Tag}
}

// CgoModules maps the Go module of each cgo engine's binding to the engine's
// name.
func CgoModules() map[string]string {
	m := map[string]string{}
	for _, e := range Engines {
		if e.Cgo {
			m[e.Module] = e.Name
		}
	}
	return m
}

// Rank returns the position of name in report order; unknown engines come
// after every known one.
func Rank(name string) int {
	if i := slices.IndexFunc(Engines, func(e Engine) bool { return e.Name == name }); i >= 0 {
		return i
	}
	return len(Engines)
}
