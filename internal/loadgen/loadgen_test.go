package loadgen_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kspbench/kspbench/internal/loadgen"
)

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
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 200 || res.Status["200"] != 180 || res.Status["418"] != 20 || res.Errors != 20 {
		t.Errorf("result %+v: want 200 requests, 180 x 200, 20 x 418 counted as errors", res)
	}
	if !(res.P50 > 0 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max) || res.RPS <= 0 {
		t.Errorf("latencies out of order or zero: %+v", res)
	}
	if res.FirstError == "" {
		t.Error("no first error reported")
	}
}

func TestRunStopsAtItsDuration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	res, err := loadgen.Run(context.Background(), loadgen.Config{URL: srv.URL, Concurrency: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != 0 {
		t.Errorf("%+v", res)
	}
}

func TestUnreachableServerIsErrors(t *testing.T) {
	res, err := loadgen.Run(context.Background(), loadgen.Config{URL: "http://127.0.0.1:1/", Concurrency: 1, Requests: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 3 || res.Status["error"] != 3 {
		t.Errorf("%+v", res)
	}
}
