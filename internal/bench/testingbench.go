package bench

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// result is what one timed run measured.
type result struct {
	N           int
	T           time.Duration
	Allocs      uint64 // Go heap allocations
	AllocBytes  uint64 // Go heap bytes allocated
	MemMeasured bool
}

// measure runs body(n) with n growing until one run lasts about d, in the
// manner of testing.B (which cannot be used here: testing.Benchmark inside a
// running `go test -bench` deadlocks on the testing package's benchmark lock).
func measure(d time.Duration, body func(n int)) result {
	return measureFrom(d, 1, body)
}

// measureFrom is measure starting at n = start instead of 1.
func measureFrom(d time.Duration, start int, body func(n int)) result {
	return grow(d, start, func(n int) result {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		body(n)
		t := time.Since(start)
		runtime.ReadMemStats(&after)
		return result{N: n, T: t, Allocs: after.Mallocs - before.Mallocs, AllocBytes: after.TotalAlloc - before.TotalAlloc, MemMeasured: true}
	})
}

// measureParallel runs n operations shared among procs goroutines: each
// goroutine calls body(g, next) and does one operation per true next().
func measureParallel(d time.Duration, procs int, body func(g int, next func() bool)) result {
	return grow(d, 1, func(n int) result {
		var left atomic.Int64
		left.Store(int64(n))
		next := func() bool { return left.Add(-1) >= 0 }
		var wg sync.WaitGroup
		start := time.Now()
		for g := range procs {
			wg.Go(func() { body(g, next) })
		}
		wg.Wait()
		return result{N: n, T: time.Since(start)}
	})
}

// grow calls run with n = start, then with n predicted to last d (at most
// 100 times the previous n), until a run lasts at least d.
func grow(d time.Duration, start int, run func(n int) result) result {
	n := max(start, 1)
	for {
		r := run(n)
		if r.T >= d || n >= 1e9 {
			return r
		}
		per := float64(r.T) / float64(n)
		if per <= 0 {
			per = 1
		}
		next := int(1.2 * float64(d) / per)
		next = min(max(next, n+1), 100*n, 1e9)
		n = next
	}
}

// perOp returns the sample of a timed run: seconds per op and, when
// measured, the Go heap's bytes and allocations per op.
func (r result) sample(name string) Sample {
	n := float64(max(r.N, 1))
	s := Sample{Name: name, Iters: r.N, Values: []Value{{Value: r.T.Seconds() / n, Unit: "sec/op"}}}
	if r.MemMeasured {
		s.Values = append(s.Values, Value{Value: float64(r.AllocBytes) / n, Unit: "B/op"}, Value{Value: float64(r.Allocs) / n, Unit: "allocs/op"})
	}
	return s
}

// calibrated holds, per figure name, the n this process last predicted to
// last the bench time: a figure's next sample starts there instead of at 1,
// which skips the ramp (1, 100, 10,000, ... each after a GC) that would
// otherwise cost each sample of each figure about half its bench time again.
// Every sample still runs until it lasts the bench time.
var calibrated sync.Map // string → int

// startOf returns the n to start the figure called name at.
func startOf(name string) int {
	if n, ok := calibrated.Load(name); ok {
		return n.(int)
	}
	return 1
}

// remember records the n predicted, from r, to last 1.2 × d.
func remember(name string, d time.Duration, r result) {
	if r.N <= 0 || r.T <= 0 {
		return
	}
	n := int(1.2 * float64(d) / (float64(r.T) / float64(r.N)))
	calibrated.Store(name, min(max(n, 1), 1e9))
}
