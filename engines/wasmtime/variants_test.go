package wasmtime_test

import (
	"testing"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wasmtime"
)

// variants are the engine's configurations that the adapter tests run on:
// wasmtime-go's Go API, and the C API called directly.
var variants = []struct{ name, variant string }{
	{"binding", ""},
	{"direct", wasmtime.VariantDirect},
}

// forVariants runs f once per variant, as subtests variant=<name>, with a
// Config selecting that variant.
func forVariants(t *testing.T, f func(t *testing.T, cfg engines.Config)) {
	for _, v := range variants {
		t.Run("variant="+v.name, func(t *testing.T) { f(t, engines.Config{Variant: v.variant}) })
	}
}

// openVariant returns an Open that opens variant whatever the Config asks.
func openVariant(variant string) func(engines.Config) (engines.Engine, error) {
	return func(cfg engines.Config) (engines.Engine, error) {
		cfg.Variant = variant
		return wasmtime.Open(cfg)
	}
}
