// Package manifest reads and checks plugin.yml, the file that describes a
// kspbench plugin: its name and version, the backend routes and the
// WebAssembly exports that serve them, the permissions it needs, its memory
// limit and its configuration defaults.
//
// The schema is the one of the KubeStellar UI reference host
// (kubestellar/ui, backend/pkg/plugins). Parse and Load apply kspbench's
// strict reading (ABI v1): what that host lets through silently —
// misspelt or duplicate keys, colliding routes, handlers that name an ABI
// export, unknown permissions — is reported here instead, every problem at
// once, each with its file, line and field (see ValidationError). The
// strict reading also requires apiVersion "kubestellar.io/v1", which the
// manifests published for that host do not have: ParseWith and LoadWith
// with Options.Lenient read those as the reference host does, and report
// what they accept but kspbench does not use as a Warning.
//
// Reading a manifest costs time and memory in proportion to its size,
// whatever it holds: MaxFileSize, MaxValueDepth, MaxValueNodes,
// MaxScalarLength, MaxConfigBytes and MaxProblems bound it, in every
// reading.
//
// # Notes
//
// The manifest is read with the node API of gopkg.in/yaml.v3 and walked
// against a fixed schema, rather than unmarshalled into structs, so that each
// value keeps the line it came from. Anchors, aliases and merge keys ("<<")
// are supported. Field paths are built as text only for the problems
// reported.
package manifest
