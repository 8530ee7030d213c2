package main

import (
	"context"
	"errors"
	"flag"
	"strings"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/runner"
)

func runWorker(fs *flag.FlagSet) action {
	name := fs.String("engine", "", "engine to serve: one of "+strings.Join(engines.Drivers(), ", "))
	config := fs.String("config", "", "engine configuration to apply to every engine the worker opens (kspbench engines lists them); default: the engine's safe default")
	return func(ctx context.Context, inv *invocation) error {
		stdin, stdout := inv.stdin, inv.stdout
		if *name == "" {
			return errors.New("worker: --engine is required")
		}
		id := *name
		if *config != "" {
			id += ":" + *config
		}
		return runner.Serve(ctx, id, stdin, stdout)
	}
}

const workerLong = `Serves one engine over JSON lines on stdin and stdout: the process kspbench run
and go test ./conformance start for each engine. Not for people.`

const workerExample = `  echo '{"id":1,"op":"hello"}' | kspbench worker --engine wazero
  kspbench worker --engine wazero --config no-deadline`
