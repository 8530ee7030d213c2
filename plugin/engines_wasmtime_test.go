//go:build wasmtime

package plugin_test

import (
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wasmtime"
)

func init() {
	testEngines = append(testEngines, struct {
		name string
		open func(engines.Config) (engines.Engine, error)
	}{"wasmtime", wasmtime.Open})
}
