package kube

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const testToken = "kspbench-test-token"

// writeKubeconfig writes a kubeconfig with one cluster at server, a bearer
// token user, and two contexts ("test-ctx", current, and "other-ctx"). When
// srv uses TLS, the file trusts its certificate.
func writeKubeconfig(t testing.TB, srv *httptest.Server) string {
	t.Helper()
	var ca string
	if srv.TLS != nil {
		pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		ca = "    certificate-authority-data: " + base64.StdEncoding.EncodeToString(pemCert) + "\n"
	}
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test-cluster
  cluster:
    server: %s
%scontexts:
- name: test-ctx
  context:
    cluster: test-cluster
    user: test-user
- name: other-ctx
  context:
    cluster: test-cluster
    user: test-user
current-context: test-ctx
users:
- name: test-user
  user:
    token: %s
`, srv.URL, ca, testToken)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// seen is what the stand-in API server received.
type seen struct {
	method, path, query, auth, contentType string
	body                                   []byte
}

// recordingServer stands in for an API server: it records each request and
// answers with the status and body of answer.
func recordingServer(t *testing.T, tls bool, answer func(r *http.Request) (int, string)) (*httptest.Server, func() []seen) {
	t.Helper()
	var mu sync.Mutex
	var got []seen
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body})
		mu.Unlock()
		code, text := answer(r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, text)
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), got...)
	}
}

func TestRESTSendsRequest(t *testing.T) {
	srv, requests := recordingServer(t, true, func(r *http.Request) (int, string) {
		return http.StatusCreated, `{"kind":"Pod"}`
	})
	c, err := NewFromKubeconfig(writeKubeconfig(t, srv), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path, body  string
		wantPath, wantQuery string
		wantContentType     string
	}{
		{"GET", "/api/v1/namespaces/default/pods?limit=5", "", "/api/v1/namespaces/default/pods", "limit=5", ""},
		{"POST", "/api/v1/namespaces/default/configmaps", `{"kind":"ConfigMap"}`, "/api/v1/namespaces/default/configmaps", "", "application/json"},
		{"PUT", "/api/v1/namespaces/default/configmaps/x", `{"kind":"ConfigMap"}`, "/api/v1/namespaces/default/configmaps/x", "", "application/json"},
		{"PATCH", "/apis/apps/v1/namespaces/a/deployments/d", `{"spec":{"replicas":2}}`, "/apis/apps/v1/namespaces/a/deployments/d", "", "application/merge-patch+json"},
		{"PATCH", "/apis/apps/v1/namespaces/a/deployments/d", ` [{"op":"remove","path":"/x"}]`, "/apis/apps/v1/namespaces/a/deployments/d", "", "application/json-patch+json"},
		{"DELETE", "/api/v1/namespaces/default/pods/p", "", "/api/v1/namespaces/default/pods/p", "", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			before := len(requests())
			body := []byte(tc.body)
			status, resp, err := c.Do(context.Background(), tc.method, tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if status != http.StatusCreated || string(resp) != `{"kind":"Pod"}` {
				t.Fatalf("Do = %d %q, want 201 {\"kind\":\"Pod\"}", status, resp)
			}
			all := requests()
			if len(all) != before+1 {
				t.Fatalf("server saw %d requests, want 1", len(all)-before)
			}
			got := all[before]
			if got.method != tc.method || got.path != tc.wantPath || got.query != tc.wantQuery {
				t.Errorf("server saw %s %s ? %s, want %s %s ? %s", got.method, got.path, got.query, tc.method, tc.wantPath, tc.wantQuery)
			}
			if got.auth != "Bearer "+testToken {
				t.Errorf("Authorization = %q, want the kubeconfig's bearer token", got.auth)
			}
			if got.contentType != tc.wantContentType {
				t.Errorf("Content-Type = %q, want %q", got.contentType, tc.wantContentType)
			}
			if string(got.body) != tc.body {
				t.Errorf("server got body %q, want %q", got.body, tc.body)
			}
		})
	}
}

func TestRESTErrorStatusPassesThrough(t *testing.T) {
	for _, code := range []int{http.StatusNotFound, http.StatusForbidden, http.StatusUnauthorized, http.StatusConflict, http.StatusInternalServerError} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			text := fmt.Sprintf(`{"kind":"Status","apiVersion":"v1","status":"Failure","code":%d}`, code)
			srv, _ := recordingServer(t, false, func(*http.Request) (int, string) { return code, text })
			c, err := NewFromKubeconfig(writeKubeconfig(t, srv), "test-ctx")
			if err != nil {
				t.Fatal(err)
			}
			status, body, err := c.Do(context.Background(), "GET", "/api/v1/secrets", nil)
			if err != nil {
				t.Fatalf("an HTTP %d answer is not a transport error, got %v", code, err)
			}
			if status != code || string(body) != text {
				t.Fatalf("Do = %d %q, want %d %q", status, body, code, text)
			}
		})
	}
}

func TestRESTUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	path := writeKubeconfig(t, srv)
	srv.Close() // nothing listens at its address any more
	c, err := NewFromKubeconfig(path, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Do(context.Background(), "GET", "/version", nil)
	if err == nil {
		t.Fatal("Do on an unreachable server: no error")
	}
	if !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "/version") {
		t.Errorf("error %q should name the server and the path", err)
	}
}

func TestRESTCancelled(t *testing.T) {
	srv, requests := recordingServer(t, false, func(*http.Request) (int, string) { return 200, "{}" })
	c, err := NewFromKubeconfig(writeKubeconfig(t, srv), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.Do(ctx, "GET", "/version", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do with a cancelled context: err = %v, want context.Canceled", err)
	}
	if n := len(requests()); n != 0 {
		t.Fatalf("server saw %d requests, want 0", n)
	}
}

func TestRESTResponseCap(t *testing.T) {
	big := strings.Repeat("x", 100)
	for _, tc := range []struct {
		name    string
		chunked bool
	}{{"content-length", false}, {"chunked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.chunked {
					io.WriteString(w, big[:50])
					w.(http.Flusher).Flush() // forces chunked encoding: no Content-Length
					io.WriteString(w, big[50:])
					return
				}
				w.Header().Set("Content-Length", "100")
				io.WriteString(w, big)
			}))
			defer srv.Close()
			c, err := NewFromKubeconfig(writeKubeconfig(t, srv), "")
			if err != nil {
				t.Fatal(err)
			}
			if _, body, err := c.WithMaxResponseBytes(100).Do(context.Background(), "GET", "/version", nil); err != nil || len(body) != 100 {
				t.Fatalf("at the cap: len=%d err=%v, want 100 bytes and no error", len(body), err)
			}
			_, _, err = c.WithMaxResponseBytes(99).Do(context.Background(), "GET", "/version", nil)
			if !errors.Is(err, ErrResponseTooLarge) {
				t.Fatalf("past the cap: err = %v, want ErrResponseTooLarge", err)
			}
			if !strings.Contains(err.Error(), "99") {
				t.Errorf("error %q should state the cap", err)
			}
		})
	}
}

func TestRESTBackend(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	path := writeKubeconfig(t, srv)
	for _, tc := range []struct{ context, want string }{
		{"", "kubeconfig:" + srv.URL + " (context test-ctx)"},
		{"other-ctx", "kubeconfig:" + srv.URL + " (context other-ctx)"},
	} {
		c, err := NewFromKubeconfig(path, tc.context)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Backend(); got != tc.want {
			t.Errorf("context %q: Backend() = %q, want %q", tc.context, got, tc.want)
		}
	}
}

func TestNewFromKubeconfigErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	good := writeKubeconfig(t, srv)
	missing := filepath.Join(t.TempDir(), "no-kubeconfig")
	for _, tc := range []struct {
		name, path, context, wantInError string
	}{
		{"missing file", missing, "", missing},
		{"unknown context", good, "no-such-context", "no-such-context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewFromKubeconfig(tc.path, tc.context)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.wantInError) {
				t.Errorf("error %q should name %q", err, tc.wantInError)
			}
		})
	}
	t.Run("bad path argument", func(t *testing.T) {
		c, err := NewFromKubeconfig(good, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Do(context.Background(), "GET", "api/v1/pods", nil); err == nil {
			t.Fatal("Do with a path that does not start with /: no error")
		}
	})
}
