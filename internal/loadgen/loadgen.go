package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config says what load to drive. Duration or Requests bounds the run;
// whichever comes first ends it.
type Config struct {
	URL         string
	Method      string // default GET
	Body        []byte
	Header      http.Header
	Concurrency int           // clients sending at once; default 8
	Duration    time.Duration // default 5s when Requests is 0
	Requests    int           // 0: no bound
	Warmup      time.Duration // requests during the warm-up are not counted
	// ExpectStatus, when not zero, counts every other status as an error.
	ExpectStatus int
}

// Result is what a run measured.
type Result struct {
	Requests int            `json:"requests"`
	Errors   int            `json:"errors"`
	Seconds  float64        `json:"seconds"`
	RPS      float64        `json:"rps"`
	P50      float64        `json:"p50_seconds"`
	P90      float64        `json:"p90_seconds"`
	P99      float64        `json:"p99_seconds"`
	Max      float64        `json:"max_seconds"`
	Status   map[string]int `json:"status"`
	// FirstError is the first error or unexpected status seen, for the report.
	FirstError string `json:"first_error,omitempty"`
}

// maxLatencies bounds the latencies kept for percentiles.
const maxLatencies = 1 << 20

// Run drives the load and returns what it measured.
func Run(ctx context.Context, c Config) (*Result, error) {
	if c.URL == "" {
		return nil, errors.New("loadgen: no URL")
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
	tr := &http.Transport{MaxIdleConns: c.Concurrency, MaxIdleConnsPerHost: c.Concurrency, MaxConnsPerHost: c.Concurrency, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	if c.Warmup > 0 {
		wctx, cancel := context.WithTimeout(ctx, c.Warmup)
		drive(wctx, client, c, 0, nil)
		cancel()
	}
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if c.Duration > 0 {
		rctx, cancel = context.WithTimeout(ctx, c.Duration)
	}
	defer cancel()
	rec := &recorder{status: map[string]int{}}
	start := time.Now()
	drive(rctx, client, c, c.Requests, rec)
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return rec.result(elapsed), nil
}

// drive sends requests from c.Concurrency goroutines until ctx ends or limit
// requests (when not zero) have been sent.
func drive(ctx context.Context, client *http.Client, c Config, limit int, rec *recorder) {
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range c.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				if limit > 0 && sent.Add(1) > int64(limit) {
					return
				}
				t0 := time.Now()
				status, err := once(ctx, client, c)
				d := time.Since(t0)
				if rec != nil && !(err != nil && ctx.Err() != nil) {
					rec.add(d, status, err, c.ExpectStatus)
				}
			}
		})
	}
	wg.Wait()
}

func once(ctx context.Context, client *http.Client, c Config) (int, error) {
	req, err := http.NewRequestWithContext(ctx, c.Method, c.URL, bytes.NewReader(c.Body))
	if err != nil {
		return 0, err
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration
	n, errs   int
	status    map[string]int
	first     string
}

func (r *recorder) add(d time.Duration, status int, err error, expect int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if len(r.latencies) < maxLatencies {
		r.latencies = append(r.latencies, d)
	}
	switch {
	case err != nil:
		r.errs++
		r.status["error"]++
		if r.first == "" {
			r.first = err.Error()
		}
	default:
		r.status[strconv.Itoa(status)]++
		if expect != 0 && status != expect {
			r.errs++
			if r.first == "" {
				r.first = fmt.Sprintf("status %d, want %d", status, expect)
			}
		}
	}
}

func (r *recorder) result(elapsed time.Duration) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.Sort(r.latencies)
	q := func(p float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		i := int(p * float64(len(r.latencies)-1))
		return r.latencies[i].Seconds()
	}
	res := &Result{Requests: r.n, Errors: r.errs, Seconds: elapsed.Seconds(), Status: r.status, FirstError: r.first,
		P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: q(1)}
	if elapsed > 0 {
		res.RPS = float64(r.n) / elapsed.Seconds()
	}
	return res
}
