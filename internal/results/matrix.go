package results

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Outcome is the verdict of one conformance case on one engine.
type Outcome string

// Outcomes.
const (
	Pass        Outcome = "pass"
	Fail        Outcome = "fail"
	Unsupported Outcome = "unsupported"
)

// CaseResult is the outcome of one conformance case.
type CaseResult struct {
	Case     string        `json:"case"`
	Outcome  Outcome       `json:"outcome"`
	Detail   string        `json:"detail,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Recycle asks a process that runs cases to restart before the next case,
	// because this one left work running that only ending the process stops.
	Recycle bool `json:"recycle,omitempty"`
}

// InterruptCases are the conformance cases that end a running call: the ones
// an engine without interruption reports unsupported.
var InterruptCases = []string{"abi/deadline", "abi/cancel"}

// EngineRun is what one engine's process reported about itself, and the
// results of the cases it ran.
type EngineRun struct {
	Engine  string       `json:"engine"`
	Version string       `json:"version"`
	Mode    string       `json:"mode"`
	Notes   string       `json:"notes,omitempty"`
	Results []CaseResult `json:"results"`
}

// Matrix is the conformance matrix: cases as rows, engines as columns.
type Matrix struct {
	Runs []EngineRun `json:"engines"`
	// Cases lists the suite's cases in order, when the writer knew them;
	// otherwise rows follow the order in which the runs report them.
	Cases []string `json:"cases,omitempty"`
}

// cell returns the result of case on engine run i, or false.
func (m *Matrix) cell(i int, name string) (CaseResult, bool) {
	for _, r := range m.Runs[i].Results {
		if r.Case == name {
			return r, true
		}
	}
	return CaseResult{}, false
}

// CaseNames returns the rows of the matrix: Cases when set, else every case
// any run reports, in the order they first appear.
func (m *Matrix) CaseNames() []string {
	if len(m.Cases) > 0 {
		return m.Cases
	}
	var names []string
	for _, run := range m.Runs {
		for _, r := range run.Results {
			if !slices.Contains(names, r.Case) {
				names = append(names, r.Case)
			}
		}
	}
	return names
}

// Failed reports whether any case failed on any engine.
func (m *Matrix) Failed() bool {
	for _, run := range m.Runs {
		for _, r := range run.Results {
			if r.Outcome == Fail {
				return true
			}
		}
	}
	return false
}

// WriteMarkdown writes the matrix as a Markdown table, then the reasons of
// every cell that is not a pass.
func (m *Matrix) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| case |")
	for _, run := range m.Runs {
		fmt.Fprintf(&b, " %s %s |", run.Engine, run.Version)
	}
	b.WriteString("\n|---|")
	for range m.Runs {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	var notes []string
	for _, name := range m.CaseNames() {
		fmt.Fprintf(&b, "| `%s` |", name)
		for i, run := range m.Runs {
			r, ok := m.cell(i, name)
			switch {
			case !ok:
				b.WriteString(" not run |")
			case r.Outcome == Pass:
				b.WriteString(" pass |")
			default:
				n := len(notes) + 1
				fmt.Fprintf(&b, " **%s** [%d] |", r.Outcome, n)
				notes = append(notes, fmt.Sprintf("%d. %s on %s: %s", n, name, run.Engine, oneLine(r.Detail)))
			}
		}
		b.WriteString("\n")
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	b.WriteString("\nEngines as they reported themselves:\n\n")
	for _, run := range m.Runs {
		fmt.Fprintf(&b, "- %s %s, %s", run.Engine, run.Version, run.Mode)
		if run.Notes != "" {
			fmt.Fprintf(&b, " (%s)", run.Notes)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// WriteFiles writes matrix.md and matrix.json into dir.
func (m *Matrix) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var md strings.Builder
	md.WriteString("# Conformance matrix\n\nWritten by the conformance suite (`go test ./conformance`); one process per engine.\n\n")
	if err := m.WriteMarkdown(&md); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "matrix.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "matrix.json"), append(js, '\n'), 0o644)
}
