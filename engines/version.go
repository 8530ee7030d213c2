package engines

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// ModuleVersion returns the version of the Go module path linked into this
// binary, from its build information. Test binaries carry none; there it
// returns pinned, the version the adapter's go.mod requirement names.
func ModuleVersion(path, pinned string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return pinned
}

// RequiredVersion returns the version go.mod (found by walking up from the
// current directory) requires for module path, or "" — for tests that check
// an adapter's pinned version against go.mod.
func RequiredVersion(path string) string {
	dir, _ := os.Getwd()
	for dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
				if len(f) >= 2 && f[0] == path {
					return f[1]
				}
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	return ""
}
