// Package manifest reads and checks plugin.yml, the file that describes a
// kspbench plugin: its name and version, the backend routes and the
// WebAssembly exports that serve them, the permissions it needs, its memory
// limit and its configuration defaults.
//
// The schema is the one of the KubeStellar UI reference host
// (kubestellar/ui, backend/pkg/plugins), so every manifest written for that
// host with sound values loads here unchanged. What that host lets through
// silently — misspelt or duplicate keys, colliding routes, handlers that
// name an ABI export, unknown permissions — is reported here instead, every
// problem at once, each with its file, line and field (see ValidationError).
//
// # Notes
//
// The manifest is read with the node API of gopkg.in/yaml.v3 and walked
// against a fixed schema, rather than unmarshalled into structs, so that each
// value keeps the line it came from. Anchors, aliases and merge keys ("<<")
// are supported.
package manifest
