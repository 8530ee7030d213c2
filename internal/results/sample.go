package results

import "strings"

// Value is one measured number with its unit, such as 1.2e-6 "sec/op".
type Value struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Sample is one result line in the Go benchmark format: a figure's name
// (without the "Benchmark" prefix), the iterations it ran and its values.
type Sample struct {
	Name   string  `json:"name"`
	Iters  int     `json:"iters"`
	Values []Value `json:"values"`
}

// Workload names: the first level of every figure's name.
const (
	ColdStart  = "ColdStart"
	Call       = "Call"
	Copy       = "Copy"
	Footprint  = "Footprint"
	Throughput = "Throughput"
	HTTP       = "HTTP"
	Sightglass = "Sightglass"
	// Route is every route of the plugin under test, with the requests of
	// its requests file: Route/route=<method>-<path>/via=harness|pool and
	// Route/route=<method>-<path>/what=hostcalls|response-bytes.
	Route = "Route"
)

// ReferenceGuest is the guest name of the project's reference guest in figure
// names (guest=reference); the plugin under test appears under its manifest
// name.
const ReferenceGuest = "reference"

// Name builds a figure name from a workload and key=value pairs:
// Name("Call", "op", "noop", "via", "harness") is "Call/op=noop/via=harness".
func Name(workload string, kv ...string) string {
	var b strings.Builder
	b.WriteString(workload)
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString("/" + kv[i] + "=" + kv[i+1])
	}
	return b.String()
}

// Keys and values of the Call figures, which the workloads write and the
// report reads.
const (
	KeyOp    = "op"
	KeyVia   = "via"
	KeyGuest = "guest"
	KeyRoute = "route" // Route figures: RouteOp(method, path)
	KeyWhat  = "what"

	OpNoop     = "noop"     // an empty export
	OpEcho64   = "echo-64B" // a handler round trip with 64 bytes each way
	OpHostcall = "hostcall" // one guest-to-host call
	OpLoop     = "loop-10k" // loop_n(LoopN): loop-heavy guest code, LoopN iterations

	ViaHarness = "harness" // through kspbench's plugin layer
	ViaEngine  = "engine"  // through the engine's own API (the baseline)
	ViaPool    = "pool"    // through the instance pool, under a deadline
)

// CallName is the name of a Call figure: CallName(OpNoop, ViaHarness) is
// "Call/op=noop/via=harness".
func CallName(op, via string) string { return Name(Call, KeyOp, op, KeyVia, via) }

// Keys and values of the HTTP figures: HTTPName("get-status", ServerConstant)
// is "HTTP/op=get-status/server=constant".
const (
	KeyServer = "server"
	// ServerEngine is kspbench serve with the plugin, in process.
	ServerEngine = "engine"
	// ServerConstant is kspbench serve with a guest that answers a
	// constant: the host's cost with next to no guest.
	ServerConstant = "constant"
	// ServerNative is kspbench native-serve, the same answers from a plain
	// Go handler: the ceiling.
	ServerNative = "native"
	// ServerIsolated is kspbench serve with the plugin under process
	// isolation.
	ServerIsolated = "isolated"
)

// HTTPName is the name of an HTTP figure: op is RouteOp's, server one of
// the Server values.
func HTTPName(op, server string) string { return Name(HTTP, KeyOp, op, KeyServer, server) }

// LoopN is the number of loop iterations of the OpLoop figures.
const LoopN = 10_000

// RouteOp is the op of the Call figure of a plugin's route: RouteOp("GET",
// "/status") is "get-status".
func RouteOp(method, path string) string {
	p := strings.Trim(path, "/")
	if p == "" {
		p = "root"
	}
	return strings.ToLower(method) + "-" + strings.ReplaceAll(p, "/", "-")
}

// RouteCallName is the name of the Call figure of one of a plugin's routes,
// called through the harness: "Call/guest=cluster-monitor/op=get-status/via=harness".
func RouteCallName(guest, op string) string {
	return Name(Call, KeyGuest, guest, KeyOp, op, KeyVia, ViaHarness)
}

// PriceOfSafety reports whether the figure called name is one the
// price-of-safety comparison needs: the empty call, the host call, the loop
// and the plugin's routes, through the harness, and the execution of each
// Sightglass program. An engine's no-deadline configuration is measured on
// these alone in a default run.
func PriceOfSafety(name string) bool {
	switch name {
	case CallName(OpNoop, ViaHarness), CallName(OpHostcall, ViaHarness), CallName(OpLoop, ViaHarness):
		return true
	}
	if strings.HasPrefix(name, Sightglass+"/"+KeyProgram+"=") {
		return strings.HasSuffix(name, "/"+KeyPhase+"="+PhaseExecute)
	}
	return strings.HasPrefix(name, Call+"/"+KeyGuest+"=") && strings.HasSuffix(name, "/"+KeyVia+"="+ViaHarness)
}

// BindingCost reports whether the figure called name is one the binding-cost
// comparison needs: the empty call, the 64-byte echo and the host call,
// through the harness and through the engine's API, and serve with the
// constant guest beside native-serve on each route (what the binding costs
// per HTTP request). An engine's direct configuration (catalog.BindingPairs)
// is measured on these alone in a default run.
func BindingCost(name string) bool {
	for _, op := range []string{OpNoop, OpEcho64, OpHostcall} {
		if name == CallName(op, ViaHarness) || name == CallName(op, ViaEngine) {
			return true
		}
	}
	if strings.HasPrefix(name, HTTP+"/"+KeyOp+"=") {
		return strings.HasSuffix(name, "/"+KeyServer+"="+ServerConstant) || strings.HasSuffix(name, "/"+KeyServer+"="+ServerNative)
	}
	return false
}
