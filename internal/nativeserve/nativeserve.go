// Package nativeserve serves a plugin's routes from a plain Go handler that
// returns the bytes the plugin answers, computed once at start: the ceiling
// of kspbench run's HTTP workload, the cost of the HTTP stack without any
// engine (kspbench native-serve).
package nativeserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/plugindir"
)

// Options say what to serve and where.
type Options struct {
	// PluginDir is the plugin folder whose answers to serve.
	PluginDir string
	// Addr is the address to listen on.
	Addr string
	// ReadyFile, when set, gets the bound address once listening.
	ReadyFile string
	// Bodies are the request bodies whose answers POST, PUT and PATCH routes
	// serve, by route; routes without one serve GET only.
	Bodies map[string]string
}

// Serve computes the plugin's answers on wazero, then serves them until ctx
// is done; it logs one line to stderr when it listens.
func Serve(ctx context.Context, stderr io.Writer, o Options) error {
	f, err := plugindir.Read(o.PluginDir)
	if err != nil {
		return fmt.Errorf("native-serve: %w", err)
	}
	eng, err := wazero.Open(engines.Config{})
	if err != nil {
		return err
	}
	defer eng.Close(ctx)
	p, err := f.Load(ctx, eng, plugindir.Options{Storage: storage.NewMemory(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("native-serve: %w", err)
	}
	defer p.Close(ctx)

	type answer struct {
		status int
		body   []byte
	}
	answers := map[string]answer{} // "METHOD /api/plugins/<name>/<route>"
	prefix := "/api/plugins/" + f.Manifest.Metadata.Name
	for _, r := range f.Routes() {
		for _, m := range r.Methods {
			body, ok := o.Bodies[r.Path]
			if m != "GET" && !ok {
				continue
			}
			if m == "GET" {
				body = ""
			}
			resp, err := p.Handle(ctx, &abi.Request{Method: m, Path: r.Path, Body: []byte(body)})
			if err != nil {
				return fmt.Errorf("native-serve: %s %s: %w", m, r.Path, err)
			}
			answers[m+" "+prefix+r.Path] = answer{resp.Status, resp.Body}
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, io.LimitReader(r.Body, int64(abi.DefaultLimits.MaxRequestBytes)))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		w.Write(a.body)
	})
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return err
	}
	if o.ReadyFile != "" {
		tmp := o.ReadyFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, o.ReadyFile); err != nil {
			return err
		}
		defer os.Remove(o.ReadyFile)
	}
	srv := &http.Server{Handler: h}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	fmt.Fprintf(stderr, "native-serve: %d answers of plugin %s (folder %s) on %s\n", len(answers), f.Manifest.Metadata.Name, filepath.Base(o.PluginDir), ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
