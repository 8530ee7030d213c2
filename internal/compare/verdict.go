package compare

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchunit"
)

// TestName says which test decides, in the words the verdict uses.
const TestName = "Mann-Whitney U test, as benchstat runs it (x/perf benchmath, AssumeNothing)"

// listed are the outcomes the verdict lists figure by figure.
var listed = []Outcome{Worse, Better, Changed, Untested}

// WriteVerdict writes the short verdict: one line saying whether the gate
// passes, the test and thresholds, then per group the counts and the figures
// that are worse, better, changed or untested, largest change first; limit
// caps each such list (0: no cap).
func (r *Result) WriteVerdict(w io.Writer, limit int) {
	fmt.Fprintln(w, r.headline())
	fmt.Fprintf(w, "Test: %s; a figure counts when p <= %v and its median moved by %s or more.\n",
		TestName, r.Options.Alpha, percent(r.Options.Threshold))
	fmt.Fprintf(w, "Old: %s. New: %s.\n", describe(r.Old), describe(r.New))
	if note := r.chanceNote(); note != "" {
		fmt.Fprintln(w, note)
	}
	for _, g := range r.Groups {
		fmt.Fprintf(w, "\n%s: %s\n", g, r.counts(g))
		for _, o := range listed {
			figs := r.figures(&g, o)
			for i, f := range figs {
				if limit > 0 && i == limit {
					fmt.Fprintf(w, "  %-8s … and %d more (the tables below, or --list 0)\n", o, len(figs)-limit)
					break
				}
				fmt.Fprintf(w, "  %-8s %s\n", o, f.line())
			}
		}
	}
	r.writeOnly(w, "")
	if n := r.Count(nil, Untested); n > 0 {
		fmt.Fprintf(w, "\n%d figure(s) moved %s or more with too few samples to test (the U test needs %d or more per side at alpha %v): rerun with a higher --count.\n",
			n, percent(r.Options.Threshold), MinSamples(r.Options.Alpha), r.Options.Alpha)
	}
}

// WriteMarkdown writes the verdict as Markdown for a CI job summary, then
// tables (benchstat's output, when given) in a collapsed block.
func (r *Result) WriteMarkdown(w io.Writer, tables string) {
	fmt.Fprintf(w, "### %s\n\n", r.headline())
	fmt.Fprintf(w, "%s; a figure counts when p ≤ %v and its median moved by %s or more. Old: %s. New: %s.\n\n",
		TestName, r.Options.Alpha, percent(r.Options.Threshold), describe(r.Old), describe(r.New))
	if note := r.chanceNote(); note != "" {
		fmt.Fprintf(w, "%s\n\n", note)
	}
	fmt.Fprintln(w, "| engine · plugin | worse | better | changed | untested | same |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, g := range r.Groups {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d |\n", g, r.Count(&g, Worse), r.Count(&g, Better),
			r.Count(&g, Changed), r.Count(&g, Untested), r.Count(&g, Same))
	}
	fmt.Fprintln(w)
	var rows []string
	for _, o := range listed {
		for _, f := range r.figures(nil, o) {
			rows = append(rows, fmt.Sprintf("| %s | %s | `%s` | %s | %s → %s | %s | p=%.3f n=%d+%d |", o, f.Group,
				f.Name, f.Unit, format(f.OldSum.Center, f.Unit), format(f.NewSum.Center, f.Unit), signed(f.Delta), f.P,
				len(f.Old), len(f.New)))
		}
	}
	if len(rows) > 0 {
		fmt.Fprintln(w, "| | engine · plugin | figure | unit | old → new median | change | test |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		fmt.Fprintln(w, strings.Join(rows, "\n"))
		fmt.Fprintln(w)
	}
	r.writeOnly(w, "- ")
	if tables != "" {
		fmt.Fprintf(w, "\n<details><summary>benchstat</summary>\n\n```\n%s\n```\n\n</details>\n", strings.TrimRight(tables, "\n"))
	}
}

// figures returns the figures of group g (every group when nil) with outcome
// o, largest change first.
func (r *Result) figures(g *Group, o Outcome) []Figure {
	var fs []Figure
	for _, f := range r.Figures {
		if f.Outcome == o && (g == nil || f.Group == *g) {
			fs = append(fs, f)
		}
	}
	slices.SortStableFunc(fs, func(a, b Figure) int { return cmp.Compare(math.Abs(b.Delta), math.Abs(a.Delta)) })
	return fs
}

func (r *Result) writeOnly(w io.Writer, bullet string) {
	if len(r.OnlyOld)+len(r.OnlyNew) == 0 {
		return
	}
	if bullet == "" {
		fmt.Fprintln(w)
	}
	for _, g := range r.OnlyOld {
		fmt.Fprintf(w, "%s%s: only in old, not compared\n", bullet, g)
	}
	for _, g := range r.OnlyNew {
		fmt.Fprintf(w, "%s%s: only in new, not compared\n", bullet, g)
	}
}

// chanceNote says how many figures could pass the test by chance alone: each
// figure is its own test, and nothing corrects for their number.
func (r *Result) chanceNote() string {
	n := len(r.Figures)
	if expect := float64(n) * r.Options.Alpha; expect >= 0.5 {
		return fmt.Sprintf("Of %d figures tested at alpha %v, about %.0f would reach p <= %v by chance alone if nothing changed; "+
			"the threshold drops those that moved less than %s.", n, r.Options.Alpha, expect, r.Options.Alpha, percent(r.Options.Threshold))
	}
	return ""
}

// headline is the verdict's first line.
func (r *Result) headline() string {
	th := percent(r.Options.Threshold)
	if len(r.Figures) == 0 {
		return "Verdict: nothing compared: the runs share no figure"
	}
	if n := r.Count(nil, Worse); n > 0 {
		var who []string
		for _, g := range r.Groups {
			if c := r.Count(&g, Worse); c > 0 {
				who = append(who, fmt.Sprintf("%s %d", g, c))
			}
		}
		return fmt.Sprintf("Verdict: REGRESSION: %d figure(s) significantly worse by %s or more (%s)", n, th, strings.Join(who, ", "))
	}
	if n := r.untestedWorse(); n > 0 {
		return fmt.Sprintf("Verdict: INCONCLUSIVE: %d figure(s) moved the bad way by %s or more, too few samples to test them", n, th)
	}
	line := fmt.Sprintf("Verdict: no significant regression of %s or more in %d figures", th, len(r.Figures))
	if n := r.Count(nil, Better); n > 0 {
		line += fmt.Sprintf("; %d better", n)
	}
	if n := r.Count(nil, Untested); n > 0 {
		line += fmt.Sprintf("; %d untested (too few samples)", n)
	}
	return line
}

func (r *Result) counts(g Group) string {
	var parts []string
	for _, o := range []Outcome{Worse, Better, Changed, Untested, Same} {
		if n := r.Count(&g, o); n > 0 || o == Worse {
			parts = append(parts, fmt.Sprintf("%d %s", n, o))
		}
	}
	return strings.Join(parts, ", ")
}

// describe names a side: its folders and kspbench versions.
func describe(s *Side) string {
	d := strings.Join(s.Dirs, " + ")
	if len(s.Versions) > 0 {
		d += " (kspbench " + strings.Join(s.Versions, ", ") + ")"
	}
	return d
}

func (f Figure) line() string {
	return fmt.Sprintf("%-8s %s %s: %s → %s (p=%.3f n=%d+%d)", signed(f.Delta), f.Name, f.Unit,
		format(f.OldSum.Center, f.Unit), format(f.NewSum.Center, f.Unit), f.P, len(f.Old), len(f.New))
}

func signed(d float64) string {
	if math.IsInf(d, 0) {
		return "?"
	}
	return fmt.Sprintf("%+.1f%%", 100*d)
}

// format scales a value as benchstat does: 1.234µ, 56.7Ki.
func format(v float64, unit string) string {
	return benchunit.Scale(v, benchunit.ClassOf(unit))
}
