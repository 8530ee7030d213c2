package report

import (
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/perf/benchmath"
)

// svgNode is an element of a parsed SVG document.
type svgNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []svgNode  `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n *svgNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n *svgNode) num(t *testing.T, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attr(name), 64)
	if err != nil {
		t.Fatalf("<%s> attribute %s=%q: %v", n.XMLName.Local, name, n.attr(name), err)
	}
	return v
}

// find returns the descendants of n (n included) of class c, in document order.
func (n *svgNode) find(c string) []*svgNode {
	var out []*svgNode
	var walk func(*svgNode)
	walk = func(m *svgNode) {
		if m.attr("class") == c {
			out = append(out, m)
		}
		for i := range m.Nodes {
			walk(&m.Nodes[i])
		}
	}
	walk(n)
	return out
}

func parseSVG(t *testing.T, data []byte) *svgNode {
	t.Helper()
	var root svgNode
	if err := xml.Unmarshal(data, &root); err != nil {
		t.Fatalf("not well-formed SVG: %v", err)
	}
	return &root
}

func testMetric(vs ...float64) *Metric {
	m := &Metric{Unit: "sec/op", Values: vs}
	m.Summary = benchmath.AssumeNothing.Summary(benchmath.NewSample(vs, &benchmath.DefaultThresholds), Confidence)
	return m
}

// unitFactors turn a label's unit into the figure's unit (seconds, bytes per
// second).
var unitFactors = map[string]float64{
	"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1,
	"B/s": 1, "kB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9, "TB/s": 1e12,
}

// labelValue reads the figure a value label prints: "1.75 s (+3 ms)" is 1.75.
func labelValue(t *testing.T, s string) float64 {
	t.Helper()
	f := strings.Fields(s)
	if len(f) < 2 {
		t.Fatalf("value label %q: want a number and a unit", s)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	factor, ok := unitFactors[f[1]]
	if err != nil || !ok {
		t.Fatalf("value label %q: cannot read it", s)
	}
	return v * factor
}

// TestChartLinearBars: figures close together are bars on a linear axis
// from zero, each as long as its value; rows without a figure are left out.
func TestChartLinearBars(t *testing.T) {
	c := &hbarChart{
		title: "t", axis: "time — shorter is better", format: formatDuration,
		groups: []barGroup{
			{label: "close", bars: []hbar{
				{name: "a", m: testMetric(1.10, 1.11, 1.12)},
				{name: "b", m: testMetric(1.74, 1.75, 1.76)},
				{name: "c", m: testMetric(1.3, 1.3, 1.3)},
			}},
			{label: "zero-row", bars: []hbar{{name: "a", m: testMetric(0, 0, 0)}, {name: "b"}}},
			{label: "nan-row", bars: []hbar{{name: "a", m: &Metric{Summary: benchmath.Summary{Center: math.NaN()}}}}},
		},
	}
	data := c.render()
	root := parseSVG(t, data)
	if strings.Contains(string(data), "zero-row") || strings.Contains(string(data), "nan-row") {
		t.Error("a row whose every figure is zero or NaN is drawn")
	}
	if len(root.find("dot")) != 0 {
		t.Error("dots on a chart whose figures are within 20× of each other")
	}
	bars := root.find("bar")
	if len(bars) != 3 {
		t.Fatalf("%d bars, want 3", len(bars))
	}
	x0 := bars[0].num(t, "x")
	perUnit := bars[0].num(t, "width") / bars[0].num(t, "data-value")
	for _, b := range bars {
		if b.num(t, "x") != x0 {
			t.Errorf("bar of %v starts at %v, others at %v", b.attr("data-value"), b.num(t, "x"), x0)
		}
		want := b.num(t, "data-value") * perUnit
		if got := b.num(t, "width"); math.Abs(got-want) > 0.2 {
			t.Errorf("bar of %v is %.1f px long, want %.1f: lengths not proportional to values", b.attr("data-value"), got, want)
		}
	}
	// The axis agrees: zero at the bars' start, ticks evenly spaced by value.
	ticks := root.find("tick")
	if len(ticks) < 3 || ticks[0].num(t, "data-value") != 0 || ticks[0].num(t, "x") != x0 {
		t.Fatalf("axis does not start at zero where the bars start")
	}
	for _, tk := range ticks {
		want := x0 + tk.num(t, "data-value")*perUnit
		if got := tk.num(t, "x"); math.Abs(got-want) > 0.2 {
			t.Errorf("tick %s at x=%.1f, want %.1f", tk.attr("data-value"), got, want)
		}
	}
	checkLabels(t, "linear", root)
}

// TestChartWideRangeDots: figures more than wideRange apart are dots on a
// log axis, never bars whose lengths would mislead.
func TestChartWideRangeDots(t *testing.T) {
	c := &hbarChart{
		title: "t", axis: "time — shorter is better", format: formatDuration,
		groups: []barGroup{{label: "g", bars: []hbar{{name: "a", m: testMetric(1e-9, 1e-9, 1e-9)}, {name: "b", m: testMetric(1e-6, 1e-6, 1e-6)}}}},
	}
	root := parseSVG(t, c.render())
	if n := len(root.find("bar")); n != 0 {
		t.Errorf("%d bars on a log axis", n)
	}
	if n := len(root.find("dot")); n != 2 {
		t.Errorf("%d dots, want 2", n)
	}
	checkLabels(t, "wide", root)
}

// TestExampleCharts checks every chart of the example run folder: each
// label prints the figure its bar or dot is drawn at, each share in a label
// is of the marker drawn in the same group, and no row is without figures.
func TestExampleCharts(t *testing.T) {
	dir := generateExample(t)
	charts, _ := filepath.Glob(filepath.Join(dir, "*.svg"))
	if len(charts) < 3 {
		t.Fatalf("%d charts in the example", len(charts))
	}
	for _, path := range charts {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkLabels(t, filepath.Base(path), parseSVG(t, data))
	}
}

var shareRE = regexp.MustCompile(`\(([0-9.]+)%\)`)

func checkLabels(t *testing.T, name string, root *svgNode) {
	t.Helper()
	for _, g := range root.find("group") {
		var marker float64
		if ms := g.find("marker"); len(ms) > 0 {
			marker = ms[0].num(t, "data-value")
		}
		rows := g.find("row")
		informative := false
		for _, r := range rows {
			shapes := append(r.find("bar"), r.find("dot")...)
			labels := r.find("value")
			if len(labels) != 1 || len(shapes) > 1 {
				t.Errorf("%s: a row with %d labels and %d bars or dots", name, len(labels), len(shapes))
				continue
			}
			v := labels[0].num(t, "data-value")
			if len(shapes) == 1 && shapes[0].num(t, "data-value") != v {
				t.Errorf("%s: label drawn from %v beside a bar or dot of %v", name, v, shapes[0].attr("data-value"))
			}
			if got := labelValue(t, labels[0].Text); math.Abs(got-v) > 0.005*v {
				t.Errorf("%s: label %q for a figure of %v", name, labels[0].Text, v)
			}
			if v > 0 && !math.IsInf(v, 0) {
				informative = true
			}
			if m := shareRE.FindStringSubmatch(labels[0].Text); m != nil {
				p, _ := strconv.ParseFloat(m[1], 64)
				if marker <= 0 {
					t.Errorf("%s: label %q gives a share with no line drawn", name, labels[0].Text)
				} else if want := 100 * v / marker; math.Abs(p-want) > 0.51 {
					t.Errorf("%s: label %q, but the line drawn is at %v: share %.2f%%", name, labels[0].Text, marker, want)
				}
			}
		}
		if !informative {
			t.Errorf("%s: a group with no figure above zero", name)
		}
	}
}
