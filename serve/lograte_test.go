package serve

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

//go:embed testdata/log_loop.wasm
var logLoopWasm []byte

// logLoopDir writes a plugin folder of testdata/log_loop.wat, a guest that
// calls host_log in a loop.
func logLoopDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "log-loop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "plugin.yml"), `apiVersion: kubestellar.io/v1
kind: Plugin
metadata:
  name: log-loop
  version: 1.0.0
spec:
  backend:
    enabled: true
    routes:
      - path: /many
        methods: [GET]
        handler: handle_log_many
      - path: /forever
        methods: [GET]
        handler: handle_log_forever
`)
	write(t, filepath.Join(dir, "log-loop.wasm"), string(logLoopWasm))
	return dir
}

// TestPluginLogRateLimit: a guest that logs in a loop writes at most its
// burst and rate of lines to the server's log, in process and isolated; the
// rest are counted in the listing and /metrics and summarised in one line.
// Without the limit, /many alone writes 1000 lines and /forever as many as
// it can until its deadline.
func TestPluginLogRateLimit(t *testing.T) {
	const rate, burst = 10, 50
	const line = `msg="a log line from a guest that logs in a loop"`
	for _, iso := range []string{IsolationNone, IsolationProcess} {
		t.Run("isolation="+iso, func(t *testing.T) {
			cfg := Config{Isolation: iso, CallTimeout: 300 * time.Millisecond, PluginLogRate: rate, PluginLogBurst: burst}
			if iso == IsolationProcess {
				cfg.WorkerBinary = isolationWorker(t, testEngine)
			}
			ts := newServer(t, cfg, logLoopDir(t))
			start := time.Now()
			if r := ts.do("GET", "/api/plugins/log-loop/many", nil); r.code != 200 || string(r.body) != "ok" {
				t.Fatalf("GET /many = %s", r)
			}
			if r := ts.do("GET", "/api/plugins/log-loop/forever", nil); r.code != 504 {
				t.Fatalf("GET /forever = %s, want 504 at the deadline", r)
			}
			// The bucket's burst, plus its rate over the time the calls took,
			// plus a line of slack.
			most := burst + int(time.Since(start).Seconds()*rate) + 1
			logged := strings.Count(ts.log.String(), line)
			if logged < burst || logged > most {
				t.Errorf("the guest's log lines in the server's log: %d, want %d to %d", logged, burst, most)
			}
			p := ts.listing().find("log-loop")
			if p == nil || p.LogLinesDropped < int64(1000-logged) {
				t.Fatalf("listing %+v: want at least %d log lines dropped", p, 1000-logged)
			}
			dropped := p.LogLinesDropped
			m := ts.do("GET", "/metrics", nil)
			if want := fmt.Sprintf(`kspbench_plugin_log_lines_dropped_total{engine="wazero",plugin="log-loop"} %d`, dropped); !strings.Contains(string(m.body), want) {
				t.Errorf("metrics lack %s", want)
			}
			waitFor(t, 5*time.Second, "the summary of the dropped lines", func() bool {
				return strings.Contains(ts.log.String(), "plugin log-loop: ") &&
					strings.Contains(ts.log.String(), "log lines dropped in the last second (rate limit 10/s")
			})
		})
	}
}
