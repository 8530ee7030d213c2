// Package loadgen drives HTTP load at a server and reports the requests per
// second and latency percentiles of the requests answered as expected,
// counting failed and shed (503) ones apart. A closed loop (fixed
// concurrency, the default) measures throughput; an open loop (a fixed
// arrival rate, latency counted from when each request was due) measures
// latency without coordinated omission. kspbench runs it in a process of its
// own, so the load does not share a Go runtime with the server it measures.
package loadgen
