package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kspbench/kspbench/internal/results"
)

// figure is one number engines are compared on in "Picking an engine".
type figure struct {
	family string
	kv     []string // key, value, ...
	unit   string
	higher bool // higher is better
	exact  bool // compare medians, not intervals (sizes)
	// what names the figure; best and worst are its superlatives:
	// "fastest" + " " + what.
	what, best, worst string
}

// figures are the numbers "Picking an engine" compares, in its order.
func (r *Run) figures() []figure {
	guest := r.pluginGuest()
	fs := []figure{
		{family: familyColdStart, kv: []string{"guest", guest, "phase", "ttfr-cached"}, unit: "sec/op",
			what: "first response from the compilation cache, " + guest, best: "fastest", worst: "slowest"},
		{family: familyColdStart, kv: []string{"guest", guest, "phase", "ttfr-uncached"}, unit: "sec/op",
			what: "first response without a cache, " + guest, best: "fastest", worst: "slowest"},
		{family: familyColdStart, kv: []string{"guest", guest, "phase", "instantiate"}, unit: "sec/op",
			what: "instantiation, " + guest, best: "fastest", worst: "slowest"},
		{family: familyCall, kv: []string{results.KeyOp, results.OpNoop, results.KeyVia, results.ViaHarness}, unit: "sec/op",
			what: "empty call", best: "cheapest", worst: "costliest"},
		{family: familyCall, kv: []string{results.KeyOp, results.OpHostcall, results.KeyVia, results.ViaHarness}, unit: "sec/op",
			what: "host call", best: "cheapest", worst: "costliest"},
		{family: familyCopy, kv: []string{"dir", "host-to-guest", "size", "64KiB", "via", "harness"}, unit: "B/s", higher: true,
			what: "64 KiB copy into the guest", best: "fastest", worst: "slowest"},
		{family: familyCopy, kv: []string{"dir", "guest-to-host", "size", "64KiB", "via", "harness"}, unit: "B/s", higher: true,
			what: "64 KiB copy out of the guest", best: "fastest", worst: "slowest"},
	}
	// The plugin's own routes come first; the calls of the reference guest
	// then say whose they are.
	var routeFigs []figure
	for _, rt := range r.pluginRoutes() {
		routeFigs = append(routeFigs, figure{family: results.Route, kv: []string{results.KeyRoute, rt, results.KeyVia, results.ViaPool}, unit: "sec/op",
			what: "route " + rt + " of " + guest + " through the pool", best: "fastest", worst: "slowest"})
	}
	if len(routeFigs) > 0 {
		for i := range fs {
			if fs[i].family == familyCall {
				fs[i].what += " (reference guest)"
			}
		}
		fs = append(fs[:2:2], append(routeFigs, fs[2:]...)...)
	}
	if n := r.maxInstances(guest); n != "" {
		fs = append(fs, figure{family: familyFootprint, kv: []string{"guest", guest, "instances", n}, unit: "rss-B/instance",
			what: fmt.Sprintf("resident memory per instance at %s instances", n), best: "least", worst: "most"})
	}
	fs = append(fs,
		figure{family: familyFootprint, kv: []string{"what", "binary"}, unit: "B", exact: true,
			what: "binary, with the engine's library", best: "smallest", worst: "largest"},
		figure{family: familyThroughput, kv: []string{"guest", guest, "op", "status"}, unit: "calls/s", higher: true,
			what: "throughput, " + guest + " status", best: "highest", worst: "lowest"},
	)
	return fs
}

// verdicts are what the figures say about one engine.
type verdicts struct {
	wins, losses, ties []string
}

// compare fills in, per engine, where fig makes it clearly best, clearly
// worst, or not clearly different from another engine.
func (r *Run) compare(fig figure, v []verdicts) {
	ms := r.metrics(fig.unit, fig.family, fig.kv...)
	format := func(m *Metric) string { return formatValue(m.Median(), m.Unit) }
	others := func(i int) string {
		var o []string
		for j, m := range ms {
			if m != nil && j != i {
				o = append(o, r.Engines[j].Name+" "+format(m))
			}
		}
		return strings.Join(o, ", ")
	}
	if best := clearBest(ms, fig.higher, fig.exact); best >= 0 {
		v[best].wins = append(v[best].wins, fmt.Sprintf("%s %s (%s vs %s)", fig.best, fig.what, format(ms[best]), others(best)))
	}
	if worst := clearWorst(ms, fig.higher, fig.exact); worst >= 0 {
		v[worst].losses = append(v[worst].losses, fmt.Sprintf("%s %s (%s vs %s)", fig.worst, fig.what, format(ms[worst]), others(worst)))
	}
	for i, m := range ms {
		if m == nil {
			continue
		}
		var same []string
		for j, o := range ms {
			if o != nil && j != i && !disjoint(m, o, fig.exact) {
				same = append(same, r.Engines[j].Name+" "+format(o))
			}
		}
		if len(same) > 0 {
			v[i].ties = append(v[i].ties, fmt.Sprintf("%s (%s vs %s)", fig.what, format(m), strings.Join(same, ", ")))
		}
	}
}

// knownFacts are what the report may say of an engine without measuring it.
var knownFacts = map[string]string{
	"wazero": "Pure Go, no cgo: it cross-compiles with `GOOS`/`GOARCH` like any Go code and needs no C toolchain.",
	"wasmtime": "Uses cgo and links wasmtime's static library into the binary, which makes binaries large; " +
		"an active project with monthly releases.",
	"wasmer": "Uses cgo and loads `libwasmer.so` dynamically (from the Go module cache, or beside the binary where kspbench puts it), so a binary must travel with that library; " +
		"the binding's last release, v1.0.4, dates from 2021 and bundles Wasmer 2.0.",
}

func (s *summary) picking() {
	r := s.r
	s.section("Picking an engine", "", "")
	s.b.WriteString("Built only from this run's numbers and conformance matrix, plus a few facts marked *known*. " +
		"A figure counts as a win or a loss only when " + TestName + " says the engine differs from every other engine; " +
		"where it does not, the figure is reported as no clear difference. Sizes measured once count when they differ.\n\n")
	v := make([]verdicts, len(r.Engines))
	if len(r.Engines) > 1 {
		for _, fig := range r.figures() {
			r.compare(fig, v)
		}
	}
	for i, e := range r.Engines {
		head := "**" + e.Name + "**"
		if e.Version != "" {
			head += " " + e.Version
		}
		if e.Mode != "" {
			head += " (" + e.Mode + ")"
		}
		s.b.WriteString(head + "\n\n")
		if f := knownFacts[e.Name]; f != "" {
			s.b.WriteString("- *Known*: " + f)
			if m := e.metric("B", familyFootprint, "what", "binary"); m != nil {
				s.b.WriteString(" Binary with the engine's library in this run: " + formatBytes(m.Median()) + ".")
			}
			s.b.WriteString("\n")
		}
		if share := s.bindingShare(e); share != "" {
			s.b.WriteString("- " + share + "\n")
		}
		if len(r.Engines) < 2 {
			s.b.WriteString("- The only engine in this run: nothing to compare it with.\n")
		} else {
			s.b.WriteString("- Wins: " + listOr(v[i].wins, "clearly best on none of the figures compared here") + ".\n")
			s.b.WriteString("- Loses: " + listOr(v[i].losses, "clearly worst on none of the figures compared here") + ".\n")
			if len(v[i].ties) > 0 {
				s.b.WriteString("- No clear difference: " + strings.Join(v[i].ties, "; ") + ".\n")
			}
		}
		s.b.WriteString("- " + s.conformanceLine(e) + "\n\n")
	}
}

// conformanceLine sums up engine e's column of the conformance matrix.
func (s *summary) conformanceLine(e *Engine) string {
	m := s.r.Matrix
	if m == nil {
		line := "Conformance: not checked in this run (no " + ConformanceFile + ")"
		if e.Name == "wasmer" {
			line += ", so whether it can interrupt a running call is not shown here either"
		}
		return line + "."
	}
	idx := slices.IndexFunc(m.Runs, func(run results.EngineRun) bool { return run.Engine == e.Name })
	if idx < 0 {
		return "Conformance: the matrix has no column for this engine."
	}
	run := m.Runs[idx]
	var pass int
	var failed, unsupported []string
	for _, res := range run.Results {
		switch res.Outcome {
		case results.Pass:
			pass++
		case results.Fail:
			failed = append(failed, "`"+res.Case+"`")
		case results.Unsupported:
			unsupported = append(unsupported, "`"+res.Case+"`")
		}
	}
	var line string
	switch {
	case len(run.Results) == 0:
		line = "Conformance: no case ran"
	case pass == len(run.Results):
		line = fmt.Sprintf("Conformance: all %d cases run pass", pass)
	default:
		line = fmt.Sprintf("Conformance: of %d cases run, %d pass", len(run.Results), pass)
	}
	if len(failed) > 0 {
		line += fmt.Sprintf("; %d fail (%s)", len(failed), strings.Join(failed, ", "))
	}
	if len(unsupported) > 0 {
		line += fmt.Sprintf("; %d unsupported (%s)", len(unsupported), strings.Join(unsupported, ", "))
	}
	line += "."
	var cannot []string
	for _, res := range run.Results {
		if res.Outcome == results.Unsupported && slices.Contains(results.InterruptCases, res.Case) {
			cannot = append(cannot, "`"+res.Case+"`")
		}
	}
	if len(cannot) > 0 {
		line += " It cannot interrupt a running call (" + strings.Join(cannot, ", ") +
			"): a host on it must run plugins in a process it can kill."
	}
	return line
}

func listOr(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, "; ")
}
