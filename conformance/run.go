package conformance

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kspbench/kspbench/engines"
)

// Factory opens the engine under test with a configuration. Every adapter's
// Open function is one.
type Factory func(engines.Config) (engines.Engine, error)

// Option configures Run.
type Option func(*Config)

// EngineName makes the suite check that the engine reports this name.
func EngineName(name string) Option { return func(c *Config) { c.Engine = name } }

// WithPluginDir gives the plugin cases a built cluster-monitor plugin: a
// folder holding plugin.yml and cluster-monitor.wasm. Without it the suite
// builds the plugin from source when it can (see PluginSource), and skips
// the plugin cases with the reason when it cannot.
func WithPluginDir(dir string) Option { return func(c *Config) { c.ClusterMonitorDir = dir } }

// WithDeadline sets the call deadline of the deadline cases (default 250ms).
func WithDeadline(d time.Duration) Option { return func(c *Config) { c.Deadline = d } }

// Run runs every case of the suite on the engine that open opens, each as a
// subtest of t named after the case. It needs nothing but the factory: an
// engine in another module runs the suite on itself with
//
//	func TestConformance(t *testing.T) { conformance.Run(t, myengine.Open) }
//
// Failures are reported with t.Error; a case the engine does not support is
// skipped with the reason, which `go test -v` prints as "unsupported:
// <reason>"; the plugin cases are skipped, with the reason, when no plugin
// was given and none can be built here.
func Run(t *testing.T, open Factory, opts ...Option) {
	t.Helper()
	cfg := TestConfig(t, "", open)
	for _, o := range opts {
		o(&cfg)
	}
	var pluginErr error
	if cfg.ClusterMonitorDir == "" {
		cfg.ClusterMonitorDir, pluginErr = buildOnce(context.Background())
	}
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if pluginErr != nil && usesPlugin(c) {
				t.Skipf("needs the cluster-monitor plugin: %v", pluginErr)
			}
			r := RunCase(context.Background(), cfg, c)
			switch r.Outcome {
			case Fail:
				t.Error(r.Detail)
			case Unsupported:
				t.Skip("unsupported: " + r.Detail)
			}
		})
	}
}

// TestConfig returns a Config for running cases one by one from a test:
// temporary folders for the cases and a shared compilation cache, and the
// cluster-monitor plugin built from source (see PluginSource) when it can
// be; when it cannot, ClusterMonitorDir stays empty and the plugin cases
// fail with the reason.
func TestConfig(tb testing.TB, engine string, open Factory) Config {
	tb.Helper()
	dir := tb.TempDir()
	cm, err := buildOnce(context.Background())
	if err != nil {
		tb.Logf("conformance: plugin cases will not run: %v", err)
	}
	return Config{Engine: engine, Open: open, ClusterMonitorDir: cm,
		TempDir: filepath.Join(dir, "cases"), CacheDir: filepath.Join(dir, "cache")}
}

// usesPlugin reports whether a case needs the cluster-monitor plugin.
func usesPlugin(c Case) bool { return strings.HasPrefix(c.Name, "plugin/") }
