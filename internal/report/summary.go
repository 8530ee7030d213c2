package report

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kspbench/kspbench/internal/catalog"
)

// missing is the cell of a figure an engine did not report.
const missing = "–"

// table is a Markdown table.
type table struct {
	head []string
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// dropEmptyColumns removes every column, but the first, whose cells are all
// missing.
func (t *table) dropEmptyColumns() {
	keep := func(c int) bool {
		if c == 0 {
			return true
		}
		for _, r := range t.rows {
			if c < len(r) && r[c] != missing {
				return true
			}
		}
		return false
	}
	var cols []int
	for c := range t.head {
		if keep(c) {
			cols = append(cols, c)
		}
	}
	pick := func(cells []string) []string {
		out := make([]string, 0, len(cols))
		for _, c := range cols {
			if c < len(cells) {
				out = append(out, cells[c])
			}
		}
		return out
	}
	t.head = pick(t.head)
	for i, r := range t.rows {
		t.rows[i] = pick(r)
	}
}

func (t *table) write(b *strings.Builder) {
	if len(t.rows) == 0 {
		return
	}
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	row(t.head)
	b.WriteString("|")
	for range t.head {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		row(r)
	}
	b.WriteString("\n")
}

// engineHead is a table head: the given columns, then one per engine.
func (r *Run) engineHead(cols ...string) []string {
	for _, e := range r.Engines {
		cols = append(cols, e.Name)
	}
	return cols
}

// summaryCells formats one figure for every engine, the clear best in bold.
func summaryCells(ms []*Metric, higher, exact bool, format func(*Metric) string) []string {
	best := clearBest(ms, higher, exact)
	cells := make([]string, len(ms))
	for i, m := range ms {
		switch {
		case m == nil:
			cells[i] = missing
		case i == best:
			s := format(m)
			if j := strings.Index(s, " ±"); j >= 0 {
				cells[i] = "**" + s[:j] + "**" + s[j:]
			} else if j := strings.Index(s, " ("); j >= 0 {
				cells[i] = "**" + s[:j] + "**" + s[j:]
			} else {
				cells[i] = "**" + s + "**"
			}
		default:
			cells[i] = format(m)
		}
	}
	return cells
}

func anyPresent(ms []*Metric) bool {
	return slices.ContainsFunc(ms, func(m *Metric) bool { return m != nil })
}

// charts says which chart files Generate wrote, for the summary to link.
type charts struct{ coldStart, callOverhead, copyBandwidth, priceOfSafety bool }

// summary renders summary.md. shown collects the benchmarks (name and unit)
// a specific section rendered, so the rest is listed generically.
type summary struct {
	r      *Run // the configurations measured on everything (fullyMeasured)
	full   *Run // every configuration, for the price of safety and benchstat
	b      strings.Builder
	shown  map[string]bool
	charts charts
}

func (s *summary) show(m *Metric, b *Benchmark) {
	if m != nil && b != nil {
		s.shown[b.Name+"\x00"+m.Unit] = true
	}
}

// showAll marks unit of family/kv shown on every engine.
func (s *summary) showAll(unit, family string, kv ...string) {
	for _, e := range s.r.Engines {
		if b := e.find(family, kv...); b != nil {
			if m, ok := b.Metric(unit); ok {
				s.show(m, b)
			}
		}
	}
}

func writeSummary(r *Run, c charts, displayDir string) string {
	s := &summary{r: r.fullyMeasured(), full: r, shown: map[string]bool{}, charts: c}
	s.header()
	s.coldStart()
	s.callOverhead()
	s.priceOfSafety()
	s.bindingCost()
	s.memoryCopy()
	s.footprint()
	s.throughput()
	s.requestTime()
	s.guestLanguage()
	s.sightglass()
	s.others()
	s.answers()
	s.conformance()
	s.picking()
	s.reproduce(displayDir)
	return strings.TrimRight(s.b.String(), "\n") + "\n"
}

func (s *summary) header() {
	r, b := s.r, &s.b
	title := "kspbench run"
	if r.Info != nil && r.Info.Name != "" {
		title += " " + r.Info.Name
	}
	fmt.Fprintf(b, "# %s\n\n", title)
	b.WriteString(s.machine() + "\n\n")
	if r.Info != nil && r.Info.Interrupted {
		b.WriteString("> **Interrupted run**: stopped before its last sample; the figures below hold the samples taken until then, " +
			"so some have fewer samples than others, or none.\n\n")
	}
	if r.Info != nil && len(r.Info.Failed) > 0 {
		b.WriteString("> **Figures left out**: these failed while timed on the configuration named, after a first answer that was right, and are missing from its results; " +
			"the run went on without them. The usual cause is a guest that fails after many calls (an allocator that runs out, a store that fills up).\n")
		for _, f := range r.Info.Failed {
			line := fmt.Sprintf("> - `%s` on %s: %s", f.Figure, f.Engine, oneLine(f.Error))
			if f.Samples > 1 {
				line += fmt.Sprintf(" (in %d samples)", f.Samples)
			}
			b.WriteString(line + "\n")
		}
		b.WriteString("\n")
	}
	if r.Info != nil && r.Info.Quick {
		b.WriteString("> **Quick run**: read its numbers as a smoke test, not as a comparison to rely on.\n\n")
	}
	t := table{head: []string{"engine", "version", "mode", "notes"}}
	for _, e := range r.Engines {
		t.add(e.Name, cmp.Or(e.Version, missing), cmp.Or(e.Mode, missing), oneLine(e.Notes))
	}
	t.write(b)
	fmt.Fprintf(b, "Each cell is the median of the samples ± the %.0f%% confidence interval of the median, as `benchstat` computes it. "+
		"**Bold** marks the best figure of a row when %s says it differs from every other engine's.\n\n", 100*Confidence, TestName)
	if n := r.fewestSamples(); n > 0 && n < MinIntervalSamples() {
		fmt.Fprintf(b, "> **Too few samples for intervals**: some figures have %d samples; a %.0f%% interval of the median needs %d or more "+
			"and the test needs %d or more per engine. Those cells show the median and the samples' range (min–max) instead of an interval, "+
			"and differences are not tested. Run with `--count %d` or more to compare.\n\n",
			n, 100*Confidence, MinIntervalSamples(), minTestSamples(), MinIntervalSamples())
	}
}

// machine describes where and when the run ran, from run.json or else from
// the results' configuration.
func (s *summary) machine() string {
	r := s.r
	var cfg map[string]string
	if len(r.Engines) > 0 {
		cfg = r.Engines[0].Config
	}
	var m Machine
	if r.Info != nil {
		m = r.Info.Machine
	}
	m.CPU = cmp.Or(m.CPU, cfg["cpu"])
	m.GOOS = cmp.Or(m.GOOS, cfg["goos"])
	m.GOARCH = cmp.Or(m.GOARCH, cfg["goarch"])
	var parts []string
	if m.CPU != "" {
		parts = append(parts, m.CPU)
	}
	if m.Cores > 0 {
		parts = append(parts, fmt.Sprintf("%d cores", m.Cores))
	}
	if m.GOOS != "" || m.GOARCH != "" {
		parts = append(parts, m.GOOS+"/"+m.GOARCH)
	}
	if m.Go != "" {
		parts = append(parts, m.Go)
	}
	if v := cfg["kspbench-version"]; v != "" {
		parts = append(parts, "kspbench "+v)
	}
	line := "Machine: " + cmp.Or(strings.Join(parts, ", "), "not recorded") + "."
	if r.Info != nil {
		if !r.Info.Started.IsZero() {
			line += " Started " + r.Info.Started.UTC().Format("2006-01-02 15:04 MST")
			if r.Info.Finished.After(r.Info.Started) {
				line += ", took " + r.Info.Finished.Sub(r.Info.Started).Round(time.Second).String()
			}
			line += "."
		}
		if r.Info.Count > 0 {
			line += fmt.Sprintf(" %d samples per figure", r.Info.Count)
			if r.Info.Interrupted {
				line += fmt.Sprintf(" planned, %d at most taken", r.mostSamples())
			}
			if r.Info.Seed != 0 {
				line += fmt.Sprintf(", seed %d", r.Info.Seed)
			}
			line += "."
		}
	}
	return line
}

func (s *summary) section(title, chart, file string) {
	fmt.Fprintf(&s.b, "## %s\n\n", title)
	if chart != "" {
		fmt.Fprintf(&s.b, "![%s](%s)\n\n", chart, file)
	}
}

func (s *summary) coldStart() {
	r := s.r
	guests := r.values(familyColdStart, "guest")
	if len(guests) == 0 {
		return
	}
	chart := ""
	if s.charts.coldStart {
		chart = "Cold start by phase and engine"
	}
	s.section("Cold start", chart, coldStartChart)
	s.b.WriteString("Each sample times one start. `ttfr` is the time to first response; `-cached` phases compile from the engine's compilation cache, warmed beforehand.\n\n")
	for _, g := range guests {
		fmt.Fprintf(&s.b, "### Guest %s\n\n", g)
		t := table{head: r.engineHead("phase")}
		for _, p := range r.values(familyColdStart, "phase", "guest", g) {
			ms := r.metrics("sec/op", familyColdStart, "guest", g, "phase", p)
			s.showAll("sec/op", familyColdStart, "guest", g, "phase", p)
			t.add(append([]string{p}, summaryCells(ms, false, false, formatSummary)...)...)
		}
		cold := r.metrics("sec/op", familyColdStart, "guest", g, "phase", "compile")
		warm := r.metrics("sec/op", familyColdStart, "guest", g, "phase", "compile-cached")
		row := []string{"warm-cache speedup (compile ÷ compile-cached)"}
		some := false
		for i := range r.Engines {
			if cold[i] == nil || warm[i] == nil || warm[i].Median() == 0 {
				row = append(row, missing)
				continue
			}
			some = true
			row = append(row, sig3(cold[i].Median()/warm[i].Median())+"×")
		}
		if some {
			t.add(row...)
		}
		t.write(&s.b)
	}
}

func (s *summary) callOverhead() {
	r := s.r
	ops := r.values(familyCall, "op")
	if len(ops) == 0 {
		return
	}
	chart := ""
	if s.charts.callOverhead {
		chart = "Per-call cost through the harness and through the engine API"
	}
	s.section("Per-call overhead", chart, callOverheadChart)
	s.b.WriteString("*harness*: through kspbench's engine interface; *engine API*: the binding called directly. " +
		"For `hostcall`, the time of one host call. The target: the harness adds at most 5% or 20 ns, whichever is larger (medians). " +
		"The engine API figure runs the engine in the same configuration as the harness figure beside it: " + s.baselineConfigs() + ".\n\n")
	t := table{head: []string{"op", "engine", "harness", "engine API", "overhead", "within target"}}
	for _, op := range ops {
		for _, e := range r.Engines {
			hb := e.find(familyCall, "op", op, "via", "harness")
			eb := e.find(familyCall, "op", op, "via", "engine")
			h := e.metric("sec/op", familyCall, "op", op, "via", "harness")
			a := e.metric("sec/op", familyCall, "op", op, "via", "engine")
			if h == nil && a == nil {
				continue
			}
			s.show(h, hb)
			s.show(a, eb)
			cells := []string{op, e.Name, missing, missing, missing, missing}
			if h != nil {
				cells[2] = formatSummary(h)
			}
			if a != nil {
				cells[3] = formatSummary(a)
			}
			if h != nil && a != nil {
				d := h.Median() - a.Median()
				cells[4] = formatSigned(formatDuration(d), d)
				if a.Median() > 0 {
					cells[4] += " (" + formatSigned(sig3(100*d/a.Median())+"%", d) + ")"
				}
				cells[5] = "no"
				if withinTarget(h.Median(), a.Median()) {
					cells[5] = "yes"
				}
			}
			t.add(cells...)
		}
	}
	t.write(&s.b)
	s.rest(familyCall)
}

// baselineConfigs says in which configuration each engine's engine-API
// baseline ran: the configuration of its column.
func (s *summary) baselineConfigs() string {
	var parts []string
	for _, e := range s.r.Engines {
		c, err := catalog.ParseConfiguration(e.Name)
		if err != nil {
			continue
		}
		what := "`" + c.ID() + "`"
		if c.IsDefault() {
			what += " (its safe default)"
		}
		parts = append(parts, what)
	}
	if len(parts) == 0 {
		return "each engine's own"
	}
	return strings.Join(parts, ", ")
}

// withinTarget reports whether the harness adds at most 5% or 20 ns to the
// engine API's time, whichever is larger.
func withinTarget(harness, engine float64) bool {
	// The tolerance absorbs rounding: 420 ns - 400 ns is a hair over 20 ns.
	return harness-engine <= max(0.05*engine, 20e-9)*(1+1e-9)
}

func (s *summary) memoryCopy() {
	r := s.r
	dirs := r.values(familyCopy, "dir")
	if len(dirs) == 0 {
		return
	}
	chart := ""
	if s.charts.copyBandwidth {
		chart = "Copy bandwidth through the harness, with plain Go copy marked"
	}
	s.section("Memory copy", chart, copyBandwidthChart)
	s.b.WriteString("Bandwidth of a copy between host and guest memory through the harness; in brackets, its share of a plain Go `copy` " +
		"of the same size measured in the same process. *go copy* pools that reference over every engine's process.\n\n")
	t := table{head: append(r.engineHead("direction", "size"), "go copy")}
	for _, d := range dirs {
		for _, size := range r.values(familyCopy, "size", "dir", d) {
			h := r.metrics("B/s", familyCopy, "dir", d, "size", size, "via", "harness")
			g := r.metrics("B/s", familyCopy, "dir", d, "size", size, "via", "go-copy")
			if !anyPresent(h) && !anyPresent(g) {
				continue
			}
			// Time per copy says the same as bandwidth.
			for _, via := range r.values(familyCopy, "via", "dir", d, "size", size) {
				if via != "engine" {
					s.showAll("B/s", familyCopy, "dir", d, "size", size, "via", via)
				}
				s.showAll("sec/op", familyCopy, "dir", d, "size", size, "via", via)
			}
			cells := summaryCells(h, true, false, func(m *Metric) string { return formatSummary(m) })
			for i, m := range h {
				if m != nil && g[i] != nil && g[i].Median() > 0 {
					cells[i] += " (" + formatPercent(m.Median()/g[i].Median()) + ")"
				}
			}
			row := append([]string{d, size}, cells...)
			gc := missing
			if p := pooled(g); p != nil {
				gc = formatSummary(p)
			}
			t.add(append(row, gc)...)
		}
	}
	t.write(&s.b)
	s.rest(familyCopy)
}

func (s *summary) footprint() {
	r := s.r
	if !slices.ContainsFunc(r.Engines, func(e *Engine) bool {
		return slices.ContainsFunc(e.Benchmarks, func(b *Benchmark) bool { return b.Family == familyFootprint })
	}) && !s.hasSizes() {
		return
	}
	s.section("Footprint", "", "")
	t := table{head: r.engineHead("figure")}
	sizeRow := func(label, unit string, kv ...string) {
		ms := r.metrics(unit, familyFootprint, kv...)
		if !anyPresent(ms) {
			return
		}
		s.showAll(unit, familyFootprint, kv...)
		t.add(append([]string{label}, summaryCells(ms, false, unit == "B", func(m *Metric) string {
			if unit == "B" {
				return formatBytes(m.Median())
			}
			return formatBytes(m.Median()) + spread(m, formatBytes)
		})...)...)
	}
	for _, g := range r.values(familyFootprint, "guest") {
		for _, n := range r.values(familyFootprint, "instances", "guest", g) {
			sizeRow(fmt.Sprintf("resident memory (RSS) per instance, %s × %s", n, g), "rss-B/instance", "guest", g, "instances", n)
		}
		for _, n := range r.values(familyFootprint, "instances", "guest", g) {
			sizeRow(fmt.Sprintf("linear memory per instance, %s × %s", n, g), "linear-B/instance", "guest", g, "instances", n)
		}
		sizeRow("module, "+g, "B", "guest", g, "what", "module")
		sizeRow("compiled module, "+g, "B", "guest", g, "what", "compiled")
	}
	sizeRow("binary, with the engine's shared library", "B", "what", "binary")
	if s.hasSizes() {
		bin := []string{"binary file (run.json)"}
		lib := []string{"engine shared library (run.json)"}
		for _, e := range r.Engines {
			bin = append(bin, sizeOrMissing(e.Info.BinaryBytes))
			if e.Info.LibraryBytes > 0 {
				lib = append(lib, sizeOrMissing(e.Info.LibraryBytes))
			} else if e.Info.BinaryBytes > 0 {
				lib = append(lib, "linked in")
			} else {
				lib = append(lib, missing)
			}
		}
		t.add(bin...)
		t.add(lib...)
	}
	t.write(&s.b)
	s.rest(familyFootprint)
}

func (s *summary) hasSizes() bool {
	return slices.ContainsFunc(s.r.Engines, func(e *Engine) bool { return e.Info.BinaryBytes > 0 })
}

func sizeOrMissing(n int64) string {
	if n <= 0 {
		return missing
	}
	return formatBytes(float64(n))
}

func (s *summary) throughput() {
	r := s.r
	guests := r.values(familyThroughput, "guest")
	if len(guests) == 0 {
		return
	}
	s.section("Throughput", "", "")
	t := table{head: r.engineHead("guest", "op")}
	for _, g := range guests {
		for _, op := range r.values(familyThroughput, "op", "guest", g) {
			ms := r.metrics("calls/s", familyThroughput, "guest", g, "op", op)
			if !anyPresent(ms) {
				continue
			}
			s.showAll("calls/s", familyThroughput, "guest", g, "op", op)
			t.add(append([]string{g, op}, summaryCells(ms, true, false, formatSummary)...)...)
		}
	}
	t.write(&s.b)
	s.rest(familyThroughput)
}

// rest lists what the sections did not show of family, if anything.
func (s *summary) rest(family string) {
	if t := s.generic(family); len(t.rows) > 0 {
		s.b.WriteString("Also measured:\n\n")
		t.write(&s.b)
	}
}

// generic is a table of every figure of family not shown yet: one row per
// benchmark and unit, medians per engine.
func (s *summary) generic(family string) table {
	r := s.r
	t := table{head: r.engineHead("benchmark", "unit")}
	type row struct{ name, unit string }
	var rows []row
	for _, e := range r.Engines {
		for _, b := range e.Benchmarks {
			for _, m := range b.Metrics {
				k := row{b.Name, m.Unit}
				if b.Family == family && !s.shown[b.Name+"\x00"+m.Unit] && !slices.Contains(rows, k) {
					rows = append(rows, k)
				}
			}
		}
	}
	for _, k := range rows {
		ms := make([]*Metric, len(r.Engines))
		for i, e := range r.Engines {
			if b := e.byName[k.name]; b != nil {
				ms[i], _ = b.Metric(k.unit)
			}
		}
		name := strings.TrimPrefix(strings.TrimPrefix(k.name, family), "/")
		// No bold: whether more is better is not known for every unit.
		row := []string{cmp.Or(name, family), k.unit}
		for _, m := range ms {
			if m == nil {
				row = append(row, missing)
			} else {
				row = append(row, formatSummary(m))
			}
		}
		t.add(row...)
	}
	return t
}

func (s *summary) others() {
	r := s.r
	var families []string
	for _, e := range r.Engines {
		for _, b := range e.Benchmarks {
			switch b.Family {
			case familyColdStart, familyCall, familyCopy, familyFootprint, familyThroughput, familySightglass:
				continue
			}
			if !slices.Contains(families, b.Family) {
				families = append(families, b.Family)
			}
		}
	}
	slices.Sort(families)
	for _, f := range families {
		s.section(f, "", "")
		t := s.generic(f)
		t.write(&s.b)
	}
}

// answers includes the runner's answers.md: the plugin's answers per
// configuration, their differences and failures.
func (s *summary) answers() {
	if s.full.Answers == "" {
		return
	}
	s.section("The plugin's answers", "", "")
	// Its headings nest under this section's.
	s.b.WriteString(strings.ReplaceAll(strings.TrimRight(s.full.Answers, "\n"), "\n### ", "\n#### ") + "\n\n")
}

func (s *summary) conformance() {
	s.section("Conformance", "", "")
	if s.r.Matrix == nil {
		s.b.WriteString("No " + ConformanceFile + " in this run.\n\n")
		return
	}
	var md strings.Builder
	if err := s.r.Matrix.WriteMarkdown(&md); err != nil {
		// A strings.Builder does not fail.
		panic(err)
	}
	s.b.WriteString(md.String() + "\n")
}

func (s *summary) reproduce(displayDir string) {
	s.section("Reproduce", "", "")
	if s.r.Info != nil && strings.TrimSpace(s.r.Info.Command) != "" {
		s.b.WriteString("The run:\n\n```sh\n" + strings.TrimSpace(s.r.Info.Command) + "\n```\n\n")
	} else {
		s.b.WriteString("This run has no " + RunInfoFile + ", so the command that made it is not recorded.\n\n")
	}
	s.b.WriteString("Its comparison, as `benchstat` prints it:\n\n```sh\n" + s.benchstatCommand(displayDir) + "\n```\n")
}

// benchstatCommand is the benchstat command line that compares the engines
// of the run: `-col engine` over the result files in the report's order, and
// `-ignore` for the other file configuration keys whose values differ
// between engines (engine-version, ...), which would otherwise split
// benchstat's output into one table per engine.
func (s *summary) benchstatCommand(displayDir string) string {
	engs := s.full.Engines
	col := "engine"
	if slices.ContainsFunc(engs, func(e *Engine) bool { return e.Configuration != "" && e.Configuration != catalog.DefaultConfig }) {
		col = "engine,engine-config"
	}
	var keys []string
	for _, e := range engs {
		for k := range e.Config {
			if !slices.Contains(strings.Split(col, ","), k) && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	var differ []string
	for _, k := range keys {
		for _, e := range engs[1:] {
			if e.Config[k] != engs[0].Config[k] {
				differ = append(differ, k)
				break
			}
		}
	}
	cmd := "benchstat -col " + col
	if len(differ) > 0 {
		cmd += " -ignore " + strings.Join(differ, ",")
	}
	var files []string
	for _, e := range engs {
		for _, f := range e.Files {
			f = shellQuote(filepath.ToSlash(filepath.Join(displayDir, filepath.Base(f))))
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	return cmd + " " + strings.Join(files, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+@=,", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
