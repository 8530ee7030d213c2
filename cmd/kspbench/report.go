package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/kspbench/kspbench/internal/report"
)

// runReport writes a run folder's summary.md and charts again from its
// results, for a folder copied from elsewhere or made by an older kspbench.
func runReport(_ context.Context, _ io.Reader, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("report: want one run folder")
	}
	if err := report.Generate(fs.Arg(0)); err != nil {
		return err
	}
	r, err := report.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, report.Headline(r))
	return nil
}
