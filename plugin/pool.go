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

	mu      sync.Mutex
	closed  bool
	created int
	dropped int
}

func (q *pool) init(max int) {
	q.tokens = make(chan struct{}, max)
	q.idle = make(chan *Instance, max)
}

// errClosed is returned by calls made after Close.
var errClosed = errors.New("plugin closed")

// PoolStats counts the instances a plugin's pool created and discarded.
type PoolStats struct {
	Created, Discarded, Idle, InFlight int
}

// Stats reports the pool's counters.
func (p *Plugin) Stats() PoolStats {
	p.pool.mu.Lock()
	defer p.pool.mu.Unlock()
	return PoolStats{Created: p.pool.created, Discarded: p.pool.dropped, Idle: len(p.pool.idle), InFlight: len(p.pool.tokens)}
}

// acquire waits for a token and returns an instance to serve one call.
func (p *Plugin) acquire(ctx context.Context) (*Instance, error) {
	select {
	case p.pool.tokens <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.pool.mu.Lock()
	closed := p.pool.closed
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

// release returns an instance after a call: a broken one is closed, a sound
// one goes back to the idle list.
func (p *Plugin) release(i *Instance) {
	defer func() { <-p.pool.tokens }()
	p.pool.mu.Lock()
	closed := p.pool.closed
	if i.broken != nil || closed {
		p.pool.dropped++
	}
	p.pool.mu.Unlock()
	if i.broken != nil || closed {
		i.Close(context.Background())
		return
	}
	p.pool.idle <- i // never blocks: at most cap(tokens) instances exist
}

// close waits for calls in flight, then closes the idle instances.
func (q *pool) close(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	for range cap(q.tokens) { // take every token: no call is in flight after this
		select {
		case q.tokens <- struct{}{}:
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
// deadline. An instance that fails is discarded and the next call gets a new
// one.
func (p *Plugin) Call(ctx context.Context, handler string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.limits.CallTimeout)
	defer cancel()
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
	go func() {
		b, err := i.Call(ctx, handler, body)
		done <- result{b, err}
		if ctx.Err() != nil && i.broken == nil {
			i.broken = ctx.Err()
		}
		p.release(i)
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
