package report

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// engineColors are the engines' colors in every chart (Okabe-Ito, readable
// by color-blind readers); other engines take otherColors in turn.
var (
	engineColors = map[string]string{"wazero": "#0072B2", "wasmtime": "#E69F00", "wasmer": "#009E73"}
	otherColors  = []string{"#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"}
)

// colors returns the color of every engine of r.
func (r *Run) colors() []string {
	cs := make([]string, len(r.Engines))
	next := 0
	for i, e := range r.Engines {
		if c, ok := engineColors[e.Name]; ok {
			cs[i] = c
			continue
		}
		cs[i] = otherColors[next%len(otherColors)]
		next++
	}
	return cs
}

// hbarChart is a chart of horizontal bars in groups on a log scale.
type hbarChart struct {
	title, subtitle string
	axis            string               // the x axis's label
	format          func(float64) string // a value's label, and a tick's
	markerLabel     string               // what a group's marker is
	// valuesColumn puts the values' labels in a column right of the plot
	// instead of at the bars' ends, where a marker would cross them.
	valuesColumn bool
	groups       []barGroup
	legend       []legendEntry
}

type barGroup struct {
	label  string
	bars   []hbar
	marker float64 // when > 0, a dashed line at this value across the group
}

type hbar struct {
	name  string // the engine, for the tooltip
	color string
	pale  bool
	sub   string // a small label left of the bar
	// m is the figure: the bar ends at its median, a whisker spans its
	// confidence interval. nil: not measured.
	m *Metric
	// note follows the value's label.
	note string
}

type legendEntry struct {
	color  string
	pale   bool
	dashed bool
	label  string
}

// Layout, in pixels.
const (
	chartWidth = 880
	margin     = 16
	barHeight  = 16
	barGap     = 4
	groupGap   = 14
	bandColor  = "#f3f5f7"
	fontFamily = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif"
)

// textWidth estimates the width of s in a sans-serif font of size px.
func textWidth(s string, px float64) float64 {
	return float64(utf8.RuneCountInString(s)) * px * 0.58
}

// svgWriter writes SVG elements with escaped text.
type svgWriter struct{ b strings.Builder }

func (w *svgWriter) printf(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

// text writes a text element; attrs are raw attributes.
func (w *svgWriter) text(x, y float64, attrs, s string) {
	w.printf(`<text x="%.1f" y="%.1f" %s>%s</text>`+"\n", x, y, attrs, escapeXML(s))
}

// escapeXML escapes s for XML text and attribute values.
func escapeXML(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			// XML 1.0 forbids most control characters.
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == utf8.RuneError {
				b.WriteRune('\uFFFD')
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wideRange is the ratio of the largest figure to the smallest above which a
// chart is a dot plot on a log scale instead of bars on a linear one: a bar's
// length is read as its value, which a log axis breaks (1.11 s and 1.75 s
// look equal), so bars are drawn only on a linear axis from zero.
const wideRange = 20

// visibleGroups drops the groups whose every figure is missing, zero or not
// a number: rows that carry no information.
func visibleGroups(groups []barGroup) []barGroup {
	var out []barGroup
	for _, g := range groups {
		for _, b := range g.bars {
			if b.m != nil {
				if v := b.m.Median(); v > 0 && !math.IsInf(v, 0) {
					out = append(out, g)
					break
				}
			}
		}
	}
	return out
}

// render draws the chart as a standalone SVG document.
func (c *hbarChart) render() []byte {
	c.groups = visibleGroups(c.groups)
	// The scale: linear from zero when the figures are within wideRange of
	// each other, else log in whole decades (and dots instead of bars).
	lo, hi := math.Inf(1), math.Inf(-1)
	mlo, mhi := math.Inf(1), math.Inf(-1) // medians and markers only
	see := func(v float64, figure bool) {
		if v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			if figure {
				mlo, mhi = math.Min(mlo, v), math.Max(mhi, v)
			}
		}
	}
	var labels []string
	for _, g := range c.groups {
		see(g.marker, true)
		for _, b := range g.bars {
			if b.m != nil {
				see(b.m.Median(), true)
				see(b.m.Summary.Lo, false)
				see(b.m.Summary.Hi, false)
				labels = append(labels, c.format(b.m.Median())+b.note)
			}
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi, mlo, mhi = 1, 10, 1, 10
	}
	logScale := mhi/mlo > wideRange
	var step float64 // linear: the ticks' step
	if logScale {
		lo, hi = niceFloor(lo), niceCeil(hi)
		if hi <= lo {
			hi = niceCeil(lo * 1.5)
		}
	} else {
		step = niceCeil(hi / 5)
		lo, hi = 0, math.Ceil(hi/step*0.9999999)*step
	}
	llo, lhi := math.Log10(lo), math.Log10(hi)
	axis := strings.Replace(c.axis, " (log scale)", "", 1)
	if logScale {
		axis = strings.Replace(axis, " — ", " (log scale, so dots, not bars) — ", 1)
	} else {
		axis = strings.Replace(axis, " — ", " (linear scale from zero) — ", 1)
	}

	// Columns: group label, bar label, plot, value label.
	labelW, subW, valueW := 0.0, 0.0, 60.0
	for _, g := range c.groups {
		labelW = math.Max(labelW, textWidth(g.label, 12)*1.1) // bold
		for _, b := range g.bars {
			if b.sub != "" {
				subW = math.Max(subW, textWidth(b.sub, 11)+10)
			}
		}
	}
	for _, l := range labels {
		valueW = math.Max(valueW, textWidth(l, 11)+12)
	}
	labelRight := margin + 10 + labelW
	x0 := labelRight + 12 + subW
	x1 := chartWidth - margin - valueW
	xOf := func(v float64) float64 {
		if !logScale {
			return x0 + v/hi*(x1-x0)
		}
		return x0 + (math.Log10(v)-llo)/(lhi-llo)*(x1-x0)
	}

	var w svgWriter
	body := func() float64 {
		y := 30.0
		w.text(margin, y, `font-size="17" font-weight="bold" fill="#1f2328"`, c.title)
		y += 20
		w.text(margin, y, `font-size="12" fill="#59636e"`, c.subtitle)
		// The legend, wrapped to the width.
		y += 24
		x := float64(margin)
		for _, l := range c.legend {
			width := 18 + textWidth(l.label, 12) + 20
			if x+width > chartWidth-margin && x > margin {
				x, y = margin, y+20
			}
			switch {
			case l.dashed:
				w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#1f2328" stroke-width="1.5" stroke-dasharray="4 3"/>`+"\n", x+6, y-12, x+6, y+2)
			case l.pale:
				w.printf(`<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s" fill-opacity="0.35" stroke="%s"/>`+"\n", x, y-10, l.color, l.color)
			default:
				w.printf(`<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/>`+"\n", x, y-10, l.color)
			}
			w.text(x+18, y, `font-size="12" fill="#1f2328"`, l.label)
			x += width
		}
		top := y + 18
		// Group bands, labels, bars.
		y = top
		type pos struct{ y0, y1 float64 }
		spans := make([]pos, len(c.groups))
		for gi, g := range c.groups {
			h := float64(len(g.bars))*(barHeight+barGap) - barGap
			spans[gi] = pos{y, y + h}
			y += h + groupGap
		}
		bottom := y - groupGap + 6
		for gi := range c.groups {
			if gi%2 == 0 {
				w.printf(`<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="`+bandColor+`"/>`+"\n",
					margin, spans[gi].y0-groupGap/2, chartWidth-2*margin, spans[gi].y1-spans[gi].y0+groupGap)
			}
		}
		// Grid and ticks.
		w.printf(`<g stroke="#d0d7de" stroke-width="1">` + "\n")
		type tick struct {
			v     float64
			major bool
		}
		ticks := []tick{{lo, true}}
		for v := step; !logScale && v < hi*0.9999; v += step {
			ticks = append(ticks, tick{v, true})
		}
		for d := math.Floor(llo); logScale && d <= lhi; d++ {
			for _, m := range []float64{1, 2, 5} {
				v := m * math.Pow(10, d)
				if v <= lo*1.0001 || v >= hi*0.9999 || m != 1 && lhi-llo > 2 {
					continue
				}
				ticks = append(ticks, tick{v, m == 1})
			}
		}
		ticks = append(ticks, tick{hi, true})
		for _, t := range ticks {
			dash := ""
			if !t.major {
				dash = ` stroke-dasharray="2 3"`
			}
			w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"%s/>`+"\n", xOf(t.v), top-6, xOf(t.v), bottom, dash)
		}
		w.printf("</g>\n")
		for _, t := range ticks {
			label := trimZeros(c.format(t.v))
			if t.v == 0 {
				label = "0"
			}
			w.text(xOf(t.v), bottom+16, fmt.Sprintf(`class="tick" data-value="%g" font-size="11" fill="#59636e" text-anchor="middle"`, t.v), label)
		}
		w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#59636e" stroke-width="1"/>`+"\n", x0, bottom, x1, bottom)
		w.text((x0+x1)/2, bottom+36, `font-size="12" fill="#1f2328" text-anchor="middle"`, axis)

		for gi, g := range c.groups {
			sp := spans[gi]
			w.printf(`<g class="group">` + "\n")
			w.text(labelRight, (sp.y0+sp.y1)/2+4, `font-size="12" font-weight="bold" fill="#1f2328" text-anchor="end"`, g.label)
			if g.marker > 0 {
				mx := xOf(g.marker)
				w.printf(`<line class="marker" data-value="%g" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#1f2328" stroke-width="1.5" stroke-dasharray="4 3"><title>%s</title></line>`+"\n",
					g.marker, mx, sp.y0-4, mx, sp.y1+4, escapeXML(c.markerLabel+": "+c.format(g.marker)))
			}
			for bi, b := range g.bars {
				by := sp.y0 + float64(bi)*(barHeight+barGap)
				cy := by + barHeight/2
				if b.sub != "" {
					w.text(x0-6, cy+4, `font-size="11" fill="#59636e" text-anchor="end"`, b.sub)
				}
				if b.m == nil {
					w.text(x0+4, cy+4, `font-size="11" font-style="italic" fill="#59636e"`, "not measured")
					continue
				}
				w.printf(`<g class="row">` + "\n")
				v := b.m.Median()
				end := x0
				if v > 0 {
					end = xOf(v)
				}
				fill := fmt.Sprintf(`fill="%s"`, b.color)
				if b.pale {
					fill = fmt.Sprintf(`fill="%s" fill-opacity="0.35" stroke="%s" stroke-width="1"`, b.color, b.color)
				}
				tip := escapeXML(strings.TrimSpace(b.name+" "+b.sub) + ": " + c.format(v) + spread(b.m, c.format))
				if logScale {
					if v > 0 {
						w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d0d7de" stroke-width="1" stroke-dasharray="1 2"/>`+"\n", x0, cy, end, cy)
						w.printf(`<circle class="dot" data-value="%g" cx="%.1f" cy="%.1f" r="5" %s><title>%s</title></circle>`+"\n",
							v, end, cy, fill, tip)
					}
				} else {
					w.printf(`<rect class="bar" data-value="%g" x="%.1f" y="%.1f" width="%.1f" height="%d" %s><title>%s</title></rect>`+"\n",
						v, x0, by, end-x0, barHeight, fill, tip)
				}
				labelX := end + 4
				s := b.m.Summary
				if s.Lo > 0 && !math.IsInf(s.Lo, 0) && !math.IsInf(s.Hi, 0) && s.Hi > s.Lo {
					l, r := xOf(s.Lo), xOf(s.Hi)
					w.printf(`<path d="M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f" stroke="#1f2328" stroke-width="1" fill="none"/>`+"\n",
						l, cy, r, l, cy-4, cy+4, r, cy-4, cy+4)
					labelX = math.Max(labelX, r)
				}
				if c.valuesColumn {
					labelX = x1 + 5
				}
				w.text(labelX+5, cy+4, fmt.Sprintf(`class="value" data-value="%g" font-size="11" fill="#1f2328"`, v), c.format(v)+b.note)
				w.printf("</g>\n")
			}
			w.printf("</g>\n")
		}
		return bottom + 50
	}
	height := body()

	var doc strings.Builder
	fmt.Fprintf(&doc, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&doc, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="%s" role="img">`+"\n",
		chartWidth, height, chartWidth, height, escapeXML(fontFamily))
	fmt.Fprintf(&doc, "<title>%s</title>\n", escapeXML(c.title))
	fmt.Fprintf(&doc, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	doc.WriteString(w.b.String())
	doc.WriteString("</svg>\n")
	return []byte(doc.String())
}

// niceFloor returns the largest 1, 2 or 5 times a power of ten at most v.
func niceFloor(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{5, 2, 1} {
		if m*p <= v*1.0000001 {
			return m * p
		}
	}
	return p
}

// niceCeil returns the smallest 1, 2 or 5 times a power of ten at least v.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v*0.9999999 {
			return m * p
		}
	}
	return 10 * p
}

// trimZeros drops the zeros after a decimal point: "10.0 µs" is "10 µs".
func trimZeros(s string) string {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return s
	}
	j := i + 1
	for j < len(s) && s[j] == '0' {
		j++
	}
	if j < len(s) && s[j] >= '1' && s[j] <= '9' {
		return s
	}
	return s[:i] + s[j:]
}
