package worker

import "encoding/json"

// Request is one line from parent to worker.
type Request struct {
	ID   uint64          `json:"id"`
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Response is one line from worker to parent, answering the Request with the
// same ID. Exactly one of Result and Error is set.
type Response struct {
	ID     uint64          `json:"id"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// ProtocolVersion is the version of this protocol: the operations, their
// arguments and results. A parent refuses a worker that speaks another one
// (a stale binary in --workers, say) instead of misreading its answers.
const ProtocolVersion = 7

// Hello is the answer to the "hello" operation every worker serves: which
// engine actually runs in the process.
type Hello struct {
	// Protocol is the worker's ProtocolVersion.
	Protocol int `json:"protocol"`
	// Kspbench is the worker binary's own version (package version).
	Kspbench string `json:"kspbench,omitempty"`
	Engine   string `json:"engine"`
	// Config is the engine configuration the worker applies to every
	// engine it opens (catalog.Configuration.Name): "default" for the
	// engine's safe default.
	Config  string `json:"config,omitempty"`
	Version string `json:"version"`
	Mode    string `json:"mode"`
	Notes   string `json:"notes,omitempty"`
	PID     int    `json:"pid"`
	GOOS    string `json:"goos"`
	GOARCH  string `json:"goarch"`
	// Linked lists the cgo engine libraries found in the process, as the
	// worker's own check of what it runs on.
	Linked []string `json:"linked,omitempty"`
}
