package engines

import (
	"fmt"
	"slices"
	"sync"
)

// Driver opens an Engine. Adapters register one with Register.
type Driver interface {
	Open(cfg Config) (Engine, error)
}

// DriverFunc adapts a function to Driver.
type DriverFunc func(cfg Config) (Engine, error)

// Open calls f.
func (f DriverFunc) Open(cfg Config) (Engine, error) { return f(cfg) }

var (
	driversMu sync.RWMutex
	drivers   = map[string]Driver{}
)

// Register makes a driver available by name. It panics if called twice with
// the same name or with a nil driver.
func Register(name string, d Driver) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if d == nil {
		panic("engines: Register driver is nil")
	}
	if _, dup := drivers[name]; dup {
		panic("engines: Register called twice for driver " + name)
	}
	drivers[name] = d
}

// Drivers returns the names of the registered drivers, sorted.
func Drivers() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Open opens the engine registered as name.
func Open(name string, cfg Config) (Engine, error) {
	driversMu.RLock()
	d, ok := drivers[name]
	driversMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("engines: unknown engine %q (forgotten import?); linked: %v", name, Drivers())
	}
	return d.Open(cfg)
}
