package bench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
)

// TestConfig returns a Config for running the workloads from a Go benchmark
// of an engine package: the cluster-monitor plugin built from this source
// tree and the reference guest.
func TestConfig(tb testing.TB, open func(engines.Config) (engines.Engine, error)) Config {
	tb.Helper()
	root, err := conformance.RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	cm, err := conformance.BuildClusterMonitor(context.Background(), root, dir)
	if err != nil {
		tb.Fatal(err)
	}
	return Config{Open: open, PluginDir: cm, Reference: conformance.Guest("reference"), TempDir: filepath.Join(dir, "bench")}
}

// Benchmarks runs every workload once and reports each figure as a
// sub-benchmark of b, named as kspbench names it, so that
// `go test -bench . -count 10` gives the same figures as `kspbench run` for
// one engine.
func Benchmarks(b *testing.B, c Config) {
	ctx := context.Background()
	for _, w := range Workloads() {
		b.Run(w.Name, func(b *testing.B) {
			samples, err := w.Run(ctx, c)
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range samples {
				b.Run(strings.TrimPrefix(s.Name, w.Name+"/"), func(b *testing.B) {
					for _, v := range s.Values {
						switch v.Unit {
						case "sec/op":
							b.ReportMetric(v.Value*1e9, "ns/op")
						case "B/op", "allocs/op":
							// meaningful only for the Go heap; reported as kspbench does
							b.ReportMetric(v.Value, v.Unit)
						default:
							b.ReportMetric(v.Value, v.Unit)
						}
					}
				})
			}
		})
	}
}
