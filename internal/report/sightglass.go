package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/kspbench/kspbench/internal/results"
)

// familySightglass is the Sightglass workload's figures:
// Sightglass/program=<name>/phase=compile|instantiate|execute.
const familySightglass = results.Sightglass

// sightglassPhases are the phases in the order the summary shows them.
var sightglassPhases = []string{"execute", "compile", "instantiate"}

// sightglassRun reads sightglass.json from the run folder, or returns nil.
func sightglassRun(dir string) *results.SightglassRun {
	b, err := os.ReadFile(filepath.Join(dir, results.SightglassFile))
	if err != nil {
		return nil
	}
	var run results.SightglassRun
	if json.Unmarshal(b, &run) != nil {
		return nil
	}
	return &run
}

// sightglass renders the Sightglass section: per phase, each program's median
// on each engine with its ratio to the fastest engine, and the geometric mean
// of those ratios over the programs every engine ran; then the programs that
// failed or were unsupported somewhere.
func (s *summary) sightglass() {
	r := s.r
	run := sightglassRun(r.Dir)
	programs := r.values(familySightglass, "program")
	if len(programs) == 0 && (run == nil || len(run.Failures) == 0) {
		return
	}
	s.section("Sightglass", "", "")
	src := ""
	if run != nil && run.Source != "" {
		src = " from " + run.Source
	}
	fmt.Fprintf(&s.b, "WASI programs in Sightglass's layout%s, each run from scratch per sample: *compile* (no cache), "+
		"*instantiate* (WASI and imports linked), *execute* (between `bench.start` and `bench.end`). "+
		"Each cell is the median; in brackets, its ratio to the fastest engine's median (1.00× is the fastest). "+
		"The geometric mean is over the programs every engine ran.\n\n", src)
	for _, phase := range sightglassPhases {
		t := table{head: r.engineHead("program")}
		logSum := make([]float64, len(r.Engines))
		n := 0
		for _, p := range programs {
			ms := r.metrics("sec/op", familySightglass, "program", p, "phase", phase)
			if !anyPresent(ms) {
				continue
			}
			s.showAll("sec/op", familySightglass, "program", p, "phase", phase)
			fastest := math.Inf(1)
			all := true
			for _, m := range ms {
				if m == nil || m.Median() <= 0 {
					all = false
					continue
				}
				fastest = min(fastest, m.Median())
			}
			cells := summaryCells(ms, false, false, func(m *Metric) string {
				if m.Median() <= 0 {
					return formatDuration(m.Median())
				}
				return formatDuration(m.Median()) + " (" + sig3ratio(m.Median()/fastest) + ")"
			})
			t.add(append([]string{p}, cells...)...)
			if all {
				n++
				for i, m := range ms {
					logSum[i] += math.Log(m.Median() / fastest)
				}
			}
		}
		if len(t.rows) == 0 {
			continue
		}
		if n > 0 {
			row := []string{fmt.Sprintf("geometric mean of ratios (%d programs)", n)}
			for i := range r.Engines {
				row = append(row, sig3ratio(math.Exp(logSum[i]/float64(n))))
			}
			t.add(row...)
		}
		fmt.Fprintf(&s.b, "### %s\n\n", phase)
		t.write(&s.b)
	}
	if run != nil && len(run.Failures) > 0 {
		s.b.WriteString("Programs that did not pass (no figures on that engine; details in " + results.SightglassFile + "):\n\n")
		t := table{head: []string{"program", "engine", "outcome", "detail"}}
		for _, f := range run.Failures {
			t.add(f.Program, f.Engine, string(f.Outcome), clipDetail(f.Detail))
		}
		t.write(&s.b)
	}
	s.rest(familySightglass)
}

func sig3ratio(v float64) string { return sig3(v) + "×" }

// clipDetail is the first line of a failure's detail, shortened for a table.
func clipDetail(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
