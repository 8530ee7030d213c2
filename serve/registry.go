package serve

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kspbench/kspbench/manifest"
)

// Plugin states, as the listing shows them.
const (
	stateLoaded   = "loaded"   // compiled; its routes are served
	stateFailed   = "failed"   // its folder did not load; error says why
	stateDisabled = "disabled" // switched off by the management API; no routes
)

// entry is one plugin folder as the server knows it. An entry never changes
// after it is published in the registry: enabling, disabling or reloading a
// plugin publishes a new entry, so a request that holds an entry keeps a
// consistent view (its plugin stays open until the request ends).
type entry struct {
	name     string // the manifest's name; "" when the manifest did not load
	folder   string // the folder's base name, any name (the reference host uses <name>~<author>~<version>)
	dir      string // the folder's path
	manifest *manifest.Manifest
	state    string
	err      error
	since    time.Time
	abi      string   // the ABI profile's name, once the folder was read
	warnings []string // the lenient manifest reading's warnings

	// Loaded entries only.
	plugin backend // *plugin.Plugin, or *procBackend under process isolation
	gate   *gate
	calls  sync.WaitGroup // requests using plugin; retire waits for them
}

// registry maps plugin names to entries. Folders without a usable unique name
// (a manifest that does not load, or a name another folder has) are kept
// apart, for the listing.
type registry struct {
	mu     sync.RWMutex
	byName map[string]*entry
	broken []*entry
}

// use returns the entry of name and, when it is loaded, registers a call on
// it that the caller ends with e.calls.Done(). held is false for entries that
// are not loaded, or when there is no such plugin (e == nil).
func (r *registry) use(name string) (e *entry, held bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e = r.byName[name]
	if e == nil || e.state != stateLoaded {
		return e, false
	}
	e.calls.Add(1) // under the read lock: no retire can start Wait before this Add
	return e, true
}

// get returns the entry of name, or nil.
func (r *registry) get(name string) *entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byName[name]
}

// put publishes e under its name and returns the entry it replaces, or nil.
func (r *registry) put(e *entry) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.byName[e.name]
	r.byName[e.name] = e
	r.dropBroken(e.dir)
	return old
}

// putBroken records a folder that has no usable name, replacing an earlier
// record of the same folder.
func (r *registry) putBroken(e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropBroken(e.dir)
	r.broken = append(r.broken, e)
}

// dropBroken forgets the broken record of dir. r.mu must be held.
func (r *registry) dropBroken(dir string) {
	r.broken = slices.DeleteFunc(r.broken, func(b *entry) bool { return b.dir == dir })
}

// remove unpublishes name and returns its entry, or nil.
func (r *registry) remove(name string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.byName[name]
	delete(r.byName, name)
	return e
}

// removeBroken forgets the broken record of the folder named folder and
// returns it, or nil.
func (r *registry) removeBroken(folder string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.broken {
		if b.folder == folder {
			r.dropBroken(b.dir)
			return b
		}
	}
	return nil
}

// known reports whether dir is the folder of a named entry (whatever its
// state); broken folders are not known, so that a rescan retries them.
func (r *registry) known(dir string) (*entry, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, e := range r.byName {
		if e.dir == dir {
			return e, true
		}
	}
	return nil, false
}

// snapshot returns every entry, named ones by name, then broken ones by
// folder.
func (r *registry) snapshot() []*entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*entry, 0, len(r.byName)+len(r.broken))
	for _, e := range r.byName {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *entry) int { return cmp.Compare(a.name, b.name) })
	broken := slices.Clone(r.broken)
	slices.SortFunc(broken, func(a, b *entry) int { return cmp.Compare(a.folder, b.folder) })
	return append(out, broken...)
}

// takeAll unpublishes every entry, for Close.
func (r *registry) takeAll() []*entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*entry, 0, len(r.byName))
	for _, e := range r.byName {
		out = append(out, e)
	}
	clear(r.byName)
	r.broken = nil
	return out
}

// Queue refusals, answered with 503 and Retry-After.
var (
	errQueueFull    = errors.New("every instance is busy and the queue is full")
	errQueueTimeout = errors.New("no instance became free within the queue timeout")
)

// gate admits at most cap(slots) requests of a plugin at once, the size of its
// pool, and lets at most queue more wait, each for at most timeout. The pool
// itself would also make a call wait for an instance, but under the call's
// deadline; the gate keeps waiting apart (503 when it lasts too long) from
// running (504).
type gate struct {
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
	timeout time.Duration
}

func newGate(size, queue int, timeout time.Duration) *gate {
	return &gate{slots: make(chan struct{}, size), queue: int64(queue), timeout: timeout}
}

// enter waits for a slot; the caller gives it back with leave.
func (g *gate) enter(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	if g.waiting.Add(1) > g.queue {
		g.waiting.Add(-1)
		return errQueueFull
	}
	defer g.waiting.Add(-1)
	t := time.NewTimer(g.timeout)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errQueueTimeout
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) leave() { <-g.slots }

// size returns how many requests the gate admits at once.
func (g *gate) size() int { return cap(g.slots) }

// inFlight returns the requests admitted and not yet finished.
func (g *gate) inFlight() int { return len(g.slots) }
