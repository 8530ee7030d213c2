package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kspbench/kspbench/conformance"
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

// fakeAnswer is the answer of the test-double workers; nil leaves them
// without the "answer" operation.
var fakeAnswer func(engine string, r requests.Request) Answer

func (f *fakeWorker) Answer(_ context.Context, a AnswerArgs) (Answer, error) {
	if fakeAnswer == nil {
		return Answer{Error: "no answers in this test"}, nil
	}
	return fakeAnswer(f.name, a.Request), nil
}

// fakePlugin writes a plugin folder the runner can read: the reference
// guest with two routes.
func fakePlugin(t *testing.T) string {
	dir := t.TempDir()
	yml := `apiVersion: kubestellar.io/v1
kind: Plugin
metadata:
  name: "fake"
  version: "1.0.0"
spec:
  wasm:
    file: "plugin.wasm"
  backend:
    enabled: true
    routes:
      - path: "/status"
        methods: ["GET"]
        handler: "handle_status"
      - path: "/data"
        methods: ["GET", "POST"]
        handler: "handle_data"
`
	if err := os.WriteFile(filepath.Join(dir, "plugin.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugin.wasm"), conformance.Guest("reference"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRunAnswersDiffer: when two configurations answer a request
// differently, beyond its volatile fields, the run writes its reports, lists
// the difference in answers.md and summary.md, and fails with
// ErrAnswersDiffer, unless AllowDifferences.
func TestRunAnswersDiffer(t *testing.T) {
	t.Cleanup(func() { fakeAnswer = nil })
	fakeAnswer = func(engine string, r requests.Request) Answer {
		if r.Path == "/data" && r.Method == "GET" {
			return Answer{Status: 200, Body: []byte(`{"clusters":["` + engine + `"],"timestamp":"` + engine + `"}`)}
		}
		return Answer{Status: 200, Body: []byte(`{"ok":true,"timestamp":"` + engine + `"}`)}
	}
	plugin := fakePlugin(t)
	reqs := filepath.Join(t.TempDir(), "requests.yml")
	if err := os.WriteFile(reqs, []byte("requests:\n  - route: /status\n    volatile: [timestamp]\n  - route: /data\n    method: GET\n    volatile: [timestamp]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, allow := range []bool{false, true} {
		o := Defaults()
		o.Engines = []string{"wazero", "wasmtime"}
		o.SafetyOnly = nil
		o.Count, o.Conformance = 1, false
		o.Bench, _ = NewFilter("Call/op=noop/via=harness")
		o.PluginDir, o.Requests, o.AllowDifferences = plugin, reqs, allow
		o.Out = filepath.Join(t.TempDir(), "run")
		var mu sync.Mutex
		var calls []string
		env := Env{
			Launch: func(_ context.Context, name string) (Worker, error) {
				return &fakeWorker{name: name, mu: &mu, calls: &calls}, nil
			},
			Benchstat: func(context.Context, ...string) ([]byte, error) { return []byte("benchstat (test double)\n"), nil },
		}
		out, err := Run(context.Background(), o, env)
		if allow != (err == nil) || !allow && !errors.Is(err, ErrAnswersDiffer) {
			t.Fatalf("allow %v: %v", allow, err)
		}
		if !allow && !strings.Contains(err.Error(), "GET /data (wazero and wasmtime)") {
			t.Errorf("the error does not name the request: %v", err)
		}
		for _, file := range []string{AnswersFile, "summary.md"} {
			md, err := os.ReadFile(filepath.Join(out, file))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"1 of 2 requests were answered differently", "- GET /data: wazero and wasmtime differ (volatile fields ignored: timestamp)",
				`{"clusters":["wazero"],"timestamp":"wazero"}`, `{"clusters":["wasmtime"],"timestamp":"wasmtime"}`} {
				if !strings.Contains(string(md), want) {
					t.Errorf("%s lacks %q:\n%s", file, want, md)
				}
			}
		}
	}
}
