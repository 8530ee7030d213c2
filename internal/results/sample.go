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
	KeyOp  = "op"
	KeyVia = "via"

	OpNoop     = "noop"     // an empty export
	OpEcho64   = "echo-64B" // a handler round trip with 64 bytes each way
	OpHostcall = "hostcall" // one guest-to-host call

	ViaHarness = "harness" // through kspbench's plugin layer
	ViaEngine  = "engine"  // through the engine's own API (the baseline)
	ViaPool    = "pool"    // through the instance pool, under a deadline
)

// CallName is the name of a Call figure: CallName(OpNoop, ViaHarness) is
// "Call/op=noop/via=harness".
func CallName(op, via string) string { return Name(Call, KeyOp, op, KeyVia, via) }
