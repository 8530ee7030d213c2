package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/kspbench/kspbench/internal/report"
)

// runReport writes a run folder's summary.md and charts again from its
// results, for a folder copied from elsewhere or made by an older kspbench.
func runReport(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		stdout := inv.stdout
		if len(inv.args) != 1 {
			return errors.New("report: want one run folder")
		}
		if err := report.Generate(inv.args[0]); err != nil {
			return err
		}
		r, err := report.Load(inv.args[0])
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, report.Headline(r))
		return nil
	}
}

const reportLong = `Writes a run folder's summary.md and charts again from its results (the
benchstat-compatible result files), for a folder copied from elsewhere or made
by an older kspbench, then prints the run's headline.`

const reportExample = `  kspbench report reports/20261129T101500Z`
