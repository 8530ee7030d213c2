package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Generate loads the run folder dir and writes into it summary.md and the
// charts coldstart.svg, call-overhead.svg, copy-bandwidth.svg and
// price-of-safety.svg. A chart
// whose figures the run lacks is not written, and the summary does not link
// it.
//
// # Errors
//
// Those of Load, and of writing the files.
func Generate(dir string) error {
	r, err := Load(dir)
	if err != nil {
		return err
	}
	var c charts
	main := r.fullyMeasured()
	for _, f := range []struct {
		name  string
		svg   []byte
		wrote *bool
	}{
		{coldStartChart, main.coldStartSVG(), &c.coldStart},
		{callOverheadChart, main.callOverheadSVG(), &c.callOverhead},
		{copyBandwidthChart, main.copyBandwidthSVG(), &c.copyBandwidth},
		{priceOfSafetyChart, r.priceOfSafetySVG(), &c.priceOfSafety},
	} {
		if f.svg == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), f.svg, 0o644); err != nil {
			return fmt.Errorf("write chart: %w", err)
		}
		*f.wrote = true
	}
	md := writeSummary(r, c, displayPath(dir))
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte(md), 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// displayPath is dir as the reproduce commands name it: relative to the
// working directory when dir is inside it, as given otherwise.
func displayPath(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		return dir
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return dir
	}
	return rel
}
