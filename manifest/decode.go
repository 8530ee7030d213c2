package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// position is where a field starts: its key, or its item in a list.
type position struct{ line, col int }

// parseYAML reads the single YAML document of data and returns its root
// node, nil for an empty document, or the syntax errors.
func parseYAML(data []byte, file string) (*yaml.Node, []FieldError) {
	first, second, err := decodeDocs(data)
	if err != nil {
		msg, line := splitYAMLError(err)
		if l := syntaxLine(data, msg); l > 0 {
			line = l
		}
		return nil, []FieldError{{File: file, Line: line, Message: "invalid YAML: " + msg, Err: err}}
	}
	root := content(first)
	if isNull(root) {
		return nil, []FieldError{{File: file, Message: "the manifest is empty"}}
	}
	if next := content(second); !isNull(next) {
		return nil, []FieldError{{File: file, Line: next.Line, Column: next.Column,
			Message: "a second YAML document starts here; a manifest is a single document"}}
	}
	return root, nil
}

// decodeDocs decodes the first two YAML documents of data; either is nil
// when data holds fewer. A panic of the YAML library becomes an error.
func decodeDocs(data []byte) (first, second *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			first, second, err = nil, nil, fmt.Errorf("yaml: parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs [2]*yaml.Node
	for i := range docs {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, err
		}
		docs[i] = &n
	}
	return docs[0], docs[1], nil
}

// content returns the root node of a document, or nil.
func content(doc *yaml.Node) *yaml.Node {
	if doc == nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

var yamlLineRE = regexp.MustCompile(`^line (\d+): `)

// splitYAMLError returns the message of a yaml.v3 error without its
// "yaml: " and "line N: " prefixes, and that line number (0 if none).
func splitYAMLError(err error) (msg string, line int) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return msg, line
}

// scanFactor bounds syntaxLine's work: it parses at most scanFactor times
// the size of the manifest, plus scanMinBytes for small ones, before it
// gives up.
const (
	scanFactor   = 4
	scanMinBytes = 64 << 10
)

// syntaxLine returns the first line at which data, cut after that line,
// fails with the message msg, or 0. yaml.v3 leaves the line out of errors
// on the first line and reports others at the start of the construct that
// failed, possibly far above the fault; the first line whose prefix shows
// the error is where a reader should look.
//
// It finds the line by bisection, since a prefix that shows the error is
// followed by longer ones that do too: about log2(lines) parses of
// prefixes, within the bound of scanFactor. Trying each line in turn cost
// the sum of the prefix lengths, quadratic in the number of lines.
func syntaxLine(data []byte, msg string) int {
	var ends []int
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	budget := scanFactor*len(data) + scanMinBytes
	lo, hi := 0, len(ends)-1 // the whole of data fails with msg
	for lo < hi {
		mid := lo + (hi-lo)/2
		if budget -= ends[mid]; budget < 0 {
			return 0
		}
		if _, _, err := decodeDocs(data[:ends[mid]]); err != nil {
			if m, _ := splitYAMLError(err); m == msg {
				hi = mid
				continue
			}
		}
		lo = mid + 1
	}
	return lo + 1
}

// A decoder walks the YAML nodes of a manifest against its schema, filling
// the Manifest, recording where each field starts and collecting the
// problems of structure: unknown and duplicate keys, values of the wrong
// kind, values past the limits (MaxValueDepth and the others).
type decoder struct {
	*problems
	// lenient turns unknown keys into warnings and warns of sections
	// kspbench does not use (Options.Lenient).
	lenient bool
	pos     map[string]position
	// bad holds the fields whose value could not be read; the validator
	// says nothing more about them or what they hold.
	bad map[string]bool
	// merging holds the mappings being merged (<<), to stop cycles.
	merging map[*yaml.Node]bool
	// steps counts nodes visited, aliases included; over is set when it
	// passes maxSteps, which only alias bombs do.
	steps, maxSteps int
	over            bool
	// configBytes counts the text of configuration defaults read so far
	// (MaxConfigBytes); configOver is set once it passes the limit.
	configBytes int
	configOver  bool
	// aliasSite is the outermost alias the reading of a configuration
	// default went through to the node being read, or nil.
	aliasSite *yaml.Node
}

func newDecoder(p *problems, size int, lenient bool) *decoder {
	return &decoder{
		problems: p,
		lenient:  lenient,
		pos:      map[string]position{"": {1, 1}},
		bad:      make(map[string]bool),
		merging:  make(map[*yaml.Node]bool),
		maxSteps: 4096 + size,
	}
}

// fail records a problem at n and marks field as unreadable.
func (d *decoder) fail(n *yaml.Node, field string, err error, format string, args ...any) {
	d.report(n, field, err, format, args...)
	d.bad[field] = true
}

// report records a problem of the schema field at n.
func (d *decoder) report(n *yaml.Node, field string, err error, format string, args ...any) {
	d.reportAt(n, schemaPath(field), err, format, args...)
}

// reportAt records a problem at n of a field whose path is built only if
// the problem is listed. Inside a configuration default reached through an
// alias, the problem is located at the alias, where the path leads, rather
// than in the anchored value.
func (d *decoder) reportAt(n *yaml.Node, field fieldPath, err error, format string, args ...any) {
	if d.aliasSite != nil {
		n = d.aliasSite
	}
	d.addError(n.Line, n.Column, field, err, format, args...)
}

// warn records a warning at n.
func (d *decoder) warn(n *yaml.Node, field string, format string, args ...any) {
	d.addWarning(n.Line, n.Column, field, format, args...)
}

// step counts one node and reports false once the budget is spent.
func (d *decoder) step(n *yaml.Node) bool {
	if d.over {
		return false
	}
	if d.steps++; d.steps > d.maxSteps {
		d.over = true
		d.report(n, "", nil, "the manifest expands to more than %d values through aliases "+
			"(4096 plus one per byte of the file)", d.maxSteps)
		return false
	}
	return true
}

// field is one key of a mapping in the schema and the function that reads
// its value, given the value's node and the field's path.
type field struct {
	key  string
	read func(n *yaml.Node, path string)
}

// unusedFields are the fields kspbench reads and checks but does not use,
// each with what a lenient reading warns about it.
var unusedFields = map[string]string{
	"spec.build":      "build information; kspbench reads it but does not use it",
	"spec.frontend":   "the KubeStellar UI's frontend integration; kspbench serves no frontend and does not use it",
	"spec.navigation": "a section of the KubeStellar UI's frontend; kspbench does not use it",
	"spec.widgets":    "a section of the KubeStellar UI's frontend; kspbench does not use it",
	"spec.routes":     "a section of the KubeStellar UI's frontend (not spec.backend.routes); kspbench does not use it",
}

// pair is an entry of a mapping: the key's node, for its position; the
// key's text, aliases resolved; the value's node.
type pair struct {
	key   *yaml.Node
	name  string
	value *yaml.Node
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the value of n for messages: "a mapping", "a list", or the
// quoted text of a scalar.
func describe(n *yaml.Node) string {
	switch n = resolve(n); n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		s := n.Value
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return strconv.Quote(s)
	}
	return "an alias"
}

// join returns the path of the field key of the mapping at path; a key
// longer than maxPathKey is cut.
func join(path, key string) string {
	key = shorten(key, maxPathKey)
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping reads a mapping whose keys are fields. A null value leaves every
// field unset.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		if path == "" {
			d.fail(n, path, nil, "the manifest must be a mapping, not %s", describe(n))
		} else {
			d.fail(n, path, nil, "must be a mapping, not %s", describe(n))
		}
		return
	}
	for _, p := range d.pairs(n, schemaPath(path)) {
		child := join(path, p.name)
		var f *field
		for i := range fields {
			if fields[i].key == p.name {
				f = &fields[i]
			}
		}
		if f == nil {
			d.unknownKey(p.key, child, p.name, fields)
			continue
		}
		if why, ok := unusedFields[child]; ok && d.lenient {
			d.warn(p.key, child, "%s", why)
		}
		d.pos[child] = position{p.key.Line, p.key.Column}
		f.read(p.value, child)
	}
}

// unknownKey reports the key k, which is none of fields: an error that
// marks the field unreadable, or a warning when the reading is lenient.
func (d *decoder) unknownKey(k *yaml.Node, child, key string, fields []field) {
	if d.lenient {
		if d.warningsFull() {
			d.droppedWarns++
			return
		}
	} else {
		d.bad[child] = true
		if d.errorsFull() {
			d.droppedErrs++
			return
		}
	}
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	suggestion := nearest(key, keys)
	switch {
	case d.lenient && suggestion != "":
		d.warn(k, child, "unknown key %s, ignored (did you mean %q?)", quoteKey(key), suggestion)
	case d.lenient:
		d.warn(k, child, "unknown key %s, ignored", quoteKey(key))
	case suggestion != "":
		d.report(k, child, nil, "unknown key %s (did you mean %q?)", quoteKey(key), suggestion)
	default:
		d.report(k, child, nil, "unknown key %s; known keys are %s", quoteKey(key), strings.Join(keys, ", "))
	}
}

// pairs returns the key/value pairs of the mapping n, with the pairs of
// merged mappings (<<) after them unless their key is set explicitly, and
// reports duplicate, overlong and non-scalar keys.
func (d *decoder) pairs(n *yaml.Node, at fieldPath) []pair {
	var out, merged []pair
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !d.step(k) {
			return nil
		}
		rk := resolve(k)
		switch {
		case rk.Kind == yaml.ScalarNode && rk.ShortTag() == "!!merge":
			merged = append(merged, d.merge(v, at)...)
			continue
		case rk.Kind != yaml.ScalarNode:
			d.reportAt(k, at, nil, "has a key that is %s; keys must be plain text", describe(rk))
			continue
		case len(rk.Value) > MaxScalarLength:
			d.reportAt(k, at.key(n, rk.Value), nil, "has a key of %d bytes; keys and scalars may be at most %d bytes long "+
				"(manifest.MaxScalarLength)", len(rk.Value), MaxScalarLength)
			continue
		}
		if first, dup := seen[rk.Value]; dup {
			d.reportAt(k, at.key(n, rk.Value), nil, "duplicate key %s (first at line %d)", quoteKey(rk.Value), first.Line)
			continue
		}
		seen[rk.Value] = k
		out = append(out, pair{k, rk.Value, v})
	}
	for _, p := range merged {
		if _, set := seen[p.name]; !set {
			seen[p.name] = p.key
			out = append(out, p)
		}
	}
	return out
}

// merge returns the pairs that the value of a merge key brings: those of a
// mapping, or of a list of mappings where earlier mappings win.
func (d *decoder) merge(v *yaml.Node, at fieldPath) []pair {
	rv := resolve(v)
	switch rv.Kind {
	case yaml.MappingNode:
		if d.merging[rv] {
			d.reportAt(v, at, nil, "merges a mapping into itself")
			return nil
		}
		d.merging[rv] = true
		defer delete(d.merging, rv)
		return d.pairs(rv, at)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range rv.Content {
			if resolve(item).Kind != yaml.MappingNode {
				d.reportAt(item, at, nil, "merges %s; a merge key (<<) takes a mapping or a list of mappings", describe(item))
				continue
			}
			out = append(out, d.merge(item, at)...)
		}
		return out
	}
	d.reportAt(v, at, nil, "merges %s; a merge key (<<) takes a mapping or a list of mappings", describe(v))
	return nil
}

// seq reads a list, calling item for each entry with the entry's path. A
// null value is an empty list.
func (d *decoder) seq(n *yaml.Node, path string, item func(n *yaml.Node, path string)) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, nil, "must be a list, not %s", describe(n))
		return
	}
	for i, c := range n.Content {
		if !d.step(c) {
			return
		}
		p := path + "[" + strconv.Itoa(i) + "]"
		d.pos[p] = position{c.Line, c.Column}
		item(c, p)
	}
}

// scalar decodes a scalar into dst as yaml.v3 would; what it cannot decode
// is reported with what (such as "a string").
func (d *decoder) scalar(n *yaml.Node, path string, dst any, what string) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, nil, "must be %s, not %s", what, describe(n))
		return
	}
	if len(n.Value) > MaxScalarLength {
		d.fail(n, path, nil, "is %d bytes long; keys and scalars may be at most %d bytes long (manifest.MaxScalarLength)",
			len(n.Value), MaxScalarLength)
		return
	}
	if err := decodeNode(n, dst); err != nil {
		d.fail(n, path, err, "must be %s, not %s", what, describe(n))
	}
}

// decodeNode is n.Decode with a panic of the YAML library made an error.
func decodeNode(n *yaml.Node, dst any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: decoder failed: %v", r)
		}
	}()
	return n.Decode(dst)
}

func (d *decoder) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) { d.scalar(n, path, dst, "a string") }
}

func (d *decoder) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) { d.scalar(n, path, dst, "true or false") }
}

func (d *decoder) integer(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) { d.scalar(n, path, dst, "an integer") }
}

func (d *decoder) strs(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		d.seq(n, path, func(c *yaml.Node, p string) {
			var s string
			d.scalar(c, p, &s, "a string")
			*dst = append(*dst, s)
		})
	}
}

// value reads a configuration default, any YAML value: nil, string, bool,
// int, int64, uint64, float64, []any or map[string]any. Timestamps stay
// strings; map keys are their text.
func (d *decoder) value(dst *any) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if d.configOver {
			d.bad[path] = true // MaxConfigBytes was reported once, at the value that passed it
			return
		}
		if v, ok := d.anyValue(n, &valueWalk{root: path}); ok {
			*dst = v
		} else {
			d.bad[path] = true
		}
	}
}

// anyValue reads the node n of a free-form value, found where w.steps
// lead. It stops the whole value at the first limit passed; other problems
// are all reported.
func (d *decoder) anyValue(n *yaml.Node, w *valueWalk) (any, bool) {
	if w.stop {
		return nil, false
	}
	if n.Kind == yaml.AliasNode && d.aliasSite == nil {
		d.aliasSite = n
		defer func() { d.aliasSite = nil }()
	}
	if !d.step(n) {
		w.stop = true
		return nil, false
	}
	if w.nodes++; w.nodes > MaxValueNodes {
		w.stop = true
		d.reportAt(n, schemaPath(w.root), nil, "holds more than %d lists, mappings and scalars (an alias counted at "+
			"each use); that is the most a value may hold (manifest.MaxValueNodes)", MaxValueNodes)
		return nil, false
	}
	rn := resolve(n)
	for _, s := range w.steps {
		if s.parent == rn {
			d.reportAt(n, w.path(), nil, "contains itself (through an alias)")
			return nil, false
		}
	}
	depth := len(w.steps)
	if (rn.Kind == yaml.SequenceNode || rn.Kind == yaml.MappingNode) && depth >= MaxValueDepth {
		w.stop = true
		d.reportAt(n, w.path(), nil, "nests lists and mappings %d deep; a value may nest them at most %d "+
			"deep (manifest.MaxValueDepth)", depth+1, MaxValueDepth)
		return nil, false
	}
	switch rn.Kind {
	case yaml.ScalarNode:
		if !d.spendText(n, rn.Value, w) {
			return nil, false
		}
		switch rn.ShortTag() {
		case "!!null":
			return nil, true
		case "!!str", "!!timestamp":
			return rn.Value, true
		}
		var v any
		if err := decodeNode(rn, &v); err != nil {
			msg, _ := splitYAMLError(err)
			d.reportAt(n, w.path(), err, "cannot be read: %s", msg)
			return nil, false
		}
		return v, true
	case yaml.SequenceNode:
		list := make([]any, 0, min(len(rn.Content), MaxValueNodes))
		ok := true
		for i, c := range rn.Content {
			w.steps = append(w.steps, pathStep{parent: rn, index: i})
			v, cok := d.anyValue(c, w)
			w.steps = w.steps[:depth]
			if w.stop {
				return nil, false
			}
			ok = ok && cok
			list = append(list, v)
		}
		return list, ok
	case yaml.MappingNode:
		errs := d.errorCount()
		ps := d.pairs(rn, w.path())
		obj := make(map[string]any, min(len(ps), MaxValueNodes))
		ok := true
		for _, p := range ps {
			w.steps = append(w.steps, pathStep{parent: rn, key: p.name, index: -1})
			v, cok := any(nil), d.spendText(p.key, p.name, w)
			if cok {
				v, cok = d.anyValue(p.value, w)
			}
			w.steps = w.steps[:depth]
			if w.stop {
				return nil, false
			}
			ok = ok && cok
			obj[p.name] = v
		}
		return obj, ok && d.errorCount() == errs
	}
	d.reportAt(n, w.path(), nil, "cannot be read")
	return nil, false
}

// spendText checks the length of a key or scalar of a configuration
// default, at n where w.steps lead, and counts it against MaxConfigBytes.
// It reports false, and stops the value, past either limit.
func (d *decoder) spendText(n *yaml.Node, text string, w *valueWalk) bool {
	if len(text) > MaxScalarLength {
		w.stop = true
		d.reportAt(n, w.path(), nil, "is %d bytes long; keys and scalars may be at most %d bytes long "+
			"(manifest.MaxScalarLength)", len(text), MaxScalarLength)
		return false
	}
	if d.configBytes += len(text); d.configBytes > MaxConfigBytes {
		w.stop = true
		d.configOver = true
		d.reportAt(n, schemaPath(w.root), nil, "brings the text of the configuration defaults past %d bytes (keys and "+
			"scalars, an alias counted at each use); that is the most they may hold together (manifest.MaxConfigBytes)",
			MaxConfigBytes)
		return false
	}
	return true
}

// manifest reads the whole document.
func (d *decoder) manifest(root *yaml.Node, m *Manifest) {
	d.mapping(root, "", []field{
		{"apiVersion", d.str(&m.APIVersion)},
		{"kind", d.str(&m.Kind)},
		{"metadata", func(n *yaml.Node, p string) {
			md := &m.Metadata
			d.mapping(n, p, []field{
				{"name", d.str(&md.Name)},
				{"version", d.str(&md.Version)},
				{"author", d.str(&md.Author)},
				{"description", d.str(&md.Description)},
			})
		}},
		{"spec", func(n *yaml.Node, p string) { d.spec(n, p, &m.Spec) }},
	})
}

func (d *decoder) spec(n *yaml.Node, path string, s *Spec) {
	d.mapping(n, path, []field{
		{"wasm", func(n *yaml.Node, p string) {
			d.mapping(n, p, []field{
				{"file", d.str(&s.Wasm.File)},
				{"entrypoint", d.str(&s.Wasm.Entrypoint)},
				{"memory_limit", d.str(&s.Wasm.MemoryLimit)},
			})
		}},
		{"build", func(n *yaml.Node, p string) {
			d.mapping(n, p, []field{
				{"go_version", d.str(&s.Build.GoVersion)},
				{"tinygo_version", d.str(&s.Build.TinyGoVersion)},
			})
		}},
		{"backend", func(n *yaml.Node, p string) {
			d.mapping(n, p, []field{
				{"enabled", d.boolean(&s.Backend.Enabled)},
				{"routes", func(n *yaml.Node, p string) { d.seq(n, p, d.route(&s.Backend.Routes)) }},
			})
		}},
		{"permissions", d.strs(&s.Permissions)},
		{"frontend", func(n *yaml.Node, p string) {
			f := &s.Frontend
			d.mapping(n, p, []field{
				{"enabled", d.boolean(&f.Enabled)},
				{"navigation", func(n *yaml.Node, p string) { d.seq(n, p, d.navigation(&f.Navigation)) }},
				{"widgets", func(n *yaml.Node, p string) { d.seq(n, p, d.widget(&f.Widgets)) }},
				{"routes", func(n *yaml.Node, p string) { d.seq(n, p, d.frontendRoute(&f.Routes)) }},
			})
		}},
		{"navigation", func(n *yaml.Node, p string) { d.seq(n, p, d.navigation(&s.Navigation)) }},
		{"widgets", func(n *yaml.Node, p string) { d.seq(n, p, d.widget(&s.Widgets)) }},
		{"routes", func(n *yaml.Node, p string) { d.seq(n, p, d.frontendRoute(&s.Routes)) }},
		{"configuration", func(n *yaml.Node, p string) { d.seq(n, p, d.configItem(&s.Configuration)) }},
	})
}

// The list readers below append one element per entry, even one that
// cannot be read, so that index i of the slice is entry [i] of the path.

func (d *decoder) route(dst *[]Route) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		r := Route{Line: n.Line, Column: n.Column}
		d.mapping(n, p, []field{
			{"path", d.str(&r.Path)},
			{"methods", d.strs(&r.Methods)},
			{"handler", d.str(&r.Handler)},
		})
		*dst = append(*dst, r)
	}
}

func (d *decoder) navigation(dst *[]NavigationItem) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		var it NavigationItem
		d.mapping(n, p, []field{
			{"label", d.str(&it.Label)},
			{"icon", d.str(&it.Icon)},
			{"path", d.str(&it.Path)},
			{"position", d.str(&it.Position)},
			{"order", d.integer(&it.Order)},
		})
		*dst = append(*dst, it)
	}
}

func (d *decoder) widget(dst *[]Widget) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		var w Widget
		d.mapping(n, p, []field{
			{"name", d.str(&w.Name)},
			{"title", d.str(&w.Title)},
			{"size", d.str(&w.Size)},
			{"dashboard", d.str(&w.Dashboard)},
			{"component", d.str(&w.Component)},
		})
		*dst = append(*dst, w)
	}
}

func (d *decoder) frontendRoute(dst *[]FrontendRoute) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		var r FrontendRoute
		d.mapping(n, p, []field{
			{"path", d.str(&r.Path)},
			{"component", d.str(&r.Component)},
			{"exact", d.boolean(&r.Exact)},
		})
		*dst = append(*dst, r)
	}
}

func (d *decoder) configItem(dst *[]ConfigItem) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		var c ConfigItem
		d.mapping(n, p, []field{
			{"name", d.str(&c.Name)},
			{"type", d.str(&c.Type)},
			{"default", d.value(&c.Default)},
			{"description", d.str(&c.Description)},
		})
		*dst = append(*dst, c)
	}
}

// nearest returns the candidate closest to s when s is a likely typo of it
// (one edit per five letters, and at least one, allowed), or "".
func nearest(s string, candidates []string) string {
	best, bestDist := "", max(1, len(s)/5)+1
	for _, c := range candidates {
		if dist := editDistance(strings.ToLower(s), strings.ToLower(c)); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b))
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
