package plugin_test

import (
	"context"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/plugin"
)

// BenchmarkHandleConstant times what serve asks of a plugin per request,
// through Handle: the call deadline, the pool, and the guest's calls for a
// handler that answers the constant "ok" (the edge guest's handle_ok, the
// HTTP workload's constant server). POST adds the workload's 80-byte body:
// allocate, the copy into the guest, and deallocate when the guest's does
// anything. It runs on wazero and on the cgo engine a build tag links (go
// test -tags wasmtime ./plugin -run '^$' -bench HandleConstant).
func BenchmarkHandleConstant(b *testing.B) {
	const record = `{"id":"cluster-3","name":"Load Test","status":"healthy","nodes":1,"pods":10}`
	for _, e := range testEngines {
		eng, err := e.open(engines.Config{})
		if err != nil {
			b.Fatal(err)
		}
		svc, err := host.NewServices(host.Config{Plugin: "edge", Storage: storage.NewMemory()})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		p, err := plugin.Load(ctx, eng, conformance.Guest("edge"), plugin.Spec{Name: "edge", Imports: svc,
			Routes: []plugin.Route{{Path: "/ok", Methods: []string{"GET", "POST"}, Handler: "handle_ok"}}})
		if err != nil {
			b.Fatal(err)
		}
		for _, bc := range []struct{ method, body string }{{"GET", ""}, {"POST", record}} {
			b.Run(e.name+"/"+bc.method, func(b *testing.B) {
				req := &abi.Request{Method: bc.method, Path: "/ok", Body: []byte(bc.body)}
				b.ReportAllocs()
				for b.Loop() {
					resp, err := p.Handle(ctx, req)
					if err != nil || string(resp.Body) != "ok" {
						b.Fatalf("%v, %v", resp, err)
					}
				}
			})
		}
		p.Close(ctx)
		eng.Close(ctx)
	}
}
