package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host/kube"
	"github.com/kspbench/kspbench/internal/catalog"
	"github.com/kspbench/kspbench/internal/runner"
	"github.com/kspbench/kspbench/internal/workerbin"
	"github.com/kspbench/kspbench/serve"
)

// serveOptions are the flags of `kspbench serve`.
type serveOptions struct {
	abi           string
	profile       *abi.Profile // nil: detect each plugin's
	engine        string
	plugins       string
	addr          string
	data          string
	cacheDir      string
	kubeconfig    string
	kubeContext   string
	inCluster     bool
	token         string
	tokenFromFlag bool
	maxInstances  int
	maxWorkers    int
	logRate       float64
	logBurst      int
	queue         int
	queueTimeout  time.Duration
	callTimeout   time.Duration
	shutdown      time.Duration
	maxBody       byteSize
	maxInFlight   byteSize
	maxUpload     byteSize
	conn          serve.ConnLimits
	maxHeader     byteSize
	storageBytes  byteSize
	storageKeys   uint
	readyFile     string
	workers       string
	isolation     string
	logFormat     string
	logLevel      slog.Level
	cpuProfile    string
}

// tokenEnv is the environment variable that holds the management token when
// --token is not given (a flag shows in the process list; the environment
// does not).
const tokenEnv = "KSPBENCH_TOKEN"

// reexecEnv marks a serve process started by another one that lacked the
// engine, so that a binary that lacks it too fails instead of looping.
const reexecEnv = "KSPBENCH_SERVE_REEXEC"

// defineServeFlags defines the flags of `kspbench serve` on fs; validate
// checks them once parsed.
func defineServeFlags(fs *flag.FlagSet) *serveOptions {
	o := &serveOptions{maxBody: byteSize(4 << 20), maxUpload: byteSize(32 << 20), maxHeader: byteSize(64 << 10), storageBytes: byteSize(64 << 20)}
	fs.StringVar(&o.abi, "abi", "auto", abiFlagUsage)
	fs.StringVar(&o.engine, "engine", "wazero", "engine to run plugins on: "+strings.Join(catalog.Names(), ", ")+", or one of its configurations (engine:config, as `kspbench engines` lists them); one this binary does not link is run by re-executing the binary that does")
	fs.StringVar(&o.plugins, "plugins", filepath.Join("build", "plugins"), "folder of plugin folders (each a plugin.yml and its wasm; make -C plugins/cluster-monitor install puts one in build/plugins)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:4000", "address to listen on; :4000 for every interface, 127.0.0.1:0 for any free port (see --ready-file)")
	fs.StringVar(&o.data, "data", "", "bbolt file of the plugins' storage (default: kspbench-data.db beside the plugins folder)")
	fs.StringVar(&o.cacheDir, "cache-dir", "", "root of the engines' compilation caches, one sub-folder per engine (default: kspbench-cache beside --data)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file of the cluster that host_k8s_api_call reaches (default: the fixture, a test double with the seed README's two clusters)")
	fs.StringVar(&o.kubeContext, "kube-context", "", "context of --kubeconfig to use (default: its current context)")
	fs.BoolVar(&o.inCluster, "in-cluster", false, "reach the cluster this process runs in with its pod's service account")
	fs.StringVar(&o.token, "token", "", "bearer token of the management API under /api/admin/plugins (default: $"+tokenEnv+"; without one, management is disabled)")
	fs.IntVar(&o.maxInstances, "max-instances", 0, "instances per plugin, the bound on its calls in flight (default: 2 × GOMAXPROCS)")
	fs.IntVar(&o.maxWorkers, "max-workers", 0, "worker processes per plugin under --isolation process, the bound on its calls in flight there; started as calls overlap (default: GOMAXPROCS, at most 4 and at most --max-instances; each is a process of 20-160 MiB resident, by engine and plugin: see the README)")
	fs.IntVar(&o.queue, "queue", 64, "requests per plugin that may wait for a busy instance; more get 503 at once (0: none wait)")
	fs.DurationVar(&o.queueTimeout, "queue-timeout", time.Second, "longest wait for an instance before 503 with Retry-After")
	fs.DurationVar(&o.callTimeout, "call-timeout", 5*time.Second, "deadline of one handler call; 504 past it and the instance is discarded")
	fs.DurationVar(&o.shutdown, "shutdown-timeout", 0, "how long SIGINT/SIGTERM waits for requests in flight (default: call timeout + queue timeout + 5s)")
	fs.Var(&o.maxBody, "max-body", "largest request body passed to a plugin, in bytes or with KiB, MiB, KB, MB; 413 past it")
	fs.Var(&o.maxUpload, "max-upload", "largest plugin archive accepted by the install endpoint; 413 past it")
	fs.Var(&o.maxInFlight, "max-body-in-flight", "most bytes of request bodies held at once by all requests; 503 with Retry-After past it (default: 64 × --max-body)")
	fs.IntVar(&o.conn.MaxConns, "max-conns", 1024, "most connections open at once, below the descriptor limit; past it new ones wait and idle keep-alive connections are closed (-1: no cap)")
	fs.DurationVar(&o.conn.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "longest a client may take to send a request's headers")
	fs.DurationVar(&o.conn.ReadTimeout, "read-timeout", 30*time.Second, "longest a client may take to send a whole request, body included; 408 past it")
	fs.DurationVar(&o.conn.UploadTimeout, "upload-timeout", 5*time.Minute, "--read-timeout of the install endpoint, for archives")
	fs.DurationVar(&o.conn.WriteTimeout, "write-timeout", 0, "longest from a request's headers to the end of its answer; the connection is closed past it (default: read timeout + queue timeout + call timeout + 30s)")
	fs.DurationVar(&o.conn.IdleTimeout, "idle-timeout", time.Minute, "how long a keep-alive connection may sit idle")
	fs.Var(&o.maxHeader, "max-header-bytes", "largest request headers; 431 past it")
	fs.Var(&o.storageBytes, "storage-max-bytes", "each plugin's storage quota in bytes of keys and values; a write past it answers the guest LIMIT_EXCEEDED")
	fs.UintVar(&o.storageKeys, "storage-max-keys", 65536, "each plugin's storage quota in keys; a write past it answers the guest LIMIT_EXCEEDED")
	fs.StringVar(&o.readyFile, "ready-file", "", "once listening, write the bound address (host:port, one line) to this file, and remove it at exit")
	fs.StringVar(&o.workers, "workers", "", "folder of prebuilt kspbench-<engine> binaries, for an engine this binary does not link (default: built from the source tree, or found beside this binary)")
	fs.StringVar(&o.isolation, "isolation", "", "where plugins run: process (each plugin in a worker process of its own, killed at a call's deadline and restarted when it dies; its storage and Kubernetes calls are the server's, on --data and --kubeconfig, through host calls) or none (in this process); default: process for wasmer, which cannot interrupt a call, none otherwise")
	fs.Float64Var(&o.logRate, "plugin-log-rate", serve.DefaultPluginLogRate, "log lines a second each plugin may write (host_log and the host's notes on its calls), in process and isolated; past it lines are dropped, counted (listing, /metrics) and summarised once a second; -1: no limit")
	fs.IntVar(&o.logBurst, "plugin-log-burst", serve.DefaultPluginLogBurst, "log lines a plugin may write at once above --plugin-log-rate")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "least level logged: debug, info, warn, error (request lines are info; 5xx are warn)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the whole serve process (from the start to shutdown) to this file, for `go tool pprof`; a debugging aid")
	return o
}

const serveLong = `Serves every plugin folder of --plugins over HTTP on one engine, at /api/plugins/<name>/<route>
(the KubeStellar UI's layout), with a bounded instance pool per plugin, storage in one bbolt file,
Kubernetes through client-go (or the fixture), management under /api/admin/plugins (token
required), /metrics (Prometheus) and /healthz. SIGINT or SIGTERM shuts down gracefully.
An engine this binary does not link is served by re-executing, with the same arguments,
the kspbench binary that links it.`

const serveExample = `  kspbench serve --plugins build/plugins
  curl http://127.0.0.1:4000/api/plugins/cluster-monitor/status
  KSPBENCH_TOKEN=secret kspbench serve --engine wasmtime --addr :4000 --workers build/bin`

// validate checks the parsed flags of `kspbench serve`; args are the
// positional arguments (none are accepted).
func (o *serveOptions) validate(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("serve: unexpected argument %q", args[0])
	}
	conf, err := catalog.ParseConfiguration(o.engine)
	if err != nil {
		return fmt.Errorf("serve: --engine: %w", err)
	}
	if ok, why := conf.RunsOn(runtime.GOOS, runtime.GOARCH); !ok {
		return fmt.Errorf("serve: --engine: %s", why)
	}
	if o.kubeconfig != "" && o.inCluster {
		return errors.New("serve: --kubeconfig and --in-cluster exclude each other")
	}
	if o.kubeContext != "" && o.kubeconfig == "" {
		return errors.New("serve: --kube-context needs --kubeconfig")
	}
	if o.queue < 0 {
		return errors.New("serve: --queue must be 0 or more")
	}
	if o.maxInstances < 0 {
		return errors.New("serve: --max-instances must be 0 (default) or more")
	}
	if o.logRate == 0 || o.logBurst < 1 {
		return errors.New("serve: --plugin-log-rate must be positive (or -1 for no limit) and --plugin-log-burst 1 or more")
	}
	if o.maxWorkers < 0 {
		return errors.New("serve: --max-workers must be 0 (default) or more")
	}
	if o.conn.MaxConns == 0 || o.conn.MaxConns < -1 {
		return errors.New("serve: --max-conns must be positive, or -1 for no cap")
	}
	if o.storageKeys == 0 || o.storageKeys > 1<<32-1 {
		return errors.New("serve: --storage-max-keys must be between 1 and 4294967295")
	}
	if o.isolation != "" && o.isolation != serve.IsolationProcess && o.isolation != serve.IsolationNone {
		return fmt.Errorf("serve: --isolation: %q is neither process nor none", o.isolation)
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return fmt.Errorf("serve: --log-format: %q is neither text nor json", o.logFormat)
	}
	if o.profile, err = parseABI(o.abi); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	o.tokenFromFlag = o.token != ""
	if o.token == "" {
		o.token = os.Getenv(tokenEnv)
	}
	return nil
}

// parseServeFlags parses the arguments of `kspbench serve` (those after
// "serve") as the CLI does.
func parseServeFlags(args []string, stderr io.Writer) (*serveOptions, error) {
	var o *serveOptions
	err := execute(context.Background(), command{name: "serve", flags: func(fs *flag.FlagSet) action {
		o = defineServeFlags(fs)
		return func(_ context.Context, inv *invocation) error { return o.validate(inv.args) }
	}}, args, stderr)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// config turns the flags into the server's configuration.
func (o *serveOptions) config(logger *slog.Logger, k kube.Client) serve.Config {
	queue := o.queue
	if queue == 0 {
		queue = -1 // serve.Config: negative means no queue; zero means its default
	}
	conn := o.conn
	conn.MaxHeaderBytes = int(o.maxHeader)
	return serve.Config{
		Engine: o.engine, PluginsDir: o.plugins, DataFile: o.data, CacheDir: o.cacheDir, Kube: k, Token: o.token,
		MaxInstances: o.maxInstances, MaxWorkers: o.maxWorkers, PluginLogRate: o.logRate, PluginLogBurst: o.logBurst, QueueSize: queue, QueueTimeout: o.queueTimeout, CallTimeout: o.callTimeout,
		MaxBodyBytes: int64(o.maxBody), MaxBodyBytesInFlight: int64(o.maxInFlight), MaxUploadBytes: int64(o.maxUpload),
		StorageMaxBytes: uint64(o.storageBytes), StorageMaxKeys: uint32(o.storageKeys),
		Conn: conn, ShutdownTimeout: o.shutdown, Logger: logger,
		ABI: o.profile, Isolation: o.isolation,
	}
}

func runServe(fs *flag.FlagSet) action {
	o := defineServeFlags(fs)
	return func(ctx context.Context, inv *invocation) error {
		if err := o.validate(inv.args); err != nil {
			return err
		}
		return serveWith(ctx, o, inv.raw, inv.stderr)
	}
}

// serveWith serves as o says; args are serve's arguments as given, for a
// re-execution.
func serveWith(ctx context.Context, o *serveOptions, args []string, stderr io.Writer) error {
	logger := newLogger(stderr, o.logFormat, o.logLevel)

	reexec, err := needsReexec(o.engine, engines.Drivers(), os.Getenv(reexecEnv))
	if err != nil {
		return err
	}
	if reexec {
		root, rootErr := workerbin.RepoRoot()
		conf, _ := catalog.ParseConfiguration(o.engine) // validate checked it
		bin, err := workerbin.Find(ctx, o.workers, root, rootErr, conf.Engine, func(msg string) { logger.Info(msg) })
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		logger.Info("engine not linked into this binary: re-executing the binary that links it, with the same arguments",
			"engine", o.engine, "linked", engines.Drivers(), "binary", bin)
		return reexecServe(bin, args, append(os.Environ(), reexecEnv+"="+o.engine))
	}
	if linked := runner.LinkedBindings(); len(linked) > 1 {
		return fmt.Errorf("serve: this binary links %s; a process may link at most one cgo engine", strings.Join(linked, " and "))
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Started after any re-execution (the child profiles itself); stopped
	// after the server has closed.
	stopProfile, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer stopProfile()
	if o.tokenFromFlag {
		logger.Warn("management token given by --token, which other users can see in the process list; prefer " + tokenEnv)
	}
	k, err := kubeClient(o)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// Listen first: a taken port fails at once, before plugins compile;
	// connections made meanwhile wait in the backlog.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer ln.Close()
	srv, err := serve.New(ctx, o.config(logger, k))
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	logger.Info("listening", "addr", addr, "plugins", "http://"+addr+"/api/plugins", "health", "http://"+addr+"/healthz",
		"metrics", "http://"+addr+"/metrics")
	if h := srv.Health(); h.Plugins["loaded"] == 0 {
		logger.Warn("no plugin loaded: install one with `make -C plugins/cluster-monitor install PLUGINS_DIR=<--plugins>` and restart, or POST a .tar.gz to /api/admin/plugins/install",
			"plugins_dir", o.plugins)
	}
	if o.readyFile != "" {
		if err := writeReadyFile(o.readyFile, addr); err != nil {
			srv.Close(context.Background())
			return fmt.Errorf("serve: --ready-file: %w", err)
		}
		defer os.Remove(o.readyFile)
	}
	serveErr := srv.Serve(ctx, ln)
	return errors.Join(serveErr, srv.Close(context.Background()))
}

// needsReexec decides where serve runs engine: in this process when the
// binary links it (linked: engines.Drivers()), else by re-executing the
// binary that links it. already is the engine a parent serve re-executed
// this process for, "" when none did: a binary re-executed for an engine it
// does not link is an error, not another re-exec.
func needsReexec(engine string, linked []string, already string) (bool, error) {
	conf, err := catalog.ParseConfiguration(engine)
	if err != nil {
		return false, fmt.Errorf("serve: %w", err)
	}
	e, err := catalog.Get(conf.Engine)
	if err != nil {
		return false, fmt.Errorf("serve: %w", err)
	}
	if slices.Contains(linked, conf.Engine) {
		return false, nil
	}
	if already != "" {
		return false, fmt.Errorf("serve: this binary was re-executed for engine %s but links only %s; rebuild it with -tags %s",
			already, strings.Join(linked, ", "), strings.Join(e.Tags(), ","))
	}
	return true, nil
}

func kubeClient(o *serveOptions) (kube.Client, error) {
	switch {
	case o.kubeconfig != "":
		return kube.NewFromKubeconfig(o.kubeconfig, o.kubeContext)
	case o.inCluster:
		return kube.NewInCluster()
	}
	return nil, nil // serve.Config: nil is the fixture
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// writeReadyFile writes addr to path by renaming a complete file into place,
// so that a reader polling for the file never sees it half written.
func writeReadyFile(path, addr string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// byteSize is a flag value in bytes: a number, optionally followed by KiB,
// MiB, GiB (powers of 1024) or KB, MB, GB (powers of 1000).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return fmt.Errorf("%q is not a positive size such as 4194304, 4MiB or 512KB", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// startCPUProfile starts a Go CPU profile into path, for `go tool pprof`, and
// returns the function that stops it; with path "" it does nothing. serve
// and native-serve take it as --cpuprofile, to compare the two servers'
// costs per request under the same load.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w (is another profile running?)", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
