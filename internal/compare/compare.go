package compare

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"golang.org/x/perf/benchmath"
)

// Options are the thresholds of a comparison. The zero value means the
// defaults: Alpha 0.05 and Threshold 0.05.
type Options struct {
	// Alpha is the significance level of the U test: a figure differs when
	// p <= Alpha (benchstat prints "~" when p > alpha).
	Alpha float64
	// Threshold is the smallest change of the median that counts, as a
	// fraction of the old median (0.05 is 5%).
	Threshold float64
}

// Defaults of Options.
const (
	DefaultAlpha     = 0.05
	DefaultThreshold = 0.05
)

func (o Options) withDefaults() Options {
	if o.Alpha <= 0 {
		o.Alpha = DefaultAlpha
	}
	if o.Threshold <= 0 {
		o.Threshold = DefaultThreshold
	}
	return o
}

// Validate checks the options a user gave.
func (o Options) Validate() error {
	if o.Alpha <= 0 || o.Alpha >= 1 {
		return fmt.Errorf("alpha[%v] must be between 0 and 1", o.Alpha)
	}
	if o.Threshold < 0 {
		return fmt.Errorf("threshold[%v] must not be negative", o.Threshold)
	}
	return nil
}

// Outcome is what a comparison says of one figure.
type Outcome int

// Outcomes, in the order the verdict lists them.
const (
	// Worse: significantly different, beyond the threshold, the bad way.
	Worse Outcome = iota
	// Better: significantly different, beyond the threshold, the good way.
	Better
	// Changed: significantly different beyond the threshold in a unit whose
	// better direction is not known; never fails the gate.
	Changed
	// Untested: too few samples for the U test to reach Alpha at all, so no
	// difference could have been detected.
	Untested
	// Same: not significantly different, or within the threshold.
	Same
)

func (o Outcome) String() string {
	return [...]string{"worse", "better", "changed", "untested", "same"}[o]
}

// Figure is one figure compared.
type Figure struct {
	FigureKey
	Old, New       []float64 // sorted
	OldSum, NewSum benchmath.Summary
	// P is the U test's p-value; Delta is new median / old median - 1.
	P, Delta  float64
	Direction Direction
	Outcome   Outcome
}

// Result is a comparison of two sides.
type Result struct {
	Options  Options
	Old, New *Side
	// Figures present on both sides, grouped as Groups lists them, in the
	// old side's order within a group.
	Figures []Figure
	// Groups are those with a figure on both sides, sorted.
	Groups []Group
	// OnlyOld and OnlyNew are groups present on one side only.
	OnlyOld, OnlyNew []Group
}

// MinSamples is the smallest number of samples per side with which the U
// test can reach alpha at all (4 at 0.05).
func MinSamples(alpha float64) int {
	for n := 1; n < 50; n++ {
		xs, ys := make([]float64, n), make([]float64, n)
		for i := range n {
			xs[i], ys[i] = float64(i), float64(n+i)
		}
		t := &benchmath.Thresholds{CompareAlpha: alpha}
		if c := benchmath.AssumeNothing.Compare(benchmath.NewSample(xs, t), benchmath.NewSample(ys, t)); c.P <= alpha {
			return n
		}
	}
	return math.MaxInt
}

// Compare compares every figure the two sides share, with benchstat's test:
// benchmath.AssumeNothing (the Mann-Whitney U test on the samples, medians
// as centres, at confidence 0.95 for the intervals).
func Compare(old, new *Side, o Options) *Result {
	o = o.withDefaults()
	r := &Result{Options: o, Old: old, New: new}
	groupsOf := func(s *Side) []Group {
		var gs []Group
		for _, k := range s.Order {
			if !slices.Contains(gs, k.Group) {
				gs = append(gs, k.Group)
			}
		}
		slices.SortFunc(gs, compareGroups)
		return gs
	}
	oldGroups, newGroups := groupsOf(old), groupsOf(new)
	for _, g := range oldGroups {
		if !slices.Contains(newGroups, g) {
			r.OnlyOld = append(r.OnlyOld, g)
		}
	}
	for _, g := range newGroups {
		if !slices.Contains(oldGroups, g) {
			r.OnlyNew = append(r.OnlyNew, g)
		}
	}
	th := &benchmath.Thresholds{CompareAlpha: o.Alpha}
	minN := MinSamples(o.Alpha)
	for _, g := range oldGroups {
		if !slices.Contains(newGroups, g) {
			continue
		}
		r.Groups = append(r.Groups, g)
		for _, k := range old.Order {
			if k.Group != g {
				continue
			}
			nv, ok := new.Samples[k]
			if !ok {
				continue
			}
			os := benchmath.NewSample(slices.Clone(old.Samples[k]), th)
			ns := benchmath.NewSample(slices.Clone(nv), th)
			f := Figure{FigureKey: k, Old: os.Values, New: ns.Values, Direction: DirectionOf(k.Unit),
				OldSum: benchmath.AssumeNothing.Summary(os, 0.95), NewSum: benchmath.AssumeNothing.Summary(ns, 0.95)}
			c := benchmath.AssumeNothing.Compare(os, ns)
			f.P = c.P
			f.Delta = delta(f.OldSum.Center, f.NewSum.Center)
			f.Outcome = outcome(f, c, o, minN)
			r.Figures = append(r.Figures, f)
		}
	}
	return r
}

func delta(old, new float64) float64 {
	switch {
	case old == new:
		return 0
	case old == 0:
		return math.Inf(int(math.Copysign(1, new)))
	}
	return new/old - 1
}

func outcome(f Figure, c benchmath.Comparison, o Options, minN int) Outcome {
	significant := c.P <= o.Alpha && math.Abs(f.Delta) >= o.Threshold && f.Delta != 0
	if !significant {
		if len(f.Old) < minN && len(f.New) < minN && math.Abs(f.Delta) >= o.Threshold {
			return Untested
		}
		return Same
	}
	if f.Direction == Unknown {
		return Changed
	}
	if f.worseWay() {
		return Worse
	}
	return Better
}

// worseWay reports whether the median moved the bad way for its unit.
func (f Figure) worseWay() bool {
	switch f.Direction {
	case LowerIsBetter:
		return f.Delta > 0
	case HigherIsBetter:
		return f.Delta < 0
	}
	return false
}

// Count returns how many figures of group g (every group when g is nil)
// have outcome o.
func (r *Result) Count(g *Group, o Outcome) int {
	n := 0
	for _, f := range r.Figures {
		if f.Outcome == o && (g == nil || f.Group == *g) {
			n++
		}
	}
	return n
}

// untestedWorse counts the untested figures whose median moved the bad way
// by the threshold or more: regressions the samples were too few to test.
func (r *Result) untestedWorse() int {
	n := 0
	for _, f := range r.Figures {
		if f.Outcome == Untested && f.worseWay() {
			n++
		}
	}
	return n
}

// Errors of Gate.
var (
	// ErrRegression: a figure got significantly worse beyond the threshold.
	ErrRegression = errors.New("significant regression")
	// ErrInconclusive: no figure is significantly worse, but some moved the
	// bad way beyond the threshold with too few samples for the test to
	// reach alpha, so a regression could not have been detected.
	ErrInconclusive = errors.New("inconclusive")
)

// Gate is the regression gate: an error wrapping ErrRegression when a figure
// got significantly worse by the threshold or more, one wrapping
// ErrInconclusive when the samples were too few to test figures that moved
// the bad way, and nil otherwise.
func (r *Result) Gate() error {
	if n := r.Count(nil, Worse); n > 0 {
		return fmt.Errorf("%w: %d figure(s) worse by %s or more at alpha %v", ErrRegression, n,
			percent(r.Options.Threshold), r.Options.Alpha)
	}
	if n := r.untestedWorse(); n > 0 {
		return fmt.Errorf("%w: %d figure(s) moved the bad way by %s or more with too few samples to test (%d or more per side needed)",
			ErrInconclusive, n, percent(r.Options.Threshold), MinSamples(r.Options.Alpha))
	}
	return nil
}

func percent(f float64) string {
	return strconv.FormatFloat(100*f, 'g', 3, 64) + "%"
}
