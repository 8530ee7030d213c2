package results

import "testing"

// TestComparisonFigures checks which figures the price-of-safety and the
// binding-cost comparisons keep: a configuration measured for one of them
// files only these.
func TestComparisonFigures(t *testing.T) {
	for _, tc := range []struct {
		name            string
		safety, binding bool
	}{
		{CallName(OpNoop, ViaHarness), true, true},
		{CallName(OpNoop, ViaEngine), false, true},
		{CallName(OpEcho64, ViaHarness), false, true},
		{CallName(OpHostcall, ViaHarness), true, true},
		{CallName(OpLoop, ViaHarness), true, false},
		{Name(Call, KeyGuest, "cluster-monitor", KeyOp, "get-status", KeyVia, ViaHarness), true, false},
		{Name(Call, KeyGuest, "cluster-monitor", KeyOp, "get-status", KeyVia, "pool"), false, false},
		{SightglassName("ksp-sort", PhaseExecute), true, false},
		{SightglassName("ksp-sort", PhaseCompile), false, false},
		{SightglassName("ksp-sort", PhaseInstantiate), false, false},
		{Name(Copy, "dir", "host-to-guest", "size", "64KiB", KeyVia, ViaHarness), false, false},
		{HTTPName("get-status", ServerConstant), false, true},
		{HTTPName("post-data", ServerNative), false, true},
		{HTTPName("get-status", ServerEngine), false, false},
		{HTTPName("get-status", ServerIsolated), false, false},
	} {
		if got := PriceOfSafety(tc.name); got != tc.safety {
			t.Errorf("PriceOfSafety(%s) = %v, want %v", tc.name, got, tc.safety)
		}
		if got := BindingCost(tc.name); got != tc.binding {
			t.Errorf("BindingCost(%s) = %v, want %v", tc.name, got, tc.binding)
		}
	}
}
