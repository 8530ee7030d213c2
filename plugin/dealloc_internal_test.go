package plugin

import (
	"context"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wazero"
)

// guestWithDeallocate returns a minimal ABI v1 module (memory, allocate,
// handle) whose deallocate has body as its instructions.
func guestWithDeallocate(body ...byte) []byte {
	sec := func(id byte, content ...byte) []byte { return append([]byte{id, byte(len(content))}, content...) }
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	cat := func(parts ...[]byte) (b []byte) {
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	dealloc := cat([]byte{0x00}, body, []byte{0x0b}) // no locals, body, end
	return cat([]byte("\x00asm\x01\x00\x00\x00"),
		// (i32)->i32, (i32 i32)->(), (i32 i32)->i64
		sec(1, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7e),
		sec(3, 0x03, 0x00, 0x01, 0x02),
		sec(5, 0x01, 0x00, 0x01),
		sec(7, cat([]byte{0x04}, name("memory"), []byte{0x02, 0x00}, name("allocate"), []byte{0x00, 0x00},
			name("deallocate"), []byte{0x00, 0x01}, name("handle"), []byte{0x00, 0x02})...),
		sec(10, cat([]byte{0x03},
			[]byte{0x05, 0x00, 0x41, 0x80, 0x08, 0x0b}, // allocate: i32.const 1024
			append([]byte{byte(len(dealloc))}, dealloc...),
			[]byte{0x04, 0x00, 0x42, 0x00, 0x0b})...)) // handle: i64.const 0 (no answer)
}

// TestEmptyDeallocateNotCalled: a guest whose deallocate has an empty body
// is served without calling it; one whose deallocate holds an instruction
// keeps the call. Both serve a request with a body.
func TestEmptyDeallocateNotCalled(t *testing.T) {
	ctx := context.Background()
	eng, err := wazero.Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	for _, tc := range []struct {
		name string
		body []byte
		want bool
	}{
		{"empty", nil, false},
		{"nop", []byte{0x01}, true},
	} {
		p, err := Load(ctx, eng, guestWithDeallocate(tc.body...), Spec{Name: tc.name, Handlers: []string{"handle"}, Profile: abi.V1})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if p.hasDealloc != tc.want {
			t.Errorf("%s: calls deallocate: %v, want %v", tc.name, p.hasDealloc, tc.want)
		}
		if _, err := p.Call(ctx, "handle", []byte("body")); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		p.Close(ctx)
	}
}
