package report_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/kspbench/kspbench/internal/report"
)

// A run folder with two engines' results, and what Load and Headline make
// of it.
func Example() {
	dir, err := os.MkdirTemp("", "run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for engine, ns := range map[string][]int{"wazero": {21, 20, 22}, "wasmtime": {2900, 3000, 2950}} {
		var txt string
		txt += "engine: " + engine + "\n"
		for _, v := range ns {
			txt += fmt.Sprintf("BenchmarkCall/op=noop/via=harness 1000000 %d ns/op\n", v)
		}
		if err := os.WriteFile(filepath.Join(dir, engine+".txt"), []byte(txt), 0o644); err != nil {
			log.Fatal(err)
		}
	}

	r, err := report.Load(dir)
	if err != nil {
		log.Fatal(err)
	}
	median, _ := r.Median("wazero", "Call/op=noop/via=harness", "sec/op")
	fmt.Printf("wazero empty call: %.0f ns\n", median*1e9)
	fmt.Print(report.Headline(r))
	// Output:
	// wazero empty call: 21 ns
	// | engine | empty call |
	// |---|---|
	// | wazero | 21.0 ns |
	// | wasmtime | 2.95 µs |
}
