// Package version says which kspbench a binary is: the module version from
// its build information, and the commit, from the build's VCS stamp or, for
// the worker binaries kspbench builds itself, from the commit it stamped in
// with -ldflags -X (go run, go test and builds with -buildvcs=false record
// no VCS information).
package version

import (
	"runtime/debug"
	"strings"
)

// Set by the linker (-X) when kspbench builds its own worker binaries.
var (
	stampedCommit   string // full commit hash
	stampedModified string // "true" when the tree had uncommitted changes
)

// LinkerFlags returns the -ldflags -X arguments that stamp commit (and
// whether the tree was modified) into a binary of this module.
func LinkerFlags(commit string, modified bool) []string {
	const pkg = "github.com/kspbench/kspbench/internal/version"
	flags := []string{"-X", pkg + ".stampedCommit=" + commit}
	if modified {
		flags = append(flags, "-X", pkg+".stampedModified=true")
	}
	return flags
}

// Info is what a binary knows of its own version.
type Info struct {
	// Module is the module version ("v1.2.3", or "(devel)" for a build from
	// a source tree).
	Module string `json:"module"`
	// Commit is the VCS revision, or "" when the build recorded none.
	Commit string `json:"commit,omitempty"`
	// Modified is true when the tree had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// Source says where Commit came from: "vcs" (go build's stamp),
	// "stamped" (kspbench's own worker build) or "none".
	Source string `json:"source"`
	// Go is the toolchain that built the binary.
	Go string `json:"go"`
}

// Get returns this binary's version.
func Get() Info {
	in := Info{Module: "(unknown)", Source: "none"}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		in.Module, in.Go = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit, in.Source = s.Value, "vcs"
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if in.Commit == "" && stampedCommit != "" {
		in.Commit, in.Modified, in.Source = stampedCommit, stampedModified == "true", "stamped"
	}
	if in.Module == "" {
		in.Module = "(devel)"
	}
	return in
}

// String is one line for --version and for result files: "(devel) commit
// 1a2b3c4d5e6f+dirty", or "v1.2.0 (no commit recorded)".
func (in Info) String() string {
	var b strings.Builder
	b.WriteString(in.Module)
	if in.Commit == "" {
		b.WriteString(" (no commit recorded: built by go run, go test or with -buildvcs=false)")
		return b.String()
	}
	c := in.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	b.WriteString(" commit " + c)
	if in.Modified {
		b.WriteString("+dirty")
	}
	return b.String()
}

// Short is the identity used in results: the commit (with "+dirty") when
// recorded, else the module version.
func (in Info) Short() string {
	if in.Commit == "" {
		return in.Module
	}
	c := in.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if in.Modified {
		c += "+dirty"
	}
	return c
}
