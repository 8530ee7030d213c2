package requests

import (
	"strings"
	"testing"

	"github.com/kspbench/kspbench/plugin"
)

var routes = []plugin.Route{
	{Path: "/status", Methods: []string{"GET"}, Handler: "handle_status"},
	{Path: "/data", Methods: []string{"GET", "POST"}, Handler: "handle_data"},
}

func TestParse(t *testing.T) {
	src := `requests:
  - route: /data
    method: post
    body: {"name": "x", "n": 1}
    headers: {content-type: application/json, x-many: [a, b]}
    status: 201
    volatile: [timestamp, items.*.id]
  - route: /data
    method: GET
    body: raw text
`
	got, err := Parse("requests.yml", []byte(src), routes)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d requests, want 3 (2 from the file, GET /status by default): %+v", len(got), got)
	}
	p := got[0]
	if p.Name() != "POST /data" || string(p.Body) != `{"n":1,"name":"x"}` || p.Status != 201 || p.Line != 2 ||
		strings.Join(p.Headers["Content-Type"], ",") != "application/json" || strings.Join(p.Headers["X-Many"], ",") != "a,b" ||
		strings.Join(p.Volatile, ",") != "timestamp,items.*.id" {
		t.Errorf("first request: %+v", p)
	}
	if got[1].Name() != "GET /data" || string(got[1].Body) != "raw text" || got[1].Status != 0 {
		t.Errorf("second request: %+v", got[1])
	}
	if got[2].Name() != "GET /status" || got[2].Body != nil || got[2].Line != 0 {
		t.Errorf("default request: %+v", got[2])
	}
	if !p.StatusOK(201) || p.StatusOK(200) || !got[1].StatusOK(204) || got[1].StatusOK(404) {
		t.Error("StatusOK")
	}
}

func TestParseNoMethodMeansEach(t *testing.T) {
	got, err := Parse("r.yml", []byte("requests:\n  - route: /data\n    body: '{}'\n"), routes)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name())
	}
	if strings.Join(names, ",") != "GET /data,POST /data,GET /status" {
		t.Errorf("got %v", names)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"requests:\n  - route: /nope\n", "r.yml:2: route /nope is not in the manifest"},
		{"requests:\n  - route: /status\n    method: POST\n", "r.yml:2: method POST is not a method of route /status"},
		{"requests:\n  - route: /status\n    status: 42\n", "r.yml:3: status: want an HTTP status"},
		{"requests:\n  - route: /status\n    colour: red\n", `r.yml:3: unknown field "colour"`},
		{"requests:\n  - method: GET\n", "r.yml:2: a request without route"},
		{"requests:\n  - route: /status\n    volatile: [a..b]\n", `r.yml:3: volatile: "a..b" is not a JSON path`},
		{"reqs: []\n", `r.yml:1: unknown field "reqs"`},
		{"requests:\n  - route: /status\n    body: \"open\n", "r.yml:3: yaml: line 3:"},
	} {
		_, err := Parse("r.yml", []byte(c.src), routes)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %s...", c.src, err, c.want)
		}
	}
}

func TestEqual(t *testing.T) {
	for _, c := range []struct {
		a, b     string
		volatile []string
		want     bool
	}{
		{`{"a":1,"b":[1,2]}`, `{ "b": [1, 2], "a": 1 }`, nil, true},
		{`{"a":1}`, `{"a":2}`, nil, false},
		{`{"a":1,"timestamp":"x"}`, `{"a":1,"timestamp":"y"}`, []string{"timestamp"}, true},
		{`{"a":1,"timestamp":"x"}`, `{"a":2,"timestamp":"y"}`, []string{"timestamp"}, false},
		{`{"items":[{"id":1,"v":"a"},{"id":2,"v":"b"}]}`, `{"items":[{"id":7,"v":"a"},{"id":8,"v":"b"}]}`, []string{"items.*.id"}, true},
		{`{"items":[{"id":1,"v":"a"}]}`, `{"items":[{"id":7,"v":"z"}]}`, []string{"items.*.id"}, false},
		{`{"items":[1,2]}`, `{"items":[2,1]}`, nil, false},
		{`plain`, `plain`, nil, true},
		{`plain`, `plain!`, nil, false},
		{`{"a":1}`, `not json`, nil, false},
	} {
		if got := Equal([]byte(c.a), []byte(c.b), c.volatile); got != c.want {
			t.Errorf("Equal(%s, %s, %v) = %v, want %v", c.a, c.b, c.volatile, got, c.want)
		}
	}
}
