package bench_test

import (
	"testing"

	"github.com/kspbench/kspbench/bench"
	"github.com/kspbench/kspbench/engines/wazero"
)

// BenchmarkWazero runs every workload on wazero: go test -bench . ./bench
func BenchmarkWazero(b *testing.B) {
	bench.Benchmarks(b, bench.TestConfig(b, wazero.Open))
}
