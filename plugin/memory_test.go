package plugin_test

import (
	"context"
	_ "embed"
	"errors"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/plugin"
)

// hugeMemoryWasm is testdata/huge_memory.wat compiled: its memory starts at
// 70,000 pages, past what a 32-bit memory can have.
//
//go:embed testdata/huge_memory.wasm
var hugeMemoryWasm []byte

// TestMemoryOverTheLimitIsRefusedAtLoad: a module whose memory starts above
// the limit is refused by Load, with the same error on every engine, instead
// of at compile on some and at the first request on others.
func TestMemoryOverTheLimitIsRefusedAtLoad(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wasm  []byte
		limit uint32
		want  string // "" for a module that loads
	}{
		{"70000 pages, default limit", hugeMemoryWasm, 0,
			"plugin[p]: engines: instantiate failed: initial memory above the limit: memory[0] starts at 70000 pages (4375 MiB), above the limit of 4096 pages (256 MiB)"},
		{"70000 pages, limit past 4 GiB", hugeMemoryWasm, 100000,
			"plugin[p]: engines: instantiate failed: initial memory above the limit: memory[0] starts at 70000 pages (4375 MiB), above the limit of 65536 pages (4 GiB)"},
		{"2000 pages, limit 1024", conformance.Guest("big_memory"), 1024,
			"plugin[p]: engines: instantiate failed: initial memory above the limit: memory[0] starts at 2000 pages (125 MiB), above the limit of 1024 pages (64 MiB)"},
		{"2000 pages, limit 2000", conformance.Guest("big_memory"), 2000, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachEngine(t, func(t *testing.T, eng engines.Engine) {
				p, err := plugin.Load(context.Background(), eng, tc.wasm, plugin.Spec{
					Name: "p", Handlers: []string{"handle_echo"}, Limits: abi.Limits{MemoryPages: tc.limit}})
				if tc.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					defer p.Close(context.Background())
					if got, err := p.Call(context.Background(), "handle_echo", []byte("x")); err != nil || string(got) != "x" {
						t.Fatalf("call: %q %v", got, err)
					}
					return
				}
				if err == nil {
					p.Close(context.Background())
					t.Fatal("loaded")
				}
				if !errors.Is(err, plugin.ErrMemoryLimit) || !errors.Is(err, engines.ErrInstantiate) || err.Error() != tc.want {
					t.Fatalf("got  %v\nwant %s", err, tc.want)
				}
			})
		})
	}
}
