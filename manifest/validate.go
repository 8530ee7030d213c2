package manifest

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/kspbench/kspbench/abi"
)

var (
	// dnsLabelRE is an RFC 1123 label; the length is checked apart.
	dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// semverRE is the expression semver.org recommends for SemVer 2.0.0.
	semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
		`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
		`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
	exportNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	configNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
)

// httpMethods are the methods a route may list.
var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// configTypes are the types a configuration item may declare.
var configTypes = []string{"string", "integer", "number", "boolean", "object", "array"}

// A validator collects the problems of values that were read well but are
// not acceptable.
type validator struct {
	*problems
	pos map[string]position
	bad map[string]bool
	// lenient relaxes the rules Options.Lenient names.
	lenient bool
}

// apiVersionHint ends the messages about apiVersion in a strict reading.
const apiVersionHint = ": that is kspbench's own rule (ABI v1); manifests written for the KubeStellar UI host " +
	"load with the kubestellar-ui profile (--abi kubestellar-ui)"

// errorf records a problem of field, located at the field.
func (v *validator) errorf(field, format string, args ...any) {
	v.errorAt(field, field, nil, format, args...)
}

// errorAt records a problem of field located at the path at (or, when at
// is absent from the manifest, at its nearest enclosing field), with the
// cause err. Nothing is recorded about a field that could not be read.
func (v *validator) errorAt(field, at string, err error, format string, args ...any) {
	if v.unreadable(field) {
		return
	}
	pos := v.lookup(at)
	v.addError(pos.line, pos.col, schemaPath(field), err, format, args...)
}

// warnAt records a warning about field located at the path at, as errorAt
// locates errors.
func (v *validator) warnAt(field, at string, format string, args ...any) {
	if v.unreadable(field) {
		return
	}
	pos := v.lookup(at)
	v.addWarning(pos.line, pos.col, field, format, args...)
}

// unreadable reports whether field, or a field enclosing it, could not be
// read.
func (v *validator) unreadable(field string) bool {
	for p := field; ; p = parent(p) {
		if v.bad[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// lookup returns where path starts, or where its nearest enclosing field
// present in the manifest does.
func (v *validator) lookup(path string) position {
	for {
		if p, ok := v.pos[path]; ok {
			return p
		}
		if path == "" {
			return position{}
		}
		path = parent(path)
	}
}

// line returns the line where path starts.
func (v *validator) line(path string) int { return v.lookup(path).line }

// parent returns the path enclosing path: "a.b[1]" for "a.b[1].c", "a.b"
// for "a.b[1]", "" for "a".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func (m *Manifest) validate(v *validator) {
	switch {
	case v.lenient: // the reference host takes any apiVersion, or none
	case m.APIVersion == APIVersion:
	case m.APIVersion == "":
		v.errorf("apiVersion", "is required and must be %q%s", APIVersion, apiVersionHint)
	default:
		v.errorf("apiVersion", "must be %q, not %q%s", APIVersion, m.APIVersion, apiVersionHint)
	}
	switch m.Kind {
	case KindPlugin:
	case "":
		v.errorf("kind", "is required and must be %q", KindPlugin)
	default:
		v.errorf("kind", "must be %q, not %q", KindPlugin, m.Kind)
	}
	m.validateMetadata(v)
	m.validateWasm(v)
	m.validateBackend(v)
	m.validatePermissions(v)
	m.validateConfiguration(v)
}

func (m *Manifest) validateMetadata(v *validator) {
	switch name := m.Metadata.Name; {
	case name == "":
		v.errorf("metadata.name", "is required")
	case len(name) > 63 || !dnsLabelRE.MatchString(name):
		v.errorf("metadata.name", "%q is not a DNS label: 1 to 63 lower-case letters, digits or '-', "+
			"starting and ending with a letter or digit", name)
	}
	switch ver := m.Metadata.Version; {
	case ver == "":
		v.errorf("metadata.version", "is required")
	case semverRE.MatchString(ver):
	case (ver[0] == 'v' || ver[0] == 'V') && semverRE.MatchString(ver[1:]):
		v.errorf("metadata.version", "%q is not a semantic version: drop the leading %q", ver, ver[:1])
	default:
		v.errorf("metadata.version", "%q is not a semantic version: want MAJOR.MINOR.PATCH, "+
			"such as 1.0.0 or 1.2.0-rc.1, without leading zeros", ver)
	}
}

func (m *Manifest) validateWasm(v *validator) {
	if f := m.Spec.Wasm.File; f != "" {
		switch {
		case strings.ContainsAny(f, `/\`) || strings.Contains(f, ".."):
			v.errorf("spec.wasm.file", "%q must be a plain file name next to %s, without '/', '\\' or '..'", f, FileName)
		case strings.ContainsFunc(f, unicode.IsControl):
			v.errorf("spec.wasm.file", "%q holds control characters", f)
		case !strings.HasSuffix(f, ".wasm") || f == ".wasm":
			v.errorf("spec.wasm.file", "%q must be a file name ending in .wasm", f)
		}
	}
	if s := m.Spec.Wasm.MemoryLimit; s != "" {
		if _, err := ParseMemoryLimit(s); err != nil {
			v.errorAt("spec.wasm.memory_limit", "spec.wasm.memory_limit", err, "%s", err)
		}
	}
}

func (m *Manifest) validateBackend(v *validator) {
	b := m.Spec.Backend
	if b.Enabled && len(b.Routes) == 0 {
		at := "spec.backend.routes"
		if _, ok := v.pos[at]; !ok {
			at = "spec.backend.enabled"
		}
		if v.lenient {
			v.warnAt("spec.backend.routes", at, "the backend is enabled but declares no routes: "+
				"the plugin loads as frontend-only, without a backend")
		} else {
			v.errorAt("spec.backend.routes", at, nil, "the backend is enabled but declares no routes")
		}
	}
	firstPath := make(map[string]int)
	for i, r := range b.Routes {
		p := fmt.Sprintf("spec.backend.routes[%d]", i)
		switch {
		case r.Path == "":
			v.errorf(p+".path", "is required")
		default:
			if problem := routePathProblem(r.Path); problem != "" {
				v.errorf(p+".path", "%q %s", r.Path, problem)
			}
			if j, dup := firstPath[r.Path]; dup {
				v.errorf(p+".path", "%q is declared twice (first at line %d)", r.Path,
					v.line(fmt.Sprintf("spec.backend.routes[%d].path", j)))
			} else {
				firstPath[r.Path] = i
			}
		}

		if len(r.Methods) == 0 {
			v.errorf(p+".methods", "is required: list one or more of %s", strings.Join(httpMethods, ", "))
		}
		firstMethod := make(map[string]int)
		for k, meth := range r.Methods {
			mp := fmt.Sprintf("%s.methods[%d]", p, k)
			switch {
			case slices.Contains(httpMethods, meth):
			case slices.Contains(httpMethods, strings.ToUpper(meth)):
				v.errorf(mp, "%q must be upper case: %s", meth, strings.ToUpper(meth))
			default:
				v.errorf(mp, "%q is not one of %s", meth, strings.Join(httpMethods, ", "))
			}
			if j, dup := firstMethod[meth]; dup {
				v.errorf(mp, "%s is listed twice (first at line %d)", meth, v.line(fmt.Sprintf("%s.methods[%d]", p, j)))
			} else {
				firstMethod[meth] = k
			}
		}

		switch h := r.Handler; {
		case h == "":
			v.errorf(p+".handler", "is required")
		case !exportNameRE.MatchString(h):
			v.errorf(p+".handler", "%q is not a valid export name: want letters, digits and '_', "+
				"not starting with a digit", h)
		case reservedExport(h):
			v.errorf(p+".handler", "%q is an export the plugin ABI reserves for itself; name the handler "+
				"otherwise, such as handle_%s", h, strings.TrimLeft(h, "_"))
		}
	}
}

// routePathProblem says what is wrong with a route path, or returns "".
func routePathProblem(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "must start with /"
	case strings.Contains(p, ".."):
		return "must not contain '..'"
	case strings.Contains(p, "//"):
		return "must not contain '//'"
	case strings.ContainsAny(p, "?#"):
		return "must not contain '?' or '#': a route is a path, without query or fragment"
	case strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "must not contain white space or control characters"
	}
	return ""
}

// reservedExport reports whether name is an export the ABI defines, which
// a handler may not take.
func reservedExport(name string) bool {
	switch name {
	case abi.ExportMemory, abi.ExportAllocate, abi.ExportDeallocate, abi.ExportInitialize:
		return true
	}
	return strings.HasPrefix(name, abi.ExportVersionPrefix)
}

func (m *Manifest) validatePermissions(v *validator) {
	first := make(map[string]int)
	for i, perm := range m.Spec.Permissions {
		p := fmt.Sprintf("spec.permissions[%d]", i)
		switch {
		case perm == "":
			v.errorf(p, "is empty")
			continue
		case abi.IsKnownPermission(perm):
		case v.errorsFull():
			if !v.unreadable(p) {
				v.droppedErrs++ // counted, with no time spent on a suggestion
			}
		default:
			msg := fmt.Sprintf("unknown permission %q", perm)
			if s := nearest(perm, abi.KnownPermissions); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			v.errorf(p, "%s; known permissions are %s", msg, strings.Join(abi.KnownPermissions, ", "))
		}
		if j, dup := first[perm]; dup {
			v.errorf(p, "%q is listed twice (first at line %d)", perm, v.line(fmt.Sprintf("spec.permissions[%d]", j)))
		} else {
			first[perm] = i
		}
	}
}

func (m *Manifest) validateConfiguration(v *validator) {
	first := make(map[string]int)
	for i, c := range m.Spec.Configuration {
		p := fmt.Sprintf("spec.configuration[%d]", i)
		switch {
		case c.Name == "":
			v.errorf(p+".name", "is required")
		case !configNameRE.MatchString(c.Name):
			v.errorf(p+".name", "%q is not a valid name: want letters, digits, '_', '.' and '-', "+
				"starting with a letter or '_'", c.Name)
		}
		if c.Name != "" {
			if j, dup := first[c.Name]; dup {
				v.errorf(p+".name", "%q is declared twice (first at line %d)", c.Name,
					v.line(fmt.Sprintf("spec.configuration[%d].name", j)))
			} else {
				first[c.Name] = i
			}
		}
		switch {
		case c.Type == "":
		case !slices.Contains(configTypes, c.Type):
			v.errorf(p+".type", "unknown type %q; use one of %s", c.Type, strings.Join(configTypes, ", "))
		case c.Default != nil && !fitsType(c.Default, c.Type):
			v.errorf(p+".default", "%s is %s, not %s", describeValue(c.Default), kindOf(c.Default), article(c.Type))
		}
	}
}

// fitsType reports whether a default value has the configuration type t.
func fitsType(val any, t string) bool {
	k := kindOf(val)
	switch t {
	case "number":
		return k == "an integer" || k == "a number"
	default:
		return k == article(t)
	}
}

// article returns a configuration type with its article: "an integer".
func article(t string) string {
	switch t {
	case "integer", "object", "array":
		return "an " + t
	}
	return "a " + t
}

// kindOf names the configuration type of a value, with its article; a
// number that is not an integer is "a number".
func kindOf(val any) string {
	rv := reflect.ValueOf(val)
	switch rv.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a value of Go type " + rv.Type().String()
}

// describeValue shows a default value in messages.
func describeValue(val any) string {
	switch x := val.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return strconv.Quote(x)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "the default " + formatFloat(x, 64)
		}
	}
	switch kindOf(val) {
	case "an object", "an array":
		return "the default"
	}
	s, _ := renderValue(val)
	return s
}
