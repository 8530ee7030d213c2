package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// prefix is one step of a unit scale.
type prefix struct {
	factor float64
	name   string
}

var (
	durationUnits = []prefix{{1, "s"}, {1e-3, "ms"}, {1e-6, "µs"}, {1e-9, "ns"}}
	byteUnits     = []prefix{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}, {1, "B"}}
	decimalUnits  = []prefix{{1e9, "G"}, {1e6, "M"}, {1e3, "K"}, {1, ""}}
)

// sig3 formats v with three significant figures (more left of the point
// when v is 1000 or more).
func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case a == 0:
		return "0"
	case a >= 99.95:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 9.995:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 0.9995:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// scale formats v in the largest unit of units it is at least one of, after
// rounding to three significant figures; sep goes between number and unit.
func scale(v float64, units []prefix, sep string) string {
	a := math.Abs(v)
	u := units[len(units)-1]
	if a != 0 {
		for _, p := range units {
			if a/p.factor >= 0.9995 {
				u = p
				break
			}
		}
	}
	return sig3(v/u.factor) + sep + u.name
}

// formatDuration formats seconds: "3.10 ms", "59.0 ns".
func formatDuration(sec float64) string { return scale(sec, durationUnits, " ") }

// formatBytes formats a size in bytes: "3.20 MiB", "512 B".
func formatBytes(b float64) string { return scale(b, byteUnits, " ") }

// formatRate formats a count per second: "12.3 GB/s" for B/s, "1.23M calls/s"
// for calls/s.
func formatRate(v float64, unit string) string {
	what := strings.TrimSuffix(unit, "/s")
	if what == "B" {
		return scale(v, decimalUnits, " ") + "B/s"
	}
	return scale(v, decimalUnits, "") + " " + unit
}

// formatValue formats v in unit, choosing by the unit: a time ("sec/op",
// "p99-sec"), a size ("B", "rss-B/instance"), a rate ("B/s", "calls/s") or
// anything else.
func formatValue(v float64, unit string) string {
	num, den, _ := strings.Cut(unit, "/")
	switch {
	case num == "sec" || strings.HasSuffix(num, "-sec"):
		if den == "" || den == "op" {
			return formatDuration(v)
		}
		return formatDuration(v) + "/" + den
	case den == "s":
		return formatRate(v, unit)
	case num == "B" || strings.HasSuffix(num, "-B"):
		if den == "" {
			return formatBytes(v)
		}
		return formatBytes(v) + "/" + den
	}
	return scale(v, decimalUnits, "") + " " + unit
}

// formatSummary formats a metric as benchstat does: "3.10 ms ±2%"; with
// too few samples for an interval, "3.10 ms (2.90 ms–3.30 ms, n=3)".
func formatSummary(m *Metric) string {
	f := func(v float64) string { return formatValue(v, m.Unit) }
	return f(m.Median()) + spread(m, f)
}

// spread is what follows a median: " ±2%", the half-width of the confidence
// interval as benchstat prints it; or, when the samples are too few for an
// interval (benchstat's "±∞"), the samples' range and count.
func spread(m *Metric, format func(float64) string) string {
	if r := m.Summary.PctRangeString(); r != "∞" {
		return " ±" + r
	}
	n := len(m.Values)
	if n < 2 || m.Values[0] == m.Values[n-1] {
		return fmt.Sprintf(" (n=%d)", n)
	}
	return fmt.Sprintf(" (%s–%s, n=%d)", format(m.Values[0]), format(m.Values[n-1]), n)
}

// formatPercent formats a fraction as a percentage: "85%", "5.1%".
func formatPercent(f float64) string {
	p := 100 * f
	if math.Abs(p) >= 9.95 {
		return fmt.Sprintf("%.0f%%", p)
	}
	return fmt.Sprintf("%.1f%%", p)
}

// formatSigned formats a value with its sign: "+3.00 ns".
func formatSigned(s string, v float64) string {
	if v >= 0 {
		return "+" + s
	}
	return s
}
