package bench

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/plugin"
	"github.com/kspbench/kspbench/plugindir"
)

// Footprint measures what instances cost in memory: the process's resident
// memory per instance when N instances of the plugin are alive (each having
// served one call), their linear memory, and the size of the compiled module
// as the engine's cache stores it on disk.
//
// # Notes
//
// B/op from Go benchmarks counts only the Go heap, so it misses what a cgo
// engine allocates in C; resident memory (RSS, from /proc/self/statm) counts
// both, which is why footprint is reported in it.
func Footprint(ctx context.Context, c Config) ([]Sample, error) {
	folders, err := c.plugins()
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, f := range folders {
		s, err := footprint(ctx, c, f)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

func footprint(ctx context.Context, c Config, f *plugindir.Folder) ([]Sample, error) {
	n := c.Instances
	if n <= 0 {
		n = 10
	}
	guest := f.Manifest.Metadata.Name
	eng, err := c.Open(engines.Config{CacheDir: c.cacheDir(guest)})
	if err != nil {
		return nil, err
	}
	defer eng.Close(ctx)
	p, err := f.Load(ctx, eng, plugindir.Options{Logger: quiet, Storage: storage.NewMemory(), MaxInstances: n})
	if err != nil {
		return nil, err
	}
	defer p.Close(ctx)
	call := firstRouteCall(f)

	before, err := settledRSS()
	if err != nil {
		return nil, err
	}
	insts := make([]*plugin.Instance, 0, n)
	defer func() {
		for _, i := range insts {
			i.Close(ctx)
		}
	}()
	var linear uint64
	for range n {
		i, err := p.NewInstance(ctx)
		if err != nil {
			return nil, err
		}
		insts = append(insts, i)
		if err := call(ctx, i); err != nil {
			return nil, err
		}
		linear += i.Engine().Memory().Size()
	}
	after, err := settledRSS()
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("Footprint/guest=%s/instances=%d", guest, n)
	out := []Sample{{Name: name, Iters: n, Values: []Value{
		{Value: float64(after-before) / float64(n), Unit: "rss-B/instance"},
		{Value: float64(linear) / float64(n), Unit: "linear-B/instance"},
	}}}

	// The module as shipped, beside what the engine makes of it: the guest
	// language's share of the footprint.
	out = append(out, Sample{Name: "Footprint/guest=" + guest + "/what=module", Iters: 1, Values: []Value{{Value: float64(len(f.Wasm)), Unit: "B"}}})

	// The compiled module as the engine's cache keeps it: the cache folder
	// of this guest holds that one module (ColdStart and this workload
	// compile it with the same settings).
	size, err := dirSize(c.cacheDir(guest))
	if err != nil {
		return nil, err
	}
	if size > 0 {
		out = append(out, Sample{Name: "Footprint/guest=" + guest + "/what=compiled", Iters: 1, Values: []Value{{Value: float64(size), Unit: "B"}}})
	}
	return out, nil
}

// settledRSS returns the resident set size after the Go heap has been
// collected and returned to the system, so that garbage does not count.
func settledRSS() (uint64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	return RSS()
}

// RSS returns the process's resident set size in bytes (Linux).
func RSS() (uint64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("bench: resident memory: %w (only Linux is supported)", err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("bench: /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, err
	}
	return pages * uint64(os.Getpagesize()), nil
}

func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	return total, err
}
