package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/engines/wazero"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/plugindir"
)

// bodyFlags collects repeated --body ROUTE=BODY flags.
type bodyFlags map[string]string

func (b bodyFlags) String() string { return fmt.Sprint(map[string]string(b)) }

func (b bodyFlags) Set(v string) error {
	route, body, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(route, "/") {
		return errors.New("want ROUTE=BODY, ROUTE starting with /")
	}
	b[route] = body
	return nil
}

// runNativeServe serves a plugin's routes from a plain Go handler that
// returns the bytes the plugin answers, computed once at start: the ceiling
// of the HTTP benchmark, the cost of the HTTP stack without any engine.
func runNativeServe(fs *flag.FlagSet) action {
	dir := fs.String("plugin", "", "plugin folder whose answers to serve")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	ready := fs.String("ready-file", "", "once listening, write the bound address to this file")
	bodies := bodyFlags{}
	fs.Var(bodies, "body", "ROUTE=BODY: the body whose answer a POST/PUT/PATCH route serves (repeatable); routes without one serve GET only")
	return func(ctx context.Context, inv *invocation) error {
		stderr := inv.stderr
		f, err := plugindir.Read(*dir)
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
				body, ok := bodies[r.Path]
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
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return err
		}
		if *ready != "" {
			tmp := *ready + ".tmp"
			if err := os.WriteFile(tmp, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
				return err
			}
			if err := os.Rename(tmp, *ready); err != nil {
				return err
			}
			defer os.Remove(*ready)
		}
		srv := &http.Server{Handler: h}
		go func() {
			<-ctx.Done()
			srv.Shutdown(context.Background())
		}()
		fmt.Fprintf(stderr, "native-serve: %d answers of plugin %s (folder %s) on %s\n", len(answers), f.Manifest.Metadata.Name, filepath.Base(*dir), ln.Addr())
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

const nativeLong = `Serves a plugin's routes from a plain Go handler that returns the bytes the
plugin answers, computed once at start: the ceiling of the HTTP benchmark, the
cost of the HTTP stack without any engine. kspbench run starts it.`

const nativeExample = `  kspbench native-serve --plugin plugins/cluster-monitor --addr 127.0.0.1:4001
  kspbench native-serve --plugin ./my-plugin --body /echo='{"a":1}' --ready-file /tmp/addr`
