// Package memorytest checks that an engine gives the memory of a closed
// instance back to the operating system: a host that discards instances
// after a trap or a timeout must not keep, for minutes, the memory of every
// instance a runaway guest grew to its limit. Each adapter's tests call
// Returned on themselves.
package memorytest
