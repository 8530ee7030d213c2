package conformance

import "github.com/kspbench/kspbench/internal/results"

// The suite's results are plain data, defined in package results so that
// reports can read them without linking the suite or any engine.
type (
	// Outcome is the verdict of one case on one engine.
	Outcome = results.Outcome
	// Result is the outcome of one case.
	Result = results.CaseResult
	// EngineRun is one engine's results.
	EngineRun = results.EngineRun
	// Matrix is the conformance matrix: cases as rows, engines as columns.
	Matrix = results.Matrix
)

// Outcomes.
const (
	Pass        = results.Pass
	Fail        = results.Fail
	Unsupported = results.Unsupported
)
