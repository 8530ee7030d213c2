package report

import (
	"fmt"
	"strings"

	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/results"
)

// priceOfSafetyChart is the chart of the price-of-safety section.
const priceOfSafetyChart = "price-of-safety.svg"

// safetyPair is an engine's safe default beside its configuration without
// a deadline, both from the same run.
type safetyPair struct {
	safe, unguarded *Engine
}

// safetyPairs returns, in report order, every engine whose default and
// no-deadline configurations are both in the run.
func (r *Run) safetyPairs() []safetyPair {
	var ps []safetyPair
	for _, p := range r.besideDefault(catalog.NoDeadline) {
		ps = append(ps, safetyPair{safe: p[0], unguarded: p[1]})
	}
	return ps
}

// besideDefault returns, in report order, each engine's default beside its
// configuration called config, for every engine that has both in the run.
func (r *Run) besideDefault(config string) [][2]*Engine {
	var ps [][2]*Engine
	for _, e := range r.Engines {
		if e.Configuration != catalog.DefaultConfig {
			continue
		}
		for _, o := range r.Engines {
			if o.Base == e.Base && o.Configuration == config {
				ps = append(ps, [2]*Engine{e, o})
			}
		}
	}
	return ps
}

// pairFigure is one row of a comparison of two configurations: the
// price-of-safety and the binding-cost sections.
type pairFigure struct {
	label  string
	family string   // familyCall or familySightglass
	kv     []string // the figure's keys
}

// pairFigures are the figures the price-of-safety section compares: the
// empty call, the host call, the loop and each of the plugin's routes the
// run measured, through the harness, then the execution of each Sightglass
// program.
func (r *Run) pairFigures() []pairFigure {
	fs := []pairFigure{
		{"empty call", familyCall, []string{results.KeyOp, results.OpNoop, results.KeyVia, results.ViaHarness}},
		{"host call", familyCall, []string{results.KeyOp, results.OpHostcall, results.KeyVia, results.ViaHarness}},
		{fmt.Sprintf("loop of %d iterations", results.LoopN), familyCall, []string{results.KeyOp, results.OpLoop, results.KeyVia, results.ViaHarness}},
	}
	for _, g := range r.values(familyCall, results.KeyGuest) {
		for _, op := range r.values(familyCall, results.KeyOp, results.KeyGuest, g) {
			fs = append(fs, pairFigure{g + " " + routeLabel(op), familyCall, []string{results.KeyGuest, g, results.KeyOp, op, results.KeyVia, results.ViaHarness}})
		}
	}
	for _, p := range r.values(familySightglass, results.KeyProgram) {
		fs = append(fs, pairFigure{"Sightglass " + p + " (execute)", familySightglass, []string{results.KeyProgram, p, results.KeyPhase, results.PhaseExecute}})
	}
	return fs
}

// routeLabel turns a route's op ("get-status") into "GET /status".
func routeLabel(op string) string {
	method, path, ok := strings.Cut(op, "-")
	if !ok {
		return op
	}
	return strings.ToUpper(method) + " /" + path
}

// safetyRatio formats safe ÷ unguarded, and says when the two figures'
// intervals overlap.
func safetyRatio(safe, unguarded *Metric) string {
	if safe == nil || unguarded == nil || unguarded.Median() <= 0 {
		return missing
	}
	s := sig3(safe.Median()/unguarded.Median()) + "×"
	if !disjoint(safe, unguarded, false) {
		s += " (intervals overlap)"
	}
	return s
}

// priceOfSafety writes the section that puts each engine's safe default
// beside its configuration without a deadline.
func (s *summary) priceOfSafety() {
	r := s.full
	pairs := r.safetyPairs()
	if len(pairs) == 0 {
		return
	}
	chart := ""
	if s.charts.priceOfSafety {
		chart = "Each engine's safe default beside its no-deadline configuration"
	}
	s.section("The price of safety", chart, priceOfSafetyChart)
	s.b.WriteString("Each engine's safe default, whose calls end when their context is done, beside the same engine without that machinery " +
		"(`<engine>:no-deadline`), measured in the same run with the configurations interleaved: calls through the harness, under a context that never ends, " +
		"and the execution of each Sightglass program (between `bench.start` and `bench.end`) under a deadline armed as serve arms one, which the no-deadline configuration runs without. " +
		"*safe ÷ unguarded* is the ratio of the medians: what the ability to stop a runaway guest costs on each figure.\n\n")
	s.b.WriteString("**Without a deadline a looping guest hangs the call**: nothing but ending the process stops it, " +
		"so one bad request takes an instance, and its thread, for good; where the Go runtime cannot preempt the guest's code (wazero's compiler), " +
		"the next garbage collection stalls the whole process (the conformance matrix shows `abi/deadline` unsupported for those configurations, " +
		"and each configuration's cost is listed below).\n\n")
	t := table{head: []string{"figure", "engine", "safe (default)", "no deadline", "safe ÷ unguarded"}}
	for _, f := range r.pairFigures() {
		for _, p := range pairs {
			safe := p.safe.metric("sec/op", f.family, f.kv...)
			ung := p.unguarded.metric("sec/op", f.family, f.kv...)
			if safe == nil && ung == nil {
				continue
			}
			cell := func(m *Metric) string {
				if m == nil {
					return missing
				}
				return formatSummary(m)
			}
			t.add(f.label, p.safe.Base, cell(safe), cell(ung), safetyRatio(safe, ung))
		}
	}
	t.write(&s.b)
	var notes []string
	for _, e := range r.Engines {
		if e.Configuration != catalog.DefaultConfig || paired(pairs, e) {
			continue
		}
		for _, c := range catalog.ConfigurationsOf(e.Base) {
			if c.Name == catalog.NoDeadline && c.Same != "" {
				notes = append(notes, fmt.Sprintf("- %s: no price to show: %s (`%s` is identical to its default).", e.Base, c.Same, c.ID()))
			}
		}
	}
	if len(notes) > 0 {
		s.b.WriteString(strings.Join(notes, "\n") + "\n\n")
	}
	s.b.WriteString("Configurations in this run:\n\n")
	for _, e := range r.Engines {
		c, err := catalog.ParseConfiguration(e.Name)
		if err != nil || e.Info.BindingOnly {
			continue // a binding-only configuration is listed in its own section
		}
		line := fmt.Sprintf("- `%s`: %s", c.ID(), c.Doc)
		if c.Safety != "" {
			line += ". Safety: " + c.Safety
		}
		if e.Info.SafetyOnly {
			line += ". Measured on these figures only"
		}

		s.b.WriteString(line + ".\n")
	}
	s.b.WriteString("\n")
}

func paired(ps []safetyPair, e *Engine) bool {
	for _, p := range ps {
		if p.safe == e {
			return true
		}
	}
	return false
}

// priceOfSafetySVG charts each engine's safe default beside its no-deadline
// configuration on the price-of-safety figures; nil without a pair.
func (r *Run) priceOfSafetySVG() []byte {
	pairs := r.safetyPairs()
	if len(pairs) == 0 {
		return nil
	}
	cs := r.colors()
	color := func(e *Engine) string {
		for i, x := range r.Engines {
			if x == e {
				return cs[i]
			}
		}
		return "#59636e"
	}
	var legend []legendEntry
	for _, p := range pairs {
		legend = append(legend, legendEntry{color: color(p.safe), label: p.safe.Base})
	}
	legend = append(legend,
		legendEntry{color: "#59636e", label: "solid: safe default"},
		legendEntry{color: "#59636e", pale: true, label: "pale: no deadline (a looping guest hangs the call)"})
	c := &hbarChart{
		title:  "The price of safety: each engine's safe default beside it without a deadline",
		axis:   "time per call (log scale) — shorter is better",
		format: formatDuration,
		legend: legend,
	}
	for _, f := range r.pairFigures() {
		g := barGroup{label: f.label}
		for _, p := range pairs {
			safe := p.safe.metric("sec/op", f.family, f.kv...)
			ung := p.unguarded.metric("sec/op", f.family, f.kv...)
			if safe == nil && ung == nil {
				continue
			}
			note := ""
			if ratio := safetyRatio(safe, ung); ratio != missing {
				note = " (" + strings.TrimSuffix(ratio, " (intervals overlap)") + ")"
			}
			col := color(p.safe)
			g.bars = append(g.bars,
				hbar{name: p.safe.Name, color: col, sub: p.safe.Base + " safe", m: safe, note: note},
				hbar{name: p.unguarded.Name, color: col, sub: p.safe.Base + " no deadline", pale: true, m: ung})
		}
		if len(g.bars) > 0 {
			c.groups = append(c.groups, g)
		}
	}
	if len(c.groups) == 0 {
		return nil
	}
	c.subtitle = samplesNote(c.groups) + "; whiskers: 95% confidence interval; (×): safe ÷ no deadline"
	return c.render()
}

// fullyMeasured returns r without the configurations that ran only the
// price-of-safety or the binding-cost figures (EngineInfo.SafetyOnly,
// EngineInfo.BindingOnly): the view of every section but those two, so that their tables and charts compare engines on
// everything they measured.
func (r *Run) fullyMeasured() *Run {
	out := *r
	out.Engines = nil
	for _, e := range r.Engines {
		if !e.Info.SafetyOnly && !e.Info.BindingOnly {
			out.Engines = append(out.Engines, e)
		}
	}
	if len(out.Engines) == 0 {
		return r
	}
	return &out
}
