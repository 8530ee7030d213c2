package manifest

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits on what a manifest may hold. Together they make the cost of
// reading a manifest grow linearly with its size (BenchmarkParse measures
// it), and keep what Parse returns cheap to use afterwards (ConfigValues
// and host_get_config render defaults as text). Each is far above what a
// real manifest needs: the published KubeStellar UI manifests are under
// 2 KiB, nest four levels deep and declare no configuration.
//
// A manifest past a limit does not load; the error names the field, its
// file:line:column and the limit.
const (
	// MaxFileSize is the largest manifest, in bytes, that Parse and Load
	// read. yaml.v3 builds its node tree before any other check runs, and
	// that tree takes up to about 120 bytes of memory per byte of input.
	MaxFileSize = 1 << 20

	// MaxValueDepth is how deeply lists and mappings may nest inside one
	// free-form value (a spec.configuration[].default): {a: [1]} nests 2.
	// Kubernetes objects nest about 10 deep and configuration files rarely
	// more than 5; 32 leaves room for both and bounds every recursive walk
	// of a value (this package's, encoding/json's in ConfigValues) at 32
	// frames.
	MaxValueDepth = 32

	// MaxValueNodes is how many lists, mappings and scalars one free-form
	// value may hold, an alias counted at each use. 10,000 values are about
	// 100 KiB of JSON for host_get_config, hundreds of times a real default.
	MaxValueNodes = 10_000

	// MaxScalarLength is the longest text, in bytes, of any key or scalar
	// this package reads. 64 KiB holds a certificate bundle or a template;
	// names, paths and descriptions are far shorter.
	MaxScalarLength = 64 << 10

	// MaxConfigBytes is how much text, in bytes, all configuration
	// defaults may hold together: the lengths of their keys and scalars,
	// an alias counted at each use. Without aliases the file size bounds
	// it already; with them, a few bytes of YAML could otherwise expand
	// into gigabytes when ConfigValues renders them.
	MaxConfigBytes = 1 << 20

	// MaxProblems is the most errors, and apart the most warnings, one
	// reading lists: those found first. One more entry then says how many
	// were left out, and no further message is built, so that a manifest
	// made of mistakes costs no more than a valid one.
	MaxProblems = 100
)

// maxPathKey is the longest key a field path shows whole; longer keys are
// cut, so that no path is longer than about MaxValueDepth×maxPathKey bytes.
const maxPathKey = 64

// shorten returns s cut to at most n bytes, on a rune boundary, with "…"
// appended when it was cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// quoteKey quotes a key for a message, cut as in field paths.
func quoteKey(key string) string { return strconv.Quote(shorten(key, maxPathKey)) }

// pathStep is one step from a free-form value's root towards a node
// inside it: into a child of a list or a mapping.
type pathStep struct {
	// parent is the resolved list or mapping the step enters a child of.
	parent *yaml.Node
	// key is the child's key in a mapping, when index is -1; otherwise
	// index is its position in a list.
	key   string
	index int
}

// fieldPath is the path of a field: base for a field of the schema, then
// steps into the free-form value at base. Its text is built only when a
// message needs it: building the path of every node as it is read, as
// strings joined at each level, made reading deep values quadratic.
type fieldPath struct {
	base  string
	steps []pathStep
}

// schemaPath is the path of a field of the schema.
func schemaPath(p string) fieldPath { return fieldPath{base: p} }

// key returns the path of the entry key of the mapping parent at f.
func (f fieldPath) key(parent *yaml.Node, key string) fieldPath {
	steps := append(f.steps[:len(f.steps):len(f.steps)], pathStep{parent: parent, key: key, index: -1})
	return fieldPath{f.base, steps}
}

// String returns the path as messages show it, such as
// "spec.configuration[0].default.limits[2].cpu"; keys longer than
// maxPathKey bytes are cut.
func (f fieldPath) String() string {
	var b strings.Builder
	b.WriteString(f.base)
	for _, s := range f.steps {
		switch {
		case s.index >= 0:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(shorten(s.key, maxPathKey))
		}
	}
	return b.String()
}

// valueWalk is the state of reading one free-form value.
type valueWalk struct {
	root string
	// steps leads from the root to the node being read: its length is the
	// number of lists and mappings enclosing the node.
	steps []pathStep
	// nodes counts the lists, mappings and scalars read so far.
	nodes int
	// stop is set when the value passed a limit: its reading ends there.
	stop bool
}

// path returns the path of the node being read.
func (w *valueWalk) path() fieldPath { return fieldPath{w.root, w.steps} }
