package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/host/kube"
	"github.com/kspbench/kspbench/host/storage"
)

// Config configures the Services of one plugin. Only Plugin is required.
type Config struct {
	// Plugin is the plugin's name: the plugin attribute of its log records
	// and its storage namespace.
	Plugin string
	// Logger receives host_log messages and the host's own notes about the
	// plugin's calls. nil means slog.Default().
	Logger *slog.Logger
	// Config is what host_get_config answers: the manifest's defaults merged
	// with the host's overrides, already rendered as text.
	Config map[string]string
	// Storage backs host_storage_get and host_storage_set. nil makes them
	// return UNAVAILABLE. A storage.QuotaStore enforces the plugin's quota
	// (Limits.MaxStorageBytes and MaxStorageKeys); another store does not.
	Storage storage.Store
	// Kube backs host_k8s_api_call. nil makes permitted calls return
	// UNAVAILABLE (denied ones are still PERMISSION_DENIED).
	Kube kube.Client
	// Permissions are the manifest's spec.permissions. Each must be one of
	// abi.KnownPermissions.
	Permissions []string
	// Limits bound log messages, storage keys and values, and Kubernetes
	// response bodies. Zero fields take abi.DefaultLimits.
	Limits abi.Limits
}

// Services implements abi.Imports for one plugin, as ABI.md §4–§7 specify.
// It is safe for concurrent use by all of the plugin's instances.
type Services struct {
	plugin string
	log    *slog.Logger // with the plugin attribute
	config map[string][]byte
	store  storage.Store
	quota  storage.QuotaStore // store, when it enforces quotas; else nil
	// storeQuota is the plugin's quota, from limits.
	storeQuota storage.Quota
	kube       kube.Client
	perms      []string
	limits     abi.Limits
}

var _ abi.Imports = (*Services)(nil)

// RequestIDHeader is the request header whose value, when the call serves an
// HTTP request, is logged as request_id with the plugin's messages.
const RequestIDHeader = "X-Request-Id"

// NewServices returns the Services of the plugin cfg describes. It copies
// cfg.Config and cfg.Permissions; it does not take ownership of cfg.Storage
// (the caller closes it).
//
// # Errors
//
// An empty plugin name, or a permission that is not in
// abi.KnownPermissions (ABI.md §6: such a manifest does not load).
func NewServices(cfg Config) (*Services, error) {
	if cfg.Plugin == "" {
		return nil, errors.New("host: empty plugin name")
	}
	for _, p := range cfg.Permissions {
		if !abi.IsKnownPermission(p) {
			return nil, fmt.Errorf("host: plugin[%s]: unknown permission[%s]", cfg.Plugin, p)
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	config := make(map[string][]byte, len(cfg.Config))
	for k, v := range cfg.Config {
		config[k] = []byte(v)
	}
	quota, _ := cfg.Storage.(storage.QuotaStore)
	limits := cfg.Limits.WithDefaults()
	return &Services{
		quota:      quota,
		storeQuota: storage.Quota{MaxKeys: int64(limits.MaxStorageKeys), MaxBytes: int64(min(limits.MaxStorageBytes, 1<<62))},
		plugin:     cfg.Plugin,
		log:        logger.With(slog.String("plugin", cfg.Plugin)),
		config:     config,
		store:      cfg.Storage,
		kube:       cfg.Kube,
		perms:      slices.Clone(cfg.Permissions),
		limits:     limits,
	}, nil
}

// Plugin returns the plugin's name.
func (s *Services) Plugin() string { return s.plugin }

// Limits returns the limits in force, with defaults filled in.
func (s *Services) Limits() abi.Limits { return s.limits }

// logAt logs msg with attrs, adding request_id when ctx carries an exchange
// whose request has one.
func (s *Services) logAt(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if x := abi.ExchangeFrom(ctx); x != nil {
		if id := http.Header(x.Request.Headers).Get(RequestIDHeader); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
	}
	s.log.LogAttrs(ctx, level, msg, attrs...)
}

// Log logs message at info level under the plugin's name. A message longer
// than Limits.MaxLogBytes is cut there (back to the start of a UTF-8
// sequence, so the cut does not split a character), and the record then
// carries truncated_bytes, the number of bytes cut off.
func (s *Services) Log(ctx context.Context, message []byte) {
	if !s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var attrs []slog.Attr
	if max := int(s.limits.MaxLogBytes); len(message) > max {
		cut := max
		for cut > 0 && cut > max-utf8.UTFMax && !utf8.RuneStart(message[cut]) {
			cut--
		}
		attrs = append(attrs, slog.Int("truncated_bytes", len(message)-cut))
		message = message[:cut]
	}
	s.logAt(ctx, slog.LevelInfo, string(message), attrs...)
}

// GetConfig returns the configuration value of key, or NOT_FOUND.
//
// # Notes
//
// It does not allocate, on a hit or a miss. The returned slice is shared by
// every call: callers must not modify it (abi.WriteResult only copies it).
func (s *Services) GetConfig(_ context.Context, key []byte) ([]byte, abi.Status) {
	v, ok := s.config[string(key)] // the compiler does not allocate for this lookup
	if !ok {
		return nil, abi.NotFound
	}
	return v, abi.OK
}

// checkKey applies ABI.md §4's key rules: 1 to MaxStorageKeyBytes bytes.
func (s *Services) checkKey(key []byte) abi.Status {
	switch {
	case len(key) == 0:
		return abi.BadArgument
	case len(key) > int(s.limits.MaxStorageKeyBytes):
		return abi.LimitExceeded
	}
	return abi.OK
}

// StorageGet returns the value of key in the plugin's namespace.
func (s *Services) StorageGet(ctx context.Context, key []byte) ([]byte, abi.Status) {
	if st := s.checkKey(key); st != abi.OK {
		return nil, st
	}
	if s.store == nil {
		return nil, abi.Unavailable
	}
	v, err := s.store.Get(ctx, s.plugin, key)
	if err != nil {
		return nil, s.storageStatus(ctx, abi.ImportStorageGet, key, err)
	}
	return v, abi.OK
}

// StorageSet stores value under key in the plugin's namespace; an empty value
// deletes the key. Key and value are copied first: they are views of guest
// memory.
func (s *Services) StorageSet(ctx context.Context, key, value []byte) abi.Status {
	if st := s.checkKey(key); st != abi.OK {
		return st
	}
	if len(value) > int(s.limits.MaxStorageValueBytes) {
		return abi.LimitExceeded
	}
	if s.store == nil {
		return abi.Unavailable
	}
	key = append([]byte(nil), key...)
	var err error
	switch {
	case len(value) == 0:
		err = s.store.Delete(ctx, s.plugin, key)
	case s.quota != nil:
		err = s.quota.SetWithin(ctx, s.plugin, key, append([]byte(nil), value...), s.storeQuota)
	default:
		err = s.store.Set(ctx, s.plugin, key, append([]byte(nil), value...))
	}
	if err != nil {
		return s.storageStatus(ctx, abi.ImportStorageSet, key, err)
	}
	return abi.OK
}

// StorageCAS replaces the value of key only if it is old (ABI.md §4): an
// empty old means the key must be absent, an empty value deletes.
func (s *Services) StorageCAS(ctx context.Context, key, old, value []byte) abi.Status {
	if st := s.checkKey(key); st != abi.OK {
		return st
	}
	if len(value) > int(s.limits.MaxStorageValueBytes) || len(old) > int(s.limits.MaxStorageValueBytes) {
		return abi.LimitExceeded
	}
	if s.store == nil {
		return abi.Unavailable
	}
	var oldCopy, valCopy []byte // nil: absent / delete
	if len(old) > 0 {
		oldCopy = append([]byte(nil), old...)
	}
	if len(value) > 0 {
		valCopy = append([]byte(nil), value...)
	}
	key = append([]byte(nil), key...)
	var swapped bool
	var err error
	if s.quota != nil {
		swapped, err = s.quota.CompareAndSwapWithin(ctx, s.plugin, key, oldCopy, valCopy, s.storeQuota)
	} else {
		swapped, err = s.store.CompareAndSwap(ctx, s.plugin, key, oldCopy, valCopy)
	}
	if err != nil {
		return s.storageStatus(ctx, abi.ImportStorageCAS, key, err)
	}
	if !swapped {
		return abi.Conflict
	}
	return abi.OK
}

func (s *Services) storageStatus(ctx context.Context, fn string, key []byte, err error) abi.Status {
	if errors.Is(err, storage.ErrNotFound) {
		return abi.NotFound
	}
	if errors.Is(err, storage.ErrQuotaExceeded) {
		// Debug, not warn: a guest that loops on a full quota would
		// otherwise fill the log at the rate of its loop.
		s.logAt(ctx, slog.LevelDebug, "storage quota exceeded",
			slog.String("import", fn), slog.Int("key_bytes", len(key)), slog.Any("error", err))
		return abi.LimitExceeded
	}
	s.logAt(ctx, slog.LevelWarn, "storage unavailable",
		slog.String("import", fn), slog.Int("key_bytes", len(key)), slog.Any("error", err))
	return abi.Unavailable
}

// K8sAPICall checks the call against the plugin's permissions, sends it to
// the Kubernetes client and maps the answer to a status (ABI.md §4, §6).
func (s *Services) K8sAPICall(ctx context.Context, path, body []byte) ([]byte, abi.Status) {
	call, err := abi.ParseK8sCall(string(path), len(body))
	if err != nil {
		s.logAt(ctx, slog.LevelWarn, "malformed kubernetes call",
			slog.String("import", abi.ImportK8sAPICall), slog.Any("error", err))
		return nil, abi.BadArgument
	}
	perm, err := call.RequiredPermission()
	if err != nil {
		s.logAt(ctx, slog.LevelWarn, "kubernetes call denied: no permission grants it",
			slog.String("import", abi.ImportK8sAPICall), slog.String("method", call.Method),
			slog.String("path", call.Path), slog.Any("error", err))
		return nil, abi.PermissionDenied
	}
	if !slices.Contains(s.perms, perm) {
		s.logAt(ctx, slog.LevelWarn, "kubernetes call denied: permission missing",
			slog.String("import", abi.ImportK8sAPICall), slog.String("method", call.Method),
			slog.String("path", call.Path), slog.String("permission", perm))
		return nil, abi.PermissionDenied
	}
	if s.kube == nil {
		s.logAt(ctx, slog.LevelWarn, "kubernetes call unavailable: no kubernetes backend configured",
			slog.String("import", abi.ImportK8sAPICall), slog.String("method", call.Method), slog.String("path", call.Path))
		return nil, abi.Unavailable
	}
	code, resp, err := s.kube.Do(ctx, call.Method, call.Path, body)
	if err != nil {
		st := abi.Unavailable
		if errors.Is(err, kube.ErrResponseTooLarge) {
			st = abi.LimitExceeded
		}
		s.logAt(ctx, slog.LevelWarn, "kubernetes call failed",
			slog.String("import", abi.ImportK8sAPICall), slog.String("method", call.Method),
			slog.String("path", call.Path), slog.String("status", st.String()), slog.Any("error", err))
		return nil, st
	}
	st := httpStatus(code)
	if st == abi.OK && len(resp) > int(s.limits.MaxResponseBytes) {
		st = abi.LimitExceeded
	}
	if st != abi.OK {
		level := slog.LevelDebug
		if st == abi.Unavailable || st == abi.LimitExceeded || code == http.StatusUnauthorized {
			level = slog.LevelWarn
		}
		s.logAt(ctx, level, "kubernetes call answered with an error",
			slog.String("import", abi.ImportK8sAPICall), slog.String("method", call.Method),
			slog.String("path", call.Path), slog.Int("http_status", code), slog.Int("body_bytes", len(resp)),
			slog.String("status", st.String()))
		return nil, st
	}
	return resp, abi.OK
}

// httpStatus maps an API server's HTTP status to a status as ABI.md §4 says.
func httpStatus(code int) abi.Status {
	switch {
	case code >= 200 && code <= 299:
		return abi.OK
	case code == http.StatusNotFound:
		return abi.NotFound
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return abi.PermissionDenied
	case code == http.StatusBadRequest, code == http.StatusConflict, code == http.StatusUnprocessableEntity:
		return abi.BadArgument
	case code == http.StatusRequestEntityTooLarge, code == http.StatusTooManyRequests:
		return abi.LimitExceeded
	}
	return abi.Unavailable
}

// RequestInfo returns the JSON envelope of the request being served, or
// NOT_FOUND when the call serves none. Absent query and headers are written
// as empty objects, never null.
func (s *Services) RequestInfo(ctx context.Context) ([]byte, abi.Status) {
	x := abi.ExchangeFrom(ctx)
	if x == nil {
		return nil, abi.NotFound
	}
	r := x.Request
	if r.Query == nil {
		r.Query = map[string][]string{}
	}
	if r.Headers == nil {
		r.Headers = map[string][]string{}
	}
	b, err := json.Marshal(r)
	if err != nil {
		s.logAt(ctx, slog.LevelError, "request info not encodable",
			slog.String("import", abi.ImportRequestInfo), slog.Any("error", err))
		return nil, abi.Internal
	}
	return b, abi.OK
}

// SetResponseStatus sets the HTTP status of the response being served.
func (s *Services) SetResponseStatus(ctx context.Context, code uint32) abi.Status {
	x := abi.ExchangeFrom(ctx)
	if x == nil {
		return abi.NotFound
	}
	if code < 200 || code > 599 { // 1xx cannot end a response
		return abi.BadArgument
	}
	x.ResponseStatus = int(code)
	return abi.OK
}
