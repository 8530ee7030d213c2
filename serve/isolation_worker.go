package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/worker"
	"github.com/kspbench/kspbench/plugin"
	"github.com/kspbench/kspbench/plugindir"
)

// The worker operations of process isolation (kspbench serve --isolation
// process): a worker process loads one plugin, then serves its calls one at
// a time, and asks the server for the plugin's storage and Kubernetes calls
// with host calls (isolation_host.go). `kspbench worker` serves them beside
// the benchmark operations.
const (
	OpPluginLoad = "plugin-load" // PluginLoadArgs; PluginLoadResult
	OpPluginCall = "plugin-call" // PluginCallArgs; PluginCallResult
)

// PluginLoadArgs is the plugin-load operation's argument: the plugin folder
// and how to host it.
type PluginLoadArgs struct {
	Dir string `json:"dir"`
	// ABI is the profile's name; empty detects the plugin's.
	ABI string `json:"abi,omitempty"`
	// Kube is the server's Kubernetes backend (kube.Client.Backend), which
	// the worker reaches through host calls, as it does the server's
	// storage.
	Kube            string `json:"kube"`
	CacheDir        string `json:"cache_dir"`
	CallTimeoutNS   int64  `json:"call_timeout_ns"`
	MaxRequestBytes uint32 `json:"max_request_bytes"`
	MaxStorageBytes uint64 `json:"max_storage_bytes"`
	MaxStorageKeys  uint32 `json:"max_storage_keys"`
	// LogLevel is the least level the server logs: the plugin's records
	// at that level or above go to the server's logger (worker.LogHandler).
	LogLevel slog.Level `json:"log_level"`
}

// PluginLoadResult describes the plugin the worker loaded.
type PluginLoadResult struct {
	Name   string         `json:"name"`
	Routes []plugin.Route `json:"routes"`
	Notes  []string       `json:"notes,omitempty"`
	PID    int            `json:"pid"`
}

// PluginCallArgs is the plugin-call operation's argument: the request
// envelope.
type PluginCallArgs struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   map[string][]string `json:"query,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"`
	Body    []byte              `json:"body,omitempty"`
}

// PluginCallResult is the handler's answer, or the HTTP status and error
// kind the server answers for its failure.
type PluginCallResult struct {
	Status int    `json:"status,omitempty"`
	Body   []byte `json:"body,omitempty"`
	Code   int    `json:"code,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Error  string `json:"error,omitempty"`
	// Recycled is the worker's PoolStats.Recycled after the call: the
	// instances its pool retired at the profile's budget so far.
	Recycled int `json:"recycled,omitempty"`
}

// WorkerOps returns the plugin-load and plugin-call operations for a worker
// that opens its engine with open. A worker hosts one plugin at a time.
func WorkerOps(open func(engines.Config) (engines.Engine, error)) map[string]worker.Op {
	var (
		eng engines.Engine
		p   *plugin.Plugin
	)
	// The plugin's records (host_log, and the host's notes on its calls) go
	// to the server's logger during a call; outside one, to stderr, which
	// the server keeps in the worker's crash tail.
	var level slog.LevelVar
	log := slog.New(worker.LogHandler(&level, slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: &level})))
	return map[string]worker.Op{
		OpPluginLoad: func(ctx context.Context, raw json.RawMessage) (any, error) {
			var a PluginLoadArgs
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, fmt.Errorf("%s: %w", OpPluginLoad, err)
			}
			if p != nil {
				return nil, errors.New(OpPluginLoad + ": this worker already hosts a plugin")
			}
			level.Set(a.LogLevel)
			var prof *abi.Profile
			if a.ABI != "" {
				var err error
				if prof, err = abi.ProfileByName(a.ABI); err != nil {
					return nil, err
				}
			}
			f, err := plugindir.ReadWith(a.Dir, prof)
			if err != nil {
				return nil, err
			}
			if eng == nil {
				if err := os.MkdirAll(a.CacheDir, 0o755); err != nil {
					return nil, err
				}
				if eng, err = open(engines.Config{CacheDir: a.CacheDir}); err != nil {
					return nil, err
				}
			}
			p, err = f.Load(ctx, eng, plugindir.Options{Storage: hostStore{}, Kube: hostKubeClient{backend: a.Kube}, Logger: log, MaxInstances: 1,
				Limits: abi.Limits{CallTimeout: time.Duration(a.CallTimeoutNS), MaxRequestBytes: a.MaxRequestBytes,
					MaxStorageBytes: a.MaxStorageBytes, MaxStorageKeys: a.MaxStorageKeys}})
			if err != nil {
				return nil, err
			}
			return PluginLoadResult{Name: f.Manifest.Metadata.Name, Routes: p.Routes(), Notes: p.Notes(), PID: os.Getpid()}, nil
		},
		OpPluginCall: func(ctx context.Context, raw json.RawMessage) (any, error) {
			var a PluginCallArgs
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, fmt.Errorf("%s: %w", OpPluginCall, err)
			}
			if p == nil {
				return nil, errors.New(OpPluginCall + ": no plugin loaded")
			}
			resp, err := p.Handle(ctx, &abi.Request{Method: a.Method, Path: a.Path, Query: a.Query, Headers: a.Headers, Body: a.Body})
			recycled := p.Stats().Recycled
			if err != nil {
				code, kind := classify(ctx, err)
				return PluginCallResult{Code: code, Kind: kind, Error: err.Error(), Recycled: recycled}, nil
			}
			return PluginCallResult{Status: resp.Status, Body: resp.Body, Recycled: recycled}, nil
		},
	}
}
