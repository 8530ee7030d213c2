package plugindir

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kspbench/kspbench/manifest"
	"gopkg.in/yaml.v3"
)

// loadLenient reads the manifest at path as the KubeStellar UI reference host
// reads it (kubestellar/ui ab605a19, backend/pkg/plugins/manager.go:54-145):
// any apiVersion, unknown keys ignored, an enabled backend without routes
// taken as no backend (a frontend-only plugin). It returns the manifest with
// one warning per thing accepted, each "file:line:column: field: message".
//
// # Notes
//
// This is a minimal lenient reading done here, outside package manifest: it
// edits the three problems above out of the text, line for line (so the
// strict reading that follows reports the right lines for anything else),
// and parses the result strictly. Package manifest's own lenient mode
// replaces it when it lands.
func loadLenient(path string) (*manifest.Manifest, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load manifest: %w", err)
	}
	_, strictErr := manifest.Parse(data, path)
	var verr *manifest.ValidationError
	if !errors.As(strictErr, &verr) {
		return nil, nil, strictErr
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, strictErr
	}
	root := doc.Content[0]
	lines := strings.SplitAfter(string(data), "\n")
	var warnings []string
	warn := func(line, col int, field, format string, args ...any) {
		warnings = append(warnings, fmt.Sprintf("%s:%d:%d: %s: %s", path, line, col, field, fmt.Sprintf(format, args...)))
	}
	setValue := func(n *yaml.Node, v string) {
		l := lines[n.Line-1]
		eol := ""
		if strings.HasSuffix(l, "\n") {
			eol = "\n"
			if strings.HasSuffix(l, "\r\n") {
				eol = "\r\n"
			}
		}
		lines[n.Line-1] = l[:n.Column-1] + v + eol
	}
	for _, fe := range verr.Errors {
		switch {
		case fe.Field == "apiVersion":
			if _, v, _ := lookup(root, "apiVersion"); v != nil && v.Kind == yaml.ScalarNode {
				warn(v.Line, v.Column, "apiVersion", "%q accepted, as the reference host accepts any apiVersion (kspbench's strict reading wants %q)", v.Value, manifest.APIVersion)
				setValue(v, `"`+manifest.APIVersion+`"`)
			}
		case strings.HasPrefix(fe.Message, "unknown key") && !strings.Contains(fe.Field, "["):
			if from, to, ok := keyLines(root, strings.Split(fe.Field, "."), len(lines)); ok {
				warn(fe.Line, fe.Column, fe.Field, "unknown key ignored, as the reference host ignores it")
				for i := from; i <= to; i++ {
					lines[i-1] = blankLine(lines[i-1])
				}
			}
		case fe.Field == "spec.backend.routes" && strings.Contains(fe.Message, "no routes"):
			if _, v, _ := lookup(root, "spec", "backend", "enabled"); v != nil && v.Kind == yaml.ScalarNode {
				warn(fe.Line, fe.Column, "spec.backend", "enabled without routes: a frontend-only plugin, no backend is served (the reference host registers no route either)")
				setValue(v, "false")
			}
		}
	}
	m, err := manifest.Parse([]byte(strings.Join(lines, "")), path)
	if err != nil {
		return nil, nil, err
	}
	return m, warnings, nil
}

// lookup follows keys through nested mappings and returns the last key's
// key and value nodes and the mapping holding them.
func lookup(n *yaml.Node, keys ...string) (key, value, parent *yaml.Node) {
	for i, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil, nil, nil
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == k {
				key, next = n.Content[j], n.Content[j+1]
				break
			}
		}
		if next == nil {
			return nil, nil, nil
		}
		if i == len(keys)-1 {
			return key, next, n
		}
		n = next
	}
	return nil, nil, nil
}

// keyLines returns the lines (1-based, inclusive) that the key at path and
// its value take: from the key's line to the line before the next key of the
// same mapping or of a mapping above it, or to the last line.
func keyLines(root *yaml.Node, path []string, last int) (from, to int, ok bool) {
	key, _, _ := lookup(root, path...)
	if key == nil {
		return 0, 0, false
	}
	to = last
	n := root
	for _, k := range path {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == k {
				if j+2 < len(n.Content) {
					to = n.Content[j+2].Line - 1
				}
				n = n.Content[j+1]
				break
			}
		}
	}
	return key.Line, to, true
}

// blankLine returns an empty line with l's line ending.
func blankLine(l string) string {
	switch {
	case strings.HasSuffix(l, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(l, "\n"):
		return "\n"
	}
	return ""
}
