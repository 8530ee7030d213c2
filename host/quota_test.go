package host

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/host/storage"
)

// TestStorageQuota: host_storage_set and host_storage_cas answer
// LIMIT_EXCEEDED past the plugin's quota and write nothing; deletes and
// writes that do not grow the plugin's storage pass; each plugin has its own.
func TestStorageQuota(t *testing.T) {
	store, err := storage.Open(filepath.Join(t.TempDir(), "kv.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var logs logCapture
	limits := abi.Limits{MaxStorageKeys: 2, MaxStorageBytes: 20}
	a := newServices(t, Config{Plugin: "alpha", Storage: store, Limits: limits, Logger: logs.logger()})
	b := newServices(t, Config{Plugin: "beta", Storage: store, Limits: limits})
	ctx := context.Background()
	for i, tc := range []struct {
		s          *Services
		cas        bool
		key, old   string
		value      string
		wantStatus abi.Status
	}{
		{s: a, key: "k1", value: "12345", wantStatus: abi.OK},                    // 7 bytes, 1 key
		{s: a, key: "k2", value: "12345", wantStatus: abi.OK},                    // 14 bytes, 2 keys
		{s: a, key: "k3", value: "1", wantStatus: abi.LimitExceeded},             // a 3rd key
		{s: a, key: "k2", value: "123456789", wantStatus: abi.OK},                // 18 bytes
		{s: a, key: "k2", value: "1234567890123", wantStatus: abi.LimitExceeded}, // 22 bytes
		{s: a, cas: true, key: "k3", value: "1", wantStatus: abi.LimitExceeded},
		{s: a, cas: true, key: "k2", old: "123456789", value: "1234567890123", wantStatus: abi.LimitExceeded},
		{s: a, cas: true, key: "k2", old: "123456789", value: "1", wantStatus: abi.OK},
		{s: b, key: "k1", value: "12345", wantStatus: abi.OK}, // another plugin: its own quota
		{s: b, key: "k2", value: "12345", wantStatus: abi.OK},
		{s: a, key: "k1", value: "", wantStatus: abi.OK}, // delete
		{s: a, key: "k3", value: "1", wantStatus: abi.OK},
	} {
		var st abi.Status
		if tc.cas {
			st = tc.s.StorageCAS(ctx, []byte(tc.key), []byte(tc.old), []byte(tc.value))
		} else {
			st = tc.s.StorageSet(ctx, []byte(tc.key), []byte(tc.value))
		}
		if st != tc.wantStatus {
			t.Fatalf("op %d (%s cas=%v %s=%q): %s, want %s", i, tc.s.Plugin(), tc.cas, tc.key, tc.value, st, tc.wantStatus)
		}
	}
	if v, st := a.StorageGet(ctx, []byte("k2")); st != abi.OK || string(v) != "1" {
		t.Errorf("k2 = %q %s after refused writes", v, st)
	}
	if u, _ := store.Usage(ctx, "alpha"); u != (storage.Usage{Keys: 2, Bytes: 3 + 3}) {
		t.Errorf("alpha's usage %+v", u)
	}
	for _, r := range logs.records(t) {
		if r["level"] != "DEBUG" || !strings.Contains(r["msg"].(string), "quota") {
			t.Errorf("record %v: a refusal logs at debug level only", r)
		}
	}
}
