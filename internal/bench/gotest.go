package bench

import (
	"context"
	"flag"
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
	src, err := conformance.PluginSource()
	if err != nil {
		tb.Skip(err)
	}
	dir := tb.TempDir()
	cm, err := conformance.BuildClusterMonitor(context.Background(), src, dir)
	if err != nil {
		tb.Fatal(err)
	}
	others, err := GuestLanguages(cm, dir)
	if err != nil {
		tb.Fatal(err)
	}
	return Config{Open: open, PluginDir: cm, Others: others, Reference: conformance.Guest("reference"), TempDir: filepath.Join(dir, "bench")}
}

// Benchmarks runs every workload once and reports each figure as a
// sub-benchmark of b, named as kspbench names it: one sample of the figures
// `kspbench run` measures, for one engine.
//
// # Notes
//
// go test runs each sub-benchmark -count times, which would report the one
// sample several times over and fake a zero variance; so Benchmarks refuses
// -count above 1. For N samples run go test N times, or kspbench run --count N.
func Benchmarks(b *testing.B, c Config) {
	if f := flag.Lookup("test.count"); f != nil && f.Value.String() != "1" {
		b.Fatalf("bench.Benchmarks takes one sample per run; -count %s would repeat it, not measure again: run go test several times, or kspbench run --count N", f.Value)
	}
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
