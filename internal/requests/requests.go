package requests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/kspbench/kspbench/plugin"
	"gopkg.in/yaml.v3"
)

// Request is one request to a route of the plugin.
type Request struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Body    []byte              `json:"body,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"`
	// Status is the status expected; 0 expects any 2xx.
	Status int `json:"status,omitempty"`
	// Volatile are the JSON paths of the answer left out of comparisons:
	// dot-separated keys, with * for any key or index ("items.*.id").
	Volatile []string `json:"volatile,omitempty"`
	// Line is the line of the request in its file, 0 for a default one.
	Line int `json:"line,omitempty"`
}

// Name is the request as figures name it: "GET /status".
func (r Request) Name() string { return r.Method + " " + r.Path }

// StatusOK reports whether status is the one r expects.
func (r Request) StatusOK(status int) bool {
	if r.Status != 0 {
		return status == r.Status
	}
	return status >= 200 && status < 300
}

// Error is a problem of a requests file, at a line of it.
type Error struct {
	File    string
	Line    int
	Message string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return e.File + ": " + e.Message
}

// Defaults returns a request per route and method, with an empty body.
func Defaults(routes []plugin.Route) []Request {
	var out []Request
	for _, r := range routes {
		for _, m := range r.Methods {
			out = append(out, Request{Method: m, Path: r.Path})
		}
	}
	return out
}

// Load reads the requests file at path for routes: its requests, then
// Defaults for the routes it does not name.
func Load(path string, routes []plugin.Route) ([]Request, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, routes)
}

// Parse reads a requests file's content; file names it in errors.
func Parse(file string, data []byte, routes []plugin.Route) ([]Request, error) {
	fail := func(line int, format string, args ...any) error {
		return &Error{File: file, Line: line, Message: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		var te *yaml.TypeError
		msg := err.Error()
		if errors.As(err, &te) {
			msg = strings.Join(te.Errors, "; ")
		}
		line := 0
		fmt.Sscanf(strings.TrimPrefix(msg, "yaml: "), "line %d:", &line)
		return nil, fail(line, "%s", msg)
	}
	var out []Request
	named := map[string]bool{}
	if len(doc.Content) > 0 {
		top := doc.Content[0]
		if top.Kind != yaml.MappingNode {
			return nil, fail(top.Line, "want a mapping with a requests list")
		}
		for i := 0; i+1 < len(top.Content); i += 2 {
			k, v := top.Content[i], top.Content[i+1]
			if k.Value != "requests" {
				return nil, fail(k.Line, "unknown field %q (want requests)", k.Value)
			}
			if v.Kind != yaml.SequenceNode {
				return nil, fail(v.Line, "requests: want a list")
			}
			for _, item := range v.Content {
				rs, err := parseItem(item, routes, fail)
				if err != nil {
					return nil, err
				}
				for _, r := range rs {
					named[r.Path] = true
				}
				out = append(out, rs...)
			}
		}
	}
	for _, r := range Defaults(routes) {
		if !named[r.Path] {
			out = append(out, r)
		}
	}
	return out, nil
}

// parseItem reads one item of the requests list: one request, or one per
// method of its route when it names no method.
func parseItem(n *yaml.Node, routes []plugin.Route, fail func(int, string, ...any) error) ([]Request, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fail(n.Line, "a request: want a mapping with route, method, body, headers, status, volatile")
	}
	r := Request{Line: n.Line}
	routeLine := n.Line
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "route", "path":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return nil, fail(v.Line, "%s: want a path such as /status", k.Value)
			}
			r.Path, routeLine = v.Value, v.Line
		case "method":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return nil, fail(v.Line, "method: want an HTTP method such as GET")
			}
			r.Method = strings.ToUpper(v.Value)
		case "body":
			if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
				r.Body = []byte(v.Value)
				break
			}
			var x any
			if err := v.Decode(&x); err != nil {
				return nil, fail(v.Line, "body: %v", err)
			}
			if x != nil {
				b, err := json.Marshal(x)
				if err != nil {
					return nil, fail(v.Line, "body: not expressible as JSON: %v", err)
				}
				r.Body = b
			}
		case "headers":
			var h map[string]any
			if err := v.Decode(&h); err != nil {
				return nil, fail(v.Line, "headers: want a mapping of names to a value or a list of values")
			}
			r.Headers = map[string][]string{}
			for name, val := range h {
				key := http.CanonicalHeaderKey(name)
				switch val := val.(type) {
				case []any:
					for _, x := range val {
						r.Headers[key] = append(r.Headers[key], fmt.Sprint(x))
					}
				default:
					r.Headers[key] = append(r.Headers[key], fmt.Sprint(val))
				}
			}
		case "status":
			if err := v.Decode(&r.Status); err != nil || r.Status < 100 || r.Status > 599 {
				return nil, fail(v.Line, "status: want an HTTP status, 100 to 599, got %q", v.Value)
			}
		case "volatile":
			if err := v.Decode(&r.Volatile); err != nil {
				return nil, fail(v.Line, "volatile: want a list of JSON paths such as items.*.id")
			}
			for _, p := range r.Volatile {
				if p == "" || slices.Contains(strings.Split(p, "."), "") {
					return nil, fail(v.Line, "volatile: %q is not a JSON path (keys separated by dots, * for any)", p)
				}
			}
		default:
			return nil, fail(k.Line, "unknown field %q (want route, method, body, headers, status, volatile)", k.Value)
		}
	}
	if r.Path == "" {
		return nil, fail(n.Line, "a request without route")
	}
	i := slices.IndexFunc(routes, func(x plugin.Route) bool { return x.Path == r.Path })
	if i < 0 {
		var paths []string
		for _, x := range routes {
			paths = append(paths, x.Path)
		}
		return nil, fail(routeLine, "route %s is not in the manifest (routes: %s)", r.Path, strings.Join(paths, ", "))
	}
	if r.Method == "" {
		var out []Request
		for _, m := range routes[i].Methods {
			x := r
			x.Method = m
			out = append(out, x)
		}
		return out, nil
	}
	if !slices.Contains(routes[i].Methods, r.Method) {
		return nil, fail(n.Line, "method %s is not a method of route %s (methods: %s)", r.Method, r.Path, strings.Join(routes[i].Methods, ", "))
	}
	return []Request{r}, nil
}

// Equal reports whether two answer bodies are the same: as JSON when both
// are JSON (key order and spacing aside), without the volatile paths; else
// byte for byte.
func Equal(a, b []byte, volatile []string) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	for _, p := range volatile {
		path := strings.Split(p, ".")
		x, y = drop(x, path), drop(y, path)
	}
	return jsonEqual(x, y)
}

func jsonEqual(x, y any) bool {
	xb, _ := json.Marshal(x) // encoding/json sorts map keys
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// drop removes the value at path from v.
func drop(v any, path []string) any {
	if len(path) == 0 {
		return nil
	}
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if path[0] != "*" && path[0] != k {
				continue
			}
			if len(path) == 1 {
				delete(v, k)
			} else {
				v[k] = drop(c, path[1:])
			}
		}
	case []any:
		for i, c := range v {
			if path[0] == "*" || path[0] == fmt.Sprint(i) {
				if len(path) == 1 {
					v[i] = nil
				} else {
					v[i] = drop(c, path[1:])
				}
			}
		}
	}
	return v
}
