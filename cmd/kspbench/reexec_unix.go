//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// reexecServe replaces this process with `bin serve args...`: the same
// process id, standard streams and signals, so a supervisor (or go run) sees
// no difference. It returns only on failure.
func reexecServe(bin string, args, env []string) error {
	argv := append([]string{bin, "serve"}, args...)
	if err := syscall.Exec(bin, argv, env); err != nil {
		return fmt.Errorf("serve: re-execute %s: %w", bin, err)
	}
	return nil
}
