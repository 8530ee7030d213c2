package plugin

import (
	"context"
	"errors"
	"sync"
)

// pool keeps idle instances and bounds the calls in flight: a call takes a
// token, then an idle instance or a new one, and gives both back after.
type pool struct {
	tokens chan struct{}
	idle   chan *Instance

	mu       sync.Mutex
	closed   bool
	created  int
	dropped  int
	recycled int
	// abandoned counts calls whose caller was answered at the deadline while
	// the guest, which the engine cannot interrupt, runs on: each holds its
	// token until the guest stops, which may be never, so close does not wait
	// for them. changed is closed and replaced whenever abandoned changes.
	abandoned int
	changed   chan struct{}

	deadlines watchdog
}

func (q *pool) init(max int) {
	q.tokens = make(chan struct{}, max)
	q.idle = make(chan *Instance, max)
}

// errClosed is returned by calls made after Close.
var errClosed = errors.New("plugin closed")

// PoolStats counts the instances a plugin's pool created and discarded.
// Recycled counts the sound instances retired because they reached their
// profile's per-instance budget (abi.Profile.MaxCallsPerInstance); they are
// not in Discarded, which counts failures.
type PoolStats struct {
	Created, Discarded, Recycled, Idle, InFlight int
}

// Stats reports the pool's counters.
func (p *Plugin) Stats() PoolStats {
	p.pool.mu.Lock()
	defer p.pool.mu.Unlock()
	return PoolStats{Created: p.pool.created, Discarded: p.pool.dropped, Recycled: p.pool.recycled, Idle: len(p.pool.idle), InFlight: len(p.pool.tokens)}
}

// setAbandoned adds d to the count of abandoned calls and wakes close.
// q.mu must be held.
func (q *pool) setAbandoned(d int) {
	q.abandoned += d
	if q.changed != nil {
		close(q.changed)
		q.changed = nil
	}
}

// acquire waits for a token and returns an instance to serve one call.
func (p *Plugin) acquire(ctx context.Context) (*Instance, error) {
	p.pool.mu.Lock()
	closed := p.pool.closed
	p.pool.mu.Unlock()
	if closed {
		return nil, errClosed // without waiting for a token: close took them all
	}
	select {
	case p.pool.tokens <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.pool.mu.Lock()
	closed = p.pool.closed
	p.pool.mu.Unlock()
	if closed {
		<-p.pool.tokens
		return nil, errClosed
	}
	select {
	case i := <-p.pool.idle:
		return i, nil
	default:
	}
	i, err := p.NewInstance(ctx)
	if err != nil {
		<-p.pool.tokens
		return nil, err
	}
	p.pool.mu.Lock()
	p.pool.created++
	p.pool.mu.Unlock()
	return i, nil
}

// release returns an instance after a call: a broken one is closed, and so
// is one that reached its profile's budget (recycled); a sound one goes back
// to the idle list.
func (p *Plugin) release(i *Instance) {
	defer func() { <-p.pool.tokens }()
	p.pool.mu.Lock()
	closed := p.pool.closed
	worn := i.broken == nil && !closed && i.Worn()
	switch {
	case i.broken != nil || closed:
		p.pool.dropped++
	case worn:
		p.pool.recycled++
	}
	p.pool.mu.Unlock()
	if i.broken != nil || closed || worn {
		i.Close(context.Background())
		return
	}
	p.pool.idle <- i // never blocks: at most cap(tokens) instances exist
}

// close waits for calls in flight, then closes the idle instances. It does
// not wait for abandoned calls: their goroutine closes the instance when the
// guest stops (release sees the pool closed).
func (q *pool) close(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	// Take every token but those of abandoned calls: no other call is in
	// flight after this.
	for taken := 0; ; {
		q.mu.Lock()
		need := cap(q.tokens) - q.abandoned
		if q.changed == nil {
			q.changed = make(chan struct{})
		}
		changed := q.changed
		q.mu.Unlock()
		if taken >= need {
			break
		}
		select {
		case q.tokens <- struct{}{}:
			taken++
		case <-changed: // a call was abandoned, or an abandoned one ended
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var errs []error
	for {
		select {
		case i := <-q.idle:
			errs = append(errs, i.Close(ctx))
		default:
			return errors.Join(errs...)
		}
	}
}

// Call serves body with handler on a pooled instance, under the plugin's call
// deadline (kept by the pool's watchdog). An instance that fails is discarded and the next call gets a new
// one.
func (p *Plugin) Call(ctx context.Context, handler string, body []byte) ([]byte, error) {
	call := p.pool.deadlines.start(ctx, p.limits.CallTimeout)
	defer call.finish()
	ctx = call
	i, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if p.interrupts {
		defer p.release(i)
		return i.Call(ctx, handler, body)
	}
	return p.callUninterruptible(ctx, i, handler, body)
}

// callUninterruptible serves engines that cannot end a running call: the call
// runs on its own goroutine and, when the deadline passes first, the caller
// gets the context's error at once while the instance is abandoned to finish
// (or spin) on its own. The token is returned only when the guest stops, so a
// runaway guest keeps its slot and the pool cannot grow past its bound.
func (p *Plugin) callUninterruptible(ctx context.Context, i *Instance, handler string, body []byte) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	var finished, abandoned bool // guarded by p.pool.mu
	go func() {
		b, err := i.Call(ctx, handler, body)
		p.pool.mu.Lock()
		finished = true
		if abandoned {
			p.pool.setAbandoned(-1)
		}
		p.pool.mu.Unlock()
		if ctx.Err() != nil && i.broken == nil {
			i.broken = ctx.Err()
		}
		// Release before answering, so that a caller that got the answer
		// sees the pool's counters (Stats) with this call accounted for,
		// as on the interruptible path.
		p.release(i)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		p.pool.mu.Lock()
		if !finished {
			abandoned = true
			p.pool.setAbandoned(+1)
		}
		p.pool.mu.Unlock()
		return nil, ctx.Err()
	}
}
