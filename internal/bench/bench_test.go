package bench_test

import (
	"context"
	"math"
	"time"

	"testing"

	"github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/internal/bench"
)

// BenchmarkWazero runs every workload on wazero: go test -bench . ./bench
func BenchmarkWazero(b *testing.B) {
	bench.Benchmarks(b, bench.TestConfig(b, wazero.Open))
}

// TestWorkloadsOnWazero runs every workload once with tiny timings and checks
// each produces its figures with plausible values.
func TestWorkloadsOnWazero(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the cluster-monitor plugin")
	}
	c := bench.TestConfig(t, wazero.Open)
	c.BenchTime = time.Millisecond
	c.Instances = 2
	want := map[string][]string{
		"ColdStart": {"ColdStart/guest=cluster-monitor/phase=compile", "ColdStart/guest=cluster-monitor/phase=ttfr-cached", "ColdStart/guest=reference/phase=first-call",
			"ColdStart/guest=cluster-monitor-c/phase=compile", "ColdStart/guest=cluster-monitor-c/phase=first-call"},
		"Call": {"Call/op=noop/via=harness", "Call/op=noop/via=engine", "Call/op=echo-64B/via=engine", "Call/op=hostcall/via=harness"},
		"Copy": {"Copy/dir=host-to-guest/size=64B/via=harness", "Copy/dir=guest-to-host/size=1MiB/via=engine", "Copy/dir=host-to-guest/size=64KiB/via=go-copy"},
		"Footprint": {"Footprint/guest=cluster-monitor/instances=2", "Footprint/guest=cluster-monitor/what=compiled",
			"Footprint/guest=cluster-monitor-c/instances=2", "Footprint/guest=cluster-monitor-c/what=compiled"},
		"Throughput": {"Throughput/guest=reference/op=echo-64B", "Throughput/guest=cluster-monitor/op=get-status",
			"Throughput/guest=cluster-monitor-c/op=get-status"},
	}
	for _, w := range bench.Workloads() {
		t.Run(w.Name, func(t *testing.T) {
			samples, err := w.Run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bench.Sample{}
			for _, s := range samples {
				got[s.Name] = s
				if len(s.Values) == 0 || s.Iters < 1 {
					t.Errorf("%s: %+v", s.Name, s)
				}
				for _, v := range s.Values {
					if v.Value < 0 || math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
						t.Errorf("%s: %v %s", s.Name, v.Value, v.Unit)
					}
					if v.Unit == "sec/op" && v.Value == 0 {
						t.Errorf("%s: zero time", s.Name)
					}
				}
			}
			for _, name := range want[w.Name] {
				if _, ok := got[name]; !ok {
					t.Errorf("figure %s missing; got %v", name, names(samples))
				}
			}
		})
	}
}

func names(ss []bench.Sample) []string {
	var n []string
	for _, s := range ss {
		n = append(n, s.Name)
	}
	return n
}
