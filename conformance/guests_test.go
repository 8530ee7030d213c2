package conformance

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/kspbench/kspbench/abi"
)

// wat2wasmFlags are the flags testdata/build.sh passes to wat2wasm: they
// restrict the guests to WebAssembly 1.0. The two must stay the same, which
// TestGuestsMatchSources checks.
var wat2wasmFlags = []string{
	"--disable-bulk-memory",
	"--disable-reference-types",
	"--disable-sign-extension",
	"--disable-saturating-float-to-int",
	"--disable-multi-value",
	"--disable-simd",
}

// TestGuestsMatchSources rebuilds every testdata/*.wat with wat2wasm and
// checks that the committed .wasm is the same, byte for byte. Without
// wat2wasm it skips, unless KSPBENCH_REQUIRE_WAT2WASM=1.
func TestGuestsMatchSources(t *testing.T) {
	sources, err := filepath.Glob(filepath.Join("testdata", "*.wat"))
	if err != nil {
		t.Fatal(err)
	}
	binaries, err := filepath.Glob(filepath.Join("testdata", "*.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) == 0 {
		t.Fatal("no testdata/*.wat")
	}
	stem := func(paths []string, ext string) []string {
		var names []string
		for _, p := range paths {
			names = append(names, strings.TrimSuffix(filepath.Base(p), ext))
		}
		sort.Strings(names)
		return names
	}
	if w, b := stem(sources, ".wat"), stem(binaries, ".wasm"); !slices.Equal(w, b) {
		t.Fatalf("every .wat needs its .wasm and the reverse:\n.wat:  %v\n.wasm: %v", w, b)
	}

	script, err := os.ReadFile(filepath.Join("testdata", "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if flags := strings.Join(wat2wasmFlags, " "); !bytes.Contains(script, []byte(`WAT2WASM_FLAGS="`+flags+`"`)) {
		t.Errorf("testdata/build.sh does not set WAT2WASM_FLAGS=%q, the flags this test uses", flags)
	}

	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		if os.Getenv("KSPBENCH_REQUIRE_WAT2WASM") == "1" {
			t.Fatalf("KSPBENCH_REQUIRE_WAT2WASM=1 but wat2wasm is not on PATH (install wabt: apt-get install wabt): %v", err)
		}
		t.Skip("wat2wasm not on PATH, so the committed .wasm cannot be checked against their .wat (install wabt: apt-get install wabt; set KSPBENCH_REQUIRE_WAT2WASM=1 to make this a failure)")
	}

	out := t.TempDir()
	for _, src := range sources {
		name := strings.TrimSuffix(filepath.Base(src), ".wat")
		t.Run(name, func(t *testing.T) {
			built := filepath.Join(out, name+".wasm")
			args := append(slices.Clone(wat2wasmFlags), src, "-o", built)
			if msg, err := exec.CommandContext(t.Context(), tool, args...).CombinedOutput(); err != nil {
				t.Fatalf("wat2wasm %s: %v\n%s", src, err, msg)
			}
			want, err := os.ReadFile(built)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("testdata/%s.wasm (%d bytes) differs from wat2wasm %s.wat (%d bytes): run testdata/build.sh and commit the result",
					name, len(got), name, len(want))
			}
		})
	}
}

// guestShape is what a guest exports and imports.
type guestShape struct {
	// memoryPages is the initial size of the exported memory, 0 when the
	// guest exports none. No guest's memory has a maximum.
	memoryPages uint32
	// funcs are the exported functions and their types.
	funcs map[string]abi.FuncType
	// imports are the env functions the guest imports; their types must be
	// those of the guest's profile's HostFuncs.
	imports []string
	// wasi are the wasi_snapshot_preview1 functions the guest imports.
	wasi []string
	// profile is the ABI profile the guest follows; nil is abi.V1.
	profile *abi.Profile
	// foreign are imports of other modules, as "module.name": guests a
	// host must refuse for them.
	foreign []string
}

// guestShapes is the export and import list of every guest in testdata.
var guestShapes = func() map[string]guestShape {
	i32 := abi.I32
	none := abi.FuncType{}
	handler := abi.HandlerType
	return map[string]guestShape{
		"reference": {
			memoryPages: 2,
			funcs: map[string]abi.FuncType{
				"allocate":            abi.AllocateType,
				"deallocate":          abi.DeallocateType,
				"noop":                none,
				"call_host":           {Params: []abi.ValueType{i32}},
				"loop_n":              {Params: []abi.ValueType{i32}, Results: []abi.ValueType{abi.I64}},
				"handle_empty":        handler,
				"handle_echo":         handler,
				"handle_size":         handler,
				"handle_log":          handler,
				"handle_config":       handler,
				"handle_storage_set":  handler,
				"handle_storage_get":  handler,
				"handle_k8s":          handler,
				"handle_request_info": handler,
				"handle_set_status":   handler,
				"handle_call_host":    handler,
				"handle_loop_n":       handler,
			},
			imports: []string{
				abi.ImportLog, abi.ImportGetConfig, abi.ImportStorageGet, abi.ImportStorageSet,
				abi.ImportK8sAPICall, abi.ImportRequestInfo, abi.ImportSetResponseStatus,
			},
		},
		"edge": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":              abi.AllocateType,
				"deallocate":            abi.DeallocateType,
				"handle_ok":             handler,
				"handle_trap":           handler,
				"handle_oob_ptr":        handler,
				"handle_oob_len":        handler,
				"handle_oob_wrap":       handler,
				"handle_status":         handler,
				"handle_loop":           handler,
				"handle_grow":           handler,
				"handle_grow_trap":      handler,
				"handle_bad_import_ptr": handler,
				"handle_reentrant":      handler,
				"handle_stack_overflow": handler,
			},
			imports: []string{abi.ImportLog, abi.ImportGetConfig},
		},
		"alloc_zero": {
			memoryPages: 1,
			funcs:       map[string]abi.FuncType{"allocate": abi.AllocateType, "handle_echo": handler},
		},
		"alloc_oob": {
			memoryPages: 1,
			funcs:       map[string]abi.FuncType{"allocate": abi.AllocateType, "handle_echo": handler},
		},
		"alloc_trap": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":         abi.AllocateType,
				"handle_echo":      handler,
				"handle_reentrant": handler,
			},
			imports: []string{abi.ImportGetConfig},
		},
		"no_allocate": {
			memoryPages: 1,
			funcs:       map[string]abi.FuncType{"handle_echo": handler},
		},
		"no_memory": {
			funcs: map[string]abi.FuncType{"allocate": abi.AllocateType, "handle_echo": handler},
		},
		"bad_handler_sig": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":    abi.AllocateType,
				"handle_echo": {Params: []abi.ValueType{i32}, Results: []abi.ValueType{i32}},
			},
		},
		"abi_v2": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":          abi.AllocateType,
				"handle_echo":       handler,
				"ksp_abi_version_2": none,
			},
		},
		"abi_v1": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":          abi.AllocateType,
				"handle_echo":       handler,
				"ksp_abi_version_1": none,
			},
		},
		"big_memory": {
			memoryPages: 2000,
			funcs:       map[string]abi.FuncType{"allocate": abi.AllocateType, "handle_echo": handler},
		},
		"init": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":           abi.AllocateType,
				"_initialize":        abi.InitializeType,
				"handle_initialized": handler,
			},
		},
		"wasi": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":      abi.AllocateType,
				"handle_time":   handler,
				"handle_random": handler,
			},
			wasi: []string{"clock_time_get", "random_get"},
		},
		"storage_loop": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":            abi.AllocateType,
				"deallocate":          abi.DeallocateType,
				"handle_storage_loop": handler,
			},
			imports: []string{abi.ImportStorageSet},
		},
		"wasi_sleep": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":         abi.AllocateType,
				"handle_sleep":     handler,
				"handle_poll":      handler,
				"handle_monotonic": handler,
			},
			wasi: []string{"poll_oneoff", "clock_time_get"},
		},
		"ks_ref": {
			memoryPages: 2,
			profile:     abi.KubeStellarUI,
			funcs: map[string]abi.FuncType{
				"allocate":           abi.AllocateType,
				"deallocate":         abi.DeallocateType,
				"main":               none,
				"_start":             none,
				"handle_echo":        abi.KubeStellarHandlerType,
				"handle_null":        abi.KubeStellarHandlerType,
				"handle_started":     abi.KubeStellarHandlerType,
				"handle_alloc_seen":  abi.KubeStellarHandlerType,
				"handle_log":         abi.KubeStellarHandlerType,
				"handle_config":      abi.KubeStellarHandlerType,
				"handle_storage_set": abi.KubeStellarHandlerType,
				"handle_storage_get": abi.KubeStellarHandlerType,
				"handle_k8s":         abi.KubeStellarHandlerType,
			},
			imports: []string{"host_log", "host_get_config", "host_storage_get", "host_storage_set", "host_k8s_api_call"},
			wasi:    []string{"proc_exit"},
		},
		"ks_bump": {
			memoryPages: 2,
			profile:     abi.KubeStellarUI,
			funcs: map[string]abi.FuncType{
				"allocate":      abi.AllocateType,
				"handle_status": abi.KubeStellarHandlerType,
				"handle_once":   abi.KubeStellarHandlerType,
			},
		},
		"ks_mixed": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":  abi.AllocateType,
				"handle_v1": handler,
				"handle_ks": abi.KubeStellarHandlerType,
			},
		},
		"ks_frontend": {
			memoryPages: 2,
			profile:     abi.KubeStellarUI,
			funcs:       map[string]abi.FuncType{"_start": none},
			wasi:        []string{"proc_exit"},
		},
		"gojs": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":    abi.AllocateType,
				"handle_echo": handler,
			},
			foreign: []string{"gojs.runtime.ticks", "gojs.syscall/js.valueGet"},
		},
		"init_trap": {
			memoryPages: 1,
			funcs: map[string]abi.FuncType{
				"allocate":    abi.AllocateType,
				"_initialize": abi.InitializeType,
				"handle_echo": handler,
			},
		},
	}
}()

func guestFuncType(d api.FunctionDefinition) abi.FuncType {
	conv := func(vs []api.ValueType) []abi.ValueType {
		var out []abi.ValueType
		for _, v := range vs {
			out = append(out, abi.ValueType(v)) // the same binary encoding
		}
		return out
	}
	return abi.FuncType{Params: conv(d.ParamTypes()), Results: conv(d.ResultTypes())}
}

// TestGuestsDecode compiles every embedded guest with wazero and checks its
// exports and imports against guestShapes.
func TestGuestsDecode(t *testing.T) {
	entries, err := Guests.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var embedded []string
	for _, e := range entries {
		embedded = append(embedded, strings.TrimSuffix(e.Name(), ".wasm"))
	}
	var described []string
	for name := range guestShapes {
		described = append(described, name)
	}
	sort.Strings(embedded)
	sort.Strings(described)
	if !slices.Equal(embedded, described) {
		t.Fatalf("embedded guests %v, described guests %v", embedded, described)
	}

	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	for _, name := range described {
		want := guestShapes[name]
		t.Run(name, func(t *testing.T) {
			mod, err := rt.CompileModule(ctx, Guest(name))
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			defer mod.Close(ctx)

			mems := mod.ExportedMemories()
			if want.memoryPages == 0 {
				if len(mems) != 0 {
					t.Errorf("exports memories %v, want none", mems)
				}
			} else if m, ok := mems[abi.ExportMemory]; !ok || len(mems) != 1 {
				t.Errorf("exported memories %v, want just %q", mems, abi.ExportMemory)
			} else {
				if m.Min() != want.memoryPages {
					t.Errorf("memory starts at %d pages, want %d", m.Min(), want.memoryPages)
				}
				if max, ok := m.Max(); ok {
					t.Errorf("memory has a maximum of %d pages, want none", max)
				}
			}

			got := mod.ExportedFunctions()
			for fn, typ := range want.funcs {
				d, ok := got[fn]
				if !ok {
					t.Errorf("missing export %s %s", fn, typ)
					continue
				}
				if gt := guestFuncType(d); !gt.Equal(typ) {
					t.Errorf("export %s has type %s, want %s", fn, gt, typ)
				}
			}
			for fn, d := range got {
				if _, ok := want.funcs[fn]; !ok {
					t.Errorf("unexpected export %s %s", fn, guestFuncType(d))
				}
			}

			profile := want.profile
			if profile == nil {
				profile = abi.V1
			}
			hostTypes := map[string]abi.FuncType{}
			for _, f := range profile.HostFuncs {
				hostTypes[f.Name] = f.Type
			}
			var imported []string
			for _, d := range mod.ImportedFunctions() {
				module, fn, _ := d.Import()
				if module == "wasi_snapshot_preview1" && slices.Contains(want.wasi, fn) {
					continue
				}
				if slices.Contains(want.foreign, module+"."+fn) {
					continue
				}
				imported = append(imported, fn)
				if module != abi.ImportModule {
					t.Errorf("imports %s.%s, want only module %q", module, fn, abi.ImportModule)
					continue
				}
				typ, ok := hostTypes[fn]
				if !ok {
					t.Errorf("imports %s.%s, which profile %s does not define", module, fn, profile.Name)
				} else if gt := guestFuncType(d); !gt.Equal(typ) {
					t.Errorf("imports %s.%s as %s, profile %s's type is %s", module, fn, gt, profile.Name, typ)
				}
			}
			if len(mod.ImportedMemories()) != 0 {
				t.Errorf("imports a memory")
			}
			sort.Strings(imported)
			wantImports := slices.Sorted(slices.Values(want.imports))
			if !slices.Equal(imported, wantImports) {
				t.Errorf("imports %v, want %v", imported, wantImports)
			}
		})
	}
}

// TestGuestUnknown checks that Guest panics on a name it does not have.
func TestGuestUnknown(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Guest(\"nonexistent\") did not panic")
		}
	}()
	Guest("nonexistent")
}
