package baselinetest

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
)

// Open opens the engine under test.
type Open func(engines.Config) (engines.Engine, error)

// Run checks the engine's Baseliner: echo of empty, small and large inputs
// with responses that are copies, calls, memory reads and writes in and out
// of bounds, and Close (idempotent, refusing later use, outliving the engine).
func Run(t *testing.T, open Open) {
	t.Run("Echo", func(t *testing.T) { testEcho(t, open) })
	t.Run("CallsAndMemory", func(t *testing.T) { testCallsAndMemory(t, open) })
	t.Run("Close", func(t *testing.T) { testClose(t, open) })
}

// New opens the engine with open, makes its Baseline of the reference
// guest, and closes both when the test ends.
func New(t testing.TB, open Open) engines.Baseline { return newBaseline(t, open) }

func newBaseline(t testing.TB, open Open) engines.Baseline {
	t.Helper()
	eng, err := open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(context.Background()) })
	bl, ok := eng.(engines.Baseliner)
	if !ok {
		t.Fatalf("engine %s does not implement engines.Baseliner", eng.Info().Name)
	}
	b, err := bl.Baseline(context.Background(), conformance.Guest("reference"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}

// Pattern returns n bytes of a fixed, non-repeating-looking pattern.
func Pattern(n int) []byte { return pattern(n) }

func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return p
}

func testEcho(t *testing.T, open Open) {
	ctx := context.Background()
	b := newBaseline(t, open)
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
func testCallsAndMemory(t *testing.T, open Open) {
	ctx := context.Background()
	b := newBaseline(t, open)
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
func testClose(t *testing.T, open Open) {
	ctx := context.Background()
	eng, err := open(engines.Config{})
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

// Benchmark times the engine's Baseline, the floor the harness is measured
// against (bench.Calls runs the same operations both ways): an empty call, a
// 64-byte echo, and host calls, reported per host call.
func Benchmark(b *testing.B, open Open) {
	bl := newBaseline(b, open)
	ctx := context.Background()
	b.Run("Noop", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := bl.Noop(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Echo64", func(b *testing.B) {
		in := pattern(64)
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if _, err := bl.Echo(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("HostCall", func(b *testing.B) {
		const n = 100
		b.ReportAllocs()
		for b.Loop() {
			if err := bl.CallHost(ctx, n); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/hostcall")
	})
}
