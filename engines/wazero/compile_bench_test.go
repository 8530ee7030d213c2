package wazero_test

import (
	"context"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/internal/bench"
	"github.com/kspbench/kspbench/plugindir"
)

// BenchmarkCompileWorkers compiles the cluster-monitor plugin without a cache
// on one compilation worker and on GOMAXPROCS (the adapter's default),
// alternating the two in every iteration so that both see the same machine,
// to show what wazero's experimental.WithCompilationWorkers buys. It reports
// the time of each and their ratio (parallel ÷ serial, median over the
// iterations):
//
//	go test ./engines/wazero -run '^$' -bench CompileWorkers -count 6 -benchtime 3x
func BenchmarkCompileWorkers(b *testing.B) {
	f, err := plugindir.Read(bench.TestConfig(b, wazero.Open).PluginDir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	compile := func(workers int) time.Duration {
		eng, err := wazero.Open(engines.Config{CompileWorkers: workers})
		if err != nil {
			b.Fatal(err)
		}
		defer eng.Close(ctx)
		start := time.Now()
		m, err := eng.Compile(ctx, f.Wasm, engines.ModuleConfig{})
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		m.Close(ctx)
		return d
	}
	n := runtime.GOMAXPROCS(0)
	var serial, parallel time.Duration
	var ratios []float64
	for i := 0; b.Loop(); i++ {
		var s, p time.Duration
		if i%2 == 0 { // alternate which goes first
			s, p = compile(1), compile(n)
		} else {
			p, s = compile(n), compile(1)
		}
		serial += s
		parallel += p
		ratios = append(ratios, p.Seconds()/s.Seconds())
	}
	sort.Float64s(ratios)
	b.ReportMetric(serial.Seconds()/float64(b.N), "sec-1-worker/op")
	b.ReportMetric(parallel.Seconds()/float64(b.N), "sec-gomaxprocs-workers/op")
	b.ReportMetric(ratios[len(ratios)/2], "parallel/serial")
	b.ReportMetric(float64(n), "workers")
}
