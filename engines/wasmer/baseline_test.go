package wasmer_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"runtime"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wasmer"
)

func newBaseline(tb testing.TB, cfg engines.Config) engines.Baseline {
	tb.Helper()
	eng := open(tb, cfg)
	bl, ok := eng.(engines.Baseliner)
	if !ok {
		tb.Fatal("the wasmer engine does not implement engines.Baseliner")
	}
	b, err := bl.Baseline(context.Background(), conformance.Guest("reference"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close(context.Background()) })
	return b
}

func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return p
}

func TestBaselineEcho(t *testing.T) {
	ctx := context.Background()
	b := newBaseline(t, engines.Config{})
	// 300,000 bytes grows the reference guest's memory past its two pages.
	for _, n := range []int{0, 64, 70000, 300000, 64} {
		in := pattern(n)
		for range 3 { // the guest's arena is reset by every call
			out, err := b.Echo(ctx, in)
			if err != nil {
				t.Fatalf("Echo(%d bytes): %v", n, err)
			}
			if out == nil || !bytes.Equal(out, in) {
				t.Fatalf("Echo(%d bytes) returned %d bytes (nil: %t), not the input", n, len(out), out == nil)
			}
		}
	}
	// The response is a copy: the next call does not change it.
	first, err := b.Echo(ctx, []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Echo(ctx, []byte("SECOND")); err != nil {
		t.Fatal(err)
	}
	if string(first) != "first" {
		t.Errorf("an earlier response changed to %q", first)
	}
}

func TestBaselineCallsAndMemory(t *testing.T) {
	ctx := context.Background()
	b := newBaseline(t, engines.Config{})
	if err := b.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint32{0, 1, 100} {
		if err := b.CallHost(ctx, n); err != nil {
			t.Fatalf("CallHost(%d): %v", n, err)
		}
	}
	ptr, err := b.Allocate(ctx, 64)
	if err != nil || ptr == 0 {
		t.Fatalf("Allocate(64) = %#x, %v", ptr, err)
	}
	in, out := pattern(64), make([]byte, 64)
	if err := b.Write(ptr, in); err != nil {
		t.Fatal(err)
	}
	if err := b.Read(ptr, out); err != nil || !bytes.Equal(in, out) {
		t.Fatalf("read back %x, %v; wrote %x", out, err, in)
	}
	// The reference guest starts with two pages and has not grown.
	const size = 2 * abi.PageSize
	for _, c := range []struct {
		ptr uint32
		n   int
	}{{size - 4, 8}, {size, 1}, {math.MaxUint32, 2}, {math.MaxUint32 - 3, 8}} {
		if err := b.Write(c.ptr, make([]byte, c.n)); !errors.Is(err, abi.ErrOutOfBounds) {
			t.Errorf("Write(%#x, %d bytes) = %v, want abi.ErrOutOfBounds", c.ptr, c.n, err)
		}
		if err := b.Read(c.ptr, make([]byte, c.n)); !errors.Is(err, abi.ErrOutOfBounds) {
			t.Errorf("Read(%#x, %d bytes) = %v, want abi.ErrOutOfBounds", c.ptr, c.n, err)
		}
	}
	// The last bytes of memory and an empty range at its end are in bounds.
	if err := b.Write(size-8, in[:8]); err != nil {
		t.Errorf("Write at the end of memory: %v", err)
	}
	if err := b.Read(size-8, out[:8]); err != nil || !bytes.Equal(out[:8], in[:8]) {
		t.Errorf("Read at the end of memory: %x, %v", out[:8], err)
	}
	if err := b.Read(size, nil); err != nil {
		t.Errorf("empty Read at the end of memory: %v", err)
	}
}

func TestBaselineClose(t *testing.T) {
	ctx := context.Background()
	eng, err := wasmer.Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	b, err := eng.(engines.Baseliner).Baseline(ctx, conformance.Guest("reference"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	// The baseline has an engine of its own: it outlives the adapter's.
	if err := eng.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.CallHost(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := b.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if err := b.Noop(ctx); err == nil {
		t.Error("Noop after Close succeeded")
	}
	if _, err := b.Echo(ctx, nil); err == nil {
		t.Error("Echo after Close succeeded")
	}
	if _, err := b.Echo(ctx, []byte("x")); err == nil {
		t.Error("Echo after Close succeeded")
	}
	if err := b.Write(4096, []byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
	if _, err := eng.(engines.Baseliner).Baseline(ctx, conformance.Guest("reference")); err == nil {
		t.Error("Baseline on a closed engine succeeded")
	}
}

func TestBaselineRefusesOtherGuests(t *testing.T) {
	eng := open(t, engines.Config{})
	b, err := eng.(engines.Baseliner).Baseline(context.Background(), conformance.Guest("abi_v1"))
	if err == nil {
		b.Close(context.Background())
		t.Fatal("Baseline accepted a guest that is not the reference guest")
	}
}

// TestBaselineHostCallLeak measures what wasmer-go leaks per host call, a
// cost of the binding that the baseline keeps (see Baseline): it logs the
// growth of resident memory over 200,000 host calls.
func TestBaselineHostCallLeak(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/statm")
	}
	if testing.Short() {
		t.Skip("200,000 host calls")
	}
	ctx := context.Background()
	b := newBaseline(t, engines.Config{})
	if err := b.CallHost(ctx, 1000); err != nil { // warm up
		t.Fatal(err)
	}
	runtime.GC()
	before := rss(t)
	const n = 200_000
	for range n / 1000 {
		if err := b.CallHost(ctx, 1000); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	grew := rss(t) - before
	t.Logf("%d host calls of host_get_config (2 arguments, 1 result) through wasmer-go: resident memory %+d KiB, %.0f bytes a call",
		n, grew>>10, float64(grew)/n)
}
