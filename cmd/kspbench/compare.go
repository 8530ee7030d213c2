package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/runner"
	"github.com/kspbench/kspbench/internal/workerbin"
)

// runCompare compares two run folders engine by engine with benchstat's
// statistics: for each engine present in both, old and new samples side by
// side with the change and its p-value.
func runCompare(ctx context.Context, _ io.Reader, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kspbench compare OLD NEW\n\nOLD and NEW are run folders written by kspbench run. For each engine in both, prints\nbenchstat's comparison of OLD/<engine>.txt and NEW/<engine>.txt.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errors.New("compare: want two run folders")
	}
	oldDir, newDir := fs.Arg(0), fs.Arg(1)
	root, rootErr := workerbin.RepoRoot()
	compared := 0
	for _, e := range catalog.Names() {
		oldFile, newFile := filepath.Join(oldDir, e+".txt"), filepath.Join(newDir, e+".txt")
		_, errOld := os.Stat(oldFile)
		_, errNew := os.Stat(newFile)
		if errOld != nil || errNew != nil {
			if errOld == nil || errNew == nil {
				fmt.Fprintf(stdout, "%s: only in one run, not compared\n\n", e)
			}
			continue
		}
		out, err := runner.Benchstat(ctx, root, rootErr, "old="+oldFile, "new="+newFile)
		if err != nil {
			return fmt.Errorf("compare %s: %w", e, err)
		}
		fmt.Fprintf(stdout, "## %s\n\n%s\n", e, out)
		compared++
	}
	if compared == 0 {
		return fmt.Errorf("compare: no engine has results in both %s and %s", oldDir, newDir)
	}
	return nil
}
