package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/internal/runner"
	"github.com/kspbench/kspbench/internal/workerbin"
)

// clusterMonitorRequests is a requests file for cluster-monitor: POST /data
// records a cluster (201), and GET /data lists the clusters, without the
// message (it counts the clusters, so it may change with the store).
const clusterMonitorRequests = `requests:
  - route: /data
    method: POST
    body: {"id": "c-9", "name": "Test Cluster", "status": "healthy", "nodes": 2, "pods": 9}
    headers: {Content-Type: application/json}
    status: 201
  - route: /data
    method: GET
    volatile: [timestamp]
`

// builtClusterMonitor builds plugins/cluster-monitor (as kspbench run does
// without --plugin) and returns its folder, with a requests file beside it
// in a folder of the test's.
func builtClusterMonitor(t *testing.T) (plugin, reqs string) {
	t.Helper()
	src, err := conformance.PluginSource()
	if err != nil {
		t.Skip(err)
	}
	out := filepath.Join(t.TempDir(), "plugins")
	if root, err := workerbin.RepoRoot(); err == nil {
		out = filepath.Join(root, "build", "plugins")
	}
	if plugin, err = conformance.BuildClusterMonitor(context.Background(), src, out); err != nil {
		t.Fatal(err)
	}
	reqs = filepath.Join(t.TempDir(), "requests.yml")
	if err := os.WriteFile(reqs, []byte(clusterMonitorRequests), 0o644); err != nil {
		t.Fatal(err)
	}
	return plugin, reqs
}

// TestRunPluginRoutes runs the Route workload on the real wazero worker:
// every route and method of cluster-monitor is timed with the requests of
// the requests file, through the harness and the pool, with host calls and
// response sizes; the answers are in answers.md and the summary.
func TestRunPluginRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a worker and the plugin")
	}
	plugin, reqs := builtClusterMonitor(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := kspbench(context.Background(), nil, &stdout, &stderr, []string{"run", "--engines", "wazero", "--plugin", plugin,
		"--requests", reqs, "--bench", "Route", "--count", "1", "--benchtime", "1ms", "--conformance=false", "--out", out})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, "wazero.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Route/route=get-status/via=harness", "Route/route=get-status/via=pool",
		"Route/route=get-status/what=hostcalls", "Route/route=get-status/what=response-bytes",
		"Route/route=post-data/via=harness", "Route/route=post-data/via=pool", "Route/route=get-data/via=pool",
		"Route/route=get-data/what=hostcalls"} {
		if !strings.Contains(string(raw), "Benchmark"+name+" ") {
			t.Errorf("wazero.txt lacks %s:\n%s", name, raw)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, runner.AnswersFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| POST /data | 201,", "| GET /data | 200,", "| GET /status | 200,", "requests from " + reqs} {
		if !strings.Contains(string(md), want) {
			t.Errorf("answers.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(string(md), "failing") {
		t.Errorf("a request fails:\n%s", md)
	}
	sum, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sum), "## The plugin's answers") {
		t.Errorf("summary.md lacks the plugin's answers")
	}
}

// TestRunAnswersAgree collects the answers of cluster-monitor on wazero's
// compiler and its interpreter, each in its own worker: they agree, so the
// run succeeds. A POST /data with an empty body fails (400) alike on both:
// a failure, not a difference, and not timed.
func TestRunAnswersAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a worker and the plugin")
	}
	plugin, _ := builtClusterMonitor(t)
	reqs := filepath.Join(t.TempDir(), "requests.yml")
	if err := os.WriteFile(reqs, []byte("requests:\n  - route: /data\n    method: POST\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := kspbench(context.Background(), nil, &stdout, &stderr, []string{"run", "--engines", "wazero,wazero:interpreter", "--plugin", plugin,
		"--requests", reqs, "--bench", "Route/route=get-status|post-data/via=pool", "--count", "1", "--benchtime", "1ms", "--conformance=false", "--out", out})
	if errors.Is(err, runner.ErrAnswersDiffer) || err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, file := range []string{"wazero.txt", "wazero-interpreter.txt"} {
		raw, err := os.ReadFile(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), "BenchmarkRoute/route=get-status/via=pool ") || strings.Contains(string(raw), "post-data") {
			t.Errorf("%s: want GET /status timed and the failing POST /data not:\n%s", file, raw)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, runner.AnswersFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| request | wazero | wazero:interpreter |", "Every configuration gave the same answers",
		"- POST /data on wazero: status 400, want 2xx", "- POST /data on wazero:interpreter: status 400, want 2xx"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("answers.md lacks %q:\n%s", want, md)
		}
	}
}

// TestRunRequestsFlags: --requests must name a file; --allow-differences
// reaches the options.
func TestRunRequestsFlags(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := parseRunFlags([]string{"--requests", "/no/such/requests.yml"}, &stderr); err == nil || !strings.Contains(err.Error(), "--requests") {
		t.Errorf("a missing requests file: %v", err)
	}
	o, err := parseRunFlags([]string{"--allow-differences"}, &stderr)
	if err != nil || !o.AllowDifferences {
		t.Errorf("--allow-differences: %v, %+v", err, o.AllowDifferences)
	}
}
