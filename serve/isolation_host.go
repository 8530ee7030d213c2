package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/host/kube"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/internal/worker"
)

// Host calls of an isolated plugin (worker.HostCall): while a call runs in
// the worker, the guest's storage and Kubernetes imports are served by the
// server, on its own storage file and Kubernetes client, so isolation does
// not change what a plugin sees. The worker's host.Services still checks
// keys, sizes and permissions first, as in process; the server checks them
// again and applies its own namespace and quota, because it does not trust a
// process whose guest may have escaped its engine.
const (
	hostStorageGet    = "storage-get"    // hostStorageArgs; hostStorageResult
	hostStorageSet    = "storage-set"    // hostStorageArgs; hostStorageResult
	hostStorageDelete = "storage-delete" // hostStorageArgs; hostStorageResult
	hostStorageCAS    = "storage-cas"    // hostStorageArgs; hostStorageResult
	hostStorageUsage  = "storage-usage"  // hostStorageArgs; hostStorageResult
	hostKubeDo        = "kube-do"        // hostKubeArgs; hostKubeResult
)

// hostStorageArgs is a storage host call's argument. The namespace is not
// part of it: the server uses the plugin's.
type hostStorageArgs struct {
	Key   []byte `json:"key,omitempty"`
	Value []byte `json:"value,omitempty"`
	Old   []byte `json:"old,omitempty"`
	// HasOld and HasValue tell a nil Old (the key must be absent) and a nil
	// Value (delete) from empty ones, which JSON does not.
	HasOld   bool `json:"has_old,omitempty"`
	HasValue bool `json:"has_value,omitempty"`
}

// hostStorageResult is a storage host call's answer. Err is "not_found" or
// "quota_exceeded" for the errors the guest sees as statuses; other
// failures are the host reply's error.
type hostStorageResult struct {
	Value   []byte        `json:"value,omitempty"`
	Swapped bool          `json:"swapped,omitempty"`
	Usage   storage.Usage `json:"usage"`
	Err     string        `json:"err,omitempty"`
}

type hostKubeArgs struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   []byte `json:"body,omitempty"`
}

type hostKubeResult struct {
	Status int    `json:"status"`
	Body   []byte `json:"body,omitempty"`
	// TooLarge: the client refused the answer (kube.ErrResponseTooLarge).
	TooLarge bool `json:"too_large,omitempty"`
}

// hostFor serves the host calls of plugin name's workers on the server's
// storage (the plugin's namespace and quota) and Kubernetes client (the
// plugin's permissions).
func (s *Server) hostFor(name string, perms []string) worker.HostFunc {
	l := abi.Limits{MaxStorageBytes: s.cfg.StorageMaxBytes, MaxStorageKeys: s.cfg.StorageMaxKeys}.WithDefaults()
	q := storage.Quota{MaxKeys: int64(l.MaxStorageKeys), MaxBytes: int64(min(l.MaxStorageBytes, 1<<62))}
	perms = slices.Clone(perms)
	return func(ctx context.Context, op string, raw json.RawMessage) (any, error) {
		if op == hostKubeDo {
			var a hostKubeArgs
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, fmt.Errorf("plugin[%s] host call %s: %w", name, op, err)
			}
			return s.hostKube(ctx, name, perms, a)
		}
		var a hostStorageArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("plugin[%s] host call %s: %w", name, op, err)
		}
		if op != hostStorageUsage && (len(a.Key) == 0 || len(a.Key) > int(l.MaxStorageKeyBytes)) {
			return nil, fmt.Errorf("plugin[%s] host call %s: key of %d bytes, not 1 to %d", name, op, len(a.Key), l.MaxStorageKeyBytes)
		}
		if len(a.Value) > int(l.MaxStorageValueBytes) || len(a.Old) > int(l.MaxStorageValueBytes) {
			return nil, fmt.Errorf("plugin[%s] host call %s: value past %d bytes", name, op, l.MaxStorageValueBytes)
		}
		var res hostStorageResult
		var err error
		switch op {
		case hostStorageGet:
			res.Value, err = s.store.Get(ctx, name, a.Key)
		case hostStorageSet:
			err = s.store.SetWithin(ctx, name, a.Key, a.Value, q)
		case hostStorageDelete:
			err = s.store.Delete(ctx, name, a.Key)
		case hostStorageCAS:
			old, value := a.Old, a.Value
			if !a.HasOld {
				old = nil
			} else if old == nil {
				old = []byte{}
			}
			if !a.HasValue {
				value = nil
			} else if value == nil {
				value = []byte{}
			}
			res.Swapped, err = s.store.CompareAndSwapWithin(ctx, name, a.Key, old, value, q)
		case hostStorageUsage:
			res.Usage, err = s.store.Usage(ctx, name)
		default:
			return nil, fmt.Errorf("plugin[%s]: unknown host call %q", name, op)
		}
		switch {
		case errors.Is(err, storage.ErrNotFound):
			res.Err = "not_found"
		case errors.Is(err, storage.ErrQuotaExceeded):
			res.Err = "quota_exceeded"
		case err != nil:
			return nil, err
		}
		return res, nil
	}
}

// hostKube sends an isolated plugin's Kubernetes call to the server's client
// after checking it against the plugin's permissions, as host.Services does.
func (s *Server) hostKube(ctx context.Context, name string, perms []string, a hostKubeArgs) (hostKubeResult, error) {
	call, err := abi.ParseK8sCall(a.Method+" "+a.Path, len(a.Body))
	if err != nil || call.Method != a.Method || call.Path != a.Path {
		return hostKubeResult{}, fmt.Errorf("plugin[%s] host call %s: malformed call %q %q: %v", name, hostKubeDo, a.Method, a.Path, err)
	}
	perm, err := call.RequiredPermission()
	if err != nil {
		return hostKubeResult{}, fmt.Errorf("plugin[%s] host call %s: %s %s: %w", name, hostKubeDo, a.Method, a.Path, err)
	}
	if !slices.Contains(perms, perm) {
		return hostKubeResult{}, fmt.Errorf("plugin[%s] host call %s: %s %s needs permission %s, which its manifest does not grant", name, hostKubeDo, a.Method, a.Path, perm)
	}
	code, body, err := s.kube.Do(ctx, a.Method, a.Path, a.Body)
	if errors.Is(err, kube.ErrResponseTooLarge) {
		return hostKubeResult{TooLarge: true}, nil
	}
	if err != nil {
		return hostKubeResult{}, err
	}
	return hostKubeResult{Status: code, Body: body}, nil
}

// hostStore is an isolated plugin's storage in its worker: every operation
// is a host call to the server, which applies the plugin's namespace and
// quota (the namespace and quota passed here are the worker's view of the
// same and are not sent).
type hostStore struct{}

var _ storage.QuotaStore = hostStore{}

func (hostStore) call(ctx context.Context, op string, a hostStorageArgs) (hostStorageResult, error) {
	var res hostStorageResult
	if err := worker.CallHost(ctx, op, a, &res); err != nil {
		return res, fmt.Errorf("storage through the server: %w", err)
	}
	switch res.Err {
	case "":
		return res, nil
	case "not_found":
		return res, storage.ErrNotFound
	case "quota_exceeded":
		return res, storage.ErrQuotaExceeded
	}
	return res, fmt.Errorf("storage through the server: %s", res.Err)
}

func (h hostStore) Get(ctx context.Context, _ string, key []byte) ([]byte, error) {
	res, err := h.call(ctx, hostStorageGet, hostStorageArgs{Key: key})
	if err != nil {
		return nil, err
	}
	if res.Value == nil {
		res.Value = []byte{}
	}
	return res.Value, nil
}

func (h hostStore) Set(ctx context.Context, ns string, key, value []byte) error {
	return h.SetWithin(ctx, ns, key, value, storage.Quota{})
}

func (h hostStore) SetWithin(ctx context.Context, _ string, key, value []byte, _ storage.Quota) error {
	_, err := h.call(ctx, hostStorageSet, hostStorageArgs{Key: key, Value: value, HasValue: true})
	return err
}

func (h hostStore) Delete(ctx context.Context, _ string, key []byte) error {
	_, err := h.call(ctx, hostStorageDelete, hostStorageArgs{Key: key})
	return err
}

func (h hostStore) CompareAndSwap(ctx context.Context, ns string, key, old, value []byte) (bool, error) {
	return h.CompareAndSwapWithin(ctx, ns, key, old, value, storage.Quota{})
}

func (h hostStore) CompareAndSwapWithin(ctx context.Context, _ string, key, old, value []byte, _ storage.Quota) (bool, error) {
	res, err := h.call(ctx, hostStorageCAS, hostStorageArgs{Key: key, Old: old, HasOld: old != nil, Value: value, HasValue: value != nil})
	return res.Swapped, err
}

func (h hostStore) Usage(ctx context.Context, _ string) (storage.Usage, error) {
	res, err := h.call(ctx, hostStorageUsage, hostStorageArgs{})
	return res.Usage, err
}

func (hostStore) Close() error { return nil }

// hostKubeClient is the server's Kubernetes client, seen from a worker.
type hostKubeClient struct{ backend string }

var _ kube.Client = hostKubeClient{}

func (h hostKubeClient) Do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var res hostKubeResult
	if err := worker.CallHost(ctx, hostKubeDo, hostKubeArgs{Method: method, Path: path, Body: body}, &res); err != nil {
		return 0, nil, fmt.Errorf("kube through the server: %w", err)
	}
	if res.TooLarge {
		return 0, nil, kube.ErrResponseTooLarge
	}
	return res.Status, res.Body, nil
}

func (h hostKubeClient) Backend() string { return h.backend }

// migrateIsolatedData moves what an isolated plugin kept in its own file
// (IsolatedDataFile, the layout before host calls) into the server's file,
// once, whatever the plugin's isolation now: a key the server's file already holds keeps its value there, and the
// old file is renamed to <file>.migrated so that it is not read again.
func (s *Server) migrateIsolatedData(ctx context.Context, name string) error {
	old := IsolatedDataFile(s.cfg.DataFile, name)
	if _, err := os.Stat(old); err != nil {
		return nil // nothing to migrate
	}
	src, err := storage.Open(old)
	if err != nil {
		return fmt.Errorf("isolation: migrate %s into %s: %w (is an older server still running this plugin?)", old, s.cfg.DataFile, err)
	}
	moved, kept := 0, 0
	err = src.Each(ctx, name, func(key, value []byte) error {
		swapped, err := s.store.CompareAndSwap(ctx, name, key, nil, value)
		if swapped {
			moved++
		} else if err == nil {
			kept++
		}
		return err
	})
	if cerr := src.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("isolation: migrate %s into %s: %w", old, s.cfg.DataFile, err)
	}
	if err := os.Rename(old, old+".migrated"); err != nil {
		return fmt.Errorf("isolation: migrated %s into %s, but cannot rename it: %w", old, s.cfg.DataFile, err)
	}
	s.log.Info("isolation: storage of the old layout migrated into the server's file", "plugin", name,
		"from", old, "to", s.cfg.DataFile, "keys_moved", moved, "keys_kept", kept, "old_file_now", old+".migrated")
	return nil
}
