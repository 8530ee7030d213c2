package serve

import (
	"net/http"
	"net/http/httptest"
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

// TestPluginRoute: the fast path takes clean, unescaped plugin paths and
// leaves the rest to the mux, which redirects or decodes them.
func TestPluginRoute(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		name, path     string // "" name: left to the mux
	}{
		{"GET", "/api/plugins/edge/ok", "edge", "/ok"},
		{"POST", "/api/plugins/edge/a/b", "edge", "/a/b"},
		{"GET", "/api/plugins/edge", "edge", "/"},
		{"GET", "/api/plugins/edge/", "edge", "/"},
		{"GET", "/api/plugins/edge/ok/", "edge", "/ok/"},
		{"GET", "/api/plugins", "", ""},
		{"GET", "/api/plugins/", "", ""},
		{"GET", "/api/plugins//ok", "", ""},
		{"GET", "/api/plugins/edge/../x", "", ""},
		{"GET", "/api/plugins/edge/./ok", "", ""},
		{"GET", "/api/plugins/a%2Fb/ok", "", ""},
		{"GET", "/api/pluginsx/edge/ok", "", ""},
		{"GET", "/healthz", "", ""},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		name, path, ok := pluginRoute(r)
		if ok != (tc.name != "") || name != tc.name || path != tc.path {
			t.Errorf("%s %s: %q %q %v; want %q %q", tc.method, tc.target, name, path, ok, tc.name, tc.path)
		}
	}
	// What the fast path declines still reaches the plugin through the mux.
	ts := newServer(t, Config{}, edgeDir(t))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(ts.http.URL + "/api/plugins/edge/x/../ok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/api/plugins/edge/ok" {
		t.Errorf("unclean path: %d to %q, want the mux's redirect to the clean one", resp.StatusCode, resp.Header.Get("Location"))
	}
	if r := ts.do("GET", "/api/plugins/ed%67e/ok", nil); r.code != 200 || string(r.body) != "ok" {
		t.Errorf("escaped name: %s", r)
	}
}
