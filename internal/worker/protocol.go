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

// HostCall is a line from worker to parent while the worker serves the
// Request whose ID is Call: the worker asks the parent for a host service
// (a plugin's storage or Kubernetes call, under serve's process isolation),
// and waits for the HostReply with the same Host before it goes on.
//
// # Wire format
//
// Both directions stay one JSON object per line. A line whose "host" member
// is a number other than zero is a host message; any other line is a Request
// (parent to worker) or a Response (worker to parent):
//
//	worker → parent  {"host":1,"call":7,"op":"storage-get","args":{...}}
//	parent → worker  {"host":1,"result":{...}}      or {"host":1,"error":"..."}
//	worker → parent  {"id":7,"result":{...}}        (the answer to request 7)
//
// A worker has at most one host call unanswered (it waits for the reply,
// which the parent always writes unless it kills the worker, and drops a
// stale reply by its Host number), and the parent answers host calls one at
// a time inside Process.Call, so a guest that loops on host calls costs the
// parent one line at a time, and the operation's deadline still kills the
// worker. A host call that names a request other than the one in flight gets
// an error reply.
type HostCall struct {
	Host uint64          `json:"host"`
	Call uint64          `json:"call"`
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

// HostReply is the parent's answer to the HostCall with the same Host.
// Exactly one of Result and Error is set.
type HostReply struct {
	Host   uint64          `json:"host"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// message is any line of the protocol, for the readers that demultiplex
// them: Log set makes it a log line (logLine), Host not zero a HostCall or
// HostReply.
type message struct {
	ID     uint64          `json:"id"`
	Host   uint64          `json:"host"`
	Call   uint64          `json:"call"`
	Op     string          `json:"op"`
	Args   json.RawMessage `json:"args,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	// Log is a log record (worker to parent, one way).
	Log *logLine `json:"log,omitempty"`
}

// ProtocolVersion is the version of this protocol: the operations, their
// arguments and results. A parent refuses a worker that speaks another one
// (a stale binary in --workers, say) instead of misreading its answers.
//
// 8: host calls (HostCall, HostReply); serve's isolated plugins use them for
// storage and Kubernetes.
//
// 9: log lines (worker to parent, one way: LogHandler, Spec.Logger); each
// side reads its pipe in the goroutine that waits for the line (Call, Serve,
// CallHost) instead of through a reader goroutine, so a host call waits for
// its reply until the parent answers or kills the worker.
//
// 10: the "bench" operation's result names the figures that failed while
// timed beside the samples of the others (runner.BenchResult), instead of
// failing the whole workload; a panic in an operation answers with its value,
// its stack going to the worker's stderr.
//
// 11: serve's plugin call result carries the worker's recycled-instance
// count (PluginCallResult.Recycled), which the isolated listing shows.
const ProtocolVersion = 11

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
