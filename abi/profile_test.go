package abi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/abi"
)

func funcImport(module, name string, t abi.FuncType) abi.Import {
	return abi.Import{Module: module, Name: name, Kind: "func", Type: t}
}

func TestDetectProfile(t *testing.T) {
	i32, i64 := abi.I32, abi.I64
	ksConfig := funcImport("env", "host_get_config", abi.FuncType{Params: []abi.ValueType{i32}, Results: []abi.ValueType{i32}})
	v1Config := funcImport("env", "host_get_config", abi.FuncType{Params: []abi.ValueType{i32, i32}, Results: []abi.ValueType{i64}})
	weak := abi.Evidence{Profile: abi.KubeStellarUI, Reason: "manifest"}
	for _, c := range []struct {
		name     string
		exports  abi.Exports
		imports  []abi.Import
		handlers []string
		weak     []abi.Evidence
		want     *abi.Profile
		err      []string
	}{
		{"v1 handler", abi.Exports{fn("h", abi.HandlerType)}, nil, []string{"h"}, nil, abi.V1, nil},
		{"ks handler", abi.Exports{fn("h", abi.KubeStellarHandlerType)}, nil, []string{"h"}, nil, abi.KubeStellarUI, nil},
		{"ks import", nil, []abi.Import{ksConfig}, nil, nil, abi.KubeStellarUI, nil},
		{"v1 import", nil, []abi.Import{v1Config}, nil, []abi.Evidence{weak}, abi.V1, nil},
		{"marker", abi.Exports{fn("ksp_abi_version_1", abi.InitializeType)}, nil, nil, nil, abi.V1, nil},
		{"weak only", nil, nil, nil, []abi.Evidence{weak}, abi.KubeStellarUI, nil},
		{"nothing", nil, nil, nil, nil, abi.V1, nil},
		{"mixed handlers", abi.Exports{fn("a", abi.HandlerType), fn("b", abi.KubeStellarHandlerType)}, nil, []string{"a", "b"}, nil, nil,
			[]string{"as v1 because handler a", "as kubestellar-ui because handler b"}},
		{"v1 handler, ks import", abi.Exports{fn("a", abi.HandlerType)}, []abi.Import{ksConfig}, []string{"a"}, nil, nil,
			[]string{"as v1", "as kubestellar-ui because import env.host_get_config (i32) -> (i32)"}},
	} {
		got, _, err := abi.DetectProfile(c.exports, c.imports, c.handlers, c.weak...)
		if c.err != nil {
			if !errors.Is(err, abi.ErrAmbiguous) {
				t.Errorf("%s: got %v, %v; want ErrAmbiguous", c.name, got, err)
				continue
			}
			for _, w := range c.err {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q does not mention %q", c.name, err, w)
				}
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestCheckImports(t *testing.T) {
	fdWrite, _ := abi.WASIFunc("fd_write")
	ok := []abi.Import{
		funcImport("wasi_snapshot_preview1", "fd_write", fdWrite),
		funcImport("env", "host_log", abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I32}}),
	}
	for _, p := range abi.Profiles {
		if err := p.CheckImports(ok); err != nil {
			t.Errorf("profile %s: %v", p, err)
		}
	}
	for _, c := range []struct {
		name    string
		profile *abi.Profile
		imports []abi.Import
		words   []string
	}{
		{"gojs", abi.V1, []abi.Import{funcImport("gojs", "runtime.ticks", abi.FuncType{}), funcImport("gojs", "syscall/js.valueGet", abi.FuncType{})},
			[]string{`"gojs"`, "GOOS=js", "tinygo build -target wasi"}},
		{"go", abi.V1, []abi.Import{funcImport("go", "debug", abi.FuncType{})}, []string{"GOOS=js"}},
		{"wasi_unstable", abi.KubeStellarUI, []abi.Import{funcImport("wasi_unstable", "fd_write", fdWrite)}, []string{"old toolchains"}},
		{"unknown module", abi.V1, []abi.Import{funcImport("wasi:cli/stdout", "get", abi.FuncType{})}, []string{`module "wasi:cli/stdout" is not provided`}},
		{"unknown WASI function", abi.V1, []abi.Import{funcImport("wasi_snapshot_preview1", "fd_nope", abi.FuncType{})}, []string{"WASI preview 1 has no such function"}},
		{"WASI type", abi.V1, []abi.Import{funcImport("wasi_snapshot_preview1", "fd_write", abi.FuncType{})}, []string{"fd_write", "(i32, i32, i32, i32) -> (i32)"}},
		{"v1-only import under ks", abi.KubeStellarUI, []abi.Import{funcImport("env", "host_request_info", abi.FuncType{Results: []abi.ValueType{abi.I64}})},
			[]string{"profile kubestellar-ui has no host function host_request_info", "profile v1 has"}},
		{"ks type under v1", abi.V1, []abi.Import{funcImport("env", "host_storage_get", abi.FuncType{Params: []abi.ValueType{abi.I32, abi.I32}, Results: []abi.ValueType{abi.I32}})},
			[]string{"(i32, i32) -> (i64)", "profile kubestellar-ui's"}},
		{"memory import", abi.V1, []abi.Import{{Module: "env", Name: "memory", Kind: "memory"}}, []string{"only functions"}},
	} {
		err := c.profile.CheckImports(c.imports)
		if !errors.Is(err, abi.ErrImport) {
			t.Errorf("%s: got %v, want ErrImport", c.name, err)
			continue
		}
		for _, w := range c.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
		if c.name == "gojs" && strings.Count(err.Error(), "imports module") != 1 {
			t.Errorf("gojs: the cause is said more than once per module: %q", err)
		}
	}
}

func TestKubeStellarCheckExports(t *testing.T) {
	ks := abi.KubeStellarUI
	mem := abi.Export{Name: "memory", Kind: abi.KindMemory}
	if err := ks.CheckExports(abi.Exports{mem, fn("_start", abi.InitializeType)}, nil, "main"); err != nil {
		t.Errorf("frontend-only module: %v", err)
	}
	good := abi.Exports{mem, fn("allocate", abi.AllocateType), fn("h", abi.KubeStellarHandlerType), fn("main", abi.InitializeType)}
	if err := ks.CheckExports(good, []string{"h"}, "main"); err != nil {
		t.Errorf("reference-shaped module: %v", err)
	}
	for _, c := range []struct {
		name     string
		exports  abi.Exports
		entry    string
		target   error
		contains string
	}{
		{"no allocate", abi.Exports{mem, fn("h", abi.KubeStellarHandlerType)}, "", abi.ErrMissingExport, "export[allocate]"},
		{"v1 handler", abi.Exports{mem, fn("allocate", abi.AllocateType), fn("h", abi.HandlerType)}, "", abi.ErrSignature, "want (i64, i64) -> (i64)"},
		{"entry point type", append(abi.Exports{fn("main", abi.AllocateType)}, good[:3]...), "main", abi.ErrSignature, "spec.wasm.entrypoint"},
		{"marker", append(abi.Exports{fn("ksp_abi_version_1", abi.InitializeType)}, good...), "", abi.ErrVersion, "load the module as v1"},
	} {
		err := ks.CheckExports(c.exports, []string{"h"}, c.entry)
		if !errors.Is(err, c.target) || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%s: got %v, want %v mentioning %q", c.name, err, c.target, c.contains)
		}
	}
}

func TestProfileByName(t *testing.T) {
	for _, p := range abi.Profiles {
		if got, err := abi.ProfileByName(p.Name); err != nil || got != p {
			t.Errorf("ProfileByName(%q) = %v, %v", p.Name, got, err)
		}
	}
	if _, err := abi.ProfileByName("v2"); err == nil || !strings.Contains(err.Error(), "kubestellar-ui") {
		t.Errorf("unknown name: %v", err)
	}
}
