package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kspbench/kspbench/internal/loadgen"
)

// loadArgsEnv carries the arguments of `kspbench load` to
// TestLoadMainProcess, run as a process of its own.
const loadArgsEnv = "KSPBENCH_TEST_LOAD_ARGS"

// TestLoadMainProcess is `kspbench load` in a child process, for
// TestLoadExitStatus; it is skipped otherwise.
func TestLoadMainProcess(t *testing.T) {
	args := os.Getenv(loadArgsEnv)
	if args == "" {
		t.Skip("run by TestLoadExitStatus")
	}
	os.Args = append([]string{"kspbench", "load"}, strings.Fields(args)...)
	main()
}

func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/"
}

// runLoadCommand runs `kspbench load args...` in this process and decodes
// its JSON as the HTTP workload does.
func runLoadCommand(t *testing.T, args ...string) (*loadgen.Result, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := kspbench(context.Background(), nil, &stdout, &stderr, append([]string{"load"}, args...))
	var res loadgen.Result
	if jerr := json.Unmarshal(stdout.Bytes(), &res); jerr != nil {
		t.Fatalf("load printed %q (error %v): %v", stdout.String(), err, jerr)
	}
	return &res, stderr.String(), err
}

func TestLoadFailsOnAClosedPort(t *testing.T) {
	res, _, err := runLoadCommand(t, "--url", closedPortURL(t), "--requests", "3", "--concurrency", "1", "--warmup", "0")
	if !errors.Is(err, loadgen.ErrRequestsFailed) || !strings.Contains(err.Error(), "3 of 3 requests failed") ||
		!strings.Contains(err.Error(), res.FirstError) || res.FirstError == "" {
		t.Errorf("error %v: want the failed count and the first error", err)
	}
	if res.Mode != "closed" || res.Requests != 3 || res.Errors != 3 || res.RPS != 0 || res.P99 != 0 {
		t.Errorf("%+v: want 3 failed requests and 0 rps", res)
	}
}

// TestLoadExitStatus runs the command as a process: failed requests exit
// non-zero with a message naming them.
func TestLoadExitStatus(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadMainProcess$")
	cmd.Env = append(os.Environ(), loadArgsEnv+"=--url "+closedPortURL(t)+" --requests 3 --concurrency 1 --warmup 0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("exit %v, want non-zero\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "kspbench: loadgen: 3 of 3 requests failed (first: ") {
		t.Errorf("stderr %q: want the failed count and the first error", stderr.String())
	}
	if !strings.Contains(stdout.String(), `"errors":3`) {
		t.Errorf("stdout %q: want the result printed before failing", stdout.String())
	}
}

func TestLoadReportsShedWithoutFailing(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1)%2 == 0 {
			http.Error(w, "queue full", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	res, stderr, err := runLoadCommand(t, "--url", srv.URL, "--requests", "40", "--concurrency", "2", "--warmup", "0", "--expect-status", "200")
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 40 || res.OK != 20 || res.Shed != 20 || res.Errors != 0 {
		t.Errorf("%+v: want 20 ok and 20 shed of 40", res)
	}
	if !strings.Contains(stderr, "20 of 40 requests shed") {
		t.Errorf("stderr %q: want the shed requests reported", stderr)
	}
}

func TestLoadOpenLoop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	res, _, err := runLoadCommand(t, "--url", srv.URL, "--rate", "100", "--duration", "300ms", "--warmup", "0")
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "open" || res.Rate != 100 || res.Scheduled != 30 || res.Requests+res.Dropped != 30 {
		t.Errorf("%+v: want 30 requests due in the open loop", res)
	}
	var stdout bytes.Buffer
	if err := kspbench(context.Background(), nil, &stdout, io.Discard, []string{"load", "--url", srv.URL, "--rate", "-1"}); err == nil {
		t.Error("a negative rate accepted")
	}
}
