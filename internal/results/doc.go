// Package results holds what a run produces, as plain data: the samples of
// every figure, the names of figures, and the conformance matrix. It imports
// no engine, no `testing` and no client-go, so that the report and any tool
// that reads runs can depend on it alone.
package results
