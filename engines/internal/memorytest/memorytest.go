package memorytest

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/kspbench/kspbench/engines"
)

// fillWasm is testdata/fill.wat, compiled.
//
//go:embed testdata/fill.wasm
var fillWasm []byte

const (
	// grownPages is what each instance grows by: 64 MiB.
	grownPages = 1024
	// instances is how many instances are grown and closed one after the
	// other: together they hold 256 MiB.
	instances = 4
	// slack is what resident memory may stay above the baseline once the
	// instances are closed: less than half of one instance.
	slack = 24 << 20
	// patience bounds how long Returned waits for the memory to come back.
	// It is no assertion on time: an engine that returns memory does so in
	// well under a second; one that does not keeps it for minutes.
	patience = 30 * time.Second
)

// Returned grows instances of a guest to 64 MiB each, all of it resident,
// closes them, and fails unless the process's resident memory comes back to
// near what it was before. It skips where /proc/self/statm is absent.
func Returned(t *testing.T, open func(engines.Config) (engines.Engine, error)) {
	t.Helper()
	if _, err := rss(); err != nil {
		t.Skipf("resident memory is read from /proc/self/statm, absent here: %v", err)
	}
	ctx := context.Background()
	eng, err := open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	mod, err := eng.Compile(ctx, fillWasm, engines.ModuleConfig{MemoryLimitPages: 2 * grownPages})
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)

	// A clean baseline: no garbage, the Go heap's free pages returned.
	runtime.GC()
	debug.FreeOSMemory()
	base, _ := rss()
	for i := range instances {
		in, err := mod.Instantiate(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		stack := []uint64{grownPages}
		if err := in.Function("fill").Call(ctx, stack); err != nil {
			t.Fatal(err)
		}
		if got := int32(uint32(stack[0])); got != grownPages+1 {
			t.Fatalf("instance %d: fill(%d) = %d pages, want %d", i, grownPages, got, grownPages+1)
		}
		// The check is worth something only if the memory was resident.
		if now, _ := rss(); now < base+grownPages*65536*3/4 {
			t.Fatalf("instance %d: resident memory %s after growing 64 MiB, baseline %s: the guest's memory is not resident",
				i, mib(now), mib(base))
		}
		if err := in.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(patience)
	for {
		now, _ := rss()
		if now <= base+slack {
			t.Logf("resident memory %s, baseline %s, after closing %d instances of 64 MiB", mib(now), mib(base), instances)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("resident memory %s, baseline %s, %s after closing %d instances of 64 MiB: their memory was not given back",
				mib(now), mib(base), patience, instances)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rss returns the process's resident set size in bytes.
func rss() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		return 0, fmt.Errorf("/proc/self/statm: %w", err)
	}
	return resident * int64(os.Getpagesize()), nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
