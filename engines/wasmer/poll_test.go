package wasmer_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	wasmergo "github.com/wasmerio/wasmer-go/wasmer"
)

// WASI preview1 numbers the tests use.
const (
	errnoInval  = 28
	errnoNotsup = 58

	eventClock   = 0
	eventFdRead  = 1
	eventFdWrite = 2

	sleepUserdata = 0x6b73702d736c6565 // what wasi_sleep's handle_sleep sets
)

// pollResult is what wasi_sleep's handle_sleep and handle_poll answer.
type pollResult struct {
	errno   uint32
	nevents uint32
	events  []pollEvent // one per subscription, zero past nevents
}

type pollEvent struct {
	userdata uint64
	errno    uint16
	typ      uint8
	nbytes   uint64
	flags    uint16
}

func parsePollResult(t *testing.T, b []byte) pollResult {
	t.Helper()
	if len(b) < 8 || (len(b)-8)%32 != 0 {
		t.Fatalf("response of %d bytes, want 8 + 32*N", len(b))
	}
	r := pollResult{errno: binary.LittleEndian.Uint32(b), nevents: binary.LittleEndian.Uint32(b[4:])}
	for e := b[8:]; len(e) > 0; e = e[32:] {
		r.events = append(r.events, pollEvent{
			userdata: binary.LittleEndian.Uint64(e),
			errno:    binary.LittleEndian.Uint16(e[8:]),
			typ:      e[10],
			nbytes:   binary.LittleEndian.Uint64(e[16:]),
			flags:    binary.LittleEndian.Uint16(e[24:]),
		})
	}
	return r
}

// sub is one WASI preview1 subscription.
type sub struct {
	userdata uint64
	tag      uint8
	id       uint32 // clock id, or the fd
	timeout  uint64
	flags    uint16
}

func subscriptions(subs ...sub) []byte {
	b := make([]byte, 48*len(subs))
	for i, s := range subs {
		r := b[48*i:]
		binary.LittleEndian.PutUint64(r, s.userdata)
		r[8] = s.tag
		binary.LittleEndian.PutUint32(r[16:], s.id)
		if s.tag == eventClock {
			binary.LittleEndian.PutUint64(r[24:], s.timeout)
			binary.LittleEndian.PutUint16(r[40:], s.flags)
		}
	}
	return b
}

// call calls a handler of in with body under ctx and returns the response.
func call(ctx context.Context, t *testing.T, in engines.Instance, handler string, body []byte) ([]byte, error) {
	t.Helper()
	var ptr uint32
	if len(body) > 0 {
		p, err := in.(abi.Guest).Allocate(ctx, uint32(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		if !in.Memory().Write(p, body) {
			t.Fatalf("cannot write the request at %d", p)
		}
		ptr = p
	}
	stack := []uint64{uint64(ptr), uint64(len(body))}
	if err := in.Function(handler).Call(ctx, stack); err != nil {
		return nil, err
	}
	p, n, err := abi.HandlerResult(stack[0], handler)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := in.Memory().Read(p, n)
	if !ok {
		t.Fatalf("%s: response (%d, %d) out of bounds", handler, p, n)
	}
	return append([]byte(nil), b...), nil
}

func sleepInstance(t *testing.T) engines.Instance {
	t.Helper()
	return instantiate(t, compile(t, open(t, engines.Config{}), conformance.Guest("wasi_sleep"), 0), &fakeImports{})
}

// TestWASISleep runs wasi_sleep's handle_sleep, a relative 20 ms monotonic
// clock: before the adapter's own poll_oneoff, Wasmer aborted the process
// here (TestWASIPollPremise).
func TestWASISleep(t *testing.T) {
	in := sleepInstance(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 3 {
		start := time.Now()
		b, err := call(ctx, t, in, "handle_sleep", nil)
		elapsed := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		r := parsePollResult(t, b)
		want := pollEvent{userdata: sleepUserdata, typ: eventClock}
		if r.errno != 0 || r.nevents != 1 || len(r.events) != 1 || r.events[0] != want {
			t.Fatalf("call %d: errno %d, %d events %+v; want errno 0 and one event %+v", i, r.errno, r.nevents, r.events, want)
		}
		if elapsed < 20*time.Millisecond {
			t.Fatalf("call %d: slept %v, asked for 20ms", i, elapsed)
		}
		t.Logf("call %d: slept %v for 20ms", i, elapsed)
	}
}

// monotonic reads the guest's monotonic clock through handle_monotonic.
func monotonic(t *testing.T, in engines.Instance) uint64 {
	t.Helper()
	b, err := call(context.Background(), t, in, "handle_monotonic", nil)
	if err != nil || len(b) != 8 {
		t.Fatalf("handle_monotonic: %d bytes, %v", len(b), err)
	}
	return binary.LittleEndian.Uint64(b)
}

// TestWASIMonotonicClock checks that the clock poll.go computes absolute
// monotonic deadlines on is the one Wasmer's clock_time_get reads.
func TestWASIMonotonicClock(t *testing.T) {
	in := sleepInstance(t)
	now := func() uint64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			t.Fatal(err)
		}
		return uint64(ts.Nano())
	}
	before := now()
	guest := monotonic(t, in)
	after := now()
	if guest < before || guest > after {
		t.Fatalf("guest monotonic clock %d outside the host's CLOCK_MONOTONIC [%d, %d]", guest, before, after)
	}
}

// TestWASIPoll checks poll_oneoff's semantics (poll.go) subscription by
// subscription, through wasi_sleep's handle_poll.
func TestWASIPoll(t *testing.T) {
	in := sleepInstance(t)
	ms := uint64(time.Millisecond)
	clock := func(ud uint64, id uint32, timeout uint64, flags uint16) sub {
		return sub{userdata: ud, tag: eventClock, id: id, timeout: timeout, flags: flags}
	}
	type want struct {
		errno   uint32
		nevents uint32 // 0xffffffff: not written
		events  []pollEvent
		min     time.Duration // the least the call takes
		max     time.Duration // the most it may take
	}
	slow := 2 * time.Second // generous bounds for a loaded 2-core machine
	cases := []struct {
		name string
		subs func() []sub
		want want
	}{
		{"relative realtime", func() []sub { return []sub{clock(1, 0, 15*ms, 0)} },
			want{0, 1, []pollEvent{{userdata: 1}}, 15 * time.Millisecond, slow}},
		{"relative process cputime waits by the wall", func() []sub { return []sub{clock(2, 2, 10*ms, 0)} },
			want{0, 1, []pollEvent{{userdata: 2}}, 10 * time.Millisecond, slow}},
		{"absolute realtime", func() []sub {
			return []sub{clock(3, 0, uint64(time.Now().Add(30*time.Millisecond).UnixNano()), 1)}
		}, want{0, 1, []pollEvent{{userdata: 3}}, 29 * time.Millisecond, slow}}, // 1 ms of slack between the wall and the monotonic clock
		{"absolute monotonic", func() []sub {
			return []sub{clock(4, 1, monotonic(t, in)+30*ms, 1)}
		}, want{0, 1, []pollEvent{{userdata: 4}}, 30 * time.Millisecond, slow}},
		{"absolute monotonic in the past", func() []sub { return []sub{clock(5, 1, 1, 1)} },
			want{0, 1, []pollEvent{{userdata: 5}}, 0, slow}},
		{"zero timeout", func() []sub { return []sub{clock(6, 1, 0, 0)} },
			want{0, 1, []pollEvent{{userdata: 6}}, 0, slow}},
		{"earliest of two clocks", func() []sub { return []sub{clock(7, 1, 5000*ms, 0), clock(8, 1, 10*ms, 0)} },
			want{0, 1, []pollEvent{{userdata: 8}, {}}, 10 * time.Millisecond, slow}},
		{"descriptors are ready at once, a clock is not waited for", func() []sub {
			return []sub{clock(9, 1, 5000*ms, 0), {userdata: 10, tag: eventFdRead, id: 0}, {userdata: 11, tag: eventFdWrite, id: 99}}
		}, want{0, 2, []pollEvent{{userdata: 10, typ: eventFdRead}, {userdata: 11, typ: eventFdWrite}, {}}, 0, slow}},
		{"unknown tag", func() []sub { return []sub{clock(12, 1, 0, 0), {userdata: 13, tag: 3}} },
			want{errnoInval, 0xffffffff, make([]pollEvent, 2), 0, slow}},
		{"unknown clock flags", func() []sub { return []sub{clock(14, 1, 10*ms, 2)} },
			want{errnoInval, 0xffffffff, make([]pollEvent, 1), 0, slow}},
		{"unknown clock", func() []sub { return []sub{clock(15, 4, 10*ms, 0)} },
			want{errnoInval, 0xffffffff, make([]pollEvent, 1), 0, slow}},
		{"absolute cputime", func() []sub { return []sub{clock(16, 3, 10*ms, 1)} },
			want{errnoNotsup, 0xffffffff, make([]pollEvent, 1), 0, slow}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := subscriptions(c.subs()...)
			start := time.Now()
			b, err := call(context.Background(), t, in, "handle_poll", body)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			r := parsePollResult(t, b)
			if r.errno != c.want.errno || r.nevents != c.want.nevents {
				t.Errorf("errno %d, nevents %#x; want %d, %#x", r.errno, r.nevents, c.want.errno, c.want.nevents)
			}
			if len(r.events) != len(c.want.events) {
				t.Fatalf("%d event records, want %d", len(r.events), len(c.want.events))
			}
			for i := range r.events {
				if r.events[i] != c.want.events[i] {
					t.Errorf("event %d: %+v, want %+v", i, r.events[i], c.want.events[i])
				}
			}
			if elapsed < c.want.min || elapsed > c.want.max {
				t.Errorf("took %v, want %v to %v", elapsed, c.want.min, c.want.max)
			}
		})
	}
}

// TestWASISleepDeadline checks that a guest sleeping past its call's
// deadline is stopped at the deadline: its call ends with a trap that wraps
// context.DeadlineExceeded.
func TestWASISleepDeadline(t *testing.T) {
	in := sleepInstance(t)
	body := subscriptions(sub{userdata: 1, tag: eventClock, id: 1, timeout: uint64(time.Hour)})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := call(ctx, t, in, "handle_poll", body)
	elapsed := time.Since(start)
	if !errors.Is(err, engines.ErrTrap) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a trap wrapping context.DeadlineExceeded", err)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("a guest sleeping an hour held the call %v past a 50ms deadline", elapsed)
	}
	t.Logf("ended after %v: %v", elapsed, err)
}

// goSleeper is a Go wasip1 reactor whose handler sleeps on one goroutine and
// then on four, which makes the Go scheduler wait in poll_oneoff on a clock.
const goSleeper = `package main

import (
	"strconv"
	"sync"
	"time"
	"unsafe"
)

var (
	bufs = map[uintptr][]byte{}
	resp []byte
)

//go:wasmexport allocate
func allocate(n int32) int32 {
	b := make([]byte, n)
	p := uintptr(unsafe.Pointer(&b[0]))
	bufs[p] = b
	return int32(p)
}

//go:wasmexport handle_sleep
func handleSleep(ptr, n int32) int64 {
	clear(bufs)
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
		}()
	}
	wg.Wait()
	resp = []byte("{\"slept_ns\":" + strconv.FormatInt(int64(time.Since(start)), 10) + "}")
	return int64(uintptr(unsafe.Pointer(&resp[0])))<<32 | int64(len(resp))
}

func main() {}
`

// buildGoSleeper builds goSleeper with the Go toolchain, or skips.
func buildGoSleeper(t *testing.T) []byte {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		gotool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	for name, src := range map[string]string{"go.mod": "module sleeper\n\ngo 1.24\n", "main.go": goSleeper} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "sleeper.wasm")
	cmd := exec.Command(gotool, "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the Go wasip1 guest with %s (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared): %v\n%s", gotool, err, b)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// TestGoGuestSleeps runs a Go wasip1 guest that calls time.Sleep, on one
// goroutine and on several: its scheduler then waits in poll_oneoff on a
// monotonic clock, which aborted the process before the adapter had its own
// poll_oneoff.
func TestGoGuestSleeps(t *testing.T) {
	wasm := buildGoSleeper(t)
	in := instantiate(t, compile(t, open(t, engines.Config{}), wasm, 0), &fakeImports{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := in.Function("_initialize").Call(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		start := time.Now()
		b, err := call(ctx, t, in, "handle_sleep", nil)
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		var r struct {
			SleptNS int64 `json:"slept_ns"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("call %d: %q: %v", i, b, err)
		}
		if r.SleptNS < int64(40*time.Millisecond) || elapsed < 40*time.Millisecond {
			t.Fatalf("call %d: the guest measured %v and the host %v; both must be at least 40ms", i, time.Duration(r.SleptNS), elapsed)
		}
		t.Logf("call %d: guest slept %v, call took %v", i, time.Duration(r.SleptNS), elapsed)
	}
}

// TestWASIPollPremise shows, in a child process, that Wasmer 2.0's own
// poll_oneoff aborts the whole process on wasi_sleep's clock subscription:
// what the adapter's replacement prevents (TestWASISleep).
func TestWASIPollPremise(t *testing.T) {
	if os.Getenv("KSPBENCH_WASMER_RAW_POLL") == "1" {
		rawSleep(t)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWASIPollPremise$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KSPBENCH_WASMER_RAW_POLL=1", "RUST_BACKTRACE=0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("raw wasmer-go survived a WASI clock subscription: the bug is gone (or not reproduced)\n%s", out)
	}
	const panicMsg = "Polling not implemented for clocks yet"
	if !strings.Contains(string(out), panicMsg) || !strings.Contains(string(out), "SIGABRT") {
		t.Fatalf("child failed, but not with Wasmer's %q and SIGABRT: %v\n%s", panicMsg, err, out)
	}
	t.Logf("raw wasmer-go, WASI clock subscription: the child panicked in Wasmer (%q) and died of SIGABRT, as expected (%v)", panicMsg, err)
}

// rawSleep runs wasi_sleep's handle_sleep with wasmer-go's own WASI imports.
func rawSleep(t *testing.T) {
	store := wasmergo.NewStore(wasmergo.NewEngine())
	m, err := wasmergo.NewModule(store, conformance.Guest("wasi_sleep"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := wasmergo.NewWasiStateBuilder("raw").CaptureStdout().CaptureStderr().Finalize()
	if err != nil {
		t.Fatal(err)
	}
	imports, err := w.GenerateImportObject(store, m)
	if err != nil {
		t.Fatal(err)
	}
	in, err := wasmergo.NewInstance(m, imports)
	if err != nil {
		t.Fatal(err)
	}
	f, err := in.Exports.GetFunction("handle_sleep")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f(int32(0), int32(0))
	t.Logf("handle_sleep returned: %v", err)
	runtime.KeepAlive(in)
}
