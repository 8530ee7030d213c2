package wazero_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/internal/bench"
	"github.com/kspbench/kspbench/plugindir"
)

// BenchmarkCompileWorkers compiles the cluster-monitor plugin without a cache
// on one compilation worker and on GOMAXPROCS (the adapter's default), to
// show what wazero's experimental.WithCompilationWorkers buys:
//
//	go test ./engines/wazero -run '^$' -bench CompileWorkers -count 6 -benchtime 3x
func BenchmarkCompileWorkers(b *testing.B) {
	f, err := plugindir.Read(bench.TestConfig(b, wazero.Open).PluginDir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run("workers="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				eng, err := wazero.Open(engines.Config{CompileWorkers: n})
				if err != nil {
					b.Fatal(err)
				}
				m, err := eng.Compile(ctx, f.Wasm, engines.ModuleConfig{})
				if err != nil {
					b.Fatal(err)
				}
				m.Close(ctx)
				eng.Close(ctx)
			}
		})
	}
}
