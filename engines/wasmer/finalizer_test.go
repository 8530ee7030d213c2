package wasmer_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wasmer"
	wasmergo "github.com/wasmerio/wasmer-go/wasmer"
)

const addWAT = `(module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))`

func wat(t testing.TB, src string) []byte {
	t.Helper()
	b, err := wasmergo.Wat2Wasm(src)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// onlyFunction returns an exported function and its instance's memory,
// keeping no other reference to the engine, the module or the instance.
func onlyFunction(t *testing.T) (engines.Function, engines.Memory) {
	ctx := context.Background()
	eng, err := wasmer.Open(engines.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := eng.Compile(ctx, wat(t, addWAT), engines.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := mod.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return in.Function("add"), in.Memory()
}

// TestFunctionKeepsInstanceAlive calls a function whose instance is
// reachable only through it, collecting garbage before every call: wasmer-go
// frees an instance from a finalizer, and its exported functions and
// memories do not keep it alive, so without the references this package adds
// the call after the first collection runs on freed memory and crashes (see
// TestFinalizerHazardPremise).
func TestFunctionKeepsInstanceAlive(t *testing.T) {
	ctx := context.Background()
	fn, mem := onlyFunction(t)
	stack := make([]uint64, 2)
	n := 1000
	if testing.Short() {
		n = 100
	}
	for i := range n {
		runtime.GC()
		stack[0], stack[1] = uint64(i), 1
		if err := fn.Call(ctx, stack); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if stack[0] != uint64(i+1) {
			t.Fatalf("call %d: add(%d, 1) = %d", i, i, stack[0])
		}
		if i%100 == 0 && (mem.Size() != 65536 || !mem.Write(8, []byte{byte(i)})) {
			t.Fatalf("call %d: memory of %d bytes, or not writable", i, mem.Size())
		}
	}
}

// TestFinalizerHazardPremise shows, in a child process, that calling a
// wasmer-go function whose instance is otherwise unreachable crashes once the
// collector has run: the hazard TestFunctionKeepsInstanceAlive guards against.
func TestFinalizerHazardPremise(t *testing.T) {
	if os.Getenv("KSPBENCH_WASMER_RAW_FINALIZER") == "1" {
		rawCallsAfterCollection(t)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFinalizerHazardPremise$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KSPBENCH_WASMER_RAW_FINALIZER=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("raw wasmer-go calls survived collection of their instance: the hazard is gone (or not reproduced)\n%s", out)
	}
	if !strings.Contains(string(out), "signal arrived during cgo execution") {
		t.Fatalf("child failed without a signal in C code: %v\n%s", err, out)
	}
	sig := regexp.MustCompile(`SIG[A-Z]+`).FindString(string(out))
	t.Logf("raw wasmer-go, instance unreachable: the child died of %s in C code, as expected (%v)", sig, err)
}

func rawCallsAfterCollection(t *testing.T) {
	f := func() wasmergo.NativeFunction {
		store := wasmergo.NewStore(wasmergo.NewEngine())
		m, err := wasmergo.NewModule(store, wat(t, addWAT))
		if err != nil {
			t.Fatal(err)
		}
		in, err := wasmergo.NewInstance(m, wasmergo.NewImportObject())
		if err != nil {
			t.Fatal(err)
		}
		f, err := in.Exports.GetFunction("add")
		if err != nil {
			t.Fatal(err)
		}
		return f
	}()
	for i := range 2000 {
		runtime.GC()
		if _, err := f(int32(i), int32(1)); err != nil {
			t.Fatal(err)
		}
	}
}
