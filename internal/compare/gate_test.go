package compare

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// reference is the committed real run.
const reference = "../../reports/reference"

// copyRun copies a run folder's result files into a new folder, passing each
// line of the file named file through edit.
func copyRun(t *testing.T, src, file string, edit func(line string) string) string {
	t.Helper()
	dst := t.TempDir()
	paths, err := filepath.Glob(filepath.Join(src, "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no result files in %s: %v", src, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) == file {
			lines := strings.Split(string(b), "\n")
			for i, l := range lines {
				lines[i] = edit(l)
			}
			b = []byte(strings.Join(lines, "\n"))
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// doubleFigure doubles the value of unit on the lines of benchmark name.
func doubleFigure(name, unit string) func(string) string { return scaleFigure(name, unit, 2) }

// halveFigure halves it.
func halveFigure(name, unit string) func(string) string { return scaleFigure(name, unit, 0.5) }

func scaleFigure(name, unit string, by float64) func(string) string {
	return func(l string) string {
		f := strings.Fields(l)
		if len(f) < 4 || f[0] != "Benchmark"+name {
			return l
		}
		for i := 2; i+1 < len(f); i += 2 {
			if f[i+1] == unit {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					panic(err)
				}
				f[i] = strconv.FormatFloat(by*v, 'g', -1, 64)
			}
		}
		return strings.Join(f, " ")
	}
}

func gate(t *testing.T, oldDir, newDir string) (*Result, error) {
	t.Helper()
	old, err := Load(oldDir)
	if err != nil {
		t.Fatal(err)
	}
	new, err := Load(newDir)
	if err != nil {
		t.Fatal(err)
	}
	r := Compare(old, new, Options{})
	return r, r.Gate()
}

// TestGateReference plants a regression in a copy of the committed reference
// run: the gate must fail on it and pass on an identical copy.
func TestGateReference(t *testing.T) {
	identical := copyRun(t, reference, "", nil)
	if _, err := gate(t, reference, identical); err != nil {
		t.Errorf("identical copy: Gate() = %v, want nil", err)
	}
	if _, err := gate(t, reference, reference); err != nil {
		t.Errorf("the run with itself: Gate() = %v, want nil", err)
	}

	planted := copyRun(t, reference, "wazero.txt", doubleFigure("Call/op=noop/via=harness", "sec/op"))
	r, err := gate(t, reference, planted)
	if !errors.Is(err, ErrRegression) {
		t.Fatalf("doubled wazero Call/op=noop/via=harness: Gate() = %v, want ErrRegression", err)
	}
	var worse []string
	for _, f := range r.Figures {
		if f.Outcome == Worse {
			worse = append(worse, f.Group.Engine+" "+f.Name+" "+f.Unit)
		}
	}
	if want := "wazero Call/op=noop/via=harness sec/op"; len(worse) != 1 || worse[0] != want {
		t.Errorf("worse figures %q, want only %q", worse, want)
	}

	// Throughput halved is a regression too: higher is better for calls/s.
	slower := copyRun(t, reference, "wasmer.txt", func(l string) string {
		return halveFigure("Throughput/guest=reference/op=echo-64B", "calls/s")(l)
	})
	if _, err := gate(t, reference, slower); !errors.Is(err, ErrRegression) {
		t.Errorf("halved wasmer Throughput calls/s: Gate() = %v, want ErrRegression", err)
	}

	// The same regression, seen from the other side, is an improvement.
	if _, err := gate(t, planted, reference); err != nil {
		t.Errorf("planted run as old: Gate() = %v, want nil", err)
	}
}
