package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/kspbench/kspbench/internal/nativeserve"
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

// runNativeServe is kspbench native-serve: package nativeserve does the work.
func runNativeServe(fs *flag.FlagSet) action {
	dir := fs.String("plugin", "", "plugin folder whose answers to serve")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	ready := fs.String("ready-file", "", "once listening, write the bound address to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the server to this file, for `go tool pprof` (a debugging aid, as serve's)")
	bodies := bodyFlags{}
	fs.Var(bodies, "body", "ROUTE=BODY: the body whose answer a POST/PUT/PATCH route serves (repeatable); routes without one serve GET only")
	return func(ctx context.Context, inv *invocation) error {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return fmt.Errorf("native-serve: %w", err)
		}
		defer stop()
		return nativeserve.Serve(ctx, inv.stderr, nativeserve.Options{PluginDir: *dir, Addr: *addr, ReadyFile: *ready, Bodies: bodies})
	}
}

const nativeLong = `Serves a plugin's routes from a plain Go handler that returns the bytes the
plugin answers, computed once at start: the ceiling of the HTTP benchmark, the
cost of the HTTP stack without any engine. kspbench run starts it.`

const nativeExample = `  kspbench native-serve --plugin plugins/cluster-monitor --addr 127.0.0.1:4001
  kspbench native-serve --plugin ./my-plugin --body /echo='{"a":1}' --ready-file /tmp/addr`
