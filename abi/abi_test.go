package abi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/abi"
)

func TestPackUnpack(t *testing.T) {
	for _, c := range []struct{ ptr, n uint32 }{{0, 0}, {1, 2}, {0xffffffff, 0xffffffff}, {0x1000, 0}} {
		p, n := abi.Unpack(abi.Pack(c.ptr, c.n))
		if p != c.ptr || n != c.n {
			t.Errorf("Unpack(Pack(%#x, %d)) = %#x, %d", c.ptr, c.n, p, n)
		}
	}
	if abi.PackStatus(abi.OK) != 0 {
		t.Error("PackStatus(OK) must be 0: present but empty")
	}
	if p, n := abi.Unpack(abi.PackStatus(abi.NotFound)); p != 0 || abi.Status(n) != abi.NotFound {
		t.Errorf("PackStatus(NOT_FOUND) unpacks to %#x, %d", p, n)
	}
}

func ExamplePack() {
	packed := abi.Pack(0x1000, 42)
	fmt.Printf("%#x\n", packed)
	ptr, n := abi.Unpack(packed)
	fmt.Println(ptr, n)
	// Output:
	// 0x10000000002a
	// 4096 42
}

func TestCheckRange(t *testing.T) {
	for _, c := range []struct {
		ptr, n uint32
		size   uint64
		ok     bool
	}{
		{0, 0, 0, true},
		{0, 65536, 65536, true},
		{1, 65536, 65536, false},
		{65536, 0, 65536, true},
		{0xfffffff0, 0x20, 1 << 32, false}, // wraps in 32-bit arithmetic
		{0xffff0000, 16, 65536, false},
	} {
		err := abi.CheckRange(c.ptr, c.n, c.size)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, abi.ErrOutOfBounds)) {
			t.Errorf("CheckRange(%#x, %d, %d) = %v", c.ptr, c.n, c.size, err)
		}
	}
}

func fn(name string, t abi.FuncType) abi.Export {
	return abi.Export{Name: name, Kind: abi.KindFunc, Type: t}
}

func TestExportsCheck(t *testing.T) {
	good := abi.Exports{
		{Name: "memory", Kind: abi.KindMemory},
		fn("allocate", abi.AllocateType),
		fn("handle_x", abi.HandlerType),
	}
	if err := good.Check([]string{"handle_x"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		exports abi.Exports
		target  error
		words   string
	}{
		{"no memory", good[1:], abi.ErrMissingExport, "export[memory]"},
		{"memory is a function", append(abi.Exports{fn("memory", abi.InitializeType)}, good[1:]...), abi.ErrSignature, "export[memory]"},
		{"no allocate", abi.Exports{good[0], good[2]}, abi.ErrMissingExport, "export[allocate]"},
		{"allocate type", abi.Exports{good[0], fn("allocate", abi.HandlerType), good[2]}, abi.ErrSignature, "export[allocate] has type (i32, i32) -> (i64), want (i32) -> (i32)"},
		{"no handler", good[:2], abi.ErrMissingExport, "export[handle_x]"},
		{"handler type", abi.Exports{good[0], good[1], fn("handle_x", abi.AllocateType)}, abi.ErrSignature, "export[handle_x]"},
		{"deallocate type", append(good[:3:3], fn("deallocate", abi.AllocateType)), abi.ErrSignature, "export[deallocate]"},
		{"_initialize type", append(good[:3:3], fn("_initialize", abi.AllocateType)), abi.ErrSignature, "export[_initialize]"},
		{"version 2", append(good[:3:3], fn("ksp_abi_version_2", abi.InitializeType)), abi.ErrVersion, "ksp_abi_version_2"},
		{"two versions", append(good[:3:3], fn("ksp_abi_version_1", abi.InitializeType), fn("ksp_abi_version_1x", abi.InitializeType)), abi.ErrVersion, "two version exports"},
		{"bad version", append(good[:3:3], fn("ksp_abi_version_x", abi.InitializeType)), abi.ErrVersion, "ksp_abi_version_x"},
	} {
		err := c.exports.Check([]string{"handle_x"})
		if !errors.Is(err, c.target) || !strings.Contains(fmt.Sprint(err), c.words) {
			t.Errorf("%s: got %v, want %v mentioning %q", c.name, err, c.target, c.words)
		}
	}
	if v, err := append(good[:3:3], fn("ksp_abi_version_1", abi.InitializeType)).DeclaredVersion(); v != 1 || err != nil {
		t.Errorf("v1 marker: %d %v", v, err)
	}
}

func TestRequiredPermission(t *testing.T) {
	for _, c := range []struct {
		path string
		body int
		want string // "" means denied
	}{
		{"/apis/cluster.open-cluster-management.io/v1/managedclusters", 0, abi.PermReadClusters},
		{"/apis/cluster.open-cluster-management.io/v1/managedclusters/c1", 0, abi.PermReadClusters},
		{"/apis/cluster.open-cluster-management.io/v1/managedclusters", 10, abi.PermWriteClusters},
		{"DELETE /api/v1/nodes/n1", 0, abi.PermWriteClusters},
		{"/api/v1/namespaces", 0, abi.PermReadWorkloads},
		{"/api/v1/namespaces/default/pods?limit=5", 0, abi.PermReadWorkloads},
		{"PATCH /apis/apps/v1/namespaces/x/deployments/y", 2, abi.PermWriteWorkloads},
		{"/apis/control.kubestellar.io/v1alpha1/bindingpolicies", 0, abi.PermReadBindingPolicies},
		{"/version", 0, abi.PermReadClusters},
		{"/api/v1/namespaces/default/secrets", 0, ""},
		{"/apis/rbac.authorization.k8s.io/v1/clusterroles", 0, ""},
		{"/healthz", 0, ""},
	} {
		call, err := abi.ParseK8sCall(c.path, c.body)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		got, err := call.RequiredPermission()
		if c.want == "" {
			if err == nil {
				t.Errorf("%s: granted by %s, want denied", c.path, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %s", c.path, got, err, c.want)
		}
	}
	for _, bad := range []string{"relative/path", "GET", "HEAD /version", "/api/v1/../secrets", "/api/v1/na mespaces"} {
		if _, err := abi.ParseK8sCall(bad, 0); err == nil {
			t.Errorf("ParseK8sCall(%q): no error", bad)
		}
	}
}

func TestLimitsDefaults(t *testing.T) {
	l := abi.Limits{MemoryPages: 64}.WithDefaults()
	if l.MemoryPages != 64 || l.CallTimeout != abi.DefaultLimits.CallTimeout || l.MaxResponseBytes != abi.DefaultLimits.MaxResponseBytes {
		t.Errorf("%+v", l)
	}
}

func TestStatusNames(t *testing.T) {
	if abi.Conflict.String() != "CONFLICT" || abi.Status(99).String() != "STATUS_99" {
		t.Error(abi.Conflict.String(), abi.Status(99).String())
	}
}

// guest is an abi.Guest over a byte slice, with an allocate that can fail.
type guest struct {
	mem      []byte
	next     uint32
	allocate func(n uint32) (uint32, error)
}

func (g *guest) Read(ptr, n uint32) ([]byte, bool) {
	if abi.CheckRange(ptr, n, uint64(len(g.mem))) != nil {
		return nil, false
	}
	return g.mem[ptr : ptr+n], true
}

func (g *guest) Write(ptr uint32, p []byte) bool {
	if abi.CheckRange(ptr, uint32(len(p)), uint64(len(g.mem))) != nil {
		return false
	}
	copy(g.mem[ptr:], p)
	return true
}

func (g *guest) Allocate(_ context.Context, n uint32) (uint32, error) {
	if g.allocate != nil {
		return g.allocate(n)
	}
	p := g.next
	g.next += n
	return p, nil
}

func TestWriteResult(t *testing.T) {
	ctx := context.Background()
	g := &guest{mem: make([]byte, 64), next: 16}
	packed, err := abi.WriteResult(ctx, g, "host_x", []byte("hello"), abi.OK)
	if p, n := abi.Unpack(packed); err != nil || p != 16 || n != 5 || string(g.mem[16:21]) != "hello" {
		t.Errorf("data: %#x %v", packed, err)
	}
	if packed, _ := abi.WriteResult(ctx, g, "host_x", nil, abi.OK); packed != 0 {
		t.Errorf("empty: %#x", packed)
	}
	if packed, _ := abi.WriteResult(ctx, g, "host_x", []byte("x"), abi.NotFound); packed != abi.PackStatus(abi.NotFound) {
		t.Errorf("status: %#x", packed)
	}
	g.allocate = func(uint32) (uint32, error) { return 0, nil }
	if packed, err := abi.WriteResult(ctx, g, "host_x", []byte("x"), abi.OK); err != nil || packed != abi.PackStatus(abi.AllocationFailed) {
		t.Errorf("allocate 0: %#x %v", packed, err)
	}
	g.allocate = func(uint32) (uint32, error) { return 60, nil }
	if _, err := abi.WriteResult(ctx, g, "host_x", []byte("too long"), abi.OK); !errors.Is(err, abi.ErrAllocate) || !strings.Contains(err.Error(), "host_x") {
		t.Errorf("allocate out of range: %v", err)
	}
	trap := errors.New("trap")
	g.allocate = func(uint32) (uint32, error) { return 0, trap }
	if _, err := abi.WriteResult(ctx, g, "host_x", []byte("x"), abi.OK); !errors.Is(err, trap) {
		t.Errorf("allocate traps: %v", err)
	}
}

func TestHostFuncsRejectWildPointers(t *testing.T) {
	g := &guest{mem: make([]byte, 64)}
	for _, hf := range abi.HostFuncs {
		if len(hf.Type.Params) < 2 {
			continue
		}
		stack := make([]uint64, 6)
		stack[0], stack[1] = 60, 100 // a range past the 64-byte memory
		err := hf.Call(context.Background(), nil, g, stack)
		if !errors.Is(err, abi.ErrOutOfBounds) || !strings.Contains(err.Error(), hf.Name) {
			t.Errorf("%s: %v", hf.Name, err)
		}
	}
}
