package runner

import (
	"strings"
	"testing"

	"github.com/kspbench/kspbench/internal/requests"
)

// TestCompareAnswers: JSON bodies compare as JSON without the request's
// volatile fields; a different body or status is a difference, shown with
// both bodies; a failure is listed with its error.
func TestCompareAnswers(t *testing.T) {
	engs := []string{"wazero", "wazero:interpreter", "wasmtime"}
	get := requests.Request{Method: "GET", Path: "/status", Volatile: []string{"timestamp", "items.*.id"}}
	same := RouteAnswers{Request: get, Engines: engs, Answers: []Answer{
		{Status: 200, Body: []byte(`{"ok":true,"timestamp":"1","items":[{"id":1,"v":"a"}]}`)},
		{Status: 200, Body: []byte(`{"items":[{"v":"a","id":9}],"timestamp":"2","ok":true}`)},
		{Status: 200, Body: []byte(`{ "ok": true, "items": [{"id": 3, "v": "a"}] }`)},
	}}
	compareAnswers(&same)
	if len(same.Differs) != 0 || len(same.Failing) != 0 {
		t.Errorf("equal answers: differs %v, failing %v", same.Differs, same.Failing)
	}
	post := requests.Request{Method: "POST", Path: "/data", Status: 201}
	diff := RouteAnswers{Request: post, Engines: engs, Answers: []Answer{
		{Status: 201, Body: []byte(`{"stored":1}`)},
		{Status: 201, Body: []byte(`{"stored":2}`)},
		{Error: "wasm trap: out of bounds memory access"},
	}}
	compareAnswers(&diff)
	if strings.Join(diff.Differs, ",") != "wazero:interpreter,wasmtime" || strings.Join(diff.Failing, ",") != "wasmtime" {
		t.Errorf("differs %v, failing %v", diff.Differs, diff.Failing)
	}
	status := RouteAnswers{Request: get, Engines: engs[:2], Answers: []Answer{{Status: 200, Body: []byte("x")}, {Status: 500, Body: []byte("x")}}}
	compareAnswers(&status)
	if strings.Join(status.Differs, ",") != "wazero:interpreter" || strings.Join(status.Failing, ",") != "wazero:interpreter" {
		t.Errorf("a different status: differs %v, failing %v", status.Differs, status.Failing)
	}
	md := answersMarkdown("requests.yml", []RouteAnswers{same, diff})
	for _, want := range []string{"| GET /status | 200,", "### Differences", "- POST /data: wazero and wazero:interpreter differ:",
		`{"stored":1}`, `{"stored":2}`, "### Failing requests", "- POST /data on wasmtime: wasm trap: out of bounds memory access"} {
		if !strings.Contains(md, want) {
			t.Errorf("answers.md lacks %q:\n%s", want, md)
		}
	}
	if md := answersMarkdown("", []RouteAnswers{same}); !strings.Contains(md, "Every configuration gave the same answers") || strings.Contains(md, "Differences") {
		t.Errorf("answers.md of agreeing answers:\n%s", md)
	}
}
