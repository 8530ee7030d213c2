package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/internal/workerbin"
)

func TestNeedsReexec(t *testing.T) {
	for _, tc := range []struct {
		engine  string
		linked  []string
		already string
		reexec  bool
		err     string
	}{
		{"wazero", []string{"wazero"}, "", false, ""},
		{"wasmtime", []string{"wasmtime", "wazero"}, "", false, ""},
		{"wasmtime", []string{"wazero"}, "", true, ""},
		{"wasmer", []string{"wazero"}, "", true, ""},
		{"wasmer", []string{"wasmtime", "wazero"}, "", true, ""},
		{"wasmtime", []string{"wasmtime", "wazero"}, "wasmtime", false, ""}, // the re-executed binary links it
		{"wasmtime", []string{"wazero"}, "wasmtime", false, "re-executed"},  // it does not: no loop
		{"v8", []string{"wazero"}, "", false, "unknown engine"},
		{"wazero:no-deadline", []string{"wazero"}, "", false, ""},
		{"wasmtime:no-deadline", []string{"wazero"}, "", true, ""},
		{"wazero:turbo", []string{"wazero"}, "", false, "turbo"},
	} {
		got, err := needsReexec(tc.engine, tc.linked, tc.already)
		if got != tc.reexec || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("needsReexec(%s, %v, %q) = %v, %v; want %v, error with %q", tc.engine, tc.linked, tc.already, got, err, tc.reexec, tc.err)
		}
	}
}

func TestServeFlags(t *testing.T) {
	t.Setenv(tokenEnv, "from-env")
	o, err := parseServeFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.config(slog.Default(), nil)
	if cfg.Engine != "wazero" || o.addr != "127.0.0.1:4000" || cfg.Token != "from-env" || o.tokenFromFlag ||
		cfg.QueueSize != 64 || cfg.MaxBodyBytes != 4<<20 || cfg.MaxUploadBytes != 32<<20 || cfg.CallTimeout != 5*time.Second {
		t.Errorf("defaults: %+v", cfg)
	}
	o, err = parseServeFlags([]string{"--engine", "wasmer", "--queue", "0", "--max-body", "512KiB", "--max-upload", "2MB",
		"--token", "flag", "--log-format", "json", "--log-level", "warn", "--kubeconfig", "k", "--kube-context", "c"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg = o.config(slog.Default(), nil)
	if cfg.Engine != "wasmer" || cfg.QueueSize != -1 || cfg.MaxBodyBytes != 512<<10 || cfg.MaxUploadBytes != 2e6 ||
		cfg.Token != "flag" || !o.tokenFromFlag || o.logLevel != slog.LevelWarn {
		t.Errorf("flags: %+v", cfg)
	}
	for _, bad := range [][]string{
		{"--engine", "v8"}, {"--kubeconfig", "k", "--in-cluster"}, {"--kube-context", "c"}, {"--queue", "-1"},
		{"--max-body", "0"}, {"--max-body", "4XB"}, {"--log-format", "xml"}, {"extra"},
	} {
		if _, err := parseServeFlags(bad, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestServeCommand runs `kspbench serve` as a user does: the default binary
// (wazero only) on wazero in process, and on wasmtime by re-executing the
// wasmtime binary; each answers the seed README's two curl commands with the
// seed's JSON, writes and removes its ready file, and exits 0 on SIGTERM.
func TestServeCommand(t *testing.T) {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("builds kspbench, its wasmtime binary and the plugin; signals a process")
	}
	root, err := workerbin.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src, err := conformance.PluginSource()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tmp := t.TempDir()
	if _, err := conformance.BuildClusterMonitor(ctx, src, filepath.Join(tmp, "plugins")); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "bin", "kspbench")
	build := exec.Command(workerbin.GoTool(), "build", "-o", bin, "./cmd/kspbench")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if _, err := workerbin.Build(ctx, workerbin.GoTool(), root, "wasmtime", filepath.Join(tmp, "bin")); err != nil {
		t.Fatal(err)
	}
	for _, engine := range []string{"wazero", "wasmtime"} {
		t.Run(engine, func(t *testing.T) {
			ready := filepath.Join(tmp, engine+".addr")
			stderr := &lockedBuffer{}
			cmd := exec.Command(bin, "serve", "--engine", engine, "--plugins", filepath.Join(tmp, "plugins"),
				"--data", filepath.Join(tmp, engine+".db"), "--addr", "127.0.0.1:0", "--ready-file", ready,
				"--workers", filepath.Join(tmp, "bin"))
			cmd.Stderr = stderr
			cmd.Env = append(os.Environ(), reexecEnv+"=") // as a user starts it
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() {
				cmd.Process.Kill()
				if t.Failed() {
					t.Logf("stderr:\n%s", stderr.String())
				}
			}()
			var addr string
			deadline := time.Now().Add(2 * time.Minute)
			for addr == "" {
				select {
				case err := <-exited:
					t.Fatalf("serve exited before it was ready: %v", err)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatal("no ready file after 2 minutes")
				}
				if b, err := os.ReadFile(ready); err == nil {
					addr = strings.TrimSpace(string(b))
				}
				time.Sleep(20 * time.Millisecond)
			}
			for path, want := range map[string]string{"status": conformance.SeedStatusJSON, "data": conformance.SeedDataJSON} {
				resp, err := http.Get("http://" + addr + "/api/plugins/cluster-monitor/" + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var got, exp any
				json.Unmarshal(body, &got)
				json.Unmarshal([]byte(want), &exp)
				if resp.StatusCode != 200 || !reflect.DeepEqual(got, exp) {
					t.Errorf("GET /%s = %d %s", path, resp.StatusCode, body)
				}
				if e := resp.Header.Get("X-Kspbench-Engine"); e != engine {
					t.Errorf("GET /%s served by %q, want %s", path, e, engine)
				}
			}
			if reexec := strings.Contains(stderr.String(), "re-executing"); reexec != (engine != "wazero") {
				t.Errorf("re-executed: %v, for engine %s", reexec, engine)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("exit after SIGTERM: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("still running 30s after SIGTERM")
			}
			if _, err := os.Stat(ready); !os.IsNotExist(err) {
				t.Errorf("ready file left behind: %v", err)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutine of exec.Cmd
// and a reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
