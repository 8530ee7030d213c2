package report

import (
	"fmt"

	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/results"
)

// bindingPair is an engine's default, called through its Go binding, beside
// its direct configuration (catalog.BindingPairs), which calls the same
// library through its C API, both from the same run.
type bindingPair struct {
	binding, direct *Engine
}

// bindingPairs returns, in report order, every engine whose default and
// direct configurations are both in the run.
func (r *Run) bindingPairs() []bindingPair {
	var ps []bindingPair
	for _, p := range r.besideDefault(catalog.Direct) {
		ps = append(ps, bindingPair{binding: p[0], direct: p[1]})
	}
	return ps
}

// bindingFigures are the figures the binding-cost section compares: those
// results.BindingCost names, through the harness first.
var bindingFigures = func() []pairFigure {
	var fs []pairFigure
	for _, via := range []string{results.ViaHarness, results.ViaEngine} {
		for _, op := range []struct{ op, label string }{
			{results.OpNoop, "empty call"}, {results.OpEcho64, "echo, 64 B each way"}, {results.OpHostcall, "host call"},
		} {
			fs = append(fs, pairFigure{op.label + " via " + via, familyCall, []string{results.KeyOp, op.op, results.KeyVia, via}})
		}
	}
	return fs
}()

// bindingCost writes the section that puts each engine's default beside
// its direct configuration.
func (s *summary) bindingCost() {
	r := s.full
	pairs := r.bindingPairs()
	if len(pairs) == 0 {
		return
	}
	s.section("What the binding costs", "", "")
	s.b.WriteString("Each engine's default, called through its Go binding, beside the same engine library called through its C API by kspbench itself " +
		"(`<engine>:direct`), measured in the same run with the configurations interleaved. *binding ÷ direct* is the ratio of the medians: " +
		"what the binding adds to each call, which a host written against the C API would not pay. " +
		"`via harness` is the call through kspbench's plugin layer, `via engine` the engine's own API with the least around it. " +
		"A ratio marked *intervals overlap* is one " + TestName + " does not tell apart.\n\n")
	t := table{head: []string{"figure", "engine", "binding (default)", "direct", "binding ÷ direct"}}
	for _, f := range bindingFigures {
		for _, p := range pairs {
			bm := p.binding.metric("sec/op", f.family, f.kv...)
			dm := p.direct.metric("sec/op", f.family, f.kv...)
			if bm == nil && dm == nil {
				continue
			}
			cell := func(m *Metric) string {
				if m == nil {
					return missing
				}
				return formatSummary(m)
			}
			t.add(f.label, p.binding.Base, cell(bm), cell(dm), safetyRatio(bm, dm))
		}
	}
	t.write(&s.b)
	for _, p := range pairs {
		c, err := catalog.ParseConfiguration(p.direct.Name)
		if err != nil {
			continue
		}
		line := fmt.Sprintf("- `%s`: %s.", c.ID(), c.Doc)
		if p.direct.Info.BindingOnly {
			line += " Measured on these figures only."
		}
		s.b.WriteString(line + "\n")
	}
	s.b.WriteString("\n")
}

// bindingShare says, for engine e (a default), how much of its empty call
// through the harness is its Go binding, from its direct configuration in
// the same run; "" without one.
func (s *summary) bindingShare(e *Engine) string {
	for _, p := range s.full.bindingPairs() {
		if p.binding.Name != e.Name {
			continue
		}
		kv := []string{results.KeyOp, results.OpNoop, results.KeyVia, results.ViaHarness}
		bm, dm := p.binding.metric("sec/op", familyCall, kv...), p.direct.metric("sec/op", familyCall, kv...)
		if bm == nil || dm == nil || bm.Median() <= 0 {
			return ""
		}
		b, d := bm.Median(), dm.Median()
		if !disjoint(bm, dm, false) {
			return fmt.Sprintf("Its Go binding: the empty call costs %s through it and %s through the C API (`%s`): no clear difference (%s).",
				formatValue(b, bm.Unit), formatValue(d, dm.Unit), p.direct.Name, TestName)
		}
		return fmt.Sprintf("Its Go binding is %.0f%% of its empty call's cost: %s through the binding, %s through the C API (`%s`, %s cheaper; see *What the binding costs*).",
			100*(b-d)/b, formatValue(b, bm.Unit), formatValue(d, dm.Unit), p.direct.Name, sig3(b/d)+"×")
	}
	return ""
}
