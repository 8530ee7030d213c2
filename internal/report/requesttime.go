package report

import (
	"fmt"

	"github.com/kspbench/kspbench/internal/results"
)

const familyHTTP = results.HTTP

// hostTarget is the share of native-serve's throughput serve with a
// constant guest should reach: what is left is the host's cost, which
// serve's own code can still cut.
const hostTarget = 0.85

// requestTime writes "Where a request's time goes": per engine and route,
// the throughput of native-serve, of serve with a guest that answers a
// constant, and of serve with the plugin, and the time per request each
// step adds.
func (s *summary) requestTime() {
	r := s.full // the direct configurations run the constant guest and native only
	metric := func(e *Engine, op, server string) *Metric {
		return e.metric("req/s", familyHTTP, results.KeyOp, op, results.KeyServer, server)
	}
	rps := func(e *Engine, op, server string) float64 {
		if m := metric(e, op, server); m != nil {
			return m.Median()
		}
		return 0
	}
	var t table
	t.head = []string{"engine", "route", "native", "serve + constant", "serve + plugin", "constant ÷ native", "host", "guest", "plugin, isolated", "isolation adds"}
	for _, e := range r.Engines {
		for _, op := range r.values(familyHTTP, results.KeyOp) {
			native, constant := rps(e, op, results.ServerNative), rps(e, op, results.ServerConstant)
			plugin, isolated := rps(e, op, results.ServerEngine), rps(e, op, results.ServerIsolated)
			if native == 0 || constant == 0 {
				continue
			}
			cell := func(v float64) string {
				if v == 0 {
					return missing
				}
				return formatRate(v, "req/s")
			}
			// Shares are of the plugin's time per request, or of the
			// constant guest's when the plugin has no figure.
			total, guest := 1/constant, missing
			if plugin != 0 {
				total, guest = 1/plugin, share(1/plugin-1/constant, 1/plugin)
			}
			isolation := missing
			if isolated != 0 && plugin != 0 {
				isolation = formatDuration(1/isolated - 1/plugin)
			}
			t.add(e.Name, routeLabel(op), cell(native), cell(constant), cell(plugin),
				hostVerdict(metric(e, op, results.ServerConstant), metric(e, op, results.ServerNative)), share(1/constant-1/native, total), guest,
				cell(isolated), isolation)
		}
	}
	if len(t.rows) == 0 {
		return
	}
	s.section("Where a request's time goes", "", "")
	s.b.WriteString("Three servers under the same load (8 connections on loopback, medians of req/s): `kspbench native-serve`, " +
		"the same answers from a plain Go handler, the ceiling; `kspbench serve` with a guest that answers the constant \"ok\" on every route " +
		"(`server=constant`: the host's work with next to no guest); and `kspbench serve` with the plugin. " +
		"*host* is the time per request serve adds over native (1/constant − 1/native), *guest* the time the plugin adds over the " +
		"constant guest (1/plugin − 1/constant), each with its share of the plugin's time per request (1/plugin). " +
		"A fourth server runs the plugin with process isolation (`serve --isolation process`, wasmer's default: each call in a worker process " +
		"serve can kill), on the first GET route: *isolation adds* is the time per request it costs (1/isolated − 1/plugin). " +
		"A direct configuration (`<engine>:direct`, the engine's library through its C API) runs the constant guest and native only: " +
		"the host's cost without the Go binding. " +
		fmt.Sprintf("Target for the host: serve + constant at %.2f of native or better. ", hostTarget) +
		"*constant ÷ native* is the ratio of the medians; it *meets* or is *below* the target when " + TestName +
		fmt.Sprintf(" tells the constant server's samples apart from %.2f × the native server's, is *within noise* of it when the test does not, and *untested* with fewer samples than the test needs. A time marked *noise* is negative: the server with more work measured faster.\n\n", hostTarget))
	t.write(&s.b)
	s.b.WriteString("\n")
	// What the binding costs per request: the same serve and constant guest
	// through the Go binding and through the C API, each beside its own
	// native figure.
	listed := false
	for _, p := range r.bindingPairs() {
		for _, op := range r.values(familyHTTP, results.KeyOp) {
			bc, bn := rps(p.binding, op, results.ServerConstant), rps(p.binding, op, results.ServerNative)
			dc, dn := rps(p.direct, op, results.ServerConstant), rps(p.direct, op, results.ServerNative)
			if bc == 0 || bn == 0 || dc == 0 || dn == 0 {
				continue
			}
			fmt.Fprintf(&s.b, "- %s, %s: serve + constant reaches %.2f of native through the Go binding and %.2f through the C API (`%s`); "+
				"the binding adds %s per request (1/constant − 1/native of the one minus the other's): its calls into the guest, the handler's and, when the request has a body, allocate's.\n",
				p.binding.Base, routeLabel(op), bc/bn, dc/dn, p.direct.Name, formatDuration((1/bc-1/bn)-(1/dc-1/dn)))
			listed = true
		}
	}
	if listed {
		s.b.WriteString("\n")
	}
}

// hostVerdict formats constant ÷ native, the ratio of the medians, beside
// the target: "0.91 (meets 0.85)" or "0.68 (below 0.85)" when benchstat's
// test tells the constant server's samples apart from hostTarget times the
// native server's, "0.83 (within noise of 0.85)" when it does not. Samples
// of 500 ms of load on a shared machine vary by tens of percent, so a ratio
// of medians alone would flip between meets and below from run to run.
func hostVerdict(constant, native *Metric) string {
	ratio := constant.Median() / native.Median()
	scaled := &Metric{Unit: native.Unit, Values: make([]float64, len(native.Values))}
	for i, v := range native.Values {
		scaled.Values[i] = v * hostTarget
	}
	scaled.summarize() // its median, which disjoint compares, is then hostTarget × native's
	if n := min(len(constant.Values), len(native.Values)); n < minTestSamples() {
		return fmt.Sprintf("%.2f (untested: %d samples)", ratio, n)
	}
	verdict := "within noise of"
	if disjoint(constant, scaled, false) {
		verdict = "meets"
		if ratio < hostTarget {
			verdict = "below"
		}
	}
	return fmt.Sprintf("%.2f (%s %.2f)", ratio, verdict, hostTarget)
}

// share formats a time per request and its fraction of total: "12.0 µs
// (31%)". A negative time (the server with more work measured faster: the
// machine's noise) is marked as such instead of given a share.
func share(sec, total float64) string {
	if sec < 0 {
		return fmt.Sprintf("%s (noise)", formatDuration(sec))
	}
	return fmt.Sprintf("%s (%s)", formatDuration(sec), formatPercent(sec/total))
}
