//go:build wasmer

package plugin_test

import (
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wasmer"
)

func init() {
	testEngines = append(testEngines, struct {
		name string
		open func(engines.Config) (engines.Engine, error)
	}{"wasmer", wasmer.Open})
}
