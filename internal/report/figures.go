package report

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/kspbench/kspbench/internal/results"
)

// Benchmark families kspbench writes, and the values of their keys in the
// order reports show them. Values not listed come after, in natural order.
const (
	familyColdStart  = results.ColdStart
	familyCall       = results.Call
	familyCopy       = results.Copy
	familyFootprint  = results.Footprint
	familyThroughput = results.Throughput
)

var knownOrder = map[string][]string{
	"guest": {"cluster-monitor", results.ReferenceGuest},
	"phase": {"compile", "compile-cached", "instantiate", "initialize", "first-call", "ttfr-cached", "ttfr-uncached"},
	"op":    {"noop", "echo-64B", "hostcall", "status"},
	"via":   {"harness", "engine", "go-copy"},
	"dir":   {"host-to-guest", "guest-to-host"},
	"size":  {"64B", "4KiB", "64KiB", "1MiB"},
	"what":  {"compiled", "binary"},
}

// find returns the benchmark of family whose keys are exactly kv (key,
// value, key, value, ...), in any order, or nil.
func (e *Engine) find(family string, kv ...string) *Benchmark {
	for _, b := range e.Benchmarks {
		if b.Family != family || len(b.Keys) != len(kv)/2 {
			continue
		}
		match := true
		for i := 0; i+1 < len(kv); i += 2 {
			if b.Keys[kv[i]] != kv[i+1] {
				match = false
				break
			}
		}
		if match {
			return b
		}
	}
	return nil
}

// metric returns unit of the benchmark find returns, or nil.
func (e *Engine) metric(unit, family string, kv ...string) *Metric {
	b := e.find(family, kv...)
	if b == nil {
		return nil
	}
	m, _ := b.Metric(unit)
	return m
}

// metrics returns, for every engine of r, unit of the benchmark find
// returns; nil where it has none.
func (r *Run) metrics(unit, family string, kv ...string) []*Metric {
	ms := make([]*Metric, len(r.Engines))
	for i, e := range r.Engines {
		ms[i] = e.metric(unit, family, kv...)
	}
	return ms
}

// values returns the values key takes in family across engines, among
// benchmarks that match the fixed key=value pairs of where, in report order.
func (r *Run) values(family, key string, where ...string) []string {
	var vs []string
	for _, e := range r.Engines {
	next:
		for _, b := range e.Benchmarks {
			v, ok := b.Keys[key]
			if b.Family != family || !ok || slices.Contains(vs, v) {
				continue
			}
			for i := 0; i+1 < len(where); i += 2 {
				if b.Keys[where[i]] != where[i+1] {
					continue next
				}
			}
			vs = append(vs, v)
		}
	}
	known := knownOrder[key]
	slices.SortStableFunc(vs, func(a, b string) int {
		ia, ib := slices.Index(known, a), slices.Index(known, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return naturalCompare(a, b)
	})
	return vs
}

// naturalCompare orders numbers by value, numbers before words, and words
// as strings.
func naturalCompare(a, b string) int {
	na, ea := strconv.ParseFloat(a, 64)
	nb, eb := strconv.ParseFloat(b, 64)
	switch {
	case ea == nil && eb == nil:
		return cmp.Compare(na, nb)
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// TestName names the test that decides whether two engines differ on a
// figure: benchstat's own.
const TestName = "benchstat's test (Mann-Whitney U, x/perf benchmath AssumeNothing, p ≤ 0.05)"

// disjoint reports whether a and b differ clearly: benchstat's test rejects
// that their samples come from one distribution (p <= 0.05), or, for exact
// figures, their medians differ.
func disjoint(a, b *Metric, exact bool) bool {
	if exact {
		return a.Median() != b.Median()
	}
	t := &benchmath.DefaultThresholds
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(a.Values, t), benchmath.NewSample(b.Values, t))
	return c.P <= c.Alpha && a.Median() != b.Median()
}

// MinIntervalSamples is the fewest samples for which benchmath (and so
// benchstat) gives a finite confidence interval of the median at Confidence:
// 6 at 95%.
func MinIntervalSamples() int {
	for n := 1; n < 100; n++ {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(i)
		}
		s := benchmath.AssumeNothing.Summary(benchmath.NewSample(xs, &benchmath.DefaultThresholds), Confidence)
		if !math.IsInf(s.Lo, 0) && !math.IsInf(s.Hi, 0) {
			return n
		}
	}
	return 100
}

// minTestSamples is the fewest samples per side with which the U test can
// reach p <= 0.05: 4.
func minTestSamples() int {
	t := &benchmath.DefaultThresholds
	for n := 1; n < 100; n++ {
		xs, ys := make([]float64, n), make([]float64, n)
		for i := range xs {
			xs[i], ys[i] = float64(i), float64(n+i)
		}
		if c := benchmath.AssumeNothing.Compare(benchmath.NewSample(xs, t), benchmath.NewSample(ys, t)); c.P <= c.Alpha {
			return n
		}
	}
	return 100
}

// fewestSamples is the smallest sample count of any figure with more than
// one sample (figures measured once, such as binary sizes, are exact), or 0.
func (r *Run) fewestSamples() int {
	fewest := 0
	for _, e := range r.Engines {
		for _, b := range e.Benchmarks {
			for _, m := range b.Metrics {
				if n := len(m.Values); n > 1 && (fewest == 0 || n < fewest) {
					fewest = n
				}
			}
		}
	}
	return fewest
}

// better reports whether a's median is better than b's.
func better(a, b *Metric, higher bool) bool {
	if higher {
		return a.Median() > b.Median()
	}
	return a.Median() < b.Median()
}

// clearBest returns the index of the metric of ms that is best and differs
// clearly from every other present one, or -1. It needs two metrics at least.
func clearBest(ms []*Metric, higher, exact bool) int {
	return clearExtreme(ms, higher, exact)
}

// clearWorst is clearBest for the worst.
func clearWorst(ms []*Metric, higher, exact bool) int {
	return clearExtreme(ms, !higher, exact)
}

func clearExtreme(ms []*Metric, higher, exact bool) int {
	idx, n := -1, 0
	for i, m := range ms {
		if m == nil {
			continue
		}
		n++
		if idx < 0 || better(m, ms[idx], higher) {
			idx = i
		}
	}
	if n < 2 {
		return -1
	}
	for i, m := range ms {
		if m != nil && i != idx && !disjoint(ms[idx], m, exact) {
			return -1
		}
	}
	return idx
}

// pooled summarises the samples of every metric of ms together.
func pooled(ms []*Metric) *Metric {
	var p *Metric
	for _, m := range ms {
		if m == nil {
			continue
		}
		if p == nil {
			p = &Metric{Unit: m.Unit}
		}
		p.Values = append(p.Values, m.Values...)
	}
	if p != nil {
		p.summarize()
	}
	return p
}

// maxInstances returns the largest instances=N of the RSS figures of guest,
// or "".
func (r *Run) maxInstances(guest string) string {
	ns := r.values(familyFootprint, "instances", "guest", guest)
	if len(ns) == 0 {
		return ""
	}
	return ns[len(ns)-1]
}

// mostSamples is the largest sample count of any figure.
func (r *Run) mostSamples() int {
	most := 0
	for _, e := range r.Engines {
		for _, b := range e.Benchmarks {
			for _, m := range b.Metrics {
				most = max(most, len(m.Values))
			}
		}
	}
	return most
}
