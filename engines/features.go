package engines

// Feature is a capability the conformance suite checks, which an engine may
// lack.
type Feature string

// Features an engine may lack.
const (
	// FeatureInterrupt: a call in progress ends when its context is done.
	FeatureInterrupt Feature = "interrupt"
	// FeatureMemoryLimit: memory.grow past the limit fails inside the guest.
	FeatureMemoryLimit Feature = "memory-limit"
	// FeatureCache: Config.CacheDir keeps compiled code across processes.
	FeatureCache Feature = "compilation-cache"
	// FeatureSleepInterrupt: a call whose guest sleeps in WASI poll_oneoff
	// (a Go guest's time.Sleep) ends when its context is done.
	FeatureSleepInterrupt Feature = "wasi-sleep-interrupt"
	// FeatureRunawayContained: a guest that never returns ties up only its
	// own call; the rest of the process keeps running. An engine whose
	// running guest code cannot be preempted by the Go runtime (wazero's
	// compiled code without its exit checks) lacks it: the next
	// stop-the-world, such as a garbage collection, waits for the guest
	// forever.
	FeatureRunawayContained Feature = "runaway-contained"
)

// NoDeadlineReason is why an engine opened with Config.NoDeadline lacks
// FeatureInterrupt, in the words the conformance matrix and the report use.
const NoDeadlineReason = "no-deadline configuration: a looping guest hangs the call"

// FeatureReporter is implemented by an Engine that lacks a feature. An engine
// that does not implement it has every feature.
type FeatureReporter interface {
	// Unsupported returns why the engine lacks f, or "" when it has it.
	Unsupported(f Feature) string
}

// Unsupported returns why e lacks f, or "" when it has it.
func Unsupported(e Engine, f Feature) string {
	if r, ok := e.(FeatureReporter); ok {
		return r.Unsupported(f)
	}
	return ""
}
