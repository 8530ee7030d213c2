package runner

import (
	"slices"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/internal/results"
)

func TestShuffledIsASeededPermutation(t *testing.T) {
	seen := map[string]bool{}
	for sample := range 20 {
		a, b := shuffled(3, 7, sample), shuffled(3, 7, sample)
		if !slices.Equal(a, b) {
			t.Fatalf("sample %d: %v then %v from the same seed", sample, a, b)
		}
		sorted := slices.Sorted(slices.Values(a))
		if !slices.Equal(sorted, []int{0, 1, 2}) {
			t.Fatalf("not a permutation: %v", a)
		}
		seen[strings.Trim(strings.Join(strings.Fields(strings.Trim(strings.ReplaceAll(fmtInts(a), ",", " "), "[]")), ","), ",")] = true
	}
	if len(seen) < 3 {
		t.Errorf("20 samples used only %d orders", len(seen))
	}
}

func fmtInts(a []int) string {
	var b strings.Builder
	for _, v := range a {
		b.WriteByte(byte('0' + v))
		b.WriteByte(',')
	}
	return b.String()
}

func TestBenchFilterLevels(t *testing.T) {
	f, err := NewFilter("Call|Copy/.*/size=64B$")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"Call/op=noop/via=harness":                     false, // level 3 "size=64B$" does not match "via=harness"
		"Copy/dir=host-to-guest/size=64B/via=harness":  true,
		"Copy/dir=host-to-guest/size=4KiB/via=harness": false,
		"ColdStart/guest=reference/phase=compile":      false,
	} {
		if got := f.matchFigure(name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if !f.matchWorkload("Call") || !f.matchWorkload("Copy") || f.matchWorkload("Footprint") {
		t.Error("workload selection")
	}
}

// TestBenchArgsOnly checks the figure selection a worker applies: the
// binding-only configuration keeps the binding-cost figures (through the
// harness and the engine API) and drops the rest, the loop included, which
// the safety-only one keeps.
func TestBenchArgsOnly(t *testing.T) {
	noopEngine := results.CallName(results.OpNoop, results.ViaEngine)
	echo := results.CallName(results.OpEcho64, results.ViaHarness)
	loop := results.CallName(results.OpLoop, results.ViaHarness)
	copy64 := "Copy/dir=host-to-guest/size=64B/via=harness"
	for _, c := range []struct {
		args BenchArgs
		keep map[string]bool
	}{
		{BenchArgs{}, map[string]bool{noopEngine: true, echo: true, loop: true, copy64: true}},
		{BenchArgs{BindingOnly: true}, map[string]bool{noopEngine: true, echo: true, loop: false, copy64: false}},
		{BenchArgs{SafetyOnly: true}, map[string]bool{noopEngine: false, echo: false, loop: true, copy64: false}},
		{BenchArgs{BindingOnly: true, Bench: "Call/op=noop"}, map[string]bool{noopEngine: true, echo: false, loop: false}},
	} {
		only, err := c.args.only()
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range c.keep {
			if got := only == nil || only(name); got != want {
				t.Errorf("%+v keeps %s: %v, want %v", c.args, name, got, want)
			}
		}
	}
}
