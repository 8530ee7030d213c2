package wasmer

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/kspbench/kspbench/engines"
)

// tinyModule exports a memory and an empty function.
var tinyModule = []byte("\x00asm\x01\x00\x00\x00" +
	"\x01\x04\x01\x60\x00\x00" + // type 0: () -> ()
	"\x03\x02\x01\x00" + // function 0 of type 0
	"\x05\x03\x01\x00\x01" + // memory: 1 page
	"\x07\x11\x02\x06memory\x02\x00\x04noop\x00\x00" + // exports
	"\x0a\x04\x01\x02\x00\x0b") // code: empty body

func mappings(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	return bytes.Count(b, []byte("\n"))
}

// compileAndClose compiles tinyModule n times on one engine, closing each
// module, and returns how many memory mappings the process gained.
func compileAndClose(t *testing.T, n int) int {
	ctx := context.Background()
	eng, err := Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	mod, err := eng.Compile(ctx, tinyModule, engines.ModuleConfig{}) // warm up: first engine, signal handlers
	if err != nil {
		t.Fatal(err)
	}
	mod.Close(ctx)
	before := mappings(t)
	for range n {
		mod, err := eng.Compile(ctx, tinyModule, engines.ModuleConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if err := mod.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return mappings(t) - before
}

// TestCompileLeaksWithoutRecycling checks the premise of
// TestCompileMappingsBounded: without recycling, wasmer keeps two mappings
// per compiled module until its engine is freed.
func TestCompileLeaksWithoutRecycling(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/maps")
	}
	defer func(n int) { recycleAfter = n }(recycleAfter)
	recycleAfter = 1 << 30
	const n = 1000
	grew := compileAndClose(t, n)
	t.Logf("%d compiles on one wasmer engine: %+d mappings", n, grew)
	if grew < n {
		t.Errorf("%d compiles without recycling gained only %d mappings: the leak this package works around is gone (or not measured)", n, grew)
	}
}

// TestCompileMappingsBounded compiles a module thousands of times on one
// engine and checks that the mappings stay bounded: the engine recycles its
// wasmer Engine every RecycleAfter compiles and frees the old one.
func TestCompileMappingsBounded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/maps")
	}
	n := 4 * RecycleAfter
	if testing.Short() {
		n = 2 * RecycleAfter
	}
	grew := compileAndClose(t, n)
	t.Logf("%d compiles, recycling every %d: %+d mappings", n, RecycleAfter, grew)
	if limit := 2*RecycleAfter + 200; grew > limit {
		t.Errorf("%d compiles gained %d mappings, more than %d: compiled code is not freed", n, grew, limit)
	}
}

// TestRecycleKeepsOpenModules checks that a module open across recycles
// keeps its wasmer Engine: it still instantiates and runs, and its
// generation is freed only when it is closed.
func TestRecycleKeepsOpenModules(t *testing.T) {
	defer func(n int) { recycleAfter = n }(recycleAfter)
	recycleAfter = 4
	ctx := context.Background()
	opened, err := Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := opened.(*Engine)
	defer e.Close(ctx)
	kept, err := e.Compile(ctx, tinyModule, engines.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	keptGen := kept.(*module).gen
	in, err := kept.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		m, err := e.Compile(ctx, tinyModule, engines.ModuleConfig{})
		if err != nil {
			t.Fatal(err)
		}
		m.Close(ctx)
	}
	if e.recycled < 4 {
		t.Fatalf("%d generations retired after 21 compiles recycling every 4", e.recycled)
	}
	in2, err := kept.Instantiate(ctx, nil)
	if err != nil {
		t.Fatalf("instantiate a module whose engine was retired: %v", err)
	}
	for _, i := range []engines.Instance{in, in2} {
		if err := i.Function("noop").Call(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	check := func(want bool) {
		t.Helper()
		e.mu.Lock()
		defer e.mu.Unlock()
		if !keptGen.retired || keptGen.freed != want {
			t.Errorf("kept module's generation: retired %v, freed %v; want retired, freed %v", keptGen.retired, keptGen.freed, want)
		}
	}
	in.Close(ctx)
	kept.Close(ctx)
	check(false) // in2 is open
	in2.Close(ctx)
	check(true)
}

// TestConcurrentRecycling compiles, instantiates, calls and closes from
// several goroutines while generations are retired under them, for the race
// detector and the reference counts.
func TestConcurrentRecycling(t *testing.T) {
	defer func(n int) { recycleAfter = n }(recycleAfter)
	recycleAfter = 8
	ctx := context.Background()
	opened, err := Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := opened.(*Engine)
	shared, err := e.Compile(ctx, tinyModule, engines.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 40 {
				m, err := e.Compile(ctx, tinyModule, engines.ModuleConfig{})
				if err != nil {
					errs <- err
					return
				}
				for _, mod := range []engines.Module{m, shared} {
					in, err := mod.Instantiate(ctx, nil)
					if err != nil {
						errs <- err
						return
					}
					if err := in.Function("noop").Call(ctx, nil); err != nil {
						errs <- err
						return
					}
					in.Close(ctx)
				}
				m.Close(ctx)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	shared.Close(ctx)
	e.Close(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur != nil || e.recycled < 8*40/recycleAfter {
		t.Errorf("after close: current generation %v, %d retired", e.cur, e.recycled)
	}
}
