package wazero_test

import (
	"testing"

	"github.com/kspbench/kspbench/engines/internal/memorytest"
	"github.com/kspbench/kspbench/engines/wazero"
)

// TestClosedInstanceMemoryReturned: wazero keeps linear memory on the Go
// heap, where a closed instance's memory is garbage the Go runtime would
// hand back to the OS only minutes later; the adapter returns it promptly.
func TestClosedInstanceMemoryReturned(t *testing.T) {
	memorytest.Returned(t, wazero.Open)
}
