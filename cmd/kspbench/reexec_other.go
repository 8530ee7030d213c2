//go:build !unix

package main

import (
	"fmt"
	"os"
	"os/exec"
)

// reexecServe runs `bin serve args...` as a child with this process's
// standard streams and waits for it (this system has no exec(2)).
func reexecServe(bin string, args, env []string) error {
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = os.Stdin, os.Stdout, os.Stderr, env
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("serve: %s: %w", bin, err)
	}
	return nil
}
