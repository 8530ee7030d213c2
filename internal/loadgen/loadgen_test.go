package loadgen_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kspbench/kspbench/internal/loadgen"
)

// closedPort returns a loopback URL nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/"
}

// checkLatencies checks the percentiles of a result with successful
// requests are positive and in order.
func checkLatencies(t *testing.T, res *loadgen.Result) {
	t.Helper()
	if !(res.P50 > 0 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.P999 && res.P999 <= res.Max) {
		t.Errorf("latencies out of order or zero: p50 %g p90 %g p99 %g p99.9 %g max %g", res.P50, res.P90, res.P99, res.P999, res.Max)
	}
}

func TestRunCountsRequestsStatusesAndLatencies(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if served.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusTeapot)
		}
		w.Write(b)
	}))
	defer srv.Close()
	res, err := loadgen.Run(context.Background(), loadgen.Config{URL: srv.URL, Method: "POST", Body: []byte("x"),
		Concurrency: 4, Requests: 200, ExpectStatus: 200})
	if !errors.Is(err, loadgen.ErrRequestsFailed) || res == nil {
		t.Fatalf("error %v, result %v: want ErrRequestsFailed and the result", err, res)
	}
	if !strings.Contains(err.Error(), "20 of 200 requests failed") || !strings.Contains(err.Error(), "status 418, want 200") {
		t.Errorf("error %q: want the count and the first failure", err)
	}
	if res.Mode != loadgen.ModeClosed || res.Requests != 200 || res.OK != 180 || res.Errors != 20 || res.Shed != 0 ||
		res.Status["200"] != 180 || res.Status["418"] != 20 {
		t.Errorf("result %+v: want 200 closed-loop requests, 180 x 200 ok, 20 x 418 failed", res)
	}
	if got := res.RPS * res.Seconds; got < 179.5 || got > 180.5 {
		t.Errorf("rps %g over %gs counts %g requests: want the 180 ok ones only", res.RPS, res.Seconds, got)
	}
	checkLatencies(t, res)
	if res.FirstError != "status 418, want 200" || len(res.ErrorSamples) != 1 {
		t.Errorf("first error %q, samples %q: want one distinct failure", res.FirstError, res.ErrorSamples)
	}
}

func TestRunStopsAtItsDuration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	start := time.Now()
	res, err := loadgen.Run(context.Background(), loadgen.Config{URL: srv.URL, Concurrency: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.OK != res.Requests || res.Errors != 0 || res.RPS <= 0 {
		t.Errorf("%+v", res)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("a 100ms run took %v", took)
	}
}

// TestClosedPortFailsTheRun: nothing answering is failures, not throughput,
// in either loop.
func TestClosedPortFailsTheRun(t *testing.T) {
	url := closedPort(t)
	for _, c := range []loadgen.Config{
		{URL: url, Concurrency: 2, Requests: 3},
		{URL: url, Concurrency: 2, Rate: 100, Duration: 200 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("rate=%g", c.Rate), func(t *testing.T) {
			res, err := loadgen.Run(context.Background(), c)
			if !errors.Is(err, loadgen.ErrRequestsFailed) || res == nil {
				t.Fatalf("error %v, result %v: want ErrRequestsFailed and the result", err, res)
			}
			if res.Errors == 0 || res.Errors != res.Requests || res.Status["error"] != res.Errors || res.OK != 0 || res.RPS != 0 {
				t.Errorf("result %+v: want every request failed and 0 rps", res)
			}
			if c.Requests > 0 && res.Requests != c.Requests {
				t.Errorf("%d requests, want %d", res.Requests, c.Requests)
			}
			if res.P50 != 0 || res.Max != 0 {
				t.Errorf("latencies %g..%g from failed requests", res.P50, res.Max)
			}
			if len(res.ErrorSamples) == 0 || !strings.Contains(err.Error(), res.FirstError) ||
				!strings.Contains(err.Error(), fmt.Sprintf("%d of %d requests failed", res.Errors, res.Requests)) {
				t.Errorf("error %q, samples %q", err, res.ErrorSamples)
			}
		})
	}
}

// TestShedIsCountedApart: 503 answers are neither throughput nor failures.
func TestShedIsCountedApart(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1)%2 == 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "queue full", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	for _, c := range []loadgen.Config{
		{URL: srv.URL, Concurrency: 4, Requests: 100, ExpectStatus: 200},
		{URL: srv.URL, Concurrency: 4, Requests: 100, Rate: 500},
	} {
		t.Run(fmt.Sprintf("rate=%g", c.Rate), func(t *testing.T) {
			res, err := loadgen.Run(context.Background(), c)
			if err != nil {
				t.Fatalf("%v: shed requests alone must not fail the run", err)
			}
			sent := res.Requests
			if c.Rate > 0 {
				sent += res.Dropped
			}
			if sent != 100 || res.OK != res.Shed || res.OK+res.Shed != res.Requests || res.Errors != 0 || res.Status["503"] != res.Shed {
				t.Errorf("result %+v: want 100 requests, half ok, half shed, none failed", res)
			}
			if got := res.RPS * res.Seconds; got < float64(res.OK)-0.5 || got > float64(res.OK)+0.5 {
				t.Errorf("rps %g over %gs counts %g requests: want the %d ok ones only", res.RPS, res.Seconds, got, res.OK)
			}
			checkLatencies(t, res)
		})
	}
}

// TestOpenLoopShowsAStall: the server stops answering everyone for 200ms
// once. Requests due during the stall are answered after it, so counted from
// when they were due about a tenth of them take over 100ms, and the p99 must
// show it. (A closed loop would have sent only Concurrency requests into the
// stall and reported a p99 near the unstalled latency.)
func TestOpenLoopShowsAStall(t *testing.T) {
	const stall = 200 * time.Millisecond
	var served atomic.Int64
	var frozen sync.RWMutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) == 30 {
			frozen.Lock()
			time.Sleep(stall)
			frozen.Unlock()
			return
		}
		frozen.RLock()
		//lint:ignore SA2001 the empty section waits for the stall to end: every request queues behind it
		frozen.RUnlock()
	}))
	defer srv.Close()
	res, err := loadgen.Run(context.Background(), loadgen.Config{URL: srv.URL, Rate: 100, Concurrency: 4, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("open loop: %d sent, %d late, %d dropped; p50 %.4fs p90 %.4fs p99 %.4fs p99.9 %.4fs max %.4fs",
		res.Requests, res.Late, res.Dropped, res.P50, res.P90, res.P99, res.P999, res.Max)
	if res.Mode != loadgen.ModeOpen || res.Rate != 100 || res.Scheduled != 200 || res.Requests+res.Dropped != 200 {
		t.Errorf("result %+v: want 200 requests due in the open loop", res)
	}
	checkLatencies(t, res)
	// Lower bounds the stall sets whatever the machine's speed: the stalled
	// request itself took 200ms, and every request due in the stall's first
	// 100ms (about 10 of 200, well over 1%) waited at least 100ms.
	if res.Max < stall.Seconds() {
		t.Errorf("max %gs: the stalled request took at least %v", res.Max, stall)
	}
	if res.P99 < (stall / 2).Seconds() {
		t.Errorf("p99 %gs: the requests due during the %v stall do not show", res.P99, stall)
	}
	// Four slots and about 20 requests due during the stall: some waited.
	if res.Late == 0 {
		t.Error("no request counted late, though every slot was stalled")
	}
}

// TestOpenLoopKeepsItsRate: the requests sent are the rate times the
// duration, spread over the run rather than sent in a burst.
func TestOpenLoopKeepsItsRate(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	const rate, duration = 200, time.Second
	res, err := loadgen.Run(context.Background(), loadgen.Config{URL: srv.URL, Rate: rate, Concurrency: 8, Duration: duration})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := int(rate * duration.Seconds())
	if res.Scheduled != want || res.Requests+res.Dropped != want || len(arrivals) != res.Requests {
		t.Errorf("%d due, %d sent, %d dropped, %d arrived: want %d due, every one sent arriving", res.Scheduled, res.Requests, res.Dropped, len(arrivals), want)
	}
	if res.Requests < want*8/10 {
		t.Errorf("%d of %d requests sent: the schedule was not kept", res.Requests, want)
	}
	if res.RPS < rate/2 || res.RPS > rate*1.1 {
		t.Errorf("%g requests a second, want about %d", res.RPS, rate)
	}
	if len(arrivals) > 1 {
		if span := arrivals[len(arrivals)-1].Sub(arrivals[0]); span < duration/2 {
			t.Errorf("%d requests arrived within %v: want them spread over %v", len(arrivals), span, duration)
		}
	}
}

func TestOpenLoopStopsAtItsRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	res, err := loadgen.Run(context.Background(), loadgen.Config{URL: srv.URL, Rate: 1000, Requests: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scheduled != 50 || res.Requests+res.Dropped != 50 || res.Requests == 0 {
		t.Errorf("%+v: want 50 requests due", res)
	}
}

func TestRunRefusesABadRate(t *testing.T) {
	for _, rate := range []float64{-1, 2 * loadgen.MaxRate} {
		if _, err := loadgen.Run(context.Background(), loadgen.Config{URL: "http://127.0.0.1:1/", Rate: rate}); err == nil {
			t.Errorf("rate %g accepted", rate)
		}
	}
}

func TestRunReturnsWhenCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, rate := range []float64{0, 100} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		res, err := loadgen.Run(ctx, loadgen.Config{URL: srv.URL, Rate: rate, Duration: time.Minute})
		cancel()
		if res != nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("rate %g: result %v, error %v: want the context's error", rate, res, err)
		}
	}
}

func ExampleRun() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	res, err := loadgen.Run(context.Background(), loadgen.Config{URL: srv.URL, Concurrency: 2, Requests: 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s loop: %d requests, %d ok, %d failed, %d shed\n", res.Mode, res.Requests, res.OK, res.Errors, res.Shed)
	// Output: closed loop: 20 requests, 20 ok, 0 failed, 0 shed
}
