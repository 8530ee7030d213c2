package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/host/kube"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/internal/workerbin"
)

var (
	workerBinOnce sync.Once
	workerBins    = map[string]string{}
	workerBinErr  = map[string]error{}
	workerBinDir  string
	workerBinMu   sync.Mutex
)

// isolationWorker builds, once per test binary, the kspbench binary that
// links engine, for the isolation workers.
func isolationWorker(t testing.TB, engine string) string {
	t.Helper()
	workerBinOnce.Do(func() {
		d, err := os.MkdirTemp("", "kspbench-isolation-bin-")
		if err != nil {
			t.Fatal(err)
		}
		workerBinDir = d
	})
	workerBinMu.Lock()
	defer workerBinMu.Unlock()
	if bin, ok := workerBins[engine]; ok {
		return bin
	}
	if err, ok := workerBinErr[engine]; ok {
		t.Fatal(err)
	}
	root, err := workerbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := workerbin.Build(ctx, workerbin.GoTool(), root, engine, filepath.Join(workerBinDir, engine))
	if err != nil {
		workerBinErr[engine] = err
		t.Fatal(err)
	}
	workerBins[engine] = bin
	return bin
}

// isolationInfo returns the edge plugin's worker as the listing shows it.
func isolationInfo(t *testing.T, ts *testServer) IsolationInfo {
	t.Helper()
	r := ts.do("GET", "/api/plugins", nil)
	var l Listing
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("listing: %v: %s", err, r.body)
	}
	for _, p := range l.Plugins {
		if p.Name == "edge" && p.Pool != nil && p.Pool.Isolation != nil {
			return *p.Pool.Isolation
		}
	}
	t.Fatalf("no isolated edge plugin in the listing: %s", r.body)
	return IsolationInfo{}
}

// TestIsolationDeadline: under --isolation process on wazero, a looping
// guest answers 504 at its deadline, its worker is killed, and the next
// request succeeds on a new worker.
func TestIsolationDeadline(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	ts := newServer(t, Config{Isolation: IsolationProcess, WorkerBinary: bin, CallTimeout: 500 * time.Millisecond}, edgeDir(t))
	if r := ts.do("GET", "/api/plugins/edge/ok", nil); r.code != 200 || string(r.body) != "ok" {
		t.Fatalf("GET /ok = %s", r)
	}
	before := isolationInfo(t, ts)
	if before.PID == 0 || before.PID == os.Getpid() || before.Starts != 1 {
		t.Fatalf("worker before the loop: %+v (server pid %d)", before, os.Getpid())
	}
	start := time.Now()
	r := ts.do("GET", "/api/plugins/edge/loop", nil)
	took := time.Since(start)
	if r.code != 504 || r.json(t)["kind"] != kindDeadline {
		t.Errorf("GET /loop = %s, want 504 %s", r, kindDeadline)
	}
	if took > 2*time.Second {
		t.Errorf("GET /loop took %s with a deadline of 500ms", took)
	}
	if r := ts.do("GET", "/api/plugins/edge/ok", nil); r.code != 200 || string(r.body) != "ok" {
		t.Errorf("GET /ok after the loop = %s", r)
	}
	after := isolationInfo(t, ts)
	if after.Kills != 1 || after.Restarts != 1 || after.PID == before.PID || after.PID == 0 {
		t.Errorf("worker after the loop: %+v, before %+v: want 1 kill, 1 restart, a new pid", after, before)
	}
	m := ts.do("GET", "/metrics", nil)
	for _, want := range []string{`kspbench_worker_kills_total{engine="wazero",plugin="edge"} 1`,
		`kspbench_worker_restarts_total{engine="wazero",plugin="edge"} 1`} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestIsolationWorkerKilled: a worker killed with SIGKILL in the middle of
// a call costs that call (502, with the signal), and the plugin recovers.
func TestIsolationWorkerKilled(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	ts := newServer(t, Config{Isolation: IsolationProcess, WorkerBinary: bin, CallTimeout: 20 * time.Second}, edgeDir(t))
	pid := isolationInfo(t, ts).PID
	done := make(chan response, 1)
	go func() { done <- ts.do("GET", "/api/plugins/edge/loop", nil) }()
	waitFor(t, 5*time.Second, "the loop to be in flight", func() bool {
		return ts.entryOf("edge").plugin.Stats().InFlight == 1
	})
	time.Sleep(100 * time.Millisecond) // into the guest
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.code != 502 || r.json(t)["kind"] != kindWorkerDied || !strings.Contains(string(r.body), "SIGKILL") {
			t.Errorf("GET /loop with its worker killed = %s, want 502 %s naming SIGKILL", r, kindWorkerDied)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer 10s after the worker was killed")
	}
	if r := ts.do("GET", "/api/plugins/edge/ok", nil); r.code != 200 || string(r.body) != "ok" {
		t.Errorf("GET /ok after the kill = %s", r)
	}
	if info := isolationInfo(t, ts); info.Deaths != 1 || info.Restarts != 1 || info.Kills != 0 || info.PID == pid {
		t.Errorf("worker after SIGKILL: %+v (old pid %d)", info, pid)
	}
}

// TestIsolationWasmerLoop: wasmer cannot interrupt a call, so in process a
// looping guest spins on a thread forever after its 504; isolated, each
// loop costs one worker, killed at the deadline, and none is left running.
// The server (this test binary) does not link wasmer: the workers do.
func TestIsolationWasmerLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasmer binary")
	}
	bin := isolationWorker(t, "wasmer")
	ts := newServer(t, Config{Engine: "wasmer", WorkerBinary: bin, CallTimeout: 300 * time.Millisecond}, edgeDir(t))
	if ts.srv.cfg.Isolation != IsolationProcess {
		t.Fatalf("wasmer's default isolation is %q, want process", ts.srv.cfg.Isolation)
	}
	const loops = 3
	var pids []int
	for i := range loops {
		if r := ts.do("GET", "/api/plugins/edge/ok", nil); r.code != 200 || r.header.Get("X-Kspbench-Engine") != "wasmer" {
			t.Fatalf("GET /ok before loop %d = %s (engine %q)", i, r, r.header.Get("X-Kspbench-Engine"))
		}
		pids = append(pids, isolationInfo(t, ts).PID)
		start := time.Now()
		if r := ts.do("GET", "/api/plugins/edge/loop", nil); r.code != 504 || time.Since(start) > 2*time.Second {
			t.Errorf("GET /loop %d = %s after %s, want 504 at the 300ms deadline", i, r, time.Since(start))
		}
	}
	if r := ts.do("GET", "/api/plugins/edge/ok", nil); r.code != 200 {
		t.Errorf("GET /ok after the loops = %s", r)
	}
	info := isolationInfo(t, ts)
	if info.Kills != loops || info.Restarts != loops {
		t.Errorf("worker after %d loops: %+v, want %d kills and restarts", loops, info, loops)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("worker %d, killed at its deadline, still runs its looping guest", pid)
		}
	}
	if r := ts.do("GET", "/healthz", nil); r.code != 200 || !strings.Contains(string(r.body), `"isolation": "process"`) {
		t.Errorf("healthz = %s", r)
	}
}

// BenchmarkIsolation times the handler path of a constant-answer route
// (edge's handle_ok) with the plugin in this process and in a worker
// process, on wazero, one request at a time. cpu-ns/op is this process's
// CPU; worker-cpu-ns/op the worker's (Linux only).
func BenchmarkIsolation(b *testing.B) {
	for _, iso := range []string{IsolationNone, IsolationProcess} {
		b.Run("isolation="+iso, func(b *testing.B) {
			cfg := Config{Isolation: iso}
			if iso == IsolationProcess {
				cfg.WorkerBinary = isolationWorker(b, testEngine)
			}
			srv := newBenchServerWith(b, cfg)
			req := httptest.NewRequest("GET", "/api/plugins/edge/ok", nil)
			w := &discardWriter{h: http.Header{}}
			var pid int
			if pb, ok := srv.reg.get("edge").plugin.(*procBackend); ok {
				pid, _ = pb.pids()
			}
			cpu, wcpu := processCPU(), workerCPU(pid)
			for b.Loop() {
				clear(w.h)
				w.code, w.n = 0, 0
				srv.ServeHTTP(w, req)
				if w.code != 200 || w.n != 2 {
					b.Fatalf("answer %d, %d bytes", w.code, w.n)
				}
			}
			if cpu := processCPU() - cpu; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
			if pid != 0 {
				if d := workerCPU(pid) - wcpu; d > 0 {
					b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "worker-cpu-ns/op")
				}
			}
		})
	}
}

// workerCPU is the user and system CPU time of process pid so far, from
// /proc (0 where there is none).
func workerCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// fields 14 and 15 of the whole line, in clock ticks (100 per second).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// TestIsolationStorageAndReload: an isolated plugin keeps its storage in
// the server's file (no file of its own), across a reload and a restart of
// the server, and the same plugin in process reads it there.
func TestIsolationStorageAndReload(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	cfg := Config{Isolation: IsolationProcess, WorkerBinary: bin, Token: testToken}
	ts := newServer(t, cfg, clusterMonitorDir)
	if r := ts.do("POST", "/api/plugins/cluster-monitor/data", []byte(clusterRecord)); r.code != 201 {
		t.Fatalf("POST /data = %s", r)
	}
	if r := ts.admin("POST", "/cluster-monitor/reload", nil); r.code != 200 {
		t.Fatalf("reload: %s", r)
	}
	get := func(ts *testServer) {
		t.Helper()
		if r := ts.do("GET", "/api/plugins/cluster-monitor/data", nil); r.code != 200 || !bytes.Contains(r.body, []byte(`"id":"cluster-3"`)) {
			t.Errorf("GET /data = %s", r)
		}
	}
	get(ts)
	if _, err := os.Stat(IsolatedDataFile(ts.srv.cfg.DataFile, "cluster-monitor")); !os.IsNotExist(err) {
		t.Errorf("isolated plugin has a storage file of its own: %v", err)
	}
	if p := ts.listing().find("cluster-monitor"); p == nil || p.Storage == nil || p.Storage.Keys < 1 {
		t.Errorf("the listing shows no storage in the server's file for the isolated plugin: %+v", p)
	}
	ts.close()
	cfg.PluginsDir = ts.cfg.PluginsDir
	again := newServer(t, cfg)
	get(again)
	again.close() // it holds the file
	cfg.Isolation = IsolationNone
	inProc := newServer(t, cfg)
	if _, ok := inProc.entryOf("cluster-monitor").plugin.(*procBackend); ok {
		t.Fatal("isolation none still runs the plugin in a worker")
	}
	get(inProc)
}

// referenceStorageManifest routes the reference guest's storage and
// Kubernetes handlers; it may read clusters, nothing else.
const referenceStorageManifest = `apiVersion: kubestellar.io/v1
kind: Plugin
metadata:
  name: reference
  version: 1.0.0
spec:
  backend:
    enabled: true
    routes:
      - path: /set
        methods: [POST]
        handler: handle_storage_set
      - path: /get
        methods: [POST]
        handler: handle_storage_get
      - path: /k8s
        methods: [POST]
        handler: handle_k8s
      - path: /log
        methods: [POST]
        handler: handle_log
  permissions:
    - kubestellar:read:clusters
`

// referenceDir writes a plugin folder of the reference guest with
// referenceStorageManifest.
func referenceDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "reference")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "plugin.yml"), referenceStorageManifest)
	write(t, filepath.Join(dir, "reference.wasm"), string(conformance.Guest("reference")))
	return dir
}

// countingKube is the fixture backend, counting the calls it answers: a
// call counted here went through the server's own client.
type countingKube struct {
	*kube.Fixture
	calls atomic.Int64
}

func (k *countingKube) Do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	k.calls.Add(1)
	return k.Fixture.Do(ctx, method, path, body)
}

// TestIsolationKubeIsTheServers: an isolated plugin's Kubernetes calls go
// to the server's client, within the plugin's permissions.
func TestIsolationKubeIsTheServers(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	k := &countingKube{Fixture: kube.NewFixture()}
	ts := newServer(t, Config{Isolation: IsolationProcess, WorkerBinary: bin, Kube: k}, referenceDir(t))
	r := ts.do("POST", "/api/plugins/reference/k8s", []byte("/apis/cluster.open-cluster-management.io/v1/managedclusters"))
	if r.code != 200 || !bytes.Contains(r.body, []byte("ManagedClusterList")) {
		t.Errorf("GET managedclusters from the isolated plugin = %s", r)
	}
	if n := k.calls.Load(); n != 1 {
		t.Errorf("the server's Kubernetes client served %d calls, want 1", n)
	}
	// Workloads need kubestellar:read:workloads, which the manifest does
	// not grant: denied before any client sees it.
	r = ts.do("POST", "/api/plugins/reference/k8s", []byte("/apis/apps/v1/deployments"))
	if r.code != abi.HTTPStatus(abi.PermissionDenied) {
		t.Errorf("GET deployments without the permission = %s, want %d", r, abi.HTTPStatus(abi.PermissionDenied))
	}
	if n := k.calls.Load(); n != 1 {
		t.Errorf("the server's Kubernetes client served %d calls after a denied one, want still 1", n)
	}
}

// TestIsolationQuota: the server's storage quota applies to an isolated
// plugin, counted in the server's file.
func TestIsolationQuota(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	ts := newServer(t, Config{Isolation: IsolationProcess, WorkerBinary: bin, StorageMaxKeys: 2}, referenceDir(t))
	for i, kv := range []string{"a=1", "b=2", "c=3"} {
		r := ts.do("POST", "/api/plugins/reference/set", []byte(kv))
		if want := 200; i == 2 {
			if r.code != abi.HTTPStatus(abi.LimitExceeded) {
				t.Errorf("set %s past a quota of 2 keys = %s, want %d", kv, r, abi.HTTPStatus(abi.LimitExceeded))
			}
		} else if r.code != want {
			t.Errorf("set %s = %s", kv, r)
		}
	}
	if v, err := ts.srv.store.Get(context.Background(), "reference", []byte("b")); err != nil || string(v) != "2" {
		t.Errorf("the server's file holds b = %q, %v; want 2", v, err)
	}
	if r := ts.do("POST", "/api/plugins/reference/get", []byte("a")); r.code != 200 || string(r.body) != "1" {
		t.Errorf("get a = %s", r)
	}
	if r := ts.do("POST", "/api/plugins/reference/get", []byte("c")); r.code != abi.HTTPStatus(abi.NotFound) {
		t.Errorf("get c, refused by the quota = %s, want %d", r, abi.HTTPStatus(abi.NotFound))
	}
}

// TestIsolationMigratesOldLayout: a plugin's file of the layout before host
// calls (IsolatedDataFile) is moved into the server's file when the plugin
// is first loaded, isolated or not; a key the server's file holds keeps its
// value.
func TestIsolationMigratesOldLayout(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	for _, iso := range []string{IsolationProcess, IsolationNone} {
		t.Run("isolation="+iso, func(t *testing.T) {
			base := t.TempDir()
			plugins := filepath.Join(base, "plugins")
			copyDir(t, referenceDir(t), filepath.Join(plugins, "reference"))
			data := filepath.Join(base, "data.db")
			ctx := context.Background()
			for file, kvs := range map[string][][2]string{
				IsolatedDataFile(data, "reference"): {{"old", "from-old-file"}, {"both", "old"}},
				data:                                {{"both", "server"}},
			} {
				st, err := storage.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				for _, kv := range kvs {
					if err := st.Set(ctx, "reference", []byte(kv[0]), []byte(kv[1])); err != nil {
						t.Fatal(err)
					}
				}
				st.Close()
			}
			ts := newServer(t, Config{Isolation: iso, WorkerBinary: bin, PluginsDir: plugins, DataFile: data})
			for key, want := range map[string]string{"old": "from-old-file", "both": "server"} {
				if r := ts.do("POST", "/api/plugins/reference/get", []byte(key)); r.code != 200 || string(r.body) != want {
					t.Errorf("get %s = %s, want %s", key, r, want)
				}
			}
			old := IsolatedDataFile(data, "reference")
			if _, err := os.Stat(old); !os.IsNotExist(err) {
				t.Errorf("old file %s still there after the migration: %v", old, err)
			}
			if _, err := os.Stat(old + ".migrated"); err != nil {
				t.Errorf("old file not kept as .migrated: %v", err)
			}
		})
	}
}

// storageLoopDir writes a plugin folder of the storage_loop guest.
func storageLoopDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "storage-loop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "plugin.yml"), `apiVersion: kubestellar.io/v1
kind: Plugin
metadata:
  name: storage-loop
  version: 1.0.0
spec:
  backend:
    enabled: true
    routes:
      - path: /loop
        methods: [GET]
        handler: handle_storage_loop
`)
	write(t, filepath.Join(dir, "storage-loop.wasm"), string(conformance.Guest("storage_loop")))
	return dir
}

// TestIsolationLogs: a plugin's host_log inside a worker reaches the
// server's logger as it does in process (level, message, plugin,
// request_id, truncated_bytes for a message past the limit), plus the
// worker's pid.
func TestIsolationLogs(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	long := strings.Repeat("x", 16<<10+5)
	lines := func(iso string) (short, cut string, ts *testServer) {
		ts = newServer(t, Config{Isolation: iso, WorkerBinary: bin}, referenceDir(t))
		if r := ts.do("POST", "/api/plugins/reference/log", []byte("hello from the guest"), "X-Request-Id", "req-log"); r.code != 200 {
			t.Fatalf("%s: POST /log = %s", iso, r)
		}
		if r := ts.do("POST", "/api/plugins/reference/log", []byte(long), "X-Request-Id", "req-long"); r.code != 200 {
			t.Fatalf("%s: POST /log (long) = %s", iso, r)
		}
		for _, l := range strings.Split(ts.log.String(), "\n") {
			// The record without its time, which differs.
			_, rest, _ := strings.Cut(l, " ")
			switch {
			case strings.Contains(l, `msg="hello from the guest"`):
				short = rest
			case strings.Contains(l, "msg=xxxx"):
				cut = rest
			}
		}
		return short, cut, ts
	}
	wantShort, wantCut, _ := lines(IsolationNone)
	if wantShort == "" || !strings.Contains(wantShort, "request_id=req-log") || !strings.Contains(wantCut, "truncated_bytes=5") {
		t.Fatalf("in process: host_log lines %q and %q", wantShort, wantCut)
	}
	short, cut, ts := lines(IsolationProcess)
	pid := fmt.Sprintf(" worker_pid=%d", pluginIsolation(t, ts, "reference").PID)
	if short != wantShort+pid {
		t.Errorf("isolated: host_log line\n%s\nwant\n%s", short, wantShort+pid)
	}
	if cut != wantCut+pid {
		t.Errorf("isolated: host_log line of a long message\n%.200s\nwant\n%.200s", cut, wantCut+pid)
	}
}

// TestIsolationHostCallLoop: a guest that loops on host_storage_set, each
// call a round trip to the server, is still killed at its deadline, its
// writes reached the server's file, and the server keeps answering.
func TestIsolationHostCallLoop(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	ts := newServer(t, Config{Isolation: IsolationProcess, WorkerBinary: bin, CallTimeout: 500 * time.Millisecond},
		storageLoopDir(t), referenceDir(t))
	for i := range 2 {
		if r := ts.do("GET", "/api/plugins/storage-loop/loop", nil); r.code != 504 || r.json(t)["kind"] != kindDeadline {
			t.Errorf("GET /loop %d = %s, want 504 %s", i, r, kindDeadline)
		}
	}
	if v, err := ts.srv.store.Get(context.Background(), "storage-loop", []byte("k")); err != nil || string(v) != "v" {
		t.Errorf("the looping guest's key in the server's file: %q, %v; want v", v, err)
	}
	var info *IsolationInfo
	if p := ts.listing().find("storage-loop"); p != nil && p.Pool != nil {
		info = p.Pool.Isolation
	}
	if info == nil || info.Kills != 2 {
		t.Errorf("worker of the looping guest: %+v, want 2 kills", info)
	}
	if r := ts.do("POST", "/api/plugins/reference/set", []byte("x=y")); r.code != 200 {
		t.Errorf("another isolated plugin after the loops: %s", r)
	}
	if r := ts.do("GET", "/healthz", nil); r.code != 200 {
		t.Errorf("healthz after the loops = %s", r)
	}
}

// TestIsolationWasmerHostCalls: on wasmer, the engine isolation exists for,
// the guest's storage and Kubernetes imports reach the server too, and a
// guest looping on host_storage_set is killed at its deadline.
func TestIsolationWasmerHostCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasmer binary")
	}
	bin := isolationWorker(t, "wasmer")
	k := &countingKube{Fixture: kube.NewFixture()}
	ts := newServer(t, Config{Engine: "wasmer", WorkerBinary: bin, Kube: k, CallTimeout: 500 * time.Millisecond},
		referenceDir(t), storageLoopDir(t))
	if r := ts.do("POST", "/api/plugins/reference/set", []byte("a=1")); r.code != 200 {
		t.Errorf("set a = %s", r)
	}
	if v, err := ts.srv.store.Get(context.Background(), "reference", []byte("a")); err != nil || string(v) != "1" {
		t.Errorf("the server's file holds a = %q, %v; want 1", v, err)
	}
	if r := ts.do("POST", "/api/plugins/reference/k8s", []byte("/apis/cluster.open-cluster-management.io/v1/managedclusters")); r.code != 200 || k.calls.Load() != 1 {
		t.Errorf("kubernetes call = %s, %d calls on the server's client; want 200 and 1", r, k.calls.Load())
	}
	if r := ts.do("GET", "/api/plugins/storage-loop/loop", nil); r.code != 504 {
		t.Errorf("GET /loop = %s, want 504", r)
	}
	if r := ts.do("POST", "/api/plugins/reference/get", []byte("a")); r.code != 200 || string(r.body) != "1" {
		t.Errorf("get a after the loop = %s", r)
	}
}

// barrierKube is the fixture backend, holding each call until n calls are
// in it at once: n calls answered proves n plugin calls ran at the same time.
type barrierKube struct {
	*kube.Fixture
	n   int
	mu  sync.Mutex
	in  int
	all chan struct{}
}

func (k *barrierKube) Do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	k.mu.Lock()
	if k.in++; k.in%k.n == 0 {
		close(k.all)
	}
	all := k.all
	if k.in%k.n == 0 {
		k.all = make(chan struct{}) // the next round's
	}
	k.mu.Unlock()
	select {
	case <-all:
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	return k.Fixture.Do(ctx, method, path, body)
}

// TestIsolationWorkerPool: an isolated plugin serves as many calls at once
// as it has workers (one worker would hold the first call in the barrier
// and answer the others 503 at the queue timeout), each worker is replaced
// on its own, and one killed while idle is replaced at its next call.
func TestIsolationWorkerPool(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	const n = 3
	k := &barrierKube{Fixture: kube.NewFixture(), n: n, all: make(chan struct{})}
	ts := newServer(t, Config{Isolation: IsolationProcess, WorkerBinary: bin, Kube: k, MaxWorkers: n,
		CallTimeout: 20 * time.Second, QueueTimeout: 10 * time.Second}, referenceDir(t))
	round := func(what string) {
		t.Helper()
		var wg sync.WaitGroup
		answers := make(chan response, n)
		for range n {
			wg.Go(func() {
				answers <- ts.do("POST", "/api/plugins/reference/k8s", []byte("/apis/cluster.open-cluster-management.io/v1/managedclusters"))
			})
		}
		wg.Wait()
		close(answers)
		for r := range answers {
			if r.code != 200 {
				t.Errorf("%s: one of %d calls at once = %s", what, n, r)
			}
		}
	}
	round("first round")
	p := ts.listing().find("reference")
	if p == nil || p.Pool == nil || p.Pool.Isolation == nil {
		t.Fatalf("listing: %+v", p)
	}
	info := *p.Pool.Isolation
	if info.Workers != n || len(info.PIDs) != n || info.Starts != n || p.Pool.Max != n {
		t.Fatalf("after %d calls at once: %+v, pool max %d; want %d workers started", n, info, p.Pool.Max, n)
	}
	// Kill one worker while it is idle: its next call finds it gone and
	// starts another; the other workers keep their processes.
	victim := info.PIDs[n-1]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the killed worker to be reaped", func() bool {
		return syscall.Kill(victim, 0) != nil
	})
	round("after a worker was killed")
	after := pluginIsolation(t, ts, "reference")
	if after.Deaths != 1 || after.Restarts != 1 || len(after.PIDs) != n || slices.Contains(after.PIDs, victim) {
		t.Errorf("after killing worker %d: %+v; want 1 death, 1 restart, %d workers without it", victim, after, n)
	}
	for _, pid := range info.PIDs {
		if pid != victim && !slices.Contains(after.PIDs, pid) {
			t.Errorf("worker %d was replaced though only %d was killed: %+v", pid, victim, after)
		}
	}
}

// pluginIsolation returns plugin name's workers as the listing shows them.
func pluginIsolation(t *testing.T, ts *testServer, name string) IsolationInfo {
	t.Helper()
	p := ts.listing().find(name)
	if p == nil || p.Pool == nil || p.Pool.Isolation == nil {
		t.Fatalf("no isolated %s in the listing: %+v", name, p)
	}
	return *p.Pool.Isolation
}

// BenchmarkIsolationStorage times a storage read (the reference guest's
// handle_storage_get of a stored key), in process and isolated, where the
// read is a host call back to the server: the round trip a host import costs
// an isolated plugin.
func BenchmarkIsolationStorage(b *testing.B) {
	for _, iso := range []string{IsolationNone, IsolationProcess} {
		b.Run("isolation="+iso, func(b *testing.B) {
			cfg := Config{Isolation: iso, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if iso == IsolationProcess {
				cfg.WorkerBinary = isolationWorker(b, testEngine)
			}
			base := b.TempDir()
			cfg.Engine, cfg.PluginsDir, cfg.CacheDir = testEngine, filepath.Join(base, "plugins"), cacheDir
			copyDir(b, referenceDir(b), filepath.Join(cfg.PluginsDir, "reference"))
			srv, err := New(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { srv.Close(context.Background()) })
			w := &discardWriter{h: http.Header{}}
			if srv.ServeHTTP(w, httptest.NewRequest("POST", "/api/plugins/reference/set", strings.NewReader("k=value"))); w.code != 200 {
				b.Fatalf("set k: %d", w.code)
			}
			body := strings.NewReader("k")
			req := httptest.NewRequest("POST", "/api/plugins/reference/get", nil)
			for b.Loop() {
				clear(w.h)
				w.code, w.n = 0, 0
				body.Reset("k")
				req.Body, req.ContentLength = io.NopCloser(body), 1
				srv.ServeHTTP(w, req)
				if w.code != 200 || w.n != 5 {
					b.Fatalf("answer %d, %d bytes", w.code, w.n)
				}
			}
		})
	}
}

// TestWorkerLogPlugin: a worker's record that names another plugin, or
// none, is logged under the worker's plugin.
func TestWorkerLogPlugin(t *testing.T) {
	var buf logBuffer
	log := slog.New(workerLog{Handler: slog.NewTextHandler(&buf, nil), plugin: "mine"})
	log.Info("a", "plugin", "mine", "n", 1)
	log.Info("b", "plugin", "other", "n", 2)
	log.Info("c", "n", 3)
	log.Info("d", "plugin", "mine", "plugin", "other", "plugin", "third")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"msg=a plugin=mine n=1", "msg=b plugin=mine claimed_plugin=other n=2", "msg=c plugin=mine n=3",
		"msg=d plugin=mine claimed_plugin=other,third"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], w) {
			t.Errorf("line %d: %s, want it to end with %s", i, lines[i], w)
		}
	}
}

// TestIsolationDeadlineKillsDoNotBackOff: a worker killed at a call's
// deadline is the call's fault, not a crash loop: after many such kills in
// a row, each next request starts a worker at once, and a healthy route of
// the same plugin answers 200 well within the backoff cap (5s) that a crash
// loop earns. The bounds are generous: this checks that nothing waits out a
// backoff, not how fast a worker starts.
func TestIsolationDeadlineKillsDoNotBackOff(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	ts := newServer(t, Config{Isolation: IsolationProcess, WorkerBinary: bin, MaxWorkers: 1,
		CallTimeout: 200 * time.Millisecond, QueueTimeout: time.Second}, edgeDir(t))
	const kills = 8 // past the old backoff's cap: 50ms<<7 > 5s
	for i := range kills {
		start := time.Now()
		r := ts.do("GET", "/api/plugins/edge/loop", nil)
		if took := time.Since(start); r.code != 504 || r.json(t)["kind"] != kindDeadline || took > 1500*time.Millisecond {
			t.Errorf("GET /loop %d = %s after %s, want 504 %s within the call timeout and a worker start", i, r, took, kindDeadline)
		}
	}
	start := time.Now()
	r := ts.do("GET", "/api/plugins/edge/ok", nil)
	if took := time.Since(start); r.code != 200 || took > time.Second {
		t.Errorf("GET /ok after %d deadline kills = %s after %s, want 200 under 1s", kills, r, took)
	}
	if info := isolationInfo(t, ts); info.Kills != kills || info.Restarts != kills {
		t.Errorf("worker after %d deadline kills: %+v, want %d kills and restarts", kills, info, kills)
	}
}

// TestIsolationLoadFailureBacksOff: a worker that cannot load its plugin (the
// plugin's wasm file gone from its folder) is a crash loop: its slot backs
// off, and requests meanwhile are answered 503 worker_backoff with
// Retry-After at once rather than sleeping through the backoff or starting
// a worker each. Once the file is back, the plugin serves again.
func TestIsolationLoadFailureBacksOff(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	ts := newServer(t, Config{Isolation: IsolationProcess, WorkerBinary: bin, MaxWorkers: 1,
		CallTimeout: 300 * time.Millisecond}, edgeDir(t))
	if r := ts.do("GET", "/api/plugins/edge/ok", nil); r.code != 200 {
		t.Fatalf("GET /ok = %s", r)
	}
	wasm := filepath.Join(ts.cfg.PluginsDir, "edge", "edge.wasm")
	hidden := wasm + ".hidden"
	if err := os.Rename(wasm, hidden); err != nil {
		t.Fatal(err)
	}
	if r := ts.do("GET", "/api/plugins/edge/loop", nil); r.code != 504 {
		t.Fatalf("GET /loop = %s, want 504", r)
	}
	// Hammer the plugin for 1.5s: without a backoff each request would
	// start a worker that fails to load; with it (100ms, 200ms, 400ms,
	// 800ms) at most 5 do, and the others are refused at once.
	var starts, refused int
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		start := time.Now()
		r := ts.do("GET", "/api/plugins/edge/ok", nil)
		took := time.Since(start)
		switch kind, _ := r.json(t)["kind"].(string); {
		case r.code == 502 && kind == kindInstantiate:
			starts++
		case r.code == 503 && kind == kindWorkerBackoff:
			refused++
			if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 5 {
				t.Errorf("503 %s with Retry-After %q, want 1 to 5 seconds", kind, r.header.Get("Retry-After"))
			}
			if took > 500*time.Millisecond {
				t.Errorf("503 %s took %s: a request must not wait out the backoff", kind, took)
			}
		default:
			t.Fatalf("GET /ok with the plugin's wasm file gone = %s", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if starts < 2 || starts > 6 || refused < 10 {
		t.Errorf("in 1.5s of requests to a plugin that cannot load: %d worker starts, %d refused at once; want 2 to 6 starts, the rest refused", starts, refused)
	}
	if err := os.Rename(hidden, wasm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the plugin to serve again once its file is back", func() bool {
		return ts.do("GET", "/api/plugins/edge/ok", nil).code == 200
	})
}

// TestIsolationListing: isolated, the listing's pool counts the instances
// the workers recycled at the kubestellar-ui profile's budget, as in
// process; isolation.workers is the workers running and max_workers the
// cap; and a frontend-only plugin (no backend routes) keeps no worker.
func TestIsolationListing(t *testing.T) {
	bin := isolationWorker(t, testEngine)
	front := filepath.Join(t.TempDir(), "ks-front")
	if err := os.MkdirAll(front, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(front, "plugin.yml"), `apiVersion: ks-ref/v1
kind: Plugin
metadata:
  name: ks-front
  version: "1.0.0"
spec:
  wasm:
    file: ks-front.wasm
    entrypoint: main
  backend:
    enabled: true
  frontend:
    enabled: true
`)
	write(t, filepath.Join(front, "ks-front.wasm"), string(conformance.Guest("ks_frontend")))
	ts := newServer(t, Config{Isolation: IsolationProcess, WorkerBinary: bin, MaxWorkers: 2}, ksDir(t), front)
	for range abi.KubeStellarUI.MaxCallsPerInstance + 1 {
		if r := ts.do("GET", "/api/plugins/ks-ref/null", nil); r.code != 200 {
			t.Fatalf("GET /null: %v", r)
		}
	}
	p := ts.listing().find("ks-ref")
	if p == nil || p.Pool == nil || p.Pool.Recycled != 1 || p.Pool.Isolation == nil {
		t.Fatalf("isolated ks-ref after %d calls: %+v; want 1 instance recycled", abi.KubeStellarUI.MaxCallsPerInstance+1, p)
	}
	if info := p.Pool.Isolation; info.Workers != 1 || info.MaxWorkers != 2 || len(info.PIDs) != 1 {
		t.Errorf("isolated ks-ref called one request at a time: %+v; want 1 worker running of at most 2", info)
	}
	f := ts.listing().find("ks-front")
	if f == nil || f.State != stateLoaded || f.Pool == nil || f.Pool.Isolation == nil {
		t.Fatalf("frontend-only plugin: %+v; want it loaded and isolated", f)
	}
	if info := f.Pool.Isolation; info.Workers != 0 || len(info.PIDs) != 0 || info.PID != 0 {
		t.Errorf("frontend-only plugin's workers: %+v; want none running", info)
	}
}
