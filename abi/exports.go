package abi

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ValueType is a WebAssembly value type as the ABI cares about it.
type ValueType byte

// Value types, with their binary encoding.
const (
	I32 ValueType = 0x7f
	I64 ValueType = 0x7e
	F32 ValueType = 0x7d
	F64 ValueType = 0x7c
)

func (v ValueType) String() string {
	switch v {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	}
	return fmt.Sprintf("type(%#x)", byte(v))
}

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValueType
}

func (t FuncType) String() string {
	join := func(vs []ValueType) string {
		s := make([]string, len(vs))
		for i, v := range vs {
			s[i] = v.String()
		}
		return "(" + strings.Join(s, ", ") + ")"
	}
	return join(t.Params) + " -> " + join(t.Results)
}

// Equal reports whether t and u have the same parameters and results.
func (t FuncType) Equal(u FuncType) bool {
	return slices.Equal(t.Params, u.Params) && slices.Equal(t.Results, u.Results)
}

// Signatures the ABI requires.
var (
	AllocateType   = FuncType{Params: []ValueType{I32}, Results: []ValueType{I32}}
	DeallocateType = FuncType{Params: []ValueType{I32, I32}}
	HandlerType    = FuncType{Params: []ValueType{I32, I32}, Results: []ValueType{I64}}
	InitializeType = FuncType{}
)

// ExportKind says what an export is.
type ExportKind byte

// Export kinds.
const (
	KindFunc ExportKind = iota
	KindMemory
	KindOther
)

// Export describes one export of a compiled module. Type is set for functions.
type Export struct {
	Name string
	Kind ExportKind
	Type FuncType
}

// Exports is the export list of a compiled module.
type Exports []Export

// Lookup returns the export called name.
func (es Exports) Lookup(name string) (Export, bool) {
	for _, e := range es {
		if e.Name == name {
			return e, true
		}
	}
	return Export{}, false
}

// DeclaredVersion returns the ABI version the module declares through a
// ksp_abi_version_<N> export, or 1 when it declares none.
func (es Exports) DeclaredVersion() (int, error) {
	version, marker := 1, ""
	for _, e := range es {
		rest, ok := strings.CutPrefix(e.Name, ExportVersionPrefix)
		if !ok {
			continue
		}
		if marker != "" {
			return 0, fmt.Errorf("%w: two version exports %q and %q", ErrVersion, marker, e.Name)
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%w: export %q does not end in a version number", ErrVersion, e.Name)
		}
		version, marker = n, e.Name
	}
	return version, nil
}

// Check verifies that the exports satisfy ABI v1 for the given handler names:
// memory, allocate, the handlers with their signature, the optional exports'
// signatures when present, and the declared ABI version. The error names the
// first export at fault.
func (es Exports) Check(handlers []string) error {
	if v, err := es.DeclaredVersion(); err != nil {
		return err
	} else if v != Version {
		return fmt.Errorf("%w: module declares version %d (export %q); this host speaks version %d",
			ErrVersion, v, ExportVersionPrefix+strconv.Itoa(v), Version)
	}
	if e, ok := es.Lookup(ExportMemory); !ok {
		return fmt.Errorf("%w: export[%s] (the guest's linear memory)", ErrMissingExport, ExportMemory)
	} else if e.Kind != KindMemory {
		return fmt.Errorf("%w: export[%s] must be a memory", ErrSignature, ExportMemory)
	}
	if err := es.checkFunc(ExportAllocate, AllocateType, true); err != nil {
		return err
	}
	if err := es.checkFunc(ExportDeallocate, DeallocateType, false); err != nil {
		return err
	}
	if err := es.checkFunc(ExportInitialize, InitializeType, false); err != nil {
		return err
	}
	for _, h := range handlers {
		if err := es.checkFunc(h, HandlerType, true); err != nil {
			return err
		}
	}
	return nil
}

func (es Exports) checkFunc(name string, want FuncType, required bool) error {
	e, ok := es.Lookup(name)
	if !ok {
		if required {
			return fmt.Errorf("%w: export[%s] %s", ErrMissingExport, name, want)
		}
		return nil
	}
	if e.Kind != KindFunc {
		return fmt.Errorf("%w: export[%s] must be a function %s", ErrSignature, name, want)
	}
	if !e.Type.Equal(want) {
		return fmt.Errorf("%w: export[%s] has type %s, want %s", ErrSignature, name, e.Type, want)
	}
	return nil
}
