package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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
				pid = int(pb.pid.Load())
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
// its own file, across a reload (whose new worker waits for the old one to
// release the file) and a restart of the server.
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
	if _, err := os.Stat(IsolatedDataFile(ts.srv.cfg.DataFile, "cluster-monitor")); err != nil {
		t.Errorf("isolated storage file: %v", err)
	}
	ts.close()
	cfg.PluginsDir = ts.cfg.PluginsDir
	get(newServer(t, cfg))
}
