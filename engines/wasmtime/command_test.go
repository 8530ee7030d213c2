package wasmtime_test

import (
	"testing"

	"github.com/kspbench/kspbench/engines/commandtest"
	"github.com/kspbench/kspbench/engines/wasmtime"
)

func TestCommand(t *testing.T) { commandtest.Run(t, wasmtime.Open) }
