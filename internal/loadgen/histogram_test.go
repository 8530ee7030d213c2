package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// TestHistogramMatchesSortedValues checks every quantile read back against
// the exact one of the sorted values: never below, at most 1/128 above.
func TestHistogramMatchesSortedValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 100, 1000, 100_000} {
		var h histogram
		values := make([]time.Duration, n)
		for i := range values {
			// Log-uniform from 1ns to about 100s, with a few zeros.
			v := time.Duration(math.Exp(rng.Float64() * math.Log(1e11)))
			if rng.IntN(50) == 0 {
				v = 0
			}
			values[i] = v
			h.add(v)
		}
		slices.Sort(values)
		for _, p := range []float64{0, 0.001, 0.5, 0.9, 0.99, 0.999, 1} {
			want, got := exactQuantile(values, p), h.quantile(p)
			if got < want || float64(got-want) > float64(want)/(1<<subBits) {
				t.Errorf("n %d: quantile %g is %v, want %v (within 1/%d above)", n, p, got, want, 1<<subBits)
			}
		}
		if h.max != values[n-1] || h.quantile(1) != values[n-1] {
			t.Errorf("n %d: max %v, quantile(1) %v, want %v", n, h.max, h.quantile(1), values[n-1])
		}
	}
}

func TestHistogramBuckets(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 {
		t.Error("an empty histogram has a median")
	}
	prev := -1
	for _, v := range []time.Duration{0, 1, 255, 256, 257, 511, 512, time.Millisecond, time.Hour, math.MaxInt64} {
		i := bucketOf(v)
		if i < prev || i >= bucketCount {
			t.Errorf("value %d in bucket %d after %d (of %d)", v, i, prev, bucketCount)
		}
		if top := bucketTop(i); top < v || bucketOf(top) != i {
			t.Errorf("value %d in bucket %d whose top is %d", v, i, top)
		}
		prev = i
	}
	if bucketOf(-5) != 0 {
		t.Error("a negative value is not counted as 0")
	}
}
