package host

import (
	"context"
	"testing"

	"github.com/kspbench/kspbench/abi"
)

// sliceGuest is a guest whose memory is a byte slice and whose allocate is a
// bump pointer from 1024, enough to drive abi.HostFuncs without an engine.
type sliceGuest struct {
	mem  []byte
	next uint32
}

func (g *sliceGuest) Read(ptr, n uint32) ([]byte, bool) {
	if abi.CheckRange(ptr, n, uint64(len(g.mem))) != nil {
		return nil, false
	}
	return g.mem[ptr : ptr+n], true
}

func (g *sliceGuest) Write(ptr uint32, p []byte) bool {
	if abi.CheckRange(ptr, uint32(len(p)), uint64(len(g.mem))) != nil {
		return false
	}
	copy(g.mem[ptr:], p)
	return true
}

func (g *sliceGuest) Allocate(_ context.Context, n uint32) (uint32, error) {
	p := g.next
	g.next += n
	return p, nil
}

// put writes s into the guest at ptr and returns its (ptr, len) as stack values.
func (g *sliceGuest) put(ptr uint32, s string) (uint64, uint64) {
	copy(g.mem[ptr:], s)
	return uint64(ptr), uint64(len(s))
}

func hostFunc(t *testing.T, name string) abi.HostFunc {
	t.Helper()
	for _, f := range abi.HostFuncs {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("abi.HostFuncs has no %s", name)
	return abi.HostFunc{}
}

// TestThroughHostFuncs drives Services through the engine-neutral import
// bodies an adapter binds, as a guest would.
func TestThroughHostFuncs(t *testing.T) {
	s := newServices(t, Config{Config: map[string]string{"refresh": "30"}})
	g := &sliceGuest{mem: make([]byte, 4096), next: 1024}
	ctx := context.Background()

	stack := make([]uint64, 4)
	stack[0], stack[1] = g.put(0, "refresh")
	if err := hostFunc(t, abi.ImportGetConfig).Call(ctx, s, g, stack); err != nil {
		t.Fatal(err)
	}
	ptr, n := abi.Unpack(stack[0])
	if got, _ := g.Read(ptr, n); ptr == 0 || string(got) != "30" {
		t.Fatalf("host_get_config(refresh) = ptr %#x %q, want a pointer to %q", ptr, got, "30")
	}

	stack[0], stack[1] = g.put(0, "absent")
	if err := hostFunc(t, abi.ImportGetConfig).Call(ctx, s, g, stack); err != nil {
		t.Fatal(err)
	}
	if stack[0] != abi.PackStatus(abi.NotFound) {
		t.Fatalf("host_get_config(absent) = %#x, want packed NOT_FOUND", stack[0])
	}

	// No storage configured: host_storage_set answers UNAVAILABLE.
	stack[0], stack[1] = g.put(0, "k")
	stack[2], stack[3] = g.put(16, "v")
	if err := hostFunc(t, abi.ImportStorageSet).Call(ctx, s, g, stack); err != nil {
		t.Fatal(err)
	}
	if abi.Status(stack[0]) != abi.Unavailable {
		t.Fatalf("host_storage_set without a store = %s, want UNAVAILABLE", abi.Status(stack[0]))
	}
}
