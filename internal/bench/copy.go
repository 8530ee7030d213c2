package bench

import (
	"bytes"
	"context"
	"fmt"

	"github.com/kspbench/kspbench/engines"
)

// CopySizes are the sizes of the memory copy figures.
var CopySizes = []struct {
	Name string
	N    int
}{{"64B", 64}, {"4KiB", 4 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

// Copies measures moving bytes between host and guest memory, both ways, at
// each of CopySizes, through the harness (engines.Memory), through the
// engine's own API, and with Go's copy between two Go slices: the physical
// floor on this machine.
func Copies(_ context.Context, c Config) ([]Sample, error) {
	ctx := context.Background() // as in Calls: no deadline machinery on either path
	fx, err := newCallFixture(ctx, c)
	if err != nil {
		return nil, err
	}
	defer fx.close(ctx)
	max := CopySizes[len(CopySizes)-1].N
	src := make([]byte, max)
	for i := range src {
		src[i] = byte(i*7 + 3)
	}
	dst := make([]byte, max)

	mem := fx.inst.Engine().Memory()
	ptr, err := fx.inst.Allocate(ctx, uint32(max))
	if err != nil {
		return nil, err
	}
	var bptr uint32
	if fx.baseline != nil {
		if bptr, err = fx.baseline.Allocate(ctx, uint32(max)); err != nil {
			return nil, err
		}
	}
	var out []Sample
	for _, size := range CopySizes {
		sz := size.N
		name := func(dir, via string) string {
			return "Copy/dir=" + dir + "/size=" + size.Name + "/via=" + via
		}
		// Check both directions on both paths before timing.
		if err := harnessWrite(mem, ptr, src[:sz]); err != nil {
			return nil, err
		}
		if err := harnessRead(mem, ptr, dst[:sz]); err != nil || !bytes.Equal(dst[:sz], src[:sz]) {
			return nil, fmt.Errorf("bench %s: read back differs (%v)", name("guest-to-host", "harness"), err)
		}
		out = append(out,
			withRate(sz, timed(c, name("host-to-guest", "harness"), func(n int) {
				for range n {
					mem.Write(ptr, src[:sz])
				}
			})),
			withRate(sz, timed(c, name("guest-to-host", "harness"), func(n int) {
				for range n {
					v, _ := mem.Read(ptr, uint32(sz))
					copy(dst, v)
				}
			})))
		if bl := fx.baseline; bl != nil {
			clear(dst)
			if err := bl.Write(bptr, src[:sz]); err != nil {
				return nil, err
			}
			if err := bl.Read(bptr, dst[:sz]); err != nil || !bytes.Equal(dst[:sz], src[:sz]) {
				return nil, fmt.Errorf("bench %s: read back differs (%v)", name("guest-to-host", "engine"), err)
			}
			out = append(out,
				withRate(sz, timed(c, name("host-to-guest", "engine"), func(n int) {
					for range n {
						bl.Write(bptr, src[:sz])
					}
				})),
				withRate(sz, timed(c, name("guest-to-host", "engine"), func(n int) {
					for range n {
						bl.Read(bptr, dst[:sz])
					}
				})))
		}
		floor := withRate(sz, timed(c, name("host-to-guest", "go-copy"), func(n int) {
			for range n {
				copy(dst[:sz], src[:sz])
			}
		}))
		back := floor
		back.Name = name("guest-to-host", "go-copy")
		out = append(out, floor, back)
	}
	return out, nil
}

func harnessWrite(mem engines.Memory, ptr uint32, p []byte) error {
	if !mem.Write(ptr, p) {
		return fmt.Errorf("bench: write of %d bytes at %#x failed", len(p), ptr)
	}
	return nil
}

func harnessRead(mem engines.Memory, ptr uint32, dst []byte) error {
	v, ok := mem.Read(ptr, uint32(len(dst)))
	if !ok {
		return fmt.Errorf("bench: read of %d bytes at %#x failed", len(dst), ptr)
	}
	copy(dst, v)
	return nil
}

// withRate adds the bytes-per-second figure of a sample that moved n bytes
// per op.
func withRate(n int, s Sample) Sample {
	s.Values = append(s.Values, Value{Value: float64(n) / s.Values[0].Value, Unit: "B/s"})
	return s
}
