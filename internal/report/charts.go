package report

import (
	"fmt"
	"strings"
)

// Chart file names in a run folder.
const (
	coldStartChart     = "coldstart.svg"
	callOverheadChart  = "call-overhead.svg"
	copyBandwidthChart = "copy-bandwidth.svg"
)

// engineLegend is one legend entry per engine.
func (r *Run) engineLegend() []legendEntry {
	cs := r.colors()
	l := make([]legendEntry, len(r.Engines))
	for i, e := range r.Engines {
		l[i] = legendEntry{color: cs[i], label: e.Name}
	}
	return l
}

// samplesNote says how many samples a chart's medians come from, when all
// figures have the same count.
func samplesNote(groups []barGroup) string {
	n := -1
	for _, g := range groups {
		for _, b := range g.bars {
			if b.m == nil {
				continue
			}
			switch {
			case n < 0:
				n = len(b.m.Values)
			case n != len(b.m.Values):
				return "median"
			}
		}
	}
	if n < 0 {
		return "median"
	}
	return fmt.Sprintf("median of %d samples", n)
}

// coldStartSVG charts the cold start phases of the cluster-monitor guest (or
// of the first guest, without it); nil when the run has no cold start.
func (r *Run) coldStartSVG() []byte {
	guests := r.values(familyColdStart, "guest")
	if len(guests) == 0 {
		return nil
	}
	guest := guests[0]
	cs := r.colors()
	c := &hbarChart{
		title:  "Cold start of the " + guest + " plugin, by phase",
		axis:   "time — shorter is better",
		format: formatDuration,
		legend: r.engineLegend(),
	}
	for _, p := range r.values(familyColdStart, "phase", "guest", guest) {
		g := barGroup{label: p}
		for i, m := range r.metrics("sec/op", familyColdStart, "guest", guest, "phase", p) {
			g.bars = append(g.bars, hbar{name: r.Engines[i].Name, color: cs[i], m: m})
		}
		c.groups = append(c.groups, g)
	}
	c.subtitle = samplesNote(c.groups) + "; whiskers: 95% confidence interval; ttfr = time to first response"
	return c.render()
}

// callOverheadSVG charts each call through the harness beside the same call
// through the engine's API; nil when the run has no calls.
func (r *Run) callOverheadSVG() []byte {
	ops := r.values(familyCall, "op")
	if len(ops) == 0 {
		return nil
	}
	cs := r.colors()
	c := &hbarChart{
		title:  "Per-call cost: through the harness and through the engine API",
		axis:   "time per call — shorter is better",
		format: formatDuration,
		legend: append(r.engineLegend(),
			legendEntry{color: "#59636e", label: "solid: harness"},
			legendEntry{color: "#59636e", pale: true, label: "pale: engine API"}),
	}
	for _, op := range ops {
		g := barGroup{label: op}
		for i, e := range r.Engines {
			h := e.metric("sec/op", familyCall, "op", op, "via", "harness")
			a := e.metric("sec/op", familyCall, "op", op, "via", "engine")
			if h == nil && a == nil {
				continue
			}
			note := ""
			if h != nil && a != nil {
				d := h.Median() - a.Median()
				note = " (" + formatSigned(formatDuration(d), d) + ")"
			}
			g.bars = append(g.bars,
				hbar{name: e.Name, color: cs[i], sub: e.Name + " harness", m: h, note: note},
				hbar{name: e.Name, color: cs[i], sub: e.Name + " API", pale: true, m: a})
		}
		c.groups = append(c.groups, g)
	}
	c.subtitle = samplesNote(c.groups) + "; whiskers: 95% confidence interval; (+x): the harness's overhead; hostcall: one call from guest to host"
	return c.render()
}

// copyBandwidthSVG charts the bandwidth of copies through the harness, with
// a plain Go copy of the same size marked; nil when the run has no copies.
func (r *Run) copyBandwidthSVG() []byte {
	dirs := r.values(familyCopy, "dir")
	if len(dirs) == 0 {
		return nil
	}
	cs := r.colors()
	c := &hbarChart{
		title:        "Copy bandwidth between host and guest memory, through the harness",
		axis:         "bytes per second — longer is better",
		format:       func(v float64) string { return formatRate(v, "B/s") },
		markerLabel:  "plain Go copy",
		valuesColumn: true,
		legend:       append(r.engineLegend(), legendEntry{dashed: true, label: "plain Go copy, same size"}),
	}
	for _, d := range dirs {
		for _, size := range r.values(familyCopy, "size", "dir", d) {
			h := r.metrics("B/s", familyCopy, "dir", d, "size", size, "via", "harness")
			if !anyPresent(h) {
				continue
			}
			g := barGroup{label: directionLabel(d) + ", " + sizeLabel(size)}
			// The share in a bar's label is of the marker drawn across the
			// group (the Go copies of every process pooled), never of the
			// bar's own process's Go copy: a label and the line beside it
			// come from the same figure.
			goCopy := r.metrics("B/s", familyCopy, "dir", d, "size", size, "via", "go-copy")
			if p := pooled(goCopy); p != nil {
				g.marker = p.Median()
			}
			for i, m := range h {
				note := ""
				if m != nil && g.marker > 0 {
					note = " (" + formatPercent(m.Median()/g.marker) + ")"
				}
				g.bars = append(g.bars, hbar{name: r.Engines[i].Name, color: cs[i], m: m, note: note})
			}
			c.groups = append(c.groups, g)
		}
	}
	if len(c.groups) == 0 {
		return nil
	}
	c.subtitle = samplesNote(c.groups) + "; whiskers: 95% confidence interval; dashed line and (%): plain Go copy of the same size, and the share of it reached"
	return c.render()
}

// directionLabel turns "host-to-guest" into "host → guest".
func directionLabel(d string) string {
	if a, b, ok := strings.Cut(d, "-to-"); ok {
		return a + " → " + b
	}
	return d
}

// sizeLabel turns "64KiB" into "64 KiB".
func sizeLabel(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return s
	}
	return s[:i] + " " + s[i:]
}
