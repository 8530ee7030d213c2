package serve

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kspbench/kspbench/conformance"
	"github.com/kspbench/kspbench/plugin"
)

const testToken = "s3cret-token"

var auth = []string{"Authorization", "Bearer " + testToken}

func (ts *testServer) admin(method, path string, body []byte, header ...string) response {
	ts.t.Helper()
	return ts.do(method, adminPrefix+path, body, append(slices.Clone(auth), header...)...)
}

func (ts *testServer) listing() Listing {
	ts.t.Helper()
	var l Listing
	if err := json.Unmarshal(ts.do("GET", "/api/plugins", nil).body, &l); err != nil {
		ts.t.Fatal(err)
	}
	return l
}

func (l Listing) find(name string) *PluginInfo {
	for i := range l.Plugins {
		if l.Plugins[i].Name == name {
			return &l.Plugins[i]
		}
	}
	return nil
}

// TestManagementAuth: management needs the token; without a configured
// token it is off, never open.
func TestManagementAuth(t *testing.T) {
	off := newServer(t, Config{}, clusterMonitorDir)
	r := off.do("POST", adminPrefix+"/cluster-monitor/disable", nil, auth...)
	if r.code != 403 || !contains(string(r.body), "--token") {
		t.Errorf("management without a configured token = %s, want 403 saying how to enable it", r)
	}

	ts := newServer(t, Config{Token: testToken}, clusterMonitorDir)
	for _, tc := range []struct {
		name   string
		header []string
		code   int
	}{
		{"no header", nil, 401},
		{"other scheme", []string{"Authorization", "Basic " + testToken}, 401},
		{"empty token", []string{"Authorization", "Bearer "}, 401},
		{"wrong token", []string{"Authorization", "Bearer nope"}, 403},
		{"token as a prefix", []string{"Authorization", "Bearer " + testToken + "x"}, 403},
		{"right token", auth, 200},
		{"scheme in lower case", []string{"Authorization", "bearer " + testToken}, 200},
	} {
		r := ts.do("GET", adminPrefix, nil, tc.header...)
		if r.code != tc.code {
			t.Errorf("%s: %s, want %d", tc.name, r, tc.code)
		}
		if tc.code == 401 && r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
		}
	}
	for _, path := range []string{"/cluster-monitor/disable", "/cluster-monitor/reload", "/install", "/rescan"} {
		if r := ts.do("POST", adminPrefix+path, nil); r.code != 401 {
			t.Errorf("POST %s without a token: %s", path, r)
		}
	}
	if r := ts.do("DELETE", adminPrefix+"/cluster-monitor", nil, "Authorization", "Bearer nope"); r.code != 403 {
		t.Errorf("DELETE with a wrong token: %s", r)
	}
	if r := ts.do("GET", "/api/plugins/cluster-monitor/status", nil); r.code != 200 {
		t.Errorf("the refused calls changed something: %s", r)
	}
	if l := ts.listing(); l.Management != "enabled" || len(l.Plugins) != 1 {
		t.Errorf("the public listing: %+v", l)
	}
}

// TestManagementPrefixCannotClash: a plugin may declare /enable, and its
// route is served, because management lives under another prefix.
func TestManagementPrefixCannotClash(t *testing.T) {
	dir := edgeDir(t)
	write(t, filepath.Join(dir, "plugin.yml"), strings.Replace(edgeManifest, "path: /ok", "path: /enable", 1))
	ts := newServer(t, Config{Token: testToken}, dir)
	r := ts.do("POST", "/api/plugins/edge/enable", nil, auth...)
	if r.code != 200 || string(r.body) != "ok" {
		t.Errorf("the plugin's own /enable = %s, want its answer", r)
	}
}

// TestManagementLifecycle disables (which survives a restart), enables,
// reloads (also under a request in flight, and with a broken folder) and
// uninstalls a plugin, without a restart.
func TestManagementLifecycle(t *testing.T) {
	k := &slowKube{started: make(chan struct{}, 1)}
	ts := newServer(t, Config{Token: testToken, Kube: k}, clusterMonitorDir)
	status := func(ts *testServer) response { return ts.do("GET", "/api/plugins/cluster-monitor/status", nil) }

	if r := ts.admin("POST", "/cluster-monitor/disable", nil); r.code != 200 {
		t.Fatalf("disable: %s", r)
	}
	if r := status(ts); r.code != 404 || !contains(string(r.body), "disabled") {
		t.Errorf("route of a disabled plugin = %s, want 404 saying so", r)
	}
	if p := ts.listing().find("cluster-monitor"); p == nil || p.State != stateDisabled || p.Pool != nil {
		t.Errorf("listing of a disabled plugin: %+v", p)
	}
	if r := ts.admin("POST", "/cluster-monitor/disable", nil); r.code != 200 || !contains(string(r.body), "already") {
		t.Errorf("disable twice: %s", r)
	}
	if r := ts.admin("POST", "/cluster-monitor/reload", nil); r.code != 409 {
		t.Errorf("reload of a disabled plugin: %s, want 409", r)
	}

	// Disabled survives a restart.
	ts.close()
	ts = newServer(t, Config{Token: testToken, Kube: k, PluginsDir: ts.cfg.PluginsDir, DataFile: ts.cfg.DataFile})
	if p := ts.listing().find("cluster-monitor"); p == nil || p.State != stateDisabled {
		t.Fatalf("after a restart: %+v, want disabled", p)
	}
	if r := ts.admin("POST", "/cluster-monitor/enable", nil); r.code != 200 {
		t.Fatalf("enable: %s", r)
	}
	if r := status(ts); r.code != 200 || !sameJSON(t, r.body, []byte(conformance.SeedStatusJSON)) {
		t.Errorf("after enable: %s", r)
	}

	// Reload while a request is in flight: the request finishes on the old
	// version, later ones run on the new one.
	k.delay = 500 * time.Millisecond
	old := ts.entryOf("cluster-monitor")
	answer := make(chan response, 1)
	go func() { answer <- doURL(t, ts.http.URL, "GET", "/api/plugins/cluster-monitor/data", nil) }()
	<-k.started
	if r := ts.admin("POST", "/cluster-monitor/reload", nil); r.code != 200 {
		t.Fatalf("reload: %s", r)
	}
	if ts.entryOf("cluster-monitor") == old {
		t.Error("reload did not swap the plugin")
	}
	if r := <-answer; r.code != 200 || !sameJSON(t, r.body, []byte(conformance.SeedDataJSON)) {
		t.Errorf("request in flight during the reload: %s", r)
	}
	k.delay = 0
	if r := status(ts); r.code != 200 {
		t.Errorf("after reload: %s", r)
	}
	waitFor(t, 5*time.Second, "the old version to be closed", func() bool {
		_, err := old.plugin.(*plugin.Plugin).Call(t.Context(), "handle_status", nil)
		return err != nil
	})

	// A reload that fails keeps the running version.
	yml := filepath.Join(ts.cfg.PluginsDir, "cluster-monitor", "plugin.yml")
	good, _ := os.ReadFile(yml)
	write(t, yml, "kind: Nope\n")
	if r := ts.admin("POST", "/cluster-monitor/reload", nil); r.code != 422 || !contains(string(r.body), "kind") {
		t.Errorf("reload of a broken folder: %s, want 422", r)
	}
	if r := status(ts); r.code != 200 {
		t.Errorf("a failed reload stopped the running version: %s", r)
	}
	write(t, yml, string(good))

	for _, tc := range []struct{ method, path string }{
		{"POST", "/cluster-monitor/restart"}, {"POST", "/nope/enable"}, {"DELETE", "/nope"},
	} {
		if r := ts.admin(tc.method, tc.path, nil); r.code != 404 {
			t.Errorf("%s %s: %s, want 404", tc.method, tc.path, r)
		}
	}

	before := ts.entryOf("cluster-monitor")
	if r := ts.admin("DELETE", "/cluster-monitor", nil); r.code != 200 {
		t.Fatalf("uninstall: %s", r)
	}
	if r := status(ts); r.code != 404 {
		t.Errorf("route after uninstall: %s", r)
	}
	if _, err := os.Stat(filepath.Join(ts.cfg.PluginsDir, "cluster-monitor")); !os.IsNotExist(err) {
		t.Errorf("folder after uninstall: %v", err)
	}
	if got := tree(t, ts.cfg.PluginsDir); len(got) != 1 { // "."
		t.Errorf("plugins folder after uninstall: %v", got)
	}
	if ts.listing().find("cluster-monitor") != nil {
		t.Error("still listed after uninstall")
	}
	waitFor(t, 5*time.Second, "the uninstalled plugin to be closed", func() bool {
		_, err := before.plugin.(*plugin.Plugin).Call(t.Context(), "handle_status", nil)
		return err != nil
	})
}

// TestInstall installs archives over HTTP, as `make package` writes them
// and as a multipart upload, and serves their routes without a restart.
func TestInstall(t *testing.T) {
	ts := newServer(t, Config{Token: testToken})
	archive := packageArchive(t, clusterMonitorDir)
	r := ts.admin("POST", "/install", archive, "Content-Type", "application/gzip")
	if r.code != 201 {
		t.Fatalf("install: %s", r)
	}
	if r := ts.do("GET", "/api/plugins/cluster-monitor/status", nil); r.code != 200 || !sameJSON(t, r.body, []byte(conformance.SeedStatusJSON)) {
		t.Errorf("installed plugin's /status: %s", r)
	}
	if r := ts.do("GET", "/api/plugins/cluster-monitor/data", nil); r.code != 200 || !sameJSON(t, r.body, []byte(conformance.SeedDataJSON)) {
		t.Errorf("installed plugin's /data: %s", r)
	}
	want := []string{".", "cluster-monitor", filepath.Join("cluster-monitor", "cluster-monitor.wasm"), filepath.Join("cluster-monitor", "plugin.yml")}
	if got := tree(t, ts.cfg.PluginsDir); !slices.Equal(got, want) {
		t.Errorf("plugins folder after install: %v, want %v", got, want)
	}

	before := tree(t, ts.base)
	if r := ts.admin("POST", "/install", archive); r.code != 409 {
		t.Errorf("second install without replace: %s, want 409", r)
	}
	if got := tree(t, ts.base); !slices.Equal(got, before) {
		t.Errorf("a refused install changed the files: %v, then %v", before, got)
	}
	old := ts.entryOf("cluster-monitor")
	if r := ts.admin("POST", "/install?replace=true", archive); r.code != 201 || !contains(string(r.body), "replaced") {
		t.Errorf("install with replace: %s", r)
	}
	if ts.entryOf("cluster-monitor") == old {
		t.Error("replace did not swap the plugin")
	}
	if got := tree(t, ts.cfg.PluginsDir); !slices.Equal(got, want) {
		t.Errorf("plugins folder after replace: %v, want %v", got, want)
	}

	// A multipart upload of an archive with "./" names and a frontend folder.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("note", "not the file")
	fw, _ := mw.CreateFormFile("file", "edge.tar.gz")
	fw.Write(targz(t,
		tarEntry{hdr: tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}},
		file("./plugin.yml", []byte(edgeManifest)),
		file("./edge.wasm", conformance.Guest("edge")),
		tarEntry{hdr: tar.Header{Name: "./frontend/", Typeflag: tar.TypeDir, Mode: 0o755}},
		file("./frontend/dist/index.js", []byte("// ui")),
	))
	mw.Close()
	if r := ts.admin("POST", "/install", body.Bytes(), "Content-Type", mw.FormDataContentType()); r.code != 201 {
		t.Fatalf("multipart install: %s", r)
	}
	if r := ts.do("GET", "/api/plugins/edge/ok", nil); r.code != 200 {
		t.Errorf("edge after a multipart install: %s", r)
	}
	if _, err := os.Stat(filepath.Join(ts.cfg.PluginsDir, "edge", "frontend", "dist", "index.js")); err != nil {
		t.Errorf("frontend folder not installed: %v", err)
	}

	// A well-formed archive whose plugin does not load.
	before = tree(t, ts.base)
	bad := targz(t, file("plugin.yml", []byte(strings.ReplaceAll(edgeManifest, "name: edge", "name: broken"))),
		file("broken.wasm", []byte("not wasm")))
	if r := ts.admin("POST", "/install", bad); r.code != 400 || r.json(t)["kind"] != kindBadPlugin {
		t.Errorf("archive of a plugin that does not compile: %s, want 400 %s", r, kindBadPlugin)
	}
	missing := targz(t, file("plugin.yml", []byte(edgeManifest)))
	if r := ts.admin("POST", "/install", missing); r.code != 400 || !contains(string(r.body), "edge.wasm") {
		t.Errorf("archive without its wasm: %s, want 400 naming the file", r)
	}
	if got := tree(t, ts.base); !slices.Equal(got, before) {
		t.Errorf("refused plugins changed the files: %v, then %v", before, got)
	}
}

// TestInstallTooLarge: an upload past --max-upload is refused with 413,
// whether it says its size or not.
func TestInstallTooLarge(t *testing.T) {
	ts := newServer(t, Config{Token: testToken, MaxUploadBytes: 64 << 10})
	before := tree(t, ts.base)
	big := targz(t, file("plugin.yml", []byte(edgeManifest)), file("edge.wasm", randomBytes(256<<10)))
	if r := ts.admin("POST", "/install", big); r.code != 413 {
		t.Errorf("upload over the limit: %s, want 413", r)
	}
	req, _ := http.NewRequest("POST", ts.http.URL+adminPrefix+"/install", struct{ *bytes.Reader }{bytes.NewReader(big)})
	req.Header.Set(auth[0], auth[1])
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked upload over the limit: %d, want 413", resp.StatusCode)
	}
	if got := tree(t, ts.base); !slices.Equal(got, before) {
		t.Errorf("a refused upload changed the files: %v, then %v", before, got)
	}
}

// randomBytes returns n bytes that do not compress.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	x := uint64(88172645463325252)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}
