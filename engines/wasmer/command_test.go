package wasmer_test

import (
	"testing"

	"github.com/kspbench/kspbench/engines/commandtest"
	"github.com/kspbench/kspbench/engines/wasmer"
)

func TestCommand(t *testing.T) { commandtest.Run(t, wasmer.Open) }
