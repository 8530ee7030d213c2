package attack_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kspbench/kspbench/conformance"
	_ "github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/internal/attack"
	"github.com/kspbench/kspbench/serve"
)

// TestMain serves as a child process when the durability test starts this
// binary with KSPBENCH_ATTACK_CHILD set: serve.New on the flags given, until
// killed.
func TestMain(m *testing.M) {
	if os.Getenv("KSPBENCH_ATTACK_CHILD") != "" {
		if err := serveChild(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func serveChild(args []string) error {
	fs := flag.NewFlagSet("child", flag.ContinueOnError)
	plugins := fs.String("plugins", "", "")
	data := fs.String("data", "", "")
	addr := fs.String("addr", "", "")
	ready := fs.String("ready-file", "", "")
	callTimeout := fs.Duration("call-timeout", 0, "")
	fs.Int("max-workers", 0, "") // process isolation only; this child runs plugins in process
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	srv, err := newServer(ctx, *plugins, *data, *callTimeout)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*ready, []byte(ln.Addr().String()), 0o644); err != nil {
		return err
	}
	return srv.Serve(ctx, ln)
}

func newServer(ctx context.Context, plugins, data string, callTimeout time.Duration) (*serve.Server, error) {
	return serve.New(ctx, serve.Config{Engine: "wazero", PluginsDir: plugins, DataFile: data, CallTimeout: callTimeout,
		Isolation: serve.IsolationNone, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Conn: serve.ConnLimits{ReadTimeout: 2 * time.Second}})
}

// pluginsDir builds the cluster-monitor plugin into a plugins folder, or
// skips the test.
func pluginsDir(t *testing.T, ctx context.Context) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the cluster-monitor plugin")
	}
	src, err := conformance.PluginSource()
	if err != nil {
		t.Skip(err)
	}
	tmp := t.TempDir()
	built, err := conformance.BuildClusterMonitor(ctx, src, filepath.Join(tmp, "build"))
	if err != nil {
		t.Skip(err)
	}
	plugins := filepath.Join(tmp, "plugins")
	copyDir(t, built, filepath.Join(plugins, "cluster-monitor"))
	return plugins
}

func TestLoopback(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080/", true},
		{"http://[::1]:8080", true},
		{"http://10.0.0.1:8080", false},
		{"http://example.com", false},
		{"https://127.0.0.1:8080", false},
	} {
		if _, err := attack.Loopback(c.url); (err == nil) != c.ok {
			t.Errorf("Loopback(%q) = %v, want ok %v", c.url, err, c.ok)
		}
	}
}

// TestRun attacks a real serve in this process, on loopback, with small
// counts, and expects it to hold.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	plugins := pluginsDir(t, ctx)
	srv, err := newServer(ctx, plugins, filepath.Join(t.TempDir(), "data.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	defer func() {
		stop()
		<-done
	}()
	rep, err := attack.Run(ctx, attack.Config{URL: "http://" + ln.Addr().String(), SlowBodies: 4, SlowBodyBytes: 16,
		SlowByteInterval: 10 * time.Millisecond, IdleConns: 16, Records: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		t.Logf("%s: %s", r.Check, r.Notes)
		for _, v := range r.Violations {
			t.Errorf("%s: %s", r.Check, v)
		}
	}
	if len(rep.Results) != 3 {
		t.Errorf("%d checks ran, want 3", len(rep.Results))
	}
	if rep.Failed() != t.Failed() {
		t.Errorf("Failed() = %v disagrees with the violations", rep.Failed())
	}
}

// TestDurability kills a serve child process with SIGKILL during POSTs and
// expects every acknowledged record after each restart.
func TestDurability(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	plugins := pluginsDir(t, ctx)
	res, err := attack.RunDurability(ctx, attack.Durability{
		Command: []string{os.Args[0], "--plugins", plugins, "--data", filepath.Join(t.TempDir(), "data.db")},
		Env:     []string{"KSPBENCH_ATTACK_CHILD=1"}, Kills: 2, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Notes)
	for _, v := range res.Violations {
		t.Error(v)
	}
}

// TestHostile runs the hostile-guest check on a serve child process (this
// test binary, wazero in process) and expects it to hold: every misbehaving
// route answered its class, the well-behaved plugin unharmed, no growth.
func TestHostile(t *testing.T) {
	if raceDetector {
		// The serve child is this binary, so wazero runs instrumented: a
		// guest growing its memory page by page outlives a short call
		// timeout, and unbounded recursion, which wazero's stack follows on
		// the heap, went on for more than 10 s past a 300 ms one (measured,
		// 2 shared cores). kspbench attack --hostile, uninstrumented, runs in
		// the attack workflow on every engine.
		t.Skip("the serve child would run under the race detector, too slow for the call timeouts of a fast test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	plugins := pluginsDir(t, ctx)
	res, err := attack.RunHostile(ctx, attack.Hostile{
		Command:   []string{os.Args[0], "--data", filepath.Join(t.TempDir(), "data.db")},
		Env:       []string{"KSPBENCH_ATTACK_CHILD=1"},
		PluginDir: filepath.Join(plugins, "cluster-monitor"),
		// Short, to keep the test fast: the endless guests cost one call
		// timeout per call in turn.
		CallTimeout: 300 * time.Millisecond, Rounds: 2, Concurrency: 3, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Notes)
	for _, v := range res.Violations {
		t.Error(v)
	}
	// Every route was attacked and answered its class: the notes count the
	// answers per route (2 rounds × (2 + 3) calls).
	for _, want := range []string{
		"GET hostile-edge/trap map[502:10]", "GET hostile-edge/loop map[", "504:", "POST hostile-edge/grow map[413:10]",
		"POST hostile-alloc/echo map[502:10]", "GET hostile-alloc/reentrant map[502:10]", "POST hostile-sleep/poll map[",
		"records acknowledged and kept",
	} {
		if !strings.Contains(res.Notes, want) {
			t.Errorf("notes lack %q", want)
		}
	}
	if runtime.GOOS == "linux" && !strings.Contains(res.Notes, "round 2: ") {
		t.Errorf("notes lack the second round's measurement of the server")
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
