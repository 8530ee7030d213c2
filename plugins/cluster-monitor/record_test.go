package main

import (
	"strings"
	"testing"
)

func TestParseClusterRecord(t *testing.T) {
	valid := cluster{ID: "cluster-3", Name: "Dev Cluster", Status: "healthy", Nodes: 1, Pods: 10}
	tests := []struct {
		name    string
		body    string
		want    cluster
		wantErr string // a part of the error message; "" for success
	}{
		{name: "valid", body: `{"id":"cluster-3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, want: valid},
		{name: "valid, other order and spaces", body: " {\"pods\" : 10, \"nodes\":1,\n\"status\":\"healthy\",\"name\":\"Dev Cluster\",\"id\":\"cluster-3\"}\n", want: valid},
		{name: "zero counts", body: `{"id":"a","name":"A","status":"warning","nodes":0,"pods":0}`, want: cluster{ID: "a", Name: "A", Status: "warning"}},
		{name: "63-character id", body: `{"id":"` + strings.Repeat("a", 63) + `","name":"A","status":"unhealthy","nodes":0,"pods":0}`, want: cluster{ID: strings.Repeat("a", 63), Name: "A", Status: "unhealthy"}},
		{name: "256-character name", body: `{"id":"a","name":"` + strings.Repeat("é", 256) + `","status":"healthy","nodes":0,"pods":0}`, want: cluster{ID: "a", Name: strings.Repeat("é", 256), Status: "healthy"}},

		{name: "empty body", body: ``, wantErr: "body is empty"},
		{name: "blank body", body: " \n", wantErr: "body is empty"},
		{name: "not JSON", body: `id=cluster-3`, wantErr: "body is not JSON"},
		{name: "truncated", body: `{"id":"cluster-3"`, wantErr: "body is not JSON"},
		{name: "array", body: `[1,2]`, wantErr: "body must be a JSON object, got array"},
		{name: "string", body: `"x"`, wantErr: "body must be a JSON object, got string"},
		{name: "trailing data", body: `{"id":"cluster-3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10} {}`, wantErr: "unexpected data after the JSON object"},
		{name: "trailing garbage", body: `{"id":"cluster-3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10} x`, wantErr: "body is not JSON"},
		{name: "unknown field", body: `{"id":"cluster-3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10,"region":"eu"}`, wantErr: `unknown field "region"`},
		{name: "field names are case-sensitive", body: `{"ID":"cluster-3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, wantErr: `unknown field "ID"`},
		{name: "duplicate field", body: `{"id":"cluster-3","id":"cluster-4","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, wantErr: `duplicate field "id"`},
		{name: "missing pods", body: `{"id":"cluster-3","name":"Dev Cluster","status":"healthy","nodes":1}`, wantErr: `missing field "pods"`},
		{name: "empty object", body: `{}`, wantErr: `missing field "id"`},
		{name: "id not a string", body: `{"id":3,"name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, wantErr: "id must be a string, got number"},
		{name: "id null", body: `{"id":null,"name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, wantErr: "id must be a string, got null"},
		{name: "id empty", body: `{"id":"","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, wantErr: "is not a DNS label"},
		{name: "id upper case", body: `{"id":"Cluster-3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, wantErr: "is not a DNS label"},
		{name: "id starts with -", body: `{"id":"-c","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, wantErr: "is not a DNS label"},
		{name: "id ends with -", body: `{"id":"c-","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, wantErr: "is not a DNS label"},
		{name: "id with a dot", body: `{"id":"c.3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, wantErr: "is not a DNS label"},
		{name: "id too long", body: `{"id":"` + strings.Repeat("a", 64) + `","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`, wantErr: "is not a DNS label"},
		{name: "name empty", body: `{"id":"c","name":"","status":"healthy","nodes":1,"pods":10}`, wantErr: "name must be 1 to 256 characters long, got 0"},
		{name: "name too long", body: `{"id":"c","name":"` + strings.Repeat("n", 257) + `","status":"healthy","nodes":1,"pods":10}`, wantErr: "name must be 1 to 256 characters long, got 257"},
		{name: "name an object", body: `{"id":"c","name":{},"status":"healthy","nodes":1,"pods":10}`, wantErr: "name must be a string, got object"},
		{name: "status unknown", body: `{"id":"c","name":"C","status":"degraded","nodes":1,"pods":10}`, wantErr: `status "degraded" is not one of healthy, warning, unhealthy`},
		{name: "status upper case", body: `{"id":"c","name":"C","status":"Healthy","nodes":1,"pods":10}`, wantErr: "is not one of"},
		{name: "nodes negative", body: `{"id":"c","name":"C","status":"healthy","nodes":-1,"pods":10}`, wantErr: "nodes must be an integer >= 0, got -1"},
		{name: "nodes fraction", body: `{"id":"c","name":"C","status":"healthy","nodes":1.5,"pods":10}`, wantErr: "nodes must be an integer >= 0, got 1.5"},
		{name: "nodes exponent", body: `{"id":"c","name":"C","status":"healthy","nodes":1e3,"pods":10}`, wantErr: "nodes must be an integer >= 0, got 1e3"},
		{name: "nodes a string", body: `{"id":"c","name":"C","status":"healthy","nodes":"1","pods":10}`, wantErr: "nodes must be an integer >= 0, got string"},
		{name: "pods a boolean", body: `{"id":"c","name":"C","status":"healthy","nodes":1,"pods":true}`, wantErr: "pods must be an integer >= 0, got boolean"},
		{name: "long id is cut in the message", body: `{"id":"` + strings.Repeat("A", 5000) + `","name":"C","status":"healthy","nodes":1,"pods":10}`, wantErr: `id "` + strings.Repeat("A", 64) + `..." is not a DNS label`},
		{name: "long unknown field is cut in the message", body: `{"` + strings.Repeat("k", 100) + `":1}`, wantErr: `unknown field "` + strings.Repeat("k", 64) + `..."`},
		{name: "pods out of range", body: `{"id":"c","name":"C","status":"healthy","nodes":1,"pods":99999999999999999999}`, wantErr: "pods 99999999999999999999 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseClusterRecord([]byte(tt.body))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got != tt.want {
					t.Errorf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %+v, want an error containing %q", got, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestIsDNSLabel(t *testing.T) {
	tests := map[string]bool{
		"a": true, "0": true, "a-b": true, "a--b": true, "cluster-1": true, strings.Repeat("z", 63): true,
		"": false, "-": false, "a-": false, "-a": false, "A": false, "a_b": false, "a.b": false, "é": false,
		strings.Repeat("z", 64): false,
	}
	for s, want := range tests {
		if got := isDNSLabel(s); got != want {
			t.Errorf("isDNSLabel(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestShorten(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{strings.Repeat("x", 64), strings.Repeat("x", 64)},
		{strings.Repeat("x", 65), strings.Repeat("x", 64) + "..."},
		{strings.Repeat("é", 70), strings.Repeat("é", 64) + "..."},
	}
	for _, tt := range tests {
		if got := shorten(tt.in); got != tt.want {
			t.Errorf("shorten(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
