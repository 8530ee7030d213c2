package results

// Failure is a figure that could not be measured on one engine
// configuration: it failed while timed (an error or a panic in the timed
// loop) and is left out of the results. The run goes on without it, and its
// summary says which figure failed where, and why.
type Failure struct {
	// Figure is the figure's name: "Call/guest=hello-world/op=get-status/via=harness".
	Figure string `json:"figure"`
	// Engine is the configuration it failed on ("wasmer", "wazero:no-deadline");
	// empty inside a worker, which measures one.
	Engine string `json:"engine,omitempty"`
	// Error is why, on one line: the cause, without the figure's name.
	Error string `json:"error"`
	// Samples counts the samples in which it failed, when it is more than one.
	Samples int `json:"samples,omitempty"`
}
