package wazero_test

import (
	"testing"

	"github.com/kspbench/kspbench/engines/commandtest"
	"github.com/kspbench/kspbench/engines/wazero"
)

func TestCommand(t *testing.T) { commandtest.Run(t, wazero.Open) }
