package attack_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kspbench/kspbench/conformance"
	_ "github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/internal/attack"
	"github.com/kspbench/kspbench/serve"
)

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
	if testing.Short() {
		t.Skip("builds the cluster-monitor plugin")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
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
	srv, err := serve.New(ctx, serve.Config{Engine: "wazero", PluginsDir: plugins, DataFile: filepath.Join(tmp, "data.db"),
		Isolation: serve.IsolationNone, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Conn: serve.ConnLimits{ReadTimeout: 2 * time.Second}})
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
