package report

import (
	"github.com/kspbench/kspbench/internal/results"
	"strings"
)

// Headline returns a compact Markdown table of r for the project README: one
// row per engine with the time to first response of the run's plugin (the
// cluster-monitor plugin unless --plugin named another) from the compilation
// cache and without it, the empty call and the host call through the
// harness, a 64 KiB copy into the guest, resident memory per instance, and
// the plugin's first HTTP route through kspbench serve. Cells are medians; a
// figure the run lacks is "–", and a column no engine has is left out.
func Headline(r *Run) string {
	r = r.fullyMeasured()
	guest := r.pluginGuest()
	n := r.maxInstances(guest)
	rss := "RSS per instance"
	if n != "" {
		rss += " (" + n + " instances)"
	}
	// With the plugin's routes measured (the Route workload), the call
	// columns of the reference guest say whose they are, and the first
	// routes through the pool follow.
	routes := r.pluginRoutes()
	empty, host := "empty call", "host call"
	if len(routes) > 0 {
		empty, host = "empty call (reference guest)", "host call (reference guest)"
	}
	if len(routes) > maxHeadlineRoutes {
		routes = routes[:maxHeadlineRoutes]
	}
	head := []string{"engine", "first response, cached", "first response, uncached"}
	for _, rt := range routes {
		head = append(head, rt+" (pool)")
	}
	// The first HTTP route through kspbench serve, when the run loaded it.
	var httpOp string
	if ops := r.values(familyHTTP, results.KeyOp); len(ops) > 0 {
		httpOp = ops[0]
	}
	head = append(head, empty, host, "64 KiB copy in", rss)
	if httpOp != "" {
		head = append(head, routeLabel(httpOp)+" through serve")
	}
	t := table{head: head}
	for _, e := range r.Engines {
		name := e.Name
		if e.Version != "" {
			name += " " + e.Version
		}
		cell := func(m *Metric) string {
			if m == nil {
				return missing
			}
			return formatValue(m.Median(), m.Unit)
		}
		rssCell := missing
		if m := e.metric("rss-B/instance", familyFootprint, "guest", guest, "instances", n); n != "" && m != nil {
			rssCell = formatBytes(m.Median())
		}
		row := []string{name,
			cell(e.metric("sec/op", familyColdStart, "guest", guest, "phase", "ttfr-cached")),
			cell(e.metric("sec/op", familyColdStart, "guest", guest, "phase", "ttfr-uncached"))}
		for _, rt := range routes {
			row = append(row, cell(e.metric("sec/op", results.Route, results.KeyRoute, rt, results.KeyVia, results.ViaPool)))
		}
		row = append(row,
			cell(e.metric("sec/op", familyCall, results.KeyOp, results.OpNoop, results.KeyVia, results.ViaHarness)),
			cell(e.metric("sec/op", familyCall, results.KeyOp, results.OpHostcall, results.KeyVia, results.ViaHarness)),
			cell(e.metric("B/s", familyCopy, "dir", "host-to-guest", "size", "64KiB", "via", "harness")),
			rssCell,
		)
		if httpOp != "" {
			row = append(row, cell(e.metric("req/s", familyHTTP, results.KeyOp, httpOp, results.KeyServer, results.ServerEngine)))
		}
		t.add(row...)
	}
	t.dropEmptyColumns()
	if len(t.head) == 1 {
		return "(no headline figure in this run: see summary.md)"
	}
	var b strings.Builder
	t.write(&b)
	return strings.TrimSuffix(b.String(), "\n")
}

// maxHeadlineRoutes is how many of the plugin's routes the headline shows.
const maxHeadlineRoutes = 3

// pluginRoutes returns the plugin's routes timed through the pool in r
// (Route/route=<method>-<path>/via=pool), in report order.
func (r *Run) pluginRoutes() []string {
	return r.values(results.Route, results.KeyRoute, results.KeyVia, results.ViaPool)
}

// pluginGuest returns the guest name of the run's plugin: the cold-start
// guest that is not the reference guest, or "cluster-monitor".
func (r *Run) pluginGuest() string {
	for _, g := range r.values(familyColdStart, "guest") {
		if g != "reference" {
			return g
		}
	}
	return "cluster-monitor"
}
