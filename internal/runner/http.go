package runner

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/internal/loadgen"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/plugindir"
)

// httpWorkload is the end-to-end benchmark: the plugin behind `kspbench
// serve` on each engine; the same serve with a guest that answers a constant
// (server=constant), which separates the host's cost from the guest's; and
// the same answers from a plain Go handler (`kspbench native-serve`), the
// ceiling. Each server runs in a process of its own, the load from a Go client
// in another (`kspbench load`) on loopback.
const httpWorkload = results.HTTP

// httpOp is one route the HTTP workload loads.
type httpOp struct {
	name   string // figure name: get-status, post-data
	method string
	route  string
	body   string
	expect int
	// anyBody accepts any body: the constant guest answers "ok", not JSON.
	anyBody bool
}

// httpOps returns the routes to load: the plugin's first GET route, and for
// the cluster-monitor plugin of ABI v1 POST /data with a record (which
// replaces itself, so storage stays the same size however long the load
// runs). A plugin of the kubestellar-ui profile (the published cluster-monitor
// has other routes) gets its first POST route with a small JSON body, which
// that profile answers with 200 whatever the handler says.
func httpOps(f *plugindir.Folder) []httpOp {
	var ops []httpOp
	for _, r := range f.Routes() {
		for _, m := range r.Methods {
			if m == "GET" && len(ops) == 0 {
				ops = append(ops, httpOp{"get-" + strings.Trim(strings.ReplaceAll(r.Path, "/", "-"), "-"), "GET", r.Path, "", 200, false})
			}
		}
	}
	switch {
	case f.Profile == abi.KubeStellarUI:
		for _, r := range f.Routes() {
			if slices.Contains(r.Methods, "POST") {
				ops = append(ops, httpOp{"post-" + strings.Trim(strings.ReplaceAll(r.Path, "/", "-"), "-"), "POST", r.Path, `{"name":"kspbench"}`, 200, false})
				break
			}
		}
	case f.Manifest.Metadata.Name == "cluster-monitor":
		ops = append(ops, httpOp{"post-data", "POST", "/data", `{"id":"cluster-3","name":"Load Test","status":"healthy","nodes":1,"pods":10}`, 201, false})
	}
	return ops
}

// httpTimings are the load generator's settings.
func (o Options) httpTimings() (duration, warmup time.Duration) {
	if o.Quick {
		return 300 * time.Millisecond, 100 * time.Millisecond
	}
	return 500 * time.Millisecond, 100 * time.Millisecond
}

// runHTTP measures one sample of the HTTP figures for one engine: every op
// against the engine's server, the constant server and the native ceiling.
// The native server and the load generator are the engine's kspbench binary
// too (any kspbench binary has those commands), each in a process of its own.
//
// The order rotates with the sample number: the servers by one place per
// sample, the routes reversed every other sample. A server measured first
// or last in a sample meets a machine in another state (caches, other
// processes' bursts, the CPU's clock), and a fixed order would put that
// bias into one figure, and into the ratios between them, every time.
func runHTTP(ctx context.Context, r *engineRun, o Options, sample int) ([]results.Sample, error) {
	self := r.w.Binary()
	forced, err := profileOf(o.ABI)
	if err != nil {
		return nil, err
	}
	f, err := plugindir.ReadWith(o.PluginDir, forced)
	if err != nil {
		return nil, err
	}
	ops := httpOps(f)
	if len(ops) == 0 {
		return nil, fmt.Errorf("the plugin %s has no GET route to load", f.Manifest.Metadata.Name)
	}
	plugins := filepath.Join(r.tmp, "http", "plugins")
	if err := copyPluginFolder(o.PluginDir, filepath.Join(plugins, f.Manifest.Metadata.Name)); err != nil {
		return nil, err
	}
	constant := filepath.Join(r.tmp, "http", "constant")
	if err := writeConstantFolder(filepath.Join(constant, f.Manifest.Metadata.Name), f); err != nil {
		return nil, err
	}
	var out []results.Sample
	type server struct {
		kind string // a results.Server value
		bin  string
		args []string
	}
	servers := []server{
		{results.ServerEngine, r.w.Binary(), []string{"serve", "--engine", r.conf.ID(), "--plugins", plugins, "--data", filepath.Join(r.tmp, "http", "data.db"),
			"--cache-dir", filepath.Join(r.tmp, "http", "cache"), "--log-level", "warn", "--abi", cmp.Or(o.ABI, "auto"),
			// The engines, not serve's process isolation (wasmer's default), are measured.
			"--isolation", "none"}},
		{results.ServerConstant, r.w.Binary(), []string{"serve", "--engine", r.conf.ID(), "--plugins", constant, "--data", filepath.Join(r.tmp, "http", "constant.db"),
			"--cache-dir", filepath.Join(r.tmp, "http", "cache"), "--log-level", "warn", "--abi", "auto", "--isolation", "none"}},
		{results.ServerNative, self, append([]string{"native-serve", "--plugin", o.PluginDir}, nativeBodies(ops)...)},
		// The plugin again, each call in one of serve's worker processes
		// (--isolation process, wasmer's default): what isolation costs per
		// request, on the first GET route only.
		{results.ServerIsolated, r.w.Binary(), []string{"serve", "--engine", r.conf.ID(), "--plugins", plugins, "--data", filepath.Join(r.tmp, "http", "isolated.db"),
			"--cache-dir", filepath.Join(r.tmp, "http", "cache"), "--log-level", "warn", "--abi", cmp.Or(o.ABI, "auto"), "--isolation", "process"}},
	}
	if r.bindingOnly {
		// A direct configuration is measured for the binding's cost per
		// request: the constant guest beside native, not the plugin.
		servers = slices.DeleteFunc(servers, func(s server) bool { return !results.BindingCost(results.HTTPName("", s.kind)) })
	}
	rot := ((sample % len(servers)) + len(servers)) % len(servers) // sample is -1 for a warm-up
	servers = append(servers[rot:], servers[:rot]...)
	if sample%2 != 0 {
		ops = slices.Clone(ops)
		slices.Reverse(ops)
	}
	for _, s := range servers {
		sops := ops
		switch s.kind {
		case results.ServerConstant:
			sops = constantOps(ops)
		case results.ServerIsolated:
			sops = slices.DeleteFunc(slices.Clone(ops), func(op httpOp) bool { return op.method != "GET" })
		}
		samples, err := loadServer(ctx, r, o, self, f.Manifest.Metadata.Name, sops, s.kind, s.bin, s.args)
		if err != nil {
			return nil, fmt.Errorf("HTTP %s server: %w", s.kind, err)
		}
		out = append(out, samples...)
	}
	return out, nil
}

// constantOps are ops as the constant guest answers them: 200 and "ok".
func constantOps(ops []httpOp) []httpOp {
	out := slices.Clone(ops)
	for i := range out {
		out[i].expect, out[i].anyBody = 200, true
	}
	return out
}

// writeConstantFolder writes a plugin folder of f's name and routes whose
// every route is conformance's edge guest's handle_ok, which answers the two
// bytes "ok" without reading the request: serve's cost with next to no
// guest work.
func writeConstantFolder(dst string, f *plugindir.Folder) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: kubestellar.io/v1\nkind: Plugin\nmetadata:\n  name: %q\n  version: \"1.0.0\"\n", f.Manifest.Metadata.Name)
	b.WriteString("spec:\n  backend:\n    enabled: true\n    routes:\n")
	for _, r := range f.Routes() {
		ms := make([]string, len(r.Methods))
		for i, m := range r.Methods {
			ms[i] = fmt.Sprintf("%q", m)
		}
		fmt.Fprintf(&b, "      - path: %q\n        methods: [%s]\n        handler: \"handle_ok\"\n", r.Path, strings.Join(ms, ", "))
	}
	return errors.Join(
		os.WriteFile(filepath.Join(dst, "plugin.yml"), []byte(b.String()), 0o644),
		os.WriteFile(filepath.Join(dst, f.Manifest.Metadata.Name+".wasm"), conformance.Guest("edge"), 0o644))
}

func nativeBodies(ops []httpOp) []string {
	var args []string
	for _, op := range ops {
		if op.body != "" {
			args = append(args, "--body", op.route+"="+op.body)
		}
	}
	return args
}

// loadServer starts a server process, checks each op answers as it should,
// drives load at it from a separate process, and stops the server.
func loadServer(ctx context.Context, r *engineRun, o Options, self, plugin string, ops []httpOp, kind, bin string, args []string) ([]results.Sample, error) {
	ready := filepath.Join(r.tmp, "http", kind+".addr")
	os.Remove(ready)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, append(append([]string{}, args...), "--addr", "127.0.0.1:0", "--ready-file", ready)...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	addr, err := waitReady(ctx, ready, exited, &stderr)
	if err != nil {
		return nil, err
	}
	duration, warmup := o.httpTimings()
	var out []results.Sample
	for _, op := range ops {
		url := "http://" + addr + "/api/plugins/" + plugin + op.route
		if err := checkAnswer(ctx, op, url); err != nil {
			return nil, fmt.Errorf("%s %s: %w: not timing a wrong answer\n%s", op.method, url, err, tail(stderr.String()))
		}
		res, err := runLoadProcess(ctx, self, op, url, duration, warmup)
		if err != nil {
			return nil, err
		}
		if res.Errors > 0 {
			return nil, fmt.Errorf("%s %s under load: %d of %d requests failed (first: %s)", op.method, url, res.Errors, res.Requests, res.FirstError)
		}
		out = append(out, results.Sample{Name: results.HTTPName(op.name, kind), Iters: res.OK, Values: []results.Value{
			{Value: res.RPS, Unit: "req/s"},
			{Value: res.P50, Unit: "p50-sec"},
			{Value: res.P99, Unit: "p99-sec"},
		}})
	}
	return out, nil
}

// waitReady waits for a server's ready file and returns the address in it.
func waitReady(ctx context.Context, ready string, exited <-chan error, stderr *bytes.Buffer) (string, error) {
	deadline := time.After(2 * time.Minute)
	for {
		if b, err := os.ReadFile(ready); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return strings.TrimSpace(string(b)), nil
		}
		select {
		case err := <-exited:
			return "", fmt.Errorf("server exited before it was ready (%v)\n%s", err, tail(stderr.String()))
		case <-deadline:
			return "", fmt.Errorf("server not ready after 2 minutes\n%s", tail(stderr.String()))
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// checkAnswer sends one request and checks its status and that the body is
// a JSON document of the plugin's {"status": ...} shape.
func checkAnswer(ctx context.Context, op httpOp, url string) error {
	req, err := http.NewRequestWithContext(ctx, op.method, url, strings.NewReader(op.body))
	if err != nil {
		return err
	}
	if op.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != op.expect {
		return fmt.Errorf("status %d, want %d: %.200s", resp.StatusCode, op.expect, b)
	}
	if op.anyBody {
		return nil
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("body is not JSON: %.200s", b)
	}
	return nil
}

// runLoadProcess runs `kspbench load` in a process of its own.
func runLoadProcess(ctx context.Context, self string, op httpOp, url string, duration, warmup time.Duration) (*loadgen.Result, error) {
	args := []string{"load", "--url", url, "--method", op.method, "--concurrency", "8",
		"--duration", duration.String(), "--warmup", warmup.String(), "--expect-status", fmt.Sprint(op.expect)}
	if op.body != "" {
		args = append(args, "--body", op.body)
	}
	cmd := exec.CommandContext(ctx, self, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("load generator: %w\n%s", err, tail(stderr.String()))
	}
	var res loadgen.Result
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("load generator answered %q: %w", out, err)
	}
	return &res, nil
}

// copyPluginFolder copies the plugin's manifest and wasm into dst.
func copyPluginFolder(src, dst string) error {
	f, err := plugindir.Read(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	manifest, err := os.ReadFile(filepath.Join(src, "plugin.yml"))
	if err != nil {
		return err
	}
	return errors.Join(
		os.WriteFile(filepath.Join(dst, "plugin.yml"), manifest, 0o644),
		os.WriteFile(filepath.Join(dst, f.Manifest.WasmFile()), f.Wasm, 0o644))
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}
