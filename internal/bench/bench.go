package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/requests"
	"github.com/kspbench/kspbench/internal/results"
	"github.com/kspbench/kspbench/plugindir"
)

// Value and Sample are defined in package results, where reports read them.
type (
	Value  = results.Value
	Sample = results.Sample
)

// Config says what a workload runs on.
type Config struct {
	// Open opens the engine under test.
	Open func(engines.Config) (engines.Engine, error)
	// PluginDir is a plugin folder (plugin.yml and its wasm) for the cold
	// start, footprint and throughput workloads.
	PluginDir string
	// Others are further plugin folders that ColdStart, Footprint and
	// Throughput measure beside PluginDir, each as a guest named after its
	// manifest (kspbench run adds the C build of cluster-monitor beside the
	// Go one: see GuestLanguages). They are loaded with their own profile.
	Others []string
	// ABI is the ABI profile the plugin is loaded under: "" or "auto"
	// detects it, else a name of abi.Profiles.
	ABI string
	// Reference is the reference guest's wasm, for calls and copies.
	Reference []byte
	// TempDir holds compilation caches.
	TempDir string
	// BenchTime is how long each timed figure runs per sample; zero means
	// 100ms.
	BenchTime time.Duration
	// Instances is how many instances the footprint workload creates; zero
	// means 10.
	Instances int
	// Only, when set, selects the figures to time by name; a workload skips
	// the others (and their warm-up) where it can, and may still return
	// them where it cannot.
	Only func(name string) bool
	// Requests are the requests of the Route workload; nil means one per
	// route and method of the plugin, with an empty body.
	Requests []requests.Request
}

// wants reports whether the figure called name is to be timed.
func (c Config) wants(name string) bool { return c.Only == nil || c.Only(name) }

// Workload is one family of figures.
type Workload struct {
	Name string
	Doc  string
	Run  func(ctx context.Context, cfg Config) ([]Sample, error)
}

// Workloads lists every workload in a fixed order.
func Workloads() []Workload {
	return []Workload{
		{results.ColdStart, "compile (no cache, warm cache), instantiate, _initialize, first call, time to first response", ColdStart},
		{results.Call, "empty export, handler round trip, guest-to-host call; through the harness and through the engine's API", Calls},
		{results.Copy, "host-to-guest and guest-to-host copies at 64 B to 1 MiB, beside Go's copy", Copies},
		{results.Footprint, "resident memory and linear memory per instance, compiled module size", Footprint},
		{results.Throughput, "calls per second, one instance per goroutine on every core", Throughput},
		{results.Route, "every route of the plugin with the requests of requests.yml: through the harness and the pool, host calls and response size per request", Routes},
	}
}

// Lookup returns the workload called name.
func Lookup(name string) (Workload, bool) {
	for _, w := range Workloads() {
		if w.Name == name {
			return w, true
		}
	}
	return Workload{}, false
}

func (c Config) benchTime() time.Duration {
	if c.BenchTime <= 0 {
		return 100 * time.Millisecond
	}
	return c.BenchTime
}

func (c Config) plugin() (*plugindir.Folder, error) {
	if c.PluginDir == "" {
		return nil, errors.New("bench: Config.PluginDir is empty")
	}
	var forced *abi.Profile
	if c.ABI != "" && c.ABI != "auto" {
		var err error
		if forced, err = abi.ProfileByName(c.ABI); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	}
	return plugindir.ReadWith(c.PluginDir, forced)
}

// plugins returns the plugin of PluginDir, then those of Others.
func (c Config) plugins() ([]*plugindir.Folder, error) {
	f, err := c.plugin()
	if err != nil {
		return nil, err
	}
	out := []*plugindir.Folder{f}
	for _, dir := range c.Others {
		o, err := plugindir.Read(dir)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		out = append(out, o)
	}
	return out, nil
}

// GuestLanguages returns the folders to measure beside the plugin in
// pluginDir so that a report shows what the guest language costs: when it is
// cluster-monitor (the Go plugin), its C build (conformance.WriteClusterMonitorC,
// written under tmp); otherwise none.
func GuestLanguages(pluginDir, tmp string) ([]string, error) {
	if pluginDir == "" {
		return nil, nil
	}
	f, err := plugindir.Read(pluginDir)
	if err != nil || f.Manifest.Metadata.Name != "cluster-monitor" {
		return nil, nil // the workloads report the plugin's own problems
	}
	dir, err := conformance.WriteClusterMonitorC(tmp)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return []string{dir}, nil
}

func (c Config) cacheDir(name string) string { return filepath.Join(c.TempDir, "cache-"+name) }

// timed runs body(n) for about the configured time and returns its sample:
// seconds per op, and the Go heap's bytes and allocations per op. (B/op
// counts only the Go heap: memory a cgo engine allocates in C is not in it.)
func timed(c Config, name string, body func(n int)) Sample {
	d := c.benchTime()
	r := measureFrom(d, startOf(name), body)
	remember(name, d, r)
	return r.sample(name)
}

// timedOrFailed is timed for a body that can fail: the first error (or panic)
// of body ends the figure, and timedOrFailed returns it, wrapped with the
// figure's name, instead of a sample timed on failures. A failed figure's n
// is not remembered for the next sample.
func timedOrFailed(c Config, name string, body func(n int) error) (Sample, error) {
	var failed error
	run := func(n int) {
		if failed != nil {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				failed = fmt.Errorf("panic: %v", r)
			}
		}()
		failed = body(n)
	}
	d := c.benchTime()
	r := measureFrom(d, startOf(name), run)
	if failed != nil {
		return Sample{}, fmt.Errorf("bench %s: %w", name, failed)
	}
	remember(name, d, r)
	return r.sample(name), nil
}

// FiguresFailed is the error of a workload some of whose figures failed
// while timed (timedOrFailed): the workload returns it beside the samples of
// the figures that did not fail, and the run goes on without the failed
// ones, which its summary lists.
type FiguresFailed struct {
	Failures []results.Failure
}

func (e *FiguresFailed) Error() string {
	msg := ""
	for i, f := range e.Failures {
		if i > 0 {
			msg += "; "
		}
		msg += f.Figure + ": " + f.Error
	}
	return fmt.Sprintf("%d figure(s) failed while timed and are left out: %s", len(e.Failures), msg)
}

// failures collects the figures of a workload that failed while timed.
type failures []results.Failure

// add records err, timedOrFailed's error for figure: its cause, without the
// figure's name that Failure.Figure holds, on one line.
func (fs *failures) add(figure string, err error) {
	msg := strings.TrimPrefix(err.Error(), "bench "+figure+": ")
	*fs = append(*fs, results.Failure{Figure: figure, Error: oneLine(msg)})
}

// err returns nil when no figure failed, else a *FiguresFailed.
func (fs failures) err() error {
	if len(fs) == 0 {
		return nil
	}
	return &FiguresFailed{Failures: fs}
}

// oneLine keeps the first line of s.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func seconds(d time.Duration) Value { return Value{Value: d.Seconds(), Unit: "sec/op"} }

// check turns an unexpected answer into an error naming the figure.
func check(figure string, got, want []byte, err error) error {
	if err != nil {
		return fmt.Errorf("bench %s: %w", figure, err)
	}
	if string(got) != string(want) {
		return fmt.Errorf("bench %s: got %d bytes %.40q, want %d bytes %.40q: not timing a wrong answer", figure, len(got), got, len(want), want)
	}
	return nil
}
