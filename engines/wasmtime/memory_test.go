package wasmtime_test

import (
	"testing"

	"github.com/kspbench/kspbench/engines/internal/memorytest"
	"github.com/kspbench/kspbench/engines/wasmtime"
)

// TestClosedInstanceMemoryReturned: wasmtime maps each instance's linear
// memory itself and unmaps it when the adapter deletes the instance's store at
// Close, so the memory is back at once.
func TestClosedInstanceMemoryReturned(t *testing.T) {
	memorytest.Returned(t, wasmtime.Open)
}
