package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config says what load to drive. Duration or Requests bounds the run;
// whichever comes first ends it. The zero Rate runs the closed loop.
type Config struct {
	URL    string
	Method string // default GET
	Body   []byte
	Header http.Header
	// Concurrency is, in the closed loop, the number of clients sending back
	// to back; in the open loop, the most requests in flight at once.
	// Default 8.
	Concurrency int
	// Rate, when above zero, runs the open loop: a request is due every
	// 1/Rate seconds whether or not earlier ones have been answered, and its
	// latency counts from the time it was due. At most MaxRate.
	Rate     float64
	Duration time.Duration // default 5s when Requests is 0
	Requests int           // 0: no bound
	Warmup   time.Duration // requests during the warm-up are not counted
	Timeout  time.Duration // a request taking longer fails; default 30s
	// ExpectStatus, when not zero, is the status every answer must have;
	// when zero, any 2xx will do. Any other status is a failure, except 503
	// (unless expected), which is counted as shed.
	ExpectStatus int
}

// MaxRate bounds Config.Rate: a million requests a second.
const MaxRate = 1e6

// The modes a Result names.
const (
	// ModeClosed: Concurrency clients each send a request as soon as their
	// previous one is answered. It measures the most throughput; its
	// latencies understate a stall, since no request is sent while every
	// client waits (coordinated omission).
	ModeClosed = "closed"
	// ModeOpen: requests are due at a fixed rate and their latency counts
	// from when each was due, so a stall shows in the percentiles.
	ModeOpen = "open"
)

// Result is what a run measured. Only requests answered as expected (OK)
// count in RPS and the latencies; failed and shed ones are counted apart.
type Result struct {
	Mode        string  `json:"mode"`           // ModeClosed or ModeOpen
	Rate        float64 `json:"rate,omitempty"` // open loop: requests due a second
	Concurrency int     `json:"concurrency"`
	// Requests counts every request sent and finished: OK + Errors + Shed.
	Requests int `json:"requests"`
	OK       int `json:"ok"`     // answered with the expected status
	Errors   int `json:"errors"` // connection errors, timeouts, unexpected statuses
	Shed     int `json:"shed"`   // answered 503: the server refusing load
	// Scheduled counts, in the open loop, the requests due within the run:
	// Requests + Dropped.
	Scheduled int `json:"scheduled,omitempty"`
	// Late counts, in the open loop, the requests sent after they were due
	// because every in-flight slot was busy; their latency still counts
	// from when they were due.
	Late int `json:"late"`
	// Dropped counts, in the open loop, the requests never sent because no
	// in-flight slot freed before the run ended.
	Dropped int            `json:"dropped"`
	Seconds float64        `json:"seconds"`
	RPS     float64        `json:"rps"` // OK / Seconds
	P50     float64        `json:"p50_seconds"`
	P90     float64        `json:"p90_seconds"`
	P99     float64        `json:"p99_seconds"`
	P999    float64        `json:"p999_seconds"`
	Max     float64        `json:"max_seconds"`
	Status  map[string]int `json:"status"` // answers by status code; "error" for no answer
	// FirstError is the first failure seen, for the report.
	FirstError string `json:"first_error,omitempty"`
	// ErrorSamples are the first few distinct failures, FirstError first.
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// ErrRequestsFailed is matched (errors.Is) by the error Run returns when any
// request failed.
var ErrRequestsFailed = errors.New("requests failed")

type failedError struct{ res *Result }

func (e *failedError) Error() string {
	return fmt.Sprintf("loadgen: %d of %d requests failed (first: %s)", e.res.Errors, e.res.Requests, e.res.FirstError)
}

func (e *failedError) Is(target error) bool { return target == ErrRequestsFailed }

// maxErrorSamples bounds Result.ErrorSamples.
const maxErrorSamples = 5

// Run drives the load and returns what it measured.
//
// # Errors
//
// When any request failed, Run returns the Result together with an error
// matching ErrRequestsFailed that names the count and the first failure.
// Shed, late and dropped requests alone are not errors. When ctx ends, Run
// returns no Result and ctx.Err().
func Run(ctx context.Context, c Config) (*Result, error) {
	if c.URL == "" {
		return nil, errors.New("loadgen: no URL")
	}
	if math.IsNaN(c.Rate) || c.Rate < 0 || c.Rate > MaxRate {
		return nil, fmt.Errorf("loadgen: rate %v: want 0 (closed loop) or up to %g requests a second", c.Rate, float64(MaxRate))
	}
	if c.Method == "" {
		c.Method = http.MethodGet
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.Duration <= 0 && c.Requests <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	tr := &http.Transport{MaxIdleConns: c.Concurrency, MaxIdleConnsPerHost: c.Concurrency, MaxConnsPerHost: c.Concurrency, DisableCompression: true}
	defer tr.CloseIdleConnections()
	l := &loader{c: c, client: &http.Client{Transport: tr, Timeout: c.Timeout}}

	if c.Warmup > 0 {
		l.drive(ctx, time.Now().Add(c.Warmup), 0, nil)
	}
	rec := &recorder{expect: c.ExpectStatus, status: map[string]int{}}
	start := time.Now()
	var end time.Time
	if c.Duration > 0 {
		end = start.Add(c.Duration)
	}
	late, dropped := l.drive(ctx, end, c.Requests, rec)
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	res := rec.result(elapsed)
	res.Mode, res.Concurrency = ModeClosed, c.Concurrency
	if c.Rate > 0 {
		res.Mode, res.Rate = ModeOpen, c.Rate
		res.Late, res.Dropped, res.Scheduled = late, dropped, res.Requests+dropped
	}
	if res.Errors > 0 {
		return res, &failedError{res}
	}
	return res, nil
}

type loader struct {
	c      Config
	client *http.Client
}

// drive sends requests until end (when not zero) or until limit requests
// (when not zero) have been sent, then waits for those in flight: each is
// bounded by the client's timeout. rec, when not nil, records them.
func (l *loader) drive(ctx context.Context, end time.Time, limit int, rec *recorder) (late, dropped int) {
	if l.c.Rate > 0 {
		return l.open(ctx, end, limit, rec)
	}
	l.closed(ctx, end, limit, rec)
	return 0, 0
}

// closed runs c.Concurrency clients, each sending its next request when its
// last is answered. A request's latency counts from when it was sent.
func (l *loader) closed(ctx context.Context, end time.Time, limit int, rec *recorder) {
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range l.c.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil && (end.IsZero() || time.Now().Before(end)) {
				if limit > 0 && sent.Add(1) > int64(limit) {
					return
				}
				t0 := time.Now()
				status, err := l.once(ctx)
				rec.add(time.Since(t0), status, err)
			}
		})
	}
	wg.Wait()
}

// open sends a request every 1/c.Rate seconds from the start, whether or not
// earlier ones have been answered, with at most c.Concurrency in flight. A
// request's latency counts from when it was due. A request due while every
// slot is busy waits for one (late); those still waiting when the run ends
// are never sent (dropped).
func (l *loader) open(ctx context.Context, end time.Time, limit int, rec *recorder) (late, dropped int) {
	start := time.Now()
	interval := float64(time.Second) / l.c.Rate
	due := func(i int) time.Time { return start.Add(time.Duration(float64(i) * interval)) }
	total := math.MaxInt
	if limit > 0 {
		total = limit
	}
	if !end.IsZero() {
		total = min(total, int(math.Ceil(float64(end.Sub(start))/interval)))
	} else {
		end = due(total)
	}
	giveUp, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	slots := make(chan struct{}, l.c.Concurrency)
	timer := time.NewTimer(0)
	defer timer.Stop()
	var wg sync.WaitGroup
	sent := 0
schedule:
	for ; sent < total; sent++ {
		at := due(sent)
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break schedule
			}
		}
		select {
		case slots <- struct{}{}:
		default:
			select {
			case slots <- struct{}{}:
				late++
			case <-giveUp.Done():
				break schedule
			}
		}
		wg.Go(func() {
			defer func() { <-slots }()
			status, err := l.once(ctx)
			rec.add(time.Since(at), status, err)
		})
	}
	wg.Wait()
	return late, total - sent
}

func (l *loader) once(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, l.c.Method, l.c.URL, bytes.NewReader(l.c.Body))
	if err != nil {
		return 0, err
	}
	for k, v := range l.c.Header {
		req.Header[k] = v
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

// recorder counts outcomes and the latencies of successful requests. A nil
// recorder (the warm-up) records nothing.
type recorder struct {
	expect int

	mu                sync.Mutex
	latencies         histogram
	n, ok, errs, shed int
	status            map[string]int
	samples           []string
}

func (r *recorder) add(d time.Duration, status int, err error) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if err != nil {
		r.status["error"]++
		r.fail(err.Error())
		return
	}
	r.status[strconv.Itoa(status)]++
	switch {
	case status == r.expect || r.expect == 0 && status >= 200 && status < 300:
		r.ok++
		r.latencies.add(d)
	case status == http.StatusServiceUnavailable:
		r.shed++
	case r.expect == 0:
		r.fail(fmt.Sprintf("status %d, want 2xx", status))
	default:
		r.fail(fmt.Sprintf("status %d, want %d", status, r.expect))
	}
}

func (r *recorder) fail(msg string) {
	r.errs++
	if len(r.samples) < maxErrorSamples {
		for _, s := range r.samples {
			if s == msg {
				return
			}
		}
		r.samples = append(r.samples, msg)
	}
}

func (r *recorder) result(elapsed time.Duration) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := func(p float64) float64 { return r.latencies.quantile(p).Seconds() }
	res := &Result{Requests: r.n, OK: r.ok, Errors: r.errs, Shed: r.shed, Seconds: elapsed.Seconds(), Status: r.status,
		P50: q(0.50), P90: q(0.90), P99: q(0.99), P999: q(0.999), Max: r.latencies.max.Seconds()}
	if len(r.samples) > 0 {
		res.FirstError, res.ErrorSamples = r.samples[0], r.samples
	}
	if elapsed > 0 {
		res.RPS = float64(r.ok) / elapsed.Seconds()
	}
	return res
}
