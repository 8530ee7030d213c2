package wasmer_test

import (
	"testing"

	"github.com/kspbench/kspbench/engines/internal/memorytest"
	"github.com/kspbench/kspbench/engines/wasmer"
)

// TestClosedInstanceMemoryReturned: Wasmer maps each instance's linear memory
// itself; the adapter's Close deletes the instance, which must unmap it.
func TestClosedInstanceMemoryReturned(t *testing.T) {
	memorytest.Returned(t, wasmer.Open)
}
