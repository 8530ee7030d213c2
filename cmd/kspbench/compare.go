package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/kspbench/kspbench/internal/compare"
	"github.com/kspbench/kspbench/internal/runner"
	"github.com/kspbench/kspbench/internal/workerbin"
)

// runCompare compares two runs (or two pools of runs) with benchstat's test:
// the verdict first, then benchstat's tables; it fails when a figure got
// significantly worse beyond the threshold, unless --no-gate.
func runCompare(fs *flag.FlagSet) action {
	var o compare.Options
	fs.Float64Var(&o.Alpha, "alpha", compare.DefaultAlpha, "significance level of the U test (benchstat's -alpha)")
	threshold := fs.Float64("threshold", 100*compare.DefaultThreshold, "smallest change of a median that counts, in percent of the old median")
	markdown := fs.String("markdown", "", "also write the verdict and tables as Markdown to `FILE` (for a CI job summary)")
	noGate := fs.Bool("no-gate", false, "exit 0 even when a figure regressed")
	noTables := fs.Bool("no-tables", false, "print the verdict only, not benchstat's tables")
	list := fs.Int("list", 10, "figures listed per engine and outcome in the verdict, largest change first (0: all)")
	return func(ctx context.Context, inv *invocation) error {
		stdout, stderr := inv.stdout, inv.stderr
		if len(inv.args) != 2 {
			return errors.New("compare: want two run folders, OLD and NEW")
		}
		o.Threshold = *threshold / 100
		if err := o.Validate(); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		old, err := compare.Load(splitDirs(inv.args[0])...)
		if err != nil {
			return fmt.Errorf("compare: old: %w", err)
		}
		new, err := compare.Load(splitDirs(inv.args[1])...)
		if err != nil {
			return fmt.Errorf("compare: new: %w", err)
		}
		res := compare.Compare(old, new, o)
		res.WriteVerdict(stdout, *list)
		var tables string
		if !*noTables {
			root, rootErr := workerbin.RepoRoot()
			out, err := runner.Benchstat(ctx, root, rootErr, res.BenchstatArgs()...)
			if err != nil {
				fmt.Fprintf(stderr, "kspbench compare: no benchstat tables: %v\n", err)
			} else {
				tables = string(out)
				fmt.Fprintf(stdout, "\n%s", tables)
			}
		}
		if *markdown != "" {
			var b bytes.Buffer
			res.WriteMarkdown(&b, tables)
			if err := os.WriteFile(*markdown, b.Bytes(), 0o644); err != nil {
				return fmt.Errorf("compare: --markdown: %w", err)
			}
		}
		if *noGate {
			return nil
		}
		if err := res.Gate(); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		return nil
	}
}

// splitDirs splits a comma-separated list of run folders.
func splitDirs(arg string) []string {
	var dirs []string
	for _, d := range strings.Split(arg, ",") {
		if d = strings.TrimSpace(d); d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

const compareLong = `OLD and NEW are run folders written by kspbench run; a comma-separated list
pools several runs of one side (base and head run alternately in CI). Figures
are matched by engine, engine-config and plugin (from the result files'
configuration, not their names) and by name and unit; the kspbench version
and the engine's version never separate them.

Prints a verdict first: per engine, the figures significantly worse or better
(benchstat's Mann-Whitney U test, x/perf benchmath AssumeNothing, p <= --alpha)
by --threshold percent or more; then benchstat's tables. Exits 1 when any
figure got worse (the regression gate), unless --no-gate.`

const compareExample = `  kspbench compare reports/reference reports/20261129T101500Z
  kspbench compare --markdown summary.md base1,base2 head1,head2
  kspbench compare --no-gate --threshold 10 reports/a reports/b`
