package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/host/kube"
	"github.com/kspbench/kspbench/host/storage"
)

// logCapture is a slog logger writing JSON records to a buffer.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *logCapture) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the records logged so far, decoded.
func (c *logCapture) records(t testing.TB) []map[string]any {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for line := range bytes.Lines(c.buf.Bytes()) {
		var r map[string]any
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// countingKube is a kube.Client that counts its calls and answers as told.
type countingKube struct {
	mu     sync.Mutex
	calls  int
	method string
	path   string
	body   []byte

	code   int
	answer []byte
	err    error
}

func (k *countingKube) Do(_ context.Context, method, path string, body []byte) (int, []byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls++
	k.method, k.path, k.body = method, path, bytes.Clone(body)
	return k.code, k.answer, k.err
}

func (k *countingKube) Backend() string { return "counting test double" }

// failingStore fails every call with a backend error.
type failingStore struct{}

var errDiskGone = errors.New("disk gone")

func (failingStore) Get(context.Context, string, []byte) ([]byte, error) { return nil, errDiskGone }
func (failingStore) Set(context.Context, string, []byte, []byte) error   { return errDiskGone }
func (failingStore) Delete(context.Context, string, []byte) error        { return errDiskGone }
func (failingStore) Close() error                                        { return nil }
func (failingStore) CompareAndSwap(context.Context, string, []byte, []byte, []byte) (bool, error) {
	return false, errDiskGone
}

// retainingStore keeps the very slices it is given, as a careless store
// would: it shows whether Services copies guest memory before storing.
type retainingStore struct {
	mu   sync.Mutex
	keys [][]byte
	vals [][]byte
}

func (r *retainingStore) Get(_ context.Context, _ string, key []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, k := range r.keys {
		if bytes.Equal(k, key) {
			return r.vals[i], nil
		}
	}
	return nil, storage.ErrNotFound
}

func (r *retainingStore) Set(_ context.Context, _ string, key, value []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys, r.vals = append(r.keys, key), append(r.vals, value)
	return nil
}

func (r *retainingStore) Delete(context.Context, string, []byte) error { return nil }
func (r *retainingStore) Close() error                                 { return nil }
func (r *retainingStore) CompareAndSwap(context.Context, string, []byte, []byte, []byte) (bool, error) {
	return false, nil
}

func newServices(t testing.TB, cfg Config) *Services {
	t.Helper()
	if cfg.Plugin == "" {
		cfg.Plugin = "cluster-monitor"
	}
	s, err := NewServices(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func withRequest(headers map[string][]string) (context.Context, *abi.Exchange) {
	x := &abi.Exchange{Request: abi.Request{Method: "GET", Path: "/data", Route: "/data", Headers: headers}}
	return abi.WithExchange(context.Background(), x), x
}

func TestNewServices(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"minimal", Config{Plugin: "p"}, ""},
		{"all permissions", Config{Plugin: "p", Permissions: abi.KnownPermissions}, ""},
		{"empty plugin", Config{}, "empty plugin name"},
		{"unknown permission", Config{Plugin: "p", Permissions: []string{abi.PermReadClusters, "kubestellar:read:secrets"}}, "permission[kubestellar:read:secrets]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewServices(tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Limits() != abi.DefaultLimits {
					t.Errorf("zero Limits became %+v, want the defaults", s.Limits())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	t.Run("limits merged with defaults", func(t *testing.T) {
		s := newServices(t, Config{Limits: abi.Limits{MaxLogBytes: 7}})
		want := abi.DefaultLimits
		want.MaxLogBytes = 7
		if s.Limits() != want {
			t.Fatalf("Limits() = %+v, want %+v", s.Limits(), want)
		}
	})
}

func TestLog(t *testing.T) {
	for _, tc := range []struct {
		name        string
		maxLog      uint32
		message     string
		requestID   string // sent as X-Request-Id; "" sends no exchange
		wantMsg     string
		wantCut     int // truncated_bytes; 0 means absent
		wantRequest string
	}{
		{name: "plain", message: "hello", wantMsg: "hello"},
		{name: "with request id", message: "serving", requestID: "req-42", wantMsg: "serving", wantRequest: "req-42"},
		{name: "cut at the limit", maxLog: 8, message: "0123456789abc", wantMsg: "01234567", wantCut: 5},
		{name: "at the limit is kept", maxLog: 8, message: "01234567", wantMsg: "01234567"},
		// "é" is two bytes at offsets 7 and 8: a cut at 8 would split it.
		{name: "cut on a character boundary", maxLog: 8, message: "0123456é9", wantMsg: "0123456", wantCut: 3},
		{name: "default limit", message: strings.Repeat("x", 20<<10), wantMsg: strings.Repeat("x", 16<<10), wantCut: 4 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logCapture
			s := newServices(t, Config{Plugin: "logger-test", Logger: logs.logger(), Limits: abi.Limits{MaxLogBytes: tc.maxLog}})
			ctx := context.Background()
			if tc.requestID != "" {
				ctx, _ = withRequest(map[string][]string{"X-Request-Id": {tc.requestID}})
			}
			s.Log(ctx, []byte(tc.message))
			recs := logs.records(t)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			r := recs[0]
			if r["level"] != "INFO" || r["plugin"] != "logger-test" || r["msg"] != tc.wantMsg {
				t.Errorf("record level=%v plugin=%v msg=%.40q; want INFO, logger-test, %.40q", r["level"], r["plugin"], r["msg"], tc.wantMsg)
			}
			if got, _ := r["truncated_bytes"].(float64); int(got) != tc.wantCut {
				t.Errorf("truncated_bytes = %v, want %d", r["truncated_bytes"], tc.wantCut)
			}
			if got, _ := r["request_id"].(string); got != tc.wantRequest {
				t.Errorf("request_id = %q, want %q", got, tc.wantRequest)
			}
		})
	}
	t.Run("exchange without a request id", func(t *testing.T) {
		var logs logCapture
		s := newServices(t, Config{Logger: logs.logger()})
		ctx, _ := withRequest(nil)
		s.Log(ctx, []byte("m"))
		if _, ok := logs.records(t)[0]["request_id"]; ok {
			t.Error("request_id logged for a request without one")
		}
	})
	t.Run("nil logger uses slog.Default", func(t *testing.T) {
		var logs logCapture
		old := slog.Default()
		slog.SetDefault(logs.logger())
		defer slog.SetDefault(old)
		newServices(t, Config{Plugin: "dflt"}).Log(context.Background(), []byte("to default"))
		if recs := logs.records(t); len(recs) != 1 || recs[0]["plugin"] != "dflt" {
			t.Fatalf("records %v, want one from plugin dflt", recs)
		}
	})
}

func TestGetConfig(t *testing.T) {
	cfg := map[string]string{"refresh": "30", "empty": "", "name": "cluster-monitor"}
	s := newServices(t, Config{Config: cfg})
	cfg["refresh"] = "changed after NewServices" // Services keeps its own copy
	for _, tc := range []struct {
		key    string
		want   string
		status abi.Status
	}{
		{"refresh", "30", abi.OK},
		{"name", "cluster-monitor", abi.OK},
		{"empty", "", abi.OK},
		{"absent", "", abi.NotFound},
		{"", "", abi.NotFound},
	} {
		got, st := s.GetConfig(context.Background(), []byte(tc.key))
		if st != tc.status || string(got) != tc.want {
			t.Errorf("GetConfig(%q) = %q, %s; want %q, %s", tc.key, got, st, tc.want, tc.status)
		}
	}
}

func TestGetConfigMissDoesNotAllocate(t *testing.T) {
	s := newServices(t, Config{Config: map[string]string{"a": "1"}})
	key := []byte("absent-key")
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if _, st := s.GetConfig(ctx, key); st != abi.NotFound {
			t.Fatal("not NOT_FOUND")
		}
	})
	if allocs != 0 {
		t.Fatalf("GetConfig miss allocates %.1f times a call, want 0", allocs)
	}
}

func BenchmarkGetConfigMiss(b *testing.B) {
	s := newServices(b, Config{Config: map[string]string{"refresh": "30", "name": "cluster-monitor"}})
	var imp abi.Imports = s // as an engine adapter calls it
	key := []byte("absent-key")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, st := imp.GetConfig(ctx, key); st != abi.NotFound {
			b.Fatalf("GetConfig = %s, want NOT_FOUND", st)
		}
	}
}

func TestStorage(t *testing.T) {
	long := func(n int) string { return strings.Repeat("k", n) }
	type op struct {
		set         bool // StorageSet, else StorageGet
		key, value  string
		wantStatus  abi.Status
		wantValue   string // for gets
		wantLogWarn bool
	}
	for _, tc := range []struct {
		name   string
		store  storage.Store // nil: none
		limits abi.Limits
		ops    []op
	}{
		{"round trip and delete", storage.NewMemory(), abi.Limits{}, []op{
			{key: "count", wantStatus: abi.NotFound},
			{set: true, key: "count", value: "1", wantStatus: abi.OK},
			{key: "count", wantStatus: abi.OK, wantValue: "1"},
			{set: true, key: "count", value: "2", wantStatus: abi.OK},
			{key: "count", wantStatus: abi.OK, wantValue: "2"},
			{set: true, key: "count", value: "", wantStatus: abi.OK}, // empty value deletes
			{key: "count", wantStatus: abi.NotFound},
			{set: true, key: "count", value: "", wantStatus: abi.OK}, // deleting an absent key is fine
		}},
		{"empty key", storage.NewMemory(), abi.Limits{}, []op{
			{key: "", wantStatus: abi.BadArgument},
			{set: true, key: "", value: "v", wantStatus: abi.BadArgument},
			{set: true, key: "", value: "", wantStatus: abi.BadArgument},
		}},
		{"default key limit", storage.NewMemory(), abi.Limits{}, []op{
			{set: true, key: long(1024), value: "v", wantStatus: abi.OK},
			{key: long(1024), wantStatus: abi.OK, wantValue: "v"},
			{set: true, key: long(1025), value: "v", wantStatus: abi.LimitExceeded},
			{set: true, key: long(1025), value: "", wantStatus: abi.LimitExceeded},
			{key: long(1025), wantStatus: abi.LimitExceeded},
		}},
		{"configured limits", storage.NewMemory(), abi.Limits{MaxStorageKeyBytes: 4, MaxStorageValueBytes: 8}, []op{
			{set: true, key: "abcd", value: "12345678", wantStatus: abi.OK},
			{set: true, key: "abcd", value: "123456789", wantStatus: abi.LimitExceeded},
			{key: "abcd", wantStatus: abi.OK, wantValue: "12345678"},
			{set: true, key: "abcde", value: "1", wantStatus: abi.LimitExceeded},
			{key: "abcde", wantStatus: abi.LimitExceeded},
		}},
		{"no store", nil, abi.Limits{}, []op{
			{key: "k", wantStatus: abi.Unavailable},
			{set: true, key: "k", value: "v", wantStatus: abi.Unavailable},
			{set: true, key: "k", value: "", wantStatus: abi.Unavailable},
			{key: "", wantStatus: abi.BadArgument}, // argument checks come first
		}},
		{"failing store", failingStore{}, abi.Limits{}, []op{
			{key: "k", wantStatus: abi.Unavailable, wantLogWarn: true},
			{set: true, key: "k", value: "v", wantStatus: abi.Unavailable, wantLogWarn: true},
			{set: true, key: "k", value: "", wantStatus: abi.Unavailable, wantLogWarn: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logCapture
			s := newServices(t, Config{Logger: logs.logger(), Storage: tc.store, Limits: tc.limits})
			ctx := context.Background()
			for i, o := range tc.ops {
				before := len(logs.records(t))
				var st abi.Status
				var got []byte
				if o.set {
					st = s.StorageSet(ctx, []byte(o.key), []byte(o.value))
				} else {
					got, st = s.StorageGet(ctx, []byte(o.key))
				}
				if st != o.wantStatus || string(got) != o.wantValue {
					t.Fatalf("op %d (set=%v key=%.20q): %q, %s; want %q, %s", i, o.set, o.key, got, st, o.wantValue, o.wantStatus)
				}
				recs := logs.records(t)[before:]
				if o.wantLogWarn {
					if len(recs) != 1 || recs[0]["level"] != "WARN" || !strings.Contains(fmt.Sprint(recs[0]["error"]), "disk gone") {
						t.Fatalf("op %d: records %v, want one warning naming the store's error", i, recs)
					}
				} else if len(recs) != 0 {
					t.Fatalf("op %d: unexpected records %v", i, recs)
				}
			}
		})
	}
}

func TestStorageCopiesGuestMemory(t *testing.T) {
	store := &retainingStore{}
	s := newServices(t, Config{Storage: store})
	key, value := []byte("key"), []byte("value")
	if st := s.StorageSet(context.Background(), key, value); st != abi.OK {
		t.Fatal(st)
	}
	// The guest reuses its memory after the call returns.
	copy(key, "XXX")
	copy(value, "XXXXX")
	got, st := s.StorageGet(context.Background(), []byte("key"))
	if st != abi.OK || string(got) != "value" {
		t.Fatalf("after the guest rewrote its memory, StorageGet = %q, %s; want %q, OK", got, st, "value")
	}
}

func TestStorageNamespacePerPlugin(t *testing.T) {
	store := storage.NewMemory()
	a := newServices(t, Config{Plugin: "alpha", Storage: store})
	b := newServices(t, Config{Plugin: "beta", Storage: store})
	ctx := context.Background()
	a.StorageSet(ctx, []byte("k"), []byte("alpha's"))
	if _, st := b.StorageGet(ctx, []byte("k")); st != abi.NotFound {
		t.Fatalf("beta reads alpha's key: %s", st)
	}
	b.StorageSet(ctx, []byte("k"), []byte("beta's"))
	if v, _ := a.StorageGet(ctx, []byte("k")); string(v) != "alpha's" {
		t.Fatalf("alpha's value is %q after beta wrote its own", v)
	}
	if v, err := store.Get(ctx, "alpha", []byte("k")); err != nil || string(v) != "alpha's" {
		t.Fatalf("namespace is not the plugin name: %q, %v", v, err)
	}
}

func TestStoragePersistsAcrossServices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugins.db")
	ctx := context.Background()

	first, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s1 := newServices(t, Config{Plugin: "cluster-monitor", Storage: first})
	if st := s1.StorageSet(ctx, []byte("last-seen"), []byte(`{"clusters":2}`)); st != abi.OK {
		t.Fatal(st)
	}
	if st := s1.StorageSet(ctx, []byte("temporary"), []byte("x")); st != abi.OK {
		t.Fatal(st)
	}
	if st := s1.StorageSet(ctx, []byte("temporary"), nil); st != abi.OK {
		t.Fatal(st)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// After Close the first Services reports the store as unavailable.
	if _, st := s1.StorageGet(ctx, []byte("last-seen")); st != abi.Unavailable {
		t.Fatalf("StorageGet on a closed store = %s, want UNAVAILABLE", st)
	}

	second, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	s2 := newServices(t, Config{Plugin: "cluster-monitor", Storage: second})
	if v, st := s2.StorageGet(ctx, []byte("last-seen")); st != abi.OK || string(v) != `{"clusters":2}` {
		t.Fatalf("after reopen, StorageGet = %q, %s", v, st)
	}
	if _, st := s2.StorageGet(ctx, []byte("temporary")); st != abi.NotFound {
		t.Fatalf("after reopen, deleted key = %s, want NOT_FOUND", st)
	}
	other := newServices(t, Config{Plugin: "other-plugin", Storage: second})
	if _, st := other.StorageGet(ctx, []byte("last-seen")); st != abi.NotFound {
		t.Fatalf("another plugin reads the key: %s", st)
	}
}

func TestK8sAPICall(t *testing.T) {
	const mc = "/apis/cluster.open-cluster-management.io/v1/managedclusters"
	readClusters := []string{abi.PermReadClusters}
	for _, tc := range []struct {
		name  string
		perms []string
		path  string
		body  string
		// what the client answers
		code   int
		answer string
		err    error
		limits abi.Limits
		noKube bool

		wantStatus abi.Status
		wantData   string
		wantCalls  int
		wantMethod string // at the client, when called
		wantPath   string
		wantLog    string // a record whose msg contains this, when set
		wantPerm   string // its permission attribute, when set
	}{
		{name: "ok", perms: readClusters, path: mc, code: 200, answer: `{"items":[]}`,
			wantStatus: abi.OK, wantData: `{"items":[]}`, wantCalls: 1, wantMethod: "GET", wantPath: mc},
		{name: "ok with query", perms: readClusters, path: mc + "?limit=1", code: 200, answer: `{}`,
			wantStatus: abi.OK, wantData: `{}`, wantCalls: 1, wantMethod: "GET", wantPath: mc + "?limit=1"},
		{name: "empty 2xx body", perms: []string{abi.PermWriteClusters}, path: "DELETE " + mc + "/c1", code: 204,
			wantStatus: abi.OK, wantCalls: 1, wantMethod: "DELETE", wantPath: mc + "/c1"},
		{name: "body without method is POST", perms: []string{abi.PermWriteWorkloads}, path: "/api/v1/namespaces/a/configmaps", body: `{"kind":"ConfigMap"}`,
			code: 201, answer: `{"kind":"ConfigMap"}`, wantStatus: abi.OK, wantData: `{"kind":"ConfigMap"}`, wantCalls: 1, wantMethod: "POST", wantPath: "/api/v1/namespaces/a/configmaps"},
		{name: "explicit method", perms: []string{abi.PermWriteWorkloads}, path: "PATCH /apis/apps/v1/namespaces/a/deployments/d", body: `{"spec":{}}`,
			code: 200, answer: `{}`, wantStatus: abi.OK, wantData: `{}`, wantCalls: 1, wantMethod: "PATCH", wantPath: "/apis/apps/v1/namespaces/a/deployments/d"},

		{name: "malformed path", perms: readClusters, path: "apis/x", wantStatus: abi.BadArgument, wantLog: "malformed"},
		{name: "unknown method", perms: readClusters, path: "FETCH " + mc, wantStatus: abi.BadArgument, wantLog: "malformed"},
		{name: "dot-dot path", perms: readClusters, path: mc + "/../secrets", wantStatus: abi.BadArgument, wantLog: "malformed"},
		{name: "resource no permission grants", perms: abi.KnownPermissions, path: "/api/v1/namespaces/a/secrets",
			wantStatus: abi.PermissionDenied, wantLog: "no permission grants it"},
		{name: "not a resource path", perms: abi.KnownPermissions, path: "/healthz",
			wantStatus: abi.PermissionDenied, wantLog: "no permission grants it"},
		{name: "read permission missing", perms: readClusters, path: "/api/v1/pods",
			wantStatus: abi.PermissionDenied, wantLog: "permission missing", wantPerm: abi.PermReadWorkloads},
		{name: "write permission missing", perms: readClusters, path: "DELETE " + mc + "/c1",
			wantStatus: abi.PermissionDenied, wantLog: "permission missing", wantPerm: abi.PermWriteClusters},
		{name: "no permissions at all", path: "/version",
			wantStatus: abi.PermissionDenied, wantLog: "permission missing", wantPerm: abi.PermReadClusters},
		{name: "denied before the missing backend", noKube: true, path: "/api/v1/pods",
			wantStatus: abi.PermissionDenied, wantLog: "permission missing", wantPerm: abi.PermReadWorkloads},
		{name: "no backend", noKube: true, perms: readClusters, path: mc,
			wantStatus: abi.Unavailable, wantLog: "no kubernetes backend"},

		{name: "404", perms: readClusters, path: mc + "/x", code: 404, answer: `{"kind":"Status"}`, wantStatus: abi.NotFound, wantCalls: 1, wantMethod: "GET", wantPath: mc + "/x"},
		{name: "401", perms: readClusters, path: mc, code: 401, wantStatus: abi.PermissionDenied, wantCalls: 1, wantMethod: "GET", wantPath: mc, wantLog: "answered with an error"},
		{name: "403", perms: readClusters, path: mc, code: 403, wantStatus: abi.PermissionDenied, wantCalls: 1, wantMethod: "GET", wantPath: mc},
		{name: "400", perms: readClusters, path: mc, code: 400, wantStatus: abi.BadArgument, wantCalls: 1, wantMethod: "GET", wantPath: mc},
		{name: "409", perms: readClusters, path: mc, code: 409, wantStatus: abi.BadArgument, wantCalls: 1, wantMethod: "GET", wantPath: mc},
		{name: "422", perms: readClusters, path: mc, code: 422, wantStatus: abi.BadArgument, wantCalls: 1, wantMethod: "GET", wantPath: mc},
		{name: "413", perms: readClusters, path: mc, code: 413, wantStatus: abi.LimitExceeded, wantCalls: 1, wantMethod: "GET", wantPath: mc},
		{name: "429", perms: readClusters, path: mc, code: 429, wantStatus: abi.LimitExceeded, wantCalls: 1, wantMethod: "GET", wantPath: mc},
		{name: "500", perms: readClusters, path: mc, code: 500, wantStatus: abi.Unavailable, wantCalls: 1, wantMethod: "GET", wantPath: mc, wantLog: "answered with an error"},
		{name: "503", perms: readClusters, path: mc, code: 503, wantStatus: abi.Unavailable, wantCalls: 1, wantMethod: "GET", wantPath: mc},
		{name: "302", perms: readClusters, path: mc, code: 302, wantStatus: abi.Unavailable, wantCalls: 1, wantMethod: "GET", wantPath: mc},
		{name: "transport error", perms: readClusters, path: mc, err: errors.New("connection refused"),
			wantStatus: abi.Unavailable, wantCalls: 1, wantMethod: "GET", wantPath: mc, wantLog: "kubernetes call failed"},
		{name: "client's cap", perms: readClusters, path: mc, err: fmt.Errorf("%w: 99 bytes", kube.ErrResponseTooLarge),
			wantStatus: abi.LimitExceeded, wantCalls: 1, wantMethod: "GET", wantPath: mc, wantLog: "kubernetes call failed"},
		{name: "response past MaxResponseBytes", perms: readClusters, path: mc, code: 200, answer: strings.Repeat("x", 17),
			limits: abi.Limits{MaxResponseBytes: 16}, wantStatus: abi.LimitExceeded, wantCalls: 1, wantMethod: "GET", wantPath: mc, wantLog: "answered with an error"},
		{name: "response at MaxResponseBytes", perms: readClusters, path: mc, code: 200, answer: strings.Repeat("x", 16),
			limits: abi.Limits{MaxResponseBytes: 16}, wantStatus: abi.OK, wantData: strings.Repeat("x", 16), wantCalls: 1, wantMethod: "GET", wantPath: mc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logCapture
			k := &countingKube{code: tc.code, answer: []byte(tc.answer), err: tc.err}
			cfg := Config{Logger: logs.logger(), Permissions: tc.perms, Limits: tc.limits, Kube: k}
			if tc.noKube {
				cfg.Kube = nil
			}
			s := newServices(t, cfg)
			ctx, _ := withRequest(map[string][]string{"X-Request-Id": {"r1"}})
			got, st := s.K8sAPICall(ctx, []byte(tc.path), []byte(tc.body))
			if st != tc.wantStatus || string(got) != tc.wantData {
				t.Fatalf("K8sAPICall = %.40q, %s; want %.40q, %s", got, st, tc.wantData, tc.wantStatus)
			}
			if k.calls != tc.wantCalls {
				t.Fatalf("client called %d times, want %d", k.calls, tc.wantCalls)
			}
			if tc.wantCalls > 0 && (k.method != tc.wantMethod || k.path != tc.wantPath || string(k.body) != tc.body) {
				t.Fatalf("client got %s %s %q, want %s %s %q", k.method, k.path, k.body, tc.wantMethod, tc.wantPath, tc.body)
			}
			if tc.wantLog == "" {
				return
			}
			for _, r := range logs.records(t) {
				msg, _ := r["msg"].(string)
				if !strings.Contains(msg, tc.wantLog) {
					continue
				}
				if r["plugin"] != "cluster-monitor" || r["request_id"] != "r1" {
					t.Errorf("record %v lacks plugin or request_id", r)
				}
				if tc.wantPerm != "" && r["permission"] != tc.wantPerm {
					t.Errorf("record %v: permission = %v, want %s", r, r["permission"], tc.wantPerm)
				}
				return
			}
			t.Fatalf("no record with %q in %v", tc.wantLog, logs.records(t))
		})
	}
}

func TestK8sAPICallOnFixture(t *testing.T) {
	s := newServices(t, Config{Kube: kube.NewFixture(), Permissions: []string{abi.PermReadClusters}})
	ctx := context.Background()
	got, st := s.K8sAPICall(ctx, []byte("/apis/cluster.open-cluster-management.io/v1/managedclusters"), nil)
	if st != abi.OK || !bytes.Contains(got, []byte(`"name":"cluster-2"`)) {
		t.Fatalf("list = %.60q, %s", got, st)
	}
	if _, st := s.K8sAPICall(ctx, []byte("/apis/cluster.open-cluster-management.io/v1/managedclusters/nope"), nil); st != abi.NotFound {
		t.Fatalf("absent cluster = %s, want NOT_FOUND", st)
	}
}

func TestRequestInfo(t *testing.T) {
	s := newServices(t, Config{})
	if _, st := s.RequestInfo(context.Background()); st != abi.NotFound {
		t.Fatalf("without an exchange: %s, want NOT_FOUND", st)
	}
	for _, tc := range []struct {
		name string
		req  abi.Request
		want string
	}{
		{"full", abi.Request{
			Method: "POST", Path: "/data", Route: "/data",
			Query:   map[string][]string{"k": {"v"}},
			Headers: map[string][]string{"Content-Type": {"application/json"}},
			Body:    []byte("not in the envelope"),
		}, `{"method":"POST","path":"/data","route":"/data","query":{"k":["v"]},"headers":{"Content-Type":["application/json"]}}`},
		{"nil maps are empty objects", abi.Request{Method: "GET", Path: "/", Route: "/"},
			`{"method":"GET","path":"/","route":"/","query":{},"headers":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &abi.Exchange{Request: tc.req}
			got, st := s.RequestInfo(abi.WithExchange(context.Background(), x))
			if st != abi.OK || string(got) != tc.want {
				t.Fatalf("RequestInfo = %s, %s\nwant %s", got, st, tc.want)
			}
			if x.Request.Query == nil && tc.req.Query != nil {
				t.Fatal("RequestInfo changed the exchange")
			}
		})
	}
}

func TestSetResponseStatus(t *testing.T) {
	s := newServices(t, Config{})
	if st := s.SetResponseStatus(context.Background(), 200); st != abi.NotFound {
		t.Fatalf("without an exchange: %s, want NOT_FOUND", st)
	}
	for _, tc := range []struct {
		code uint32
		want abi.Status
	}{
		{0, abi.BadArgument}, {99, abi.BadArgument}, {600, abi.BadArgument}, {1 << 31, abi.BadArgument},
		{100, abi.BadArgument}, {199, abi.BadArgument}, {200, abi.OK}, {404, abi.OK}, {599, abi.OK},
	} {
		ctx, x := withRequest(nil)
		st := s.SetResponseStatus(ctx, tc.code)
		if st != tc.want {
			t.Errorf("SetResponseStatus(%d) = %s, want %s", tc.code, st, tc.want)
		}
		wantStored := 0
		if tc.want == abi.OK {
			wantStored = int(tc.code)
		}
		if x.ResponseStatus != wantStored {
			t.Errorf("SetResponseStatus(%d) stored %d, want %d", tc.code, x.ResponseStatus, wantStored)
		}
	}
}

func TestStorageCAS(t *testing.T) {
	ctx := context.Background()
	s := newServices(t, Config{Storage: storage.NewMemory()})
	steps := []struct {
		key, old, value string
		want            abi.Status
	}{
		{"k", "x", "v1", abi.Conflict},  // absent, but an old value expected
		{"k", "", "v1", abi.OK},         // absent, as expected: created
		{"k", "", "v2", abi.Conflict},   // present now
		{"k", "v0", "v2", abi.Conflict}, // wrong old value
		{"k", "v1", "v2", abi.OK},       // swapped
		{"k", "v2", "", abi.OK},         // deleted
		{"", "", "v", abi.BadArgument},  // empty key
		{"k", "", string(make([]byte, 5<<20)), abi.LimitExceeded},
	}
	for i, st := range steps {
		if got := s.StorageCAS(ctx, []byte(st.key), []byte(st.old), []byte(st.value)); got != st.want {
			t.Errorf("step %d CAS(%q, %q, %.8q) = %s, want %s", i, st.key, st.old, st.value, got, st.want)
		}
	}
	if _, st := s.StorageGet(ctx, []byte("k")); st != abi.NotFound {
		t.Errorf("after the deleting swap: %s", st)
	}
	if got := newServices(t, Config{Storage: failingStore{}}).StorageCAS(ctx, []byte("k"), nil, []byte("v")); got != abi.Unavailable {
		t.Errorf("failing store: %s", got)
	}
}

// TestStorageCASUnderContention has many writers append to one list with a
// read-modify-CAS loop, as a plugin serving concurrent requests must: no
// update may be lost.
func TestStorageCASUnderContention(t *testing.T) {
	ctx := context.Background()
	s := newServices(t, Config{Storage: storage.NewMemory()})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				for {
					cur, st := s.StorageGet(ctx, []byte("list"))
					if st != abi.OK && st != abi.NotFound {
						t.Errorf("get: %s", st)
						return
					}
					next := append(append([]byte{}, cur...), fmt.Sprintf("%d.%d;", w, i)...)
					if s.StorageCAS(ctx, []byte("list"), cur, next) == abi.OK {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	v, _ := s.StorageGet(ctx, []byte("list"))
	if n := bytes.Count(v, []byte(";")); n != 200 {
		t.Errorf("%d of 200 appends kept", n)
	}
}
