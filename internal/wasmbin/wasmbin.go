package wasmbin

import (
	"errors"
	"fmt"
)

// Section ids this package decodes.
const (
	SectionType   = 1
	SectionImport = 2
	SectionMemory = 5
)

// MaxPages32 is the largest number of 64 KiB pages a 32-bit memory can have.
const MaxPages32 = 65536

// ErrMalformed is wrapped by every error about bytes that are not a
// well-framed WebAssembly binary module.
var ErrMalformed = errors.New("wasmbin: malformed module")

// Memory is one memory of a module, in the order of the memory index space:
// imported memories first, then the ones the module defines.
type Memory struct {
	Index    int
	Imported bool
	// Module and Name name an imported memory.
	Module, Name string
	// Min is the initial size and Max the maximum, in 64 KiB pages; Max is
	// meaningful only when HasMax is set.
	Min, Max uint64
	HasMax   bool
	Shared   bool
	Memory64 bool
}

func (m Memory) String() string {
	s := fmt.Sprintf("memory[%d]", m.Index)
	if m.Imported {
		s += fmt.Sprintf(" (imported %s.%s)", m.Module, m.Name)
	}
	return s
}

// LimitError reports a memory whose initial size is above the limit.
type LimitError struct {
	Memory Memory
	Limit  uint32
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("wasmbin: %s starts at %d pages, above the memory limit of %d pages", e.Memory, e.Memory.Min, e.Limit)
}

// Memories lists the memories a module imports and defines.
//
// # Errors
//
// Bytes that are not a module, or whose sections do not frame, return an
// error wrapping ErrMalformed. Memories does not validate the module beyond
// what it decodes.
func Memories(wasm []byte) ([]Memory, error) {
	var mems []Memory
	err := walk(wasm, func(m *memLimits) { mems = append(mems, m.Memory) })
	return mems, err
}

// LimitMemories returns wasm with the maximum of every memory it imports or
// defines set to the smaller of its declared maximum and limit pages (limit
// itself for a memory without a maximum). A 32-bit memory's cap is at most
// MaxPages32. When no memory needs a change, the result is wasm itself, not a
// copy; otherwise it is a new slice in which only the rewritten limits and the
// sizes of the sections that hold them differ.
//
// # Errors
//
// A memory whose initial size is above limit returns a *LimitError (wasm is
// then left as it is). Bytes that are not a module return an error wrapping
// ErrMalformed.
func LimitMemories(wasm []byte, limit uint32) ([]byte, error) {
	var (
		over  *LimitError
		edits []edit
	)
	err := walk(wasm, func(m *memLimits) {
		cap := uint64(limit)
		if !m.Memory64 && cap > MaxPages32 {
			cap = MaxPages32
		}
		if m.Min > cap && over == nil {
			over = &LimitError{Memory: m.Memory, Limit: limit}
		}
		if m.HasMax && m.Max <= cap {
			return
		}
		// Rewrite the limits: the flags gain "has maximum", the minimum keeps
		// its original bytes, the maximum becomes cap.
		b := []byte{m.flags | flagHasMax}
		b = append(b, wasm[m.minStart:m.minEnd]...)
		b = appendULEB(b, cap)
		edits = append(edits, edit{start: m.start, end: m.end, with: b})
	})
	if err != nil {
		return nil, err
	}
	if over != nil {
		return nil, over
	}
	if len(edits) == 0 {
		return wasm, nil
	}
	return apply(wasm, edits)
}

// Limits flags (the byte before a memory's or a table's limits).
const (
	flagHasMax   = 0x01
	flagShared   = 0x02
	flagMemory64 = 0x04
)

// memLimits is a decoded memory with where its limits lie in the module.
type memLimits struct {
	Memory
	flags            byte
	start, end       int // the whole limits: flags, min and max
	minStart, minEnd int
}

// edit replaces wasm[start:end] with with.
type edit struct {
	start, end int
	with       []byte
}

const headerSize = 8

// walk checks the module's header and section framing and calls mem for
// every memory of the import and memory sections, in index order.
func walk(wasm []byte, mem func(*memLimits)) error { return walkWith(wasm, mem, nil) }

// Import is one import of a module.
type Import struct {
	Module, Name string
	Kind         string // func, table, memory, global or tag
	// Params and Results are a function import's type, as value types in
	// their binary encoding (0x7f i32, 0x7e i64, ...).
	Params, Results []byte
}

func (i Import) String() string { return i.Module + "." + i.Name + " (" + i.Kind + ")" }

var importKinds = [...]string{"func", "table", "memory", "global", "tag"}

// Imports lists the module's imports in order.
func Imports(wasm []byte) ([]Import, error) {
	types, err := funcTypes(wasm)
	if err != nil {
		return nil, err
	}
	var out []Import
	err = walkWith(wasm, func(*memLimits) {}, func(module, name string, kind byte, typeIndex uint32) {
		k := fmt.Sprintf("kind %#x", kind)
		if int(kind) < len(importKinds) {
			k = importKinds[kind]
		}
		im := Import{Module: module, Name: name, Kind: k}
		if kind == 0 && int(typeIndex) < len(types) {
			im.Params, im.Results = types[typeIndex][0], types[typeIndex][1]
		}
		out = append(out, im)
	})
	return out, err
}

// funcTypes reads the type section: each type's parameters and results.
// Types other than plain function types (those of the GC proposal) are kept
// as empty entries, so that indexes stay right.
func funcTypes(wasm []byte) ([][2][]byte, error) {
	if len(wasm) < headerSize || string(wasm[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%w: no WebAssembly magic number (\\0asm)", ErrMalformed)
	}
	var out [][2][]byte
	err := sections(wasm, func(id byte, sec *reader) error {
		if id != SectionType {
			return nil
		}
		n, err := sec.u32()
		if err != nil {
			return fmt.Errorf("type section: %w", err)
		}
		for i := uint32(0); i < n && sec.err == nil; i++ {
			if form := sec.byte(); form != 0x60 {
				return errDone // a later proposal's type: stop, imports past it keep no type
			}
			var ft [2][]byte
			for j := range 2 {
				c, err := sec.u32()
				if err != nil {
					return fmt.Errorf("type %d: %w", i, err)
				}
				for k := uint32(0); k < c && sec.err == nil; k++ {
					ft[j] = append(ft[j], sec.byte())
				}
			}
			out = append(out, ft)
		}
		if sec.err != nil {
			return fmt.Errorf("type section: %w", sec.err)
		}
		return errDone
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errDone ends sections early, without an error.
var errDone = errors.New("done")

// sections calls fn with each section of a module (its header checked by
// the caller) in order: its id and a reader over its content alone. It
// stops at the first error fn returns, errDone without an error; a reader
// fn leaves in error is the section's error.
func sections(wasm []byte, fn func(id byte, sec *reader) error) error {
	r := reader{b: wasm, off: headerSize}
	for r.off < len(wasm) {
		id := r.byte()
		size, err := r.u32()
		if err != nil {
			return fmt.Errorf("section %d: %w", id, err)
		}
		start := r.off
		if uint64(size) > uint64(len(wasm)-start) {
			return fmt.Errorf("%w: section %d of %d bytes at offset %#x runs past the end of the module (%d bytes)",
				ErrMalformed, id, size, start, len(wasm))
		}
		end := start + int(size)
		sec := reader{b: wasm[:end], off: start}
		err = fn(id, &sec)
		if errors.Is(err, errDone) {
			return nil
		}
		if err != nil {
			return err
		}
		if sec.err != nil {
			return fmt.Errorf("section %d: %w", id, sec.err)
		}
		r.off = end
	}
	return nil
}

func walkWith(wasm []byte, mem func(*memLimits), imp func(module, name string, kind byte, typeIndex uint32)) error {
	if len(wasm) < headerSize || string(wasm[:4]) != "\x00asm" {
		return fmt.Errorf("%w: no WebAssembly magic number (\\0asm)", ErrMalformed)
	}
	if v := wasm[4:8]; string(v) != "\x01\x00\x00\x00" {
		return fmt.Errorf("%w: binary format version %d, want 1", ErrMalformed, uint32(v[0])|uint32(v[1])<<8|uint32(v[2])<<16|uint32(v[3])<<24)
	}
	index := 0
	return sections(wasm, func(id byte, sec *reader) error {
		var err error
		switch id {
		case SectionImport:
			err = importSection(sec, &index, mem, imp)
		case SectionMemory:
			err = memorySection(sec, &index, mem)
		default:
			return nil
		}
		if err != nil {
			return fmt.Errorf("section %d: %w", id, err)
		}
		if sec.off != len(sec.b) {
			return fmt.Errorf("%w: section %d: %d bytes left over", ErrMalformed, id, len(sec.b)-sec.off)
		}
		return nil
	})
}

func importSection(r *reader, index *int, mem func(*memLimits), imp func(module, name string, kind byte, typeIndex uint32)) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for i := range n {
		module, err := r.name()
		if err != nil {
			return fmt.Errorf("import %d: %w", i, err)
		}
		name, err := r.name()
		if err != nil {
			return fmt.Errorf("import %d: %w", i, err)
		}
		kind := r.byte()
		switch kind {
		case 0x00: // function: type index
			var ti uint32
			ti, err = r.u32()
			if imp != nil && err == nil {
				imp(module, name, kind, ti)
			}
		case 0x01: // table: reference type, limits
			if err = r.valType(); err == nil {
				_, err = r.limits()
			}
		case 0x02: // memory
			var m *memLimits
			if m, err = r.limits(); err == nil {
				m.Index, m.Imported, m.Module, m.Name = *index, true, module, name
				*index++
				mem(m)
			}
		case 0x03: // global: value type, mutability
			if err = r.valType(); err == nil {
				r.byte()
			}
		case 0x04: // tag: attribute, type index
			r.byte()
			_, err = r.u32()
		default:
			return fmt.Errorf("%w: import %d (%s.%s) has unknown kind %#x", ErrMalformed, i, module, name, kind)
		}
		if kind != 0x00 && imp != nil {
			imp(module, name, kind, 0)
		}
		if err == nil {
			err = r.err
		}
		if err != nil {
			return fmt.Errorf("import %d (%s.%s): %w", i, module, name, err)
		}
	}
	return r.err
}

func memorySection(r *reader, index *int, mem func(*memLimits)) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for i := range n {
		m, err := r.limits()
		if err != nil {
			return fmt.Errorf("memory %d: %w", i, err)
		}
		m.Index = *index
		*index++
		mem(m)
	}
	return nil
}

// apply performs edits, which lie inside the import and memory sections in
// increasing order, and rewrites the sizes of the sections they touch.
func apply(wasm []byte, edits []edit) ([]byte, error) {
	out := make([]byte, 0, len(wasm)+16)
	out = append(out, wasm[:headerSize]...)
	r := reader{b: wasm, off: headerSize}
	next := 0
	for r.off < len(wasm) {
		secStart := r.off
		id := r.byte()
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		start, end := r.off, r.off+int(size)
		if next == len(edits) || edits[next].start >= end {
			out = append(out, wasm[secStart:end]...) // untouched, header included
			r.off = end
			continue
		}
		var content []byte
		at := start
		for ; next < len(edits) && edits[next].start < end; next++ {
			content = append(content, wasm[at:edits[next].start]...)
			content = append(content, edits[next].with...)
			at = edits[next].end
		}
		content = append(content, wasm[at:end]...)
		out = append(out, id)
		out = appendULEB(out, uint64(len(content)))
		out = append(out, content...)
		r.off = end
	}
	return out, nil
}

// reader decodes a module. Reads past the end set err (wrapping
// ErrMalformed) and return zeros; callers check err at the end of a step.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		r.fail("unexpected end at offset %#x", r.off)
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// uleb decodes an unsigned LEB128 number of at most bits bits.
func (r *reader) uleb(bits uint) (uint64, error) {
	start := r.off
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= bits {
			r.fail("LEB128 number at offset %#x is too long", start)
			return 0, r.err
		}
		c := r.byte()
		if r.err != nil {
			return 0, r.err
		}
		if shift+7 > bits && c&0x7f>>(bits-shift) != 0 {
			r.fail("LEB128 number at offset %#x does not fit in %d bits", start, bits)
			return 0, r.err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail("name of %d bytes at offset %#x runs past its section", n, r.off)
		return "", r.err
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s, nil
}

// valType skips a value type: one byte, or a (ref null? heaptype) of the
// function-references proposal.
func (r *reader) valType() error {
	switch r.byte() {
	case 0x63, 0x64: // heap type: an s33, skipped
		for i := 0; r.byte()&0x80 != 0 && r.err == nil; i++ {
			if i == 4 {
				r.fail("heap type at offset %#x is too long", r.off)
			}
		}
	}
	return r.err
}

// limits decodes the limits of a memory or a table.
func (r *reader) limits() (*memLimits, error) {
	m := &memLimits{start: r.off}
	m.flags = r.byte()
	if r.err != nil {
		return nil, r.err
	}
	if m.flags&^(flagHasMax|flagShared|flagMemory64) != 0 {
		r.fail("limits at offset %#x have unsupported flags %#x", m.start, m.flags)
		return nil, r.err
	}
	m.HasMax, m.Shared, m.Memory64 = m.flags&flagHasMax != 0, m.flags&flagShared != 0, m.flags&flagMemory64 != 0
	bits := uint(32)
	if m.Memory64 {
		bits = 64
	}
	m.minStart = r.off
	var err error
	if m.Min, err = r.uleb(bits); err != nil {
		return nil, err
	}
	m.minEnd = r.off
	if m.HasMax {
		if m.Max, err = r.uleb(bits); err != nil {
			return nil, err
		}
	}
	m.end = r.off
	return m, nil
}

// appendULEB appends v as an unsigned LEB128 number of the fewest bytes.
func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Section ids of the sections Exports reads besides the types and imports.
const (
	sectionFunction = 3
	sectionExport   = 7
)

// Export is one export of a module.
type Export struct {
	Name string
	Kind string // func, table, memory, global or tag
	// Params and Results are a function export's type, as value types in
	// their binary encoding.
	Params, Results []byte
}

// Exports lists the module's exports in order, with the types of exported
// functions, without compiling the module. It lets a host read what a
// module offers before it chooses how to compile it.
func Exports(wasm []byte) ([]Export, error) {
	types, err := funcTypes(wasm)
	if err != nil {
		return nil, err
	}
	var funcs []uint32 // type index of each function, imported ones first
	err = walkWith(wasm, func(*memLimits) {}, func(_, _ string, kind byte, typeIndex uint32) {
		if kind == 0 {
			funcs = append(funcs, typeIndex)
		}
	})
	if err != nil {
		return nil, err
	}
	var out []Export
	err = sections(wasm, func(id byte, sec *reader) error {
		switch id {
		case sectionFunction:
			n, err := sec.u32()
			if err != nil {
				return fmt.Errorf("function section: %w", err)
			}
			for i := uint32(0); i < n && sec.err == nil; i++ {
				ti, err := sec.u32()
				if err != nil {
					return fmt.Errorf("function section: %w", err)
				}
				funcs = append(funcs, ti)
			}
		case sectionExport:
			n, err := sec.u32()
			if err != nil {
				return fmt.Errorf("export section: %w", err)
			}
			for i := range n {
				name, err := sec.name()
				if err != nil {
					return fmt.Errorf("export %d: %w", i, err)
				}
				kind := sec.byte()
				index, err := sec.u32()
				if err != nil {
					return fmt.Errorf("export %d (%s): %w", i, name, err)
				}
				e := Export{Name: name, Kind: fmt.Sprintf("kind %#x", kind)}
				if int(kind) < len(importKinds) {
					e.Kind = importKinds[kind]
				}
				if kind == 0 && int(index) < len(funcs) && int(funcs[index]) < len(types) {
					t := types[funcs[index]]
					e.Params, e.Results = t[0], t[1]
				}
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sectionCode is the id of the code section, which EmptyFunction reads.
const sectionCode = 10

// EmptyFunction reports whether the function the module exports as name is
// defined by the module (not imported) with an empty body: no locals and no
// instructions, so that calling it has no effect but the call's own cost.
// A bump allocator's deallocate is such a function. It reports false, with
// no error, for a name that is not an exported function.
func EmptyFunction(wasm []byte, name string) (bool, error) {
	imported := 0
	if err := walkWith(wasm, func(*memLimits) {}, func(_, _ string, kind byte, _ uint32) {
		if kind == 0 {
			imported++
		}
	}); err != nil {
		return false, err
	}
	target := -1 // index among the module's own functions (the code section's)
	empty := false
	err := sections(wasm, func(id byte, sec *reader) error {
		switch id {
		case sectionExport:
			n, err := sec.u32()
			if err != nil {
				return fmt.Errorf("export section: %w", err)
			}
			for i := range n {
				en, err := sec.name()
				if err != nil {
					return fmt.Errorf("export %d: %w", i, err)
				}
				kind := sec.byte()
				index, err := sec.u32()
				if err != nil {
					return fmt.Errorf("export %d (%s): %w", i, en, err)
				}
				if en == name {
					if kind != 0 || int(index) < imported {
						return errDone
					}
					target = int(index) - imported
				}
			}
		case sectionCode:
			if target < 0 {
				return errDone
			}
			n, err := sec.u32()
			if err != nil {
				return fmt.Errorf("code section: %w", err)
			}
			for i := range int(n) {
				bodySize, err := sec.u32()
				if err != nil {
					return fmt.Errorf("code section: body %d: %w", i, err)
				}
				if uint64(bodySize) > uint64(len(sec.b)-sec.off) {
					return fmt.Errorf("%w: code section: body %d runs past its section", ErrMalformed, i)
				}
				if i == target {
					// No local declarations (a count of 0), then end.
					empty = string(sec.b[sec.off:sec.off+int(bodySize)]) == "\x00\x0b"
					return errDone
				}
				sec.off += int(bodySize)
			}
			return errDone
		}
		return nil
	})
	return empty, err
}
