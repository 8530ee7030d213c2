// Package report turns the run folder that `kspbench run` writes into what a
// person reads: summary.md, with tables of medians and their 95% confidence
// intervals, the conformance matrix and an evidence-based note on picking an
// engine, and three SVG charts (coldstart.svg, call-overhead.svg,
// copy-bandwidth.svg) that render on GitHub without any dependency.
//
// A run folder holds one `<engine>.txt` per engine in the Go benchmark format,
// and optionally conformance.json (a results.Matrix) and run.json (a
// RunInfo). Load parses it into a Run; Generate writes the report beside the
// inputs; Headline renders the compact table of the project README.
//
// # Notes
//
// Results are grouped by the `engine` file configuration key (the file name
// when the key is absent), which is what `benchstat -col engine` compares, so
// the report and benchstat always agree on which sample belongs to which
// engine. Medians and intervals are benchmath.AssumeNothing at 0.95, as
// benchstat computes them; a figure is called a win or a loss only when the
// intervals do not overlap.
package report
