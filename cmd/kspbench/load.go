package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kspbench/kspbench/internal/loadgen"
)

// runLoad drives HTTP load at a URL and prints the result as JSON: the load
// generator of the HTTP benchmark, run in a process of its own.
func runLoad(ctx context.Context, _ io.Reader, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c loadgen.Config
	fs.StringVar(&c.URL, "url", "", "URL to load")
	fs.StringVar(&c.Method, "method", "GET", "HTTP method")
	body := fs.String("body", "", "request body")
	bodyFile := fs.String("body-file", "", "file holding the request body")
	contentType := fs.String("content-type", "application/json", "Content-Type of a request with a body")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "clients sending at once")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "how long to send")
	fs.IntVar(&c.Requests, "requests", 0, "stop after this many requests (0: no bound)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "time sending before measuring")
	fs.IntVar(&c.ExpectStatus, "expect-status", 0, "count other statuses as errors (0: any status)")
	if err := fs.Parse(args); err != nil {
		return err
	}
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
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}
