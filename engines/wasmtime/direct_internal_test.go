package wasmtime

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
)

// TestVendoredHeaders checks that include/ holds unchanged copies of the C
// API headers of the pinned binding in the module cache.
func TestVendoredHeaders(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), modulePath+"@"+pinnedVersion, "build", "include")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("binding not in the module cache: %v", err)
	}
	n := 0
	err = filepath.WalkDir("include", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".h") {
			return err
		}
		n++
		rel, _ := filepath.Rel("include", path)
		ours, _ := os.ReadFile(path)
		theirs, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			t.Errorf("%s: not in the binding: %v", rel, err)
		} else if !bytes.Equal(ours, theirs) {
			t.Errorf("%s differs from the binding's copy", rel)
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walking include/: %v, %d headers", err, n)
	}
}

// TestDirectAvailable: every C API function the direct variant calls
// resolved at link time.
func TestDirectAvailable(t *testing.T) {
	if !directAvailable() {
		t.Fatal("kspd_available: a weak C API symbol did not resolve")
	}
}

// TestSlotsReused: closing instances frees their slots for the next ones.
func TestSlotsReused(t *testing.T) {
	ctx := context.Background()
	eng, err := Open(engines.Config{Variant: VariantDirect})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	mod, err := eng.Compile(ctx, conformance.Guest("reference"), engines.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	receivers.mu.Lock()
	before := receivers.next
	receivers.mu.Unlock()
	for range 100 {
		in, err := mod.Instantiate(ctx, nopImports{})
		if err != nil {
			t.Fatal(err)
		}
		in.Close(ctx)
	}
	receivers.mu.Lock()
	after := receivers.next
	receivers.mu.Unlock()
	if after-before > 1 {
		t.Errorf("100 instances in turn took %d new slots, want at most 1", after-before)
	}
}

// TestDirectWithoutInstancePre instantiates through the linker each time.
func TestDirectWithoutInstancePre(t *testing.T) {
	usePre = false
	defer func() { usePre = true }()
	ctx := context.Background()
	eng, err := Open(engines.Config{Variant: VariantDirect})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	mod, err := eng.Compile(ctx, conformance.Guest("reference"), engines.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	in, err := mod.Instantiate(ctx, nopImports{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)
	if err := in.Function("call_host").Call(ctx, []uint64{3}); err != nil {
		t.Fatal(err)
	}
	if mod.(*directModule).pre != nil {
		t.Error("an instance_pre was made")
	}
}

// TestDirectGuestAfterClose: a host that kept the abi.Guest of an instance
// and uses it after Close gets failures, not a crash.
func TestDirectGuestAfterClose(t *testing.T) {
	ctx := context.Background()
	eng, err := Open(engines.Config{Variant: VariantDirect})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	mod, err := eng.Compile(ctx, conformance.Guest("reference"), engines.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	in, err := mod.Instantiate(ctx, nopImports{})
	if err != nil {
		t.Fatal(err)
	}
	g := in.(*directInstance)
	if _, err := g.Allocate(ctx, 16); err != nil {
		t.Fatal(err)
	}
	in.Close(ctx)
	if _, ok := g.Read(0, 1); ok {
		t.Error("Read after Close succeeded")
	}
	if g.Write(0, []byte{1}) {
		t.Error("Write after Close succeeded")
	}
	if _, err := g.Allocate(ctx, 16); err == nil {
		t.Error("Allocate after Close succeeded")
	}
	// A host call from a store whose receiver is gone traps.
	if trap := kspdHostForTest(g.slot); trap == "" {
		t.Error("a host call on a released slot did not trap")
	}
}

// BenchmarkCgoCall is a bare Go-to-C call of an empty C function: the floor
// under every direct call.
func BenchmarkCgoCall(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		bareCgoCall()
	}
}

// BenchmarkCgoCallback is a bare C-to-Go call of an empty Go function, made
// 100 times per cgo call: the floor under every direct host call.
func BenchmarkCgoCallback(b *testing.B) {
	const n = 100
	b.ReportAllocs()
	for b.Loop() {
		bareCallbacks(n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/callback")
}

// BenchmarkInstantiate instantiates the reference guest and closes the
// instance, per variant, and on the direct variant with and without its
// per-module wasmtime_instance_pre_t and with wasmtime's pooling allocator.
func BenchmarkInstantiate(b *testing.B) {
	for _, c := range []struct {
		name    string
		variant string
		pre     bool
		pooling bool
	}{{"binding", "", true, false}, {"direct", VariantDirect, true, false},
		{"direct-nopre", VariantDirect, false, false}, {"direct-pooling", VariantDirect, true, true}} {
		b.Run("api="+c.name, func(b *testing.B) {
			usePre, usePooling = c.pre, c.pooling
			defer func() { usePre, usePooling = true, false }()
			ctx := context.Background()
			eng, err := Open(engines.Config{Variant: c.variant})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close(ctx)
			mod, err := eng.Compile(ctx, conformance.Guest("reference"), engines.ModuleConfig{})
			if err != nil {
				b.Fatal(err)
			}
			defer mod.Close(ctx)
			for b.Loop() {
				in, err := mod.Instantiate(ctx, nopImports{})
				if err != nil {
					b.Fatal(err)
				}
				in.Close(ctx)
			}
		})
	}
}
