package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/runner"
)

func runWorker(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("engine", "", "engine to serve: one of "+strings.Join(engines.Drivers(), ", "))
	config := fs.String("config", "", "engine configuration to apply to every engine the worker opens (kspbench engines lists them); default: the engine's safe default")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: kspbench worker --engine NAME [--config CONFIG]

Serves one engine over JSON lines on stdin and stdout: the process kspbench run
and go test ./conformance start for each engine. Not for people.

example:
  echo '{"id":1,"op":"hello"}' | kspbench worker --engine wazero

flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("worker: --engine is required")
	}
	id := *name
	if *config != "" {
		id += ":" + *config
	}
	return runner.Serve(ctx, id, stdin, stdout)
}
