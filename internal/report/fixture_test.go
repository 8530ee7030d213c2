package report

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/kspbench/kspbench/internal/results"
)

// fixtureEngine is what the fixture writes for one engine: its identity and
// the typical value of each figure, close to what NOTES.md measured.
type fixtureEngine struct {
	name, version, mode, notes string
	binary, library            int64
	// base scales the per-call and per-copy costs.
	callNS, echoNS, hostNS float64 // engine API, ns
	copyFixedNS, copyGBps  float64
	coldCM                 [7]float64 // cluster-monitor phases, seconds, in knownOrder["phase"] order
	coldRef                [7]float64
	rss                    [3]float64 // MiB per instance at 1, 10, 100 instances
	compiledCM, compiledRf float64    // bytes
	tputRef, tputCM        float64    // calls/s
	allocsPerCall          float64
	http                   bool
	loopNS, routeNS        float64 // loop_n(10000) and GET /status through the harness, ns
	// unguarded divides the price-of-safety figures (noop, hostcall, loop,
	// route) for the engine's no-deadline configuration, which the fixture
	// writes, as a default run does, when it is not zero.
	unguarded [4]float64
	// direct divides the binding-cost figures (noop, echo-64B, hostcall,
	// through the harness and the engine API) for the engine's direct
	// configuration, which the fixture writes, as a default run does, when
	// it is not zero.
	direct [3]float64
}

var fixtureEngines = []fixtureEngine{
	{
		name: "wazero", version: "v1.12.0", mode: "compiler", binary: 14_900_000,
		callNS: 19, echoNS: 80, hostNS: 38, copyFixedNS: 10, copyGBps: 20,
		coldCM:     [7]float64{0.72, 0.032, 0.0009, 0.0022, 45e-6, 0.0352, 0.723},
		coldRef:    [7]float64{0.0021, 0.0009, 40e-6, 1e-6, 3e-6, 0.00095, 0.0022},
		rss:        [3]float64{5.1, 3.5, 3.2},
		compiledCM: 9.1 * (1 << 20), compiledRf: 12 << 10,
		tputRef: 12e6, tputCM: 180e3, http: true,
		loopNS: 240_000, routeNS: 27_100, unguarded: [4]float64{16, 1.6, 9, 3.3},
	},
	{
		name: "wasmtime", version: "v39.0.1", mode: "cranelift", binary: 43_500_000,
		callNS: 2900, echoNS: 3300, hostNS: 334, copyFixedNS: 163, copyGBps: 18,
		coldCM:     [7]float64{0.66, 0.0030, 0.00012, 0.00039, 60e-6, 0.0036, 0.661},
		coldRef:    [7]float64{0.0045, 0.00025, 35e-6, 1e-6, 8e-6, 0.0003, 0.0046},
		rss:        [3]float64{2.0, 1.3, 1.2},
		compiledCM: 6.2 * (1 << 20), compiledRf: 40 << 10,
		tputRef: 300e3, tputCM: 90e3, http: true,
		loopNS: 9_000, routeNS: 31_000, unguarded: [4]float64{1.04, 1.02, 1.35, 1.08},
		direct: [3]float64{20, 15, 9},
	},
	{
		name: "wasmer", version: "v1.0.4", mode: "cranelift", notes: "Wasmer 2.0; libwasmer.so loaded from the module cache",
		binary: 9_800_000, library: 21_300_000,
		callNS: 1300, echoNS: 1800, hostNS: 336, copyFixedNS: 91, copyGBps: 19,
		coldCM:     [7]float64{0.80, 0.0043, 0.0016, 0.0026, 62e-6, 0.0086, 0.804},
		coldRef:    [7]float64{0.006, 0.0004, 120e-6, 1e-6, 10e-6, 0.0005, 0.0062},
		rss:        [3]float64{2.4, 1.6, 1.5},
		compiledCM: 7.4 * (1 << 20), compiledRf: 30 << 10,
		tputRef: 600e3, tputCM: 70e3, allocsPerCall: 6,
		loopNS: 7_500, routeNS: 33_000,
	},
}

// fixtureWriter writes one engine's results with benchfmt, with noise drawn
// from a generator seeded by the benchmark's name, so every run of the
// fixture writes the same bytes.
type fixtureWriter struct {
	t      testing.TB
	engine string
	w      *benchfmt.Writer
	cfg    []benchfmt.Config
	n      int
}

func (fw *fixtureWriter) write(name string, iters int, spread float64, units []string, values ...float64) {
	h := fnv.New64a()
	h.Write([]byte(fw.engine + "/" + name))
	rng := rand.New(rand.NewPCG(1, h.Sum64()))
	n := fw.n
	if spread == 0 {
		n = 1
	}
	for range n {
		f := math.Exp(spread * rng.NormFloat64())
		if rng.IntN(10) == 0 {
			f *= 1 + 4*spread // an outlier now and then, as real runs have
		}
		res := &benchfmt.Result{Config: fw.cfg, Name: benchfmt.Name(name), Iters: iters}
		for i, u := range units {
			v := values[i]
			switch u {
			case "B/s", "calls/s":
				v /= f
			case "B", "allocs/op", "B/op", "linear-B/instance":
			default:
				v *= f
			}
			res.Values = append(res.Values, benchfmt.Value{Value: float64(float32(v)), Unit: u})
		}
		if err := fw.w.Write(res); err != nil {
			fw.t.Fatal(err)
		}
	}
}

// writeFixture writes a run folder into dir: one results file per engine of
// engines, and, when full, conformance.json and run.json.
func writeFixture(t testing.TB, dir string, engines []string, full bool) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const count = 10
	var infos []EngineInfo
	var matrix results.Matrix
	for _, fe := range fixtureEngines {
		if !slices.Contains(engines, fe.name) {
			continue
		}
		f, err := os.Create(filepath.Join(dir, fe.name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		fileCfg := func(config string) []benchfmt.Config {
			return []benchfmt.Config{
				{Key: "goos", Value: []byte("linux"), File: true},
				{Key: "goarch", Value: []byte("amd64"), File: true},
				{Key: "pkg", Value: []byte("github.com/kspbench/kspbench/bench"), File: true},
				{Key: "cpu", Value: []byte("AMD EPYC 7B13"), File: true},
				{Key: "engine", Value: []byte(fe.name), File: true},
				{Key: "engine-config", Value: []byte(config), File: true},
				{Key: "engine-version", Value: []byte(fe.version), File: true},
				{Key: "engine-mode", Value: []byte(fe.mode), File: true},
				{Key: "kspbench-version", Value: []byte("v0.1.0"), File: true},
			}
		}
		cfg := fileCfg("default")
		if fe.notes != "" {
			cfg = append(cfg, benchfmt.Config{Key: "engine-notes", Value: []byte(fe.notes), File: true})
		}
		fw := &fixtureWriter{t: t, engine: fe.name, w: benchfmt.NewWriter(f), cfg: cfg, n: count}
		sec := []string{"sec/op"}
		for i, p := range knownOrder["phase"] {
			fw.write("ColdStart/guest=cluster-monitor/phase="+p, 1, 0.04, sec, fe.coldCM[i])
		}
		for i, p := range knownOrder["phase"] {
			fw.write("ColdStart/guest=reference/phase="+p, 1, 0.05, sec, fe.coldRef[i])
		}
		for _, op := range []struct {
			name string
			ns   float64
		}{{"noop", fe.callNS}, {"echo-64B", fe.echoNS}, {"hostcall", fe.hostNS}} {
			harness := op.ns*1.04 + 1.5
			fw.write("Call/op="+op.name+"/via=harness", int(1e9/harness/4), 0.015,
				[]string{"sec/op", "B/op", "allocs/op"}, harness*1e-9, 8*fe.allocsPerCall, fe.allocsPerCall)
			fw.write("Call/op="+op.name+"/via=engine", int(1e9/op.ns/4), 0.015, sec, op.ns*1e-9)
		}
		// The price-of-safety figures beyond noop and hostcall.
		safety := func(fw *fixtureWriter, div [4]float64) {
			fw.write("Call/op=loop-10k/via=harness", int(1e9/fe.loopNS/4), 0.02, sec, fe.loopNS/div[2]*1e-9)
			fw.write("Call/guest=cluster-monitor/op=get-status/via=harness", int(1e9/fe.routeNS/4), 0.02, sec, fe.routeNS/div[3]*1e-9)
			fw.write("Call/guest=cluster-monitor/op=get-data/via=harness", int(1e9/fe.routeNS/4), 0.02, sec, 1.1*fe.routeNS/div[3]*1e-9)
		}
		safety(fw, [4]float64{1, 1, 1, 1})
		for _, dir := range knownOrder["dir"] {
			for _, size := range []struct {
				name  string
				bytes float64
			}{{"64B", 64}, {"4KiB", 4 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}} {
				for _, via := range []struct {
					name          string
					fixed, perGBs float64
				}{{"harness", fe.copyFixedNS * 1.03, fe.copyGBps * 0.97}, {"engine", fe.copyFixedNS, fe.copyGBps}, {"go-copy", 3, 22}} {
					ns := via.fixed + size.bytes/via.perGBs
					fw.write("Copy/dir="+dir+"/size="+size.name+"/via="+via.name, int(1e9/ns/4), 0.02,
						[]string{"sec/op", "B/s"}, ns*1e-9, size.bytes/(ns*1e-9))
				}
			}
		}
		for i, n := range []string{"1", "10", "100"} {
			fw.write("Footprint/guest=cluster-monitor/instances="+n, 1, 0.01,
				[]string{"rss-B/instance", "linear-B/instance"}, fe.rss[i]*(1<<20), 2.19*(1<<20))
		}
		fw.write("Footprint/guest=cluster-monitor/what=compiled", 1, 0, []string{"B"}, fe.compiledCM)
		fw.write("Footprint/guest=reference/what=compiled", 1, 0, []string{"B"}, fe.compiledRf)
		fw.write("Footprint/what=binary", 1, 0, []string{"B"}, float64(fe.binary+fe.library))
		fw.write("Throughput/guest=cluster-monitor/op=status", 1, 0.03, []string{"calls/s"}, fe.tputCM)
		fw.write("Throughput/guest=reference/op=echo-64B", 1, 0.03, []string{"calls/s"}, fe.tputRef)
		if fe.http {
			fw.write("HTTP/route=status/clients=8", 1, 0.05, []string{"req/s", "p50-sec", "p99-sec"}, fe.tputCM/3, 40e-6, 0.0011)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		infos = append(infos, EngineInfo{Name: fe.name, Version: fe.version, Mode: fe.mode, Notes: fe.notes,
			BinaryBytes: fe.binary, LibraryBytes: fe.library})
		run := results.EngineRun{Engine: fe.name, Version: fe.version, Mode: fe.mode, Notes: fe.notes}
		for _, c := range fixtureCases {
			res := results.CaseResult{Case: c, Outcome: results.Pass, Duration: 20 * time.Millisecond}
			if fe.name == "wasmer" && (c == "abi/deadline" || c == "abi/cancel") {
				res.Outcome = results.Unsupported
				res.Detail = "wasmer-go v1.0.4 exposes no way to interrupt a running call"
			}
			run.Results = append(run.Results, res)
		}
		matrix.Runs = append(matrix.Runs, run)
		if full && fe.direct[0] != 0 {
			// The engine's direct configuration, as a default run adds it:
			// the binding-cost figures and the interrupt cases only.
			g, err := os.Create(filepath.Join(dir, fe.name+"-direct.txt"))
			if err != nil {
				t.Fatal(err)
			}
			notes := "direct configuration: libwasmtime through its C API"
			gw := &fixtureWriter{t: t, engine: fe.name + ":direct", w: benchfmt.NewWriter(g),
				cfg: append(fileCfg("direct"), benchfmt.Config{Key: "engine-notes", Value: []byte(notes), File: true}), n: count}
			for i, op := range []struct {
				name string
				ns   float64
			}{{"noop", fe.callNS}, {"echo-64B", fe.echoNS}, {"hostcall", fe.hostNS}} {
				harness := (op.ns*1.04 + 1.5) / fe.direct[i]
				gw.write("Call/op="+op.name+"/via=harness", int(1e9/harness/4), 0.015,
					[]string{"sec/op", "B/op", "allocs/op"}, harness*1e-9, 0, 0)
				gw.write("Call/op="+op.name+"/via=engine", int(1e9/op.ns/4), 0.015, sec, op.ns/fe.direct[i]*1e-9)
			}
			if err := g.Close(); err != nil {
				t.Fatal(err)
			}
			infos = append(infos, EngineInfo{Name: fe.name + ":direct", Engine: fe.name, Config: "direct", Version: fe.version,
				Mode: fe.mode, Notes: notes, BinaryBytes: fe.binary, LibraryBytes: fe.library, BindingOnly: true})
			drun := results.EngineRun{Engine: fe.name + ":direct", Version: fe.version, Mode: fe.mode, Notes: notes}
			for _, c := range []string{"abi/deadline", "abi/cancel"} {
				drun.Results = append(drun.Results, results.CaseResult{Case: c, Outcome: results.Pass, Duration: 100 * time.Millisecond})
			}
			matrix.Runs = append(matrix.Runs, drun)
		}
		if !full || fe.unguarded[0] == 0 {
			continue
		}
		// The engine's no-deadline configuration, as a default run adds it:
		// the price-of-safety figures and the interrupt cases only.
		g, err := os.Create(filepath.Join(dir, fe.name+"-no-deadline.txt"))
		if err != nil {
			t.Fatal(err)
		}
		notes := "no-deadline configuration: a looping guest hangs the call"
		gcfg := append(fileCfg("no-deadline"), benchfmt.Config{Key: "engine-notes", Value: []byte(notes), File: true})
		gw := &fixtureWriter{t: t, engine: fe.name + ":no-deadline", w: benchfmt.NewWriter(g), cfg: gcfg, n: count}
		for i, op := range []struct {
			name string
			ns   float64
		}{{"noop", fe.callNS}, {"hostcall", fe.hostNS}} {
			harness := (op.ns*1.04 + 1.5) / fe.unguarded[i]
			gw.write("Call/op="+op.name+"/via=harness", int(1e9/harness/4), 0.015,
				[]string{"sec/op", "B/op", "allocs/op"}, harness*1e-9, 8*fe.allocsPerCall, fe.allocsPerCall)
		}
		safety(gw, fe.unguarded)
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		infos = append(infos, EngineInfo{Name: fe.name + ":no-deadline", Engine: fe.name, Config: "no-deadline", Version: fe.version,
			Mode: fe.mode, Notes: notes, BinaryBytes: fe.binary, LibraryBytes: fe.library, SafetyOnly: true})
		urun := results.EngineRun{Engine: fe.name + ":no-deadline", Version: fe.version, Mode: fe.mode, Notes: notes}
		for _, c := range []string{"abi/deadline", "abi/cancel"} {
			urun.Results = append(urun.Results, results.CaseResult{Case: c, Outcome: results.Unsupported, Duration: 100 * time.Millisecond,
				Detail: notes + "; the host answered at the deadline and abandoned the instance, whose guest code still runs until the process ends"})
		}
		matrix.Runs = append(matrix.Runs, urun)
	}
	if !full {
		return
	}
	info := RunInfo{
		Name:     "example",
		Started:  time.Date(2026, 9, 10, 14, 0, 0, 0, time.UTC),
		Finished: time.Date(2026, 9, 10, 14, 41, 7, 0, time.UTC),
		Count:    count, Seed: 1,
		Machine: Machine{CPU: "AMD EPYC 7B13", Cores: 2, GOOS: "linux", GOARCH: "amd64", Go: "go1.26.8"},
		Engines: infos,
		Command: "go run ./cmd/kspbench run --count 10 --seed 1 --out reports/example",
	}
	writeJSON(t, filepath.Join(dir, RunInfoFile), info)
	writeJSON(t, filepath.Join(dir, ConformanceFile), matrix)
}

// fixtureCases are the conformance cases the fixture reports: a fixed list,
// so the fixture does not change when the suite gains a case.
var fixtureCases = []string{
	"engine/identity", "engine/compilation-cache", "load/malformed-wasm", "load/missing-allocate",
	"abi/trap", "abi/deadline", "abi/cancel", "abi/memory-limit", "plugin/status", "plugin/concurrent",
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
