package serve

import (
	"net/http"
	"strings"
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

// TestInstallRefusesLongNames: names too long for the file system are a
// refused archive (400), not a server error: a folder or file name of 300
// characters was answered 500.
func TestInstallRefusesLongNames(t *testing.T) {
	ts := newServer(t, Config{Token: testToken})
	long := strings.Repeat("a", 300)
	manifest := []byte(strings.ReplaceAll(edgeManifest, "name: edge", "name: "+long))
	for _, tc := range []struct {
		name    string
		archive []byte
		want    string
	}{
		{"file name", targz(t, file(long, []byte("x"))), "longer than 255"},
		{"folder name", targz(t, file(long+"/plugin.yml", []byte("x"))), "longer than 255"},
		{"plugin name", targz(t, file("plugin.yml", manifest), file("edge.wasm", []byte("x"))), "metadata.name"},
	} {
		r := ts.admin("POST", "/install", tc.archive)
		if r.code != http.StatusBadRequest || !contains(string(r.body), tc.want) {
			t.Errorf("%s of 300 characters: %s; want 400 saying %q", tc.name, r, tc.want)
		}
	}
}
