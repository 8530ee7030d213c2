package wasmbin_test

import (
	"bytes"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/internal/wasmbin"
)

// module builds a binary module from raw sections.
func module(sections ...[]byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range sections {
		b = append(b, s...)
	}
	return b
}

// section frames content as section id with a minimal size.
func section(id byte, content ...byte) []byte {
	return append([]byte{id, byte(len(content))}, content...) // content < 128 bytes in these tests
}

// padded frames content with its size as a 5-byte (non-minimal) LEB128.
func padded(id byte, content ...byte) []byte {
	n := len(content)
	return append([]byte{id, byte(n&0x7f | 0x80), 0x80, 0x80, 0x80, 0x00}, content...)
}

func name(s string) []byte { return append([]byte{byte(len(s))}, s...) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	customA = section(0, cat(name("a"), []byte("payload-a"))...)
	customB = section(0, cat(name("b"), []byte("payload-b"))...)
	// typeSec declares one type () -> (); funcImport imports env.f of it.
	typeSec = section(1, 0x01, 0x60, 0x00, 0x00)
)

func memories(t *testing.T, wasm []byte) []wasmbin.Memory {
	t.Helper()
	ms, err := wasmbin.Memories(wasm)
	if err != nil {
		t.Fatalf("Memories: %v", err)
	}
	return ms
}

func TestLimitMemories(t *testing.T) {
	imports := section(2, cat(
		[]byte{0x04},
		name("env"), name("f"), []byte{0x00, 0x00}, // func, type 0
		name("env"), name("t"), []byte{0x01, 0x70, 0x00, 0x01}, // table funcref, min 1
		name("env"), name("g"), []byte{0x03, 0x7f, 0x00}, // global i32, immutable
		name("env"), name("mem"), []byte{0x02, 0x00, 0x03}, // memory, min 3, no max
	)...)
	for _, c := range []struct {
		name      string
		wasm      []byte
		limit     uint32
		unchanged bool
		want      []wasmbin.Memory
	}{
		{"no max gets the limit", module(customA, section(5, 0x01, 0x00, 0x01), customB), 64, false,
			[]wasmbin.Memory{{Index: 0, Min: 1, Max: 64, HasMax: true}}},
		{"max below the limit is kept", module(section(5, 0x01, 0x01, 0x01, 0x0a)), 64, true,
			[]wasmbin.Memory{{Index: 0, Min: 1, Max: 10, HasMax: true}}},
		{"max at the limit is kept", module(section(5, 0x01, 0x01, 0x01, 0x40)), 64, true,
			[]wasmbin.Memory{{Index: 0, Min: 1, Max: 64, HasMax: true}}},
		{"max above the limit is lowered", module(section(5, 0x01, 0x01, 0x02, 0xe4, 0x00)), 64, false,
			[]wasmbin.Memory{{Index: 0, Min: 2, Max: 64, HasMax: true}}},
		{"min at the limit loads", module(section(5, 0x01, 0x00, 0x40)), 64, false,
			[]wasmbin.Memory{{Index: 0, Min: 64, Max: 64, HasMax: true}}},
		{"limit past 4 GiB caps a 32-bit memory at 65536 pages", module(section(5, 0x01, 0x00, 0x01)), 1 << 20, false,
			[]wasmbin.Memory{{Index: 0, Min: 1, Max: wasmbin.MaxPages32, HasMax: true}}},
		{"shared memory keeps its flag", module(section(5, 0x01, 0x03, 0x01, 0xff, 0x01)), 64, false,
			[]wasmbin.Memory{{Index: 0, Min: 1, Max: 64, HasMax: true, Shared: true}}},
		{"memory64", module(section(5, 0x01, 0x04, 0x01)), 1 << 20, false,
			[]wasmbin.Memory{{Index: 0, Min: 1, Max: 1 << 20, HasMax: true, Memory64: true}}},
		{"imported and defined memories", module(typeSec, imports, section(5, 0x01, 0x00, 0x02)), 64, false,
			[]wasmbin.Memory{
				{Index: 0, Imported: true, Module: "env", Name: "mem", Min: 3, Max: 64, HasMax: true},
				{Index: 1, Min: 2, Max: 64, HasMax: true},
			}},
		{"padded section sizes", module(padded(5, 0x01, 0x00, 0x01), padded(0, cat(name("c"), []byte("x"))...)), 64, false,
			[]wasmbin.Memory{{Index: 0, Min: 1, Max: 64, HasMax: true}}},
		{"no memory", module(typeSec, customA), 64, true, nil},
		{"header only", module(), 64, true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			orig := bytes.Clone(c.wasm)
			got, err := wasmbin.LimitMemories(c.wasm, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c.wasm, orig) {
				t.Fatal("LimitMemories changed its input")
			}
			if same := len(got) > 0 && &got[0] == &c.wasm[0]; same != c.unchanged {
				t.Errorf("result is the input itself: %v, want %v", same, c.unchanged)
			}
			ms := memories(t, got)
			if len(ms) != len(c.want) {
				t.Fatalf("memories %+v, want %+v", ms, c.want)
			}
			for i := range ms {
				if ms[i] != c.want[i] {
					t.Errorf("memory %d: %+v, want %+v", i, ms[i], c.want[i])
				}
			}
			checkOnlyMemoryLimitsDiffer(t, c.wasm, got)
		})
	}
}

func TestLimitMemoriesRefusesMemoryOverLimit(t *testing.T) {
	for _, c := range []struct {
		name  string
		wasm  []byte
		limit uint32
		words []string
	}{
		{"defined", module(section(5, 0x01, 0x00, 0xd0, 0x0f)), 1024, []string{"memory[0]", "2000 pages", "1024 pages"}},
		{"imported", module(section(2, cat([]byte{0x01}, name("env"), name("m"), []byte{0x02, 0x00, 0x41})...)), 64,
			[]string{"memory[0]", "imported env.m", "65 pages", "64 pages"}},
		{"big_memory guest", conformance.Guest("big_memory"), 1024, []string{"memory[0]", "2000 pages", "1024 pages"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := wasmbin.LimitMemories(c.wasm, c.limit)
			var le *wasmbin.LimitError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *LimitError", err)
			}
			for _, w := range c.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	for _, c := range []struct {
		name string
		wasm []byte
	}{
		{"empty", nil},
		{"text", []byte("(module)")},
		{"bad magic", []byte("\x00asn\x01\x00\x00\x00")},
		{"bad version", []byte("\x00asm\x02\x00\x00\x00")},
		{"section past the end", module([]byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00})},
		{"size cut short", module([]byte{0x05, 0x80})},
		{"size LEB too long", module([]byte{0x05, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})},
		{"size over 32 bits", module([]byte{0x05, 0xff, 0xff, 0xff, 0xff, 0x7f})},
		{"memory count past the section", module(section(5, 0x02, 0x00, 0x01))},
		{"limits cut short", module(section(5, 0x01, 0x01, 0x01))},
		{"unknown limits flags", module(section(5, 0x01, 0x08, 0x01))},
		{"bytes left in the memory section", module(section(5, 0x01, 0x00, 0x01, 0x00))},
		{"unknown import kind", module(section(2, cat([]byte{0x01}, name("env"), name("x"), []byte{0x09, 0x00})...))},
		{"import name past the section", module(section(2, 0x01, 0x10, 'e'))},
		{"truncated guest", conformance.Guest("reference")[:len(conformance.Guest("reference"))/2]},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := wasmbin.Memories(c.wasm); !errors.Is(err, wasmbin.ErrMalformed) {
				t.Errorf("Memories: got %v, want ErrMalformed", err)
			}
			if _, err := wasmbin.LimitMemories(c.wasm, 64); !errors.Is(err, wasmbin.ErrMalformed) {
				t.Errorf("LimitMemories: got %v, want ErrMalformed", err)
			}
		})
	}
}

// TestGuests rewrites every guest of the conformance suite: edge (1 page, no
// maximum) gains the limit as its maximum, and nothing but its memory section
// changes.
func TestGuests(t *testing.T) {
	files, err := fs.Glob(conformance.Guests, "testdata/*.wasm")
	if err != nil || len(files) == 0 {
		t.Fatalf("no guests (%v)", err)
	}
	for _, f := range files {
		g := strings.TrimSuffix(strings.TrimPrefix(f, "testdata/"), ".wasm")
		t.Run(g, func(t *testing.T) {
			wasm := conformance.Guest(g)
			before := memories(t, wasm)
			got, err := wasmbin.LimitMemories(wasm, 4096)
			if err != nil {
				t.Fatal(err)
			}
			after := memories(t, got)
			if len(after) != len(before) {
				t.Fatalf("%d memories before, %d after", len(before), len(after))
			}
			for i, m := range after {
				if !m.HasMax || m.Max > 4096 || m.Min != before[i].Min {
					t.Errorf("memory %d: %+v after, %+v before", i, m, before[i])
				}
			}
			checkOnlyMemoryLimitsDiffer(t, wasm, got)
		})
	}
	edge, err := wasmbin.LimitMemories(conformance.Guest("edge"), 64)
	if err != nil {
		t.Fatal(err)
	}
	if ms := memories(t, edge); len(ms) != 1 || ms[0] != (wasmbin.Memory{Min: 1, Max: 64, HasMax: true}) {
		t.Errorf("edge under a 64-page limit: %+v", ms)
	}
}

// sections splits a module into its sections' ids and contents.
func sections(t *testing.T, wasm []byte) (ids []byte, contents [][]byte) {
	t.Helper()
	for off := 8; off < len(wasm); {
		id := wasm[off]
		off++
		var size, shift uint
		for {
			c := wasm[off]
			off++
			size |= uint(c&0x7f) << shift
			shift += 7
			if c&0x80 == 0 {
				break
			}
		}
		ids = append(ids, id)
		contents = append(contents, wasm[off:off+int(size)])
		off += int(size)
	}
	return ids, contents
}

// checkOnlyMemoryLimitsDiffer checks that the two modules have the same
// header and sections in the same order, byte for byte, except the import and
// memory sections, whose import entries must still agree in everything but
// memory limits (checked through Memories by the callers).
func checkOnlyMemoryLimitsDiffer(t *testing.T, orig, got []byte) {
	t.Helper()
	if !bytes.Equal(orig[:8], got[:8]) {
		t.Fatal("header changed")
	}
	ai, ac := sections(t, orig)
	bi, bc := sections(t, got)
	if !bytes.Equal(ai, bi) {
		t.Fatalf("section ids %v became %v", ai, bi)
	}
	for i := range ai {
		if ai[i] == wasmbin.SectionImport || ai[i] == wasmbin.SectionMemory {
			continue
		}
		if !bytes.Equal(ac[i], bc[i]) {
			t.Errorf("section %d (id %d) changed", i, ai[i])
		}
	}
}

func FuzzLimitMemories(f *testing.F) {
	f.Add(conformance.Guest("edge"), uint32(64))
	f.Add(conformance.Guest("big_memory"), uint32(1024))
	f.Add(module(section(5, 0x01, 0x01, 0x01, 0xe4, 0x00)), uint32(64))
	f.Add(module(section(2, cat([]byte{0x01}, name("env"), name("m"), []byte{0x02, 0x00, 0x01})...)), uint32(1))
	f.Fuzz(func(t *testing.T, wasm []byte, limit uint32) {
		got, err := wasmbin.LimitMemories(wasm, limit)
		if err != nil {
			return
		}
		ms, err := wasmbin.Memories(got)
		if err != nil {
			t.Fatalf("the rewritten module does not decode: %v", err)
		}
		for _, m := range ms {
			cap := uint64(limit)
			if !m.Memory64 {
				cap = min(cap, wasmbin.MaxPages32)
			}
			if !m.HasMax || m.Max > cap || m.Min > cap {
				t.Fatalf("memory %+v under limit %d", m, limit)
			}
		}
	})
}

func TestImports(t *testing.T) {
	got, err := wasmbin.Imports(conformance.Guest("wasi"))
	if err != nil {
		t.Fatal(err)
	}
	want := []wasmbin.Import{
		{Module: "wasi_snapshot_preview1", Name: "clock_time_get", Kind: "func", Params: []byte{0x7f, 0x7e, 0x7f}, Results: []byte{0x7f}},
		{Module: "wasi_snapshot_preview1", Name: "random_get", Kind: "func", Params: []byte{0x7f, 0x7f}, Results: []byte{0x7f}},
	}
	if !slices.EqualFunc(got, want, func(a, b wasmbin.Import) bool {
		return a.Module == b.Module && a.Name == b.Name && a.Kind == b.Kind && slices.Equal(a.Params, b.Params) && slices.Equal(a.Results, b.Results)
	}) {
		t.Errorf("imports %v, want %v", got, want)
	}
	if _, err := wasmbin.Imports([]byte("not wasm")); err == nil {
		t.Error("no error for bytes that are not a module")
	}
}

func TestEmptyFunction(t *testing.T) {
	// env.f imported (function 0), then "empty" (1) with an empty body and
	// "nop" (2) whose body holds one instruction: the import shifts the
	// indexes of the code section's bodies.
	m := module(typeSec,
		section(2, cat([]byte{0x01}, name("env"), name("f"), []byte{0x00, 0x00})...),
		section(3, 0x02, 0x00, 0x00),
		section(7, cat([]byte{0x03}, name("empty"), []byte{0x00, 0x01}, name("nop"), []byte{0x00, 0x02}, name("imp"), []byte{0x00, 0x00})...),
		section(10, 0x02, 0x02, 0x00, 0x0b, 0x03, 0x00, 0x01, 0x0b))
	for _, tc := range []struct {
		wasm []byte
		name string
		want bool
	}{
		{m, "empty", true},
		{m, "nop", false},     // a body with an instruction
		{m, "imp", false},     // an import: its body is not the module's
		{m, "missing", false}, // no such export
		{conformance.Guest("edge"), "deallocate", true},
		{conformance.Guest("edge"), "allocate", false},
		{conformance.Guest("edge"), "handle_ok", false},
		{conformance.Guest("reference"), "deallocate", true},
	} {
		got, err := wasmbin.EmptyFunction(tc.wasm, tc.name)
		if err != nil || got != tc.want {
			t.Errorf("EmptyFunction(%s) = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := wasmbin.EmptyFunction(m[:len(m)-3], "nop"); !errors.Is(err, wasmbin.ErrMalformed) {
		t.Errorf("EmptyFunction of a truncated code section: %v, want ErrMalformed", err)
	}
}
