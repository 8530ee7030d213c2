package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kspbench/kspbench/internal/loadgen"
)

// runLoad drives HTTP load at a URL and prints the result as JSON: the load
// generator of the HTTP benchmark, run in a process of its own. It fails,
// after printing the result, when any request failed; shed (503), late and
// dropped requests are reported on stderr but do not fail it.
func runLoad(fs *flag.FlagSet) action {
	var c loadgen.Config
	fs.StringVar(&c.URL, "url", "", "URL to load")
	fs.StringVar(&c.Method, "method", "GET", "HTTP method")
	body := fs.String("body", "", "request body")
	bodyFile := fs.String("body-file", "", "file holding the request body")
	contentType := fs.String("content-type", "application/json", "Content-Type of a request with a body")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "clients sending back to back; with --rate, the most requests in flight")
	fs.Float64Var(&c.Rate, "rate", 0, "open loop: send this many requests a second, latency counted from when each was due (0: closed loop)")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "how long to send")
	fs.IntVar(&c.Requests, "requests", 0, "stop after this many requests (0: no bound)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "time sending before measuring")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "a request taking longer fails")
	fs.IntVar(&c.ExpectStatus, "expect-status", 0, "status every answer must have; others fail, 503 counts as shed (0: any 2xx)")
	return func(ctx context.Context, inv *invocation) error {
		stdout, stderr := inv.stdout, inv.stderr
		if c.URL == "" {
			return errors.New("load: --url is required")
		}
		c.Body = []byte(*body)
		if *bodyFile != "" {
			b, err := os.ReadFile(*bodyFile)
			if err != nil {
				return fmt.Errorf("load: %w", err)
			}
			c.Body = b
		}
		if len(c.Body) > 0 {
			c.Header = http.Header{"Content-Type": {*contentType}}
		}
		c.Method = strings.ToUpper(c.Method)
		res, err := loadgen.Run(ctx, c)
		if res == nil {
			return err
		}
		if werr := json.NewEncoder(stdout).Encode(res); werr != nil {
			return errors.Join(err, werr)
		}
		if res.Shed > 0 {
			fmt.Fprintf(stderr, "load: %d of %d requests shed (503), not counted in rps or latencies\n", res.Shed, res.Requests)
		}
		if res.Late > 0 || res.Dropped > 0 {
			fmt.Fprintf(stderr, "load: the server did not keep up with %g requests a second at %d in flight: %d of %d sent late, %d dropped\n",
				res.Rate, res.Concurrency, res.Late, res.Scheduled, res.Dropped)
		}
		return err
	}
}

const loadLong = `Drives HTTP load at a URL and prints the result as JSON: requests a second and
latency percentiles. It is the load generator of the HTTP benchmark, run by
kspbench run in a process of its own. Closed loop by default (--concurrency
clients back to back); open loop with --rate. It fails, after printing the
result, when any request failed; shed (503), late and dropped requests are
reported on stderr but do not fail it.`

const loadExample = `  kspbench load --url http://127.0.0.1:4000/api/plugins/cluster-monitor/status
  kspbench load --url http://127.0.0.1:4000/api/plugins/cluster-monitor/echo --method POST --body '{"a":1}' --rate 500 --duration 10s`
