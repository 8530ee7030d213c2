package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Client sends requests to a Kubernetes API server.
type Client interface {
	// Do sends method to path (which starts with "/" and may carry a
	// "?query") with body as the request's JSON, and returns the server's
	// HTTP status and response body. An HTTP error status is not an error: it
	// comes back as status. err is for requests that got no answer (transport
	// failures, a cancelled ctx) and for answers that could not be read,
	// including those larger than the client's cap (ErrResponseTooLarge).
	// Do does not keep body past the call.
	Do(ctx context.Context, method, path string, body []byte) (status int, respBody []byte, err error)
	// Backend says, for people, which API server the client talks to.
	Backend() string
}

// DefaultMaxResponseBytes caps the response bodies REST reads: 16 MiB, the
// ABI's default response limit.
const DefaultMaxResponseBytes = 16 << 20

// ErrResponseTooLarge: the API server's response body is past the client's cap.
var ErrResponseTooLarge = errors.New("kube: response body too large")

// REST is a Client for a real API server. It is safe for concurrent use.
type REST struct {
	base     string // scheme://host[:port][/prefix], without a trailing slash
	client   *http.Client
	backend  string
	maxBytes int64
}

var _ Client = (*REST)(nil)

// NewFromKubeconfig returns a client for the cluster of contextName in the
// kubeconfig file at path. An empty path uses the usual search (the KUBECONFIG
// variable, then ~/.kube/config); an empty contextName uses the file's
// current context. Authentication (bearer tokens, client certificates, exec
// plugins) and TLS are whatever client-go derives from the file.
func NewFromKubeconfig(path, contextName string) (*REST, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: contextName})
	where := fmt.Sprintf("kubeconfig[%s] context[%s]", path, contextName)
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("kube: load %s: %w", where, err)
	}
	if contextName == "" {
		contextName = raw.CurrentContext
		where = fmt.Sprintf("kubeconfig[%s] context[%s]", path, contextName)
	}
	config, err := loader.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kube: load %s: %w", where, err)
	}
	c, err := newREST(config)
	if err != nil {
		return nil, fmt.Errorf("kube: %s: %w", where, err)
	}
	c.backend = fmt.Sprintf("kubeconfig:%s (context %s)", c.base, contextName)
	return c, nil
}

// NewInCluster returns a client for the cluster the process runs in, with the
// pod's service account.
func NewInCluster() (*REST, error) {
	config, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("kube: in-cluster configuration: %w", err)
	}
	c, err := newREST(config)
	if err != nil {
		return nil, fmt.Errorf("kube: in-cluster configuration: %w", err)
	}
	c.backend = "in-cluster:" + c.base
	return c, nil
}

func newREST(config *rest.Config) (*REST, error) {
	base, _, err := rest.DefaultServerUrlFor(config)
	if err != nil {
		return nil, fmt.Errorf("server[%s]: %w", config.Host, err)
	}
	if config.UserAgent == "" {
		config.UserAgent = "kspbench"
	}
	client, err := rest.HTTPClientFor(config)
	if err != nil {
		return nil, fmt.Errorf("server[%s]: http client: %w", config.Host, err)
	}
	return &REST{
		base:     strings.TrimSuffix(base.String(), "/"),
		client:   client,
		maxBytes: DefaultMaxResponseBytes,
	}, nil
}

// WithMaxResponseBytes returns a copy of c that reads response bodies of at
// most n bytes (n <= 0 means DefaultMaxResponseBytes); a larger one is an
// error matching ErrResponseTooLarge.
func (c *REST) WithMaxResponseBytes(n int64) *REST {
	d := *c
	d.maxBytes = n
	if n <= 0 {
		d.maxBytes = DefaultMaxResponseBytes
	}
	return &d
}

// Backend returns "kubeconfig:<server> (context <name>)" or
// "in-cluster:<server>".
func (c *REST) Backend() string { return c.backend }

// Do sends one request; see Client.
//
// # Notes
//
// A body is sent as application/json, except for PATCH, which the API server
// refuses as plain JSON: a PATCH body that is a JSON array goes as a JSON
// patch (application/json-patch+json), any other as a merge patch
// (application/merge-patch+json).
func (c *REST) Do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	if !strings.HasPrefix(path, "/") {
		return 0, nil, fmt.Errorf("kube: %s path[%s]: path does not start with /", method, path)
	}
	var reader io.Reader
	if len(body) > 0 {
		// The transport may still read the body after Do returns (on some
		// errors it closes it from another goroutine); callers pass views of
		// guest memory, so it reads a copy.
		reader = bytes.NewReader(bytes.Clone(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return 0, nil, fmt.Errorf("kube: %s path[%s]: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if len(body) > 0 {
		req.Header.Set("Content-Type", contentType(method, body))
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("kube: %s path[%s] on server[%s]: %w", method, path, c.base, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > c.maxBytes {
		return resp.StatusCode, nil, fmt.Errorf("%w: %s path[%s] answered %d bytes, past the cap of %d bytes",
			ErrResponseTooLarge, method, path, resp.ContentLength, c.maxBytes)
	}
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("kube: %s path[%s] on server[%s]: read response: %w", method, path, c.base, err)
	}
	if int64(len(respBody)) > c.maxBytes {
		return resp.StatusCode, nil, fmt.Errorf("%w: %s path[%s] answered more than the cap of %d bytes",
			ErrResponseTooLarge, method, path, c.maxBytes)
	}
	return resp.StatusCode, respBody, nil
}

func contentType(method string, body []byte) string {
	if method != http.MethodPatch {
		return "application/json"
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return "application/json-patch+json"
	}
	return "application/merge-patch+json"
}
