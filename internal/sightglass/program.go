package sightglass

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Program is one Sightglass benchmark: a WASI command and the folder it
// reads its inputs from.
type Program struct {
	// Name is the wasm file's name without .wasm, or the folder's name when
	// the file is benchmark.wasm (Sightglass's usual name).
	Name string `json:"name"`
	// Wasm is the command's path; Dir its folder, preopened as ".".
	Wasm string `json:"wasm"`
	Dir  string `json:"dir"`
	// Stdout and Stderr are the expected-output files, "" when the folder has
	// none (the output is then not checked, as in Sightglass).
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
}

// Discover lists the programs under root: root's own *.wasm files when it
// has any, else those of each folder directly inside it, sorted by name.
//
// # Errors
//
// Discover fails when it finds no program, or two with the same name.
func Discover(root string) ([]Program, error) {
	progs, err := discoverDir(root)
	if err != nil {
		return nil, err
	}
	if len(progs) == 0 {
		entries, err := os.ReadDir(root)
		if err != nil {
			return nil, fmt.Errorf("sightglass: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			ps, err := discoverDir(filepath.Join(root, e.Name()))
			if err != nil {
				return nil, err
			}
			progs = append(progs, ps...)
		}
	}
	if len(progs) == 0 {
		return nil, fmt.Errorf("sightglass: no *.wasm in %s or in the folders directly inside it", root)
	}
	slices.SortFunc(progs, func(a, b Program) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(progs); i++ {
		if progs[i].Name == progs[i-1].Name {
			return nil, fmt.Errorf("sightglass: two programs named %s: %s and %s", progs[i].Name, progs[i-1].Wasm, progs[i].Wasm)
		}
	}
	return progs, nil
}

func discoverDir(dir string) ([]Program, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.wasm"))
	if err != nil {
		return nil, fmt.Errorf("sightglass: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sightglass: %w", err)
	}
	var progs []Program
	for _, f := range files {
		stem := strings.TrimSuffix(filepath.Base(f), ".wasm")
		p := Program{Name: stem, Wasm: filepath.Join(abs, filepath.Base(f)), Dir: abs,
			Stdout: expected(abs, stem, "stdout"), Stderr: expected(abs, stem, "stderr")}
		if stem == "benchmark" {
			p.Name = filepath.Base(abs)
		}
		progs = append(progs, p)
	}
	return progs, nil
}

// expected returns <dir>/<stem>.<stream>.expected, else
// <dir>/default.<stream>.expected, else "".
func expected(dir, stem, stream string) string {
	for _, name := range []string{stem, "default"} {
		p := filepath.Join(dir, name+"."+stream+".expected")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}
