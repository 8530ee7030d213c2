package kube

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The list the fixture must serve, byte for byte.
const wantFixtureList = `{"apiVersion":"cluster.open-cluster-management.io/v1","kind":"ManagedClusterList","items":[{"apiVersion":"cluster.open-cluster-management.io/v1","kind":"ManagedCluster","metadata":{"name":"cluster-1","annotations":{"kubestellar.io/display-name":"Production Cluster","kubestellar.io/node-count":"5","kubestellar.io/pod-count":"150"}},"status":{"conditions":[{"type":"ManagedClusterConditionAvailable","status":"True"}]}},{"apiVersion":"cluster.open-cluster-management.io/v1","kind":"ManagedCluster","metadata":{"name":"cluster-2","annotations":{"kubestellar.io/display-name":"Staging Cluster","kubestellar.io/node-count":"3","kubestellar.io/pod-count":"75"}},"status":{"conditions":[{"type":"ManagedClusterConditionAvailable","status":"Unknown"}]}}]}`

// TestFixture runs one table through the in-process Fixture and through REST
// pointed, by a kubeconfig, at FixtureHandler: both must answer alike.
func TestFixture(t *testing.T) {
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(wantFixtureList), &list); err != nil || len(list.Items) != 2 {
		t.Fatalf("the expected list does not parse: %v", err)
	}

	srv := httptest.NewTLSServer(FixtureHandler())
	defer srv.Close()
	rest, err := NewFromKubeconfig(writeKubeconfig(t, srv), "")
	if err != nil {
		t.Fatal(err)
	}
	clients := []struct {
		name string
		c    Client
	}{{"in-process", NewFixture()}, {"over-http", rest}}

	const mc = "/apis/cluster.open-cluster-management.io/v1/managedclusters"
	for _, tc := range []struct {
		name, method, path string
		wantStatus         int
		wantBody           string // exact, when set
		wantReason         string // of the Status object, when set
	}{
		{"list", "GET", mc, 200, wantFixtureList, ""},
		{"list with query", "GET", mc + "?limit=10", 200, wantFixtureList, ""},
		{"cluster-1", "GET", mc + "/cluster-1", 200, string(list.Items[0]), ""},
		{"cluster-2", "GET", mc + "/cluster-2", 200, string(list.Items[1]), ""},
		{"absent cluster", "GET", mc + "/cluster-3", 404, "", "NotFound"},
		{"subresource", "GET", mc + "/cluster-1/status", 404, "", "NotFound"},
		{"other resource", "GET", "/api/v1/pods", 404, "", "NotFound"},
		{"post", "POST", mc, 405, "", "MethodNotAllowed"},
		{"delete", "DELETE", mc + "/cluster-1", 405, "", "MethodNotAllowed"},
	} {
		for _, cl := range clients {
			t.Run(tc.name+"/"+cl.name, func(t *testing.T) {
				var body []byte
				if tc.method == "POST" {
					body = []byte(`{}`)
				}
				status, got, err := cl.c.Do(context.Background(), tc.method, tc.path, body)
				if err != nil {
					t.Fatal(err)
				}
				if status != tc.wantStatus {
					t.Fatalf("status = %d, want %d (body %s)", status, tc.wantStatus, got)
				}
				if tc.wantBody != "" && string(got) != tc.wantBody {
					t.Fatalf("body = %s\nwant   %s", got, tc.wantBody)
				}
				if tc.wantReason != "" {
					var st struct {
						Kind, Reason string
						Code         int
					}
					if err := json.Unmarshal(got, &st); err != nil {
						t.Fatalf("error body %q is not JSON: %v", got, err)
					}
					if st.Kind != "Status" || st.Reason != tc.wantReason || st.Code != tc.wantStatus {
						t.Fatalf("error body %s: want a Status with reason %s and code %d", got, tc.wantReason, tc.wantStatus)
					}
				}
			})
		}
	}

	t.Run("version", func(t *testing.T) {
		for _, cl := range clients {
			status, got, err := cl.c.Do(context.Background(), "GET", "/version", nil)
			if err != nil || status != 200 {
				t.Fatalf("%s: /version = %d, %v", cl.name, status, err)
			}
			var v struct{ Major, Minor, GitVersion string }
			if err := json.Unmarshal(got, &v); err != nil || v.Major == "" || v.GitVersion == "" {
				t.Fatalf("%s: /version body %s: %v", cl.name, got, err)
			}
		}
	})
}

func TestFixtureBackendAndContext(t *testing.T) {
	f := NewFixture()
	if got := f.Backend(); got != "fixture (no kubeconfig configured; serves the seed README's two clusters)" {
		t.Errorf("Backend() = %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := f.Do(ctx, "GET", "/version", nil); err == nil {
		t.Error("Do with a cancelled context: no error")
	}
	// Answers are fresh copies: changing one does not change the next.
	_, a, _ := f.Do(context.Background(), "GET", "/version", nil)
	a[0] = 'X'
	if _, b, _ := f.Do(context.Background(), "GET", "/version", nil); b[0] != '{' {
		t.Error("an answer shares memory with the fixture's data")
	}
}

func TestFixtureHandlerHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	FixtureHandler().ServeHTTP(rec, httptest.NewRequest("PUT", "/version", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET" {
		t.Fatalf("PUT: %d, Allow %q; want 405 with Allow: GET", rec.Code, rec.Header().Get("Allow"))
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
}
