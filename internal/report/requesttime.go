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
	r := s.r
	var t table
	t.head = []string{"engine", "route", "native", "serve + constant", "serve + plugin", "constant ÷ native", "host", "guest", "plugin, isolated", "isolation adds"}
	for _, e := range r.Engines {
		for _, op := range r.values(familyHTTP, "op") {
			rps := func(server string) float64 {
				m := e.metric("req/s", familyHTTP, "op", op, "server", server)
				if m == nil {
					return 0
				}
				return m.Median()
			}
			native, constant, plugin, isolated := rps("native"), rps("constant"), rps("engine"), rps("isolated")
			if native == 0 || constant == 0 {
				continue
			}
			cell := func(v float64) string {
				if v == 0 {
					return missing
				}
				return formatRate(v, "req/s")
			}
			ratio := constant / native
			verdict := "meets"
			if ratio < hostTarget {
				verdict = "below"
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
				fmt.Sprintf("%.2f (%s %.2f)", ratio, verdict, hostTarget), share(1/constant-1/native, total), guest,
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
		fmt.Sprintf("Target for the host: serve + constant at %.2f of native or better.\n\n", hostTarget))
	t.write(&s.b)
	s.b.WriteString("\n")
}

// share formats a time per request and its fraction of total: "12.0 µs (31%)".
func share(sec, total float64) string {
	return fmt.Sprintf("%s (%s)", formatDuration(sec), formatPercent(sec/total))
}
