package runner

import (
	"slices"
	"strings"
	"testing"
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
