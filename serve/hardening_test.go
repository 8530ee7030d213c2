package serve

import (
	"net/http"
	"testing"
)

// TestListingShowsStorageUse: the listing gives each plugin's storage use
// against its quota.
func TestListingShowsStorageUse(t *testing.T) {
	ts := newServer(t, Config{StorageMaxKeys: 10}, clusterMonitorDir)
	if r := ts.do("POST", "/api/plugins/cluster-monitor/data", []byte(clusterRecord)); r.code != http.StatusCreated {
		t.Fatalf("POST /data = %s", r)
	}
	p := ts.listing().find("cluster-monitor")
	if p == nil || p.Storage == nil || p.Storage.Keys < 1 || p.Storage.Bytes < int64(len(clusterRecord)) ||
		p.Storage.MaxKeys != 10 || p.Storage.MaxBytes != 64<<20 {
		t.Fatalf("listing's storage: %+v", p)
	}
}
