package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: 1<<subBits buckets per power of
// two, so a value read back is at most 1/128 (0.8%) above the one recorded.
const subBits = 7

// bucketCount covers every non-negative int64: values below 1<<(subBits+1)
// have a bucket each, and each power of two above has 1<<subBits.
const bucketCount = (63-subBits-1)<<subBits + 2<<subBits

// histogram counts latencies in log-linear buckets, as HdrHistogram does.
// Its memory is fixed however many requests a run makes, and every request
// is counted, so the percentiles carry no sampling bias.
//
// # Notes
//
// A percentile is read as the upper bound of the bucket holding it, capped
// at the largest value recorded: it may be up to 0.8% above the exact one,
// never below. The zero value is empty and ready to use; it is not safe for
// concurrent use.
type histogram struct {
	counts [bucketCount]uint64
	n      uint64
	max    time.Duration
}

func bucketOf(v time.Duration) int {
	if v < 0 {
		v = 0
	}
	s := max(bits.Len64(uint64(v))-subBits-1, 0)
	return s<<subBits + int(v>>s)
}

// bucketTop returns the largest value bucket i holds.
func bucketTop(i int) time.Duration {
	s := max(i>>subBits-1, 0)
	m := i - s<<subBits
	top := (uint64(m)+1)<<s - 1
	if top > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(top)
}

func (h *histogram) add(v time.Duration) {
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, v)
}

// quantile returns the nearest-rank p-quantile: the smallest recorded value
// that at least p of the values do not exceed (within the bucket precision).
// It returns 0 for an empty histogram.
func (h *histogram) quantile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketTop(i), h.max)
		}
	}
	return h.max
}
