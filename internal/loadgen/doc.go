// Package loadgen drives HTTP load at a server from a bounded number of
// concurrent clients and reports requests per second and latency
// percentiles. kspbench runs it in a process of its own, so the load does not
// share a Go runtime with the server it measures.
package loadgen
