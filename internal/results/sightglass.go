package results

// SightglassFile is the file of a run folder that lists the Sightglass
// programs a run tried and those that did not pass on some engine.
const SightglassFile = "sightglass.json"

// Keys and phases of a Sightglass figure's name:
// Sightglass/program=<name>/phase=compile|instantiate|execute.
const (
	KeyProgram = "program"
	KeyPhase   = "phase"

	PhaseCompile     = "compile"
	PhaseInstantiate = "instantiate"
	PhaseExecute     = "execute"
)

// SightglassName is the name of one phase's figure of a program.
func SightglassName(program, phase string) string {
	return Name(Sightglass, KeyProgram, program, KeyPhase, phase)
}

// SightglassRun is sightglass.json: the programs of the Sightglass workload,
// and every program that failed or was unsupported on an engine (such a
// program has no figures on that engine).
type SightglassRun struct {
	// Source is the folder the programs came from ("built-in kernels" for
	// the project's own).
	Source   string              `json:"source"`
	Programs []string            `json:"programs"`
	Failures []SightglassFailure `json:"failures,omitempty"`
}

// SightglassFailure is one program that did not pass on one engine.
type SightglassFailure struct {
	Engine  string  `json:"engine"`
	Program string  `json:"program"`
	Outcome Outcome `json:"outcome"` // Fail or Unsupported
	// Detail is the engine's error, the exit code, or the output's first
	// difference from the expected files.
	Detail string `json:"detail"`
}
