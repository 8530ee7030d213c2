package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// FixtureBackend is what Fixture.Backend returns.
const FixtureBackend = "fixture (no kubeconfig configured; serves the seed README's two clusters)"

// Fixture is a TEST DOUBLE, not a Kubernetes client: it answers in process,
// without a network, with the two managed clusters that the KubeStellar seed
// README shows. Its Backend says so, so that nobody mistakes its answers for a
// cluster's. It serves only GET:
//
//   - /apis/cluster.open-cluster-management.io/v1/managedclusters: the list;
//   - /apis/cluster.open-cluster-management.io/v1/managedclusters/<name>: one
//     of them, or 404;
//   - /version: a version that names the fixture;
//   - anything else: 404; any other method: 405.
//
// Error answers carry a Kubernetes Status object. The query is ignored.
type Fixture struct{}

var _ Client = (*Fixture)(nil)

// NewFixture returns the test double.
func NewFixture() *Fixture { return &Fixture{} }

// Backend returns FixtureBackend.
func (*Fixture) Backend() string { return FixtureBackend }

// Do answers from the fixture's data. It returns an error only when ctx is
// already done.
func (*Fixture) Do(ctx context.Context, method, path string, _ []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("kube: fixture %s path[%s]: %w", method, path, err)
	}
	status, body := fixtureAnswer(method, path)
	return status, body, nil
}

// FixtureHandler serves Fixture's answers over HTTP, so that a real
// kubeconfig (and REST) can point at an httptest server, or a demo server can
// stand in for an API server. It ignores authentication.
func FixtureHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body := fixtureAnswer(r.Method, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodGet)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body)
	})
}

const (
	managedClustersPath = "/apis/cluster.open-cluster-management.io/v1/managedclusters"

	fixtureCluster1 = `{"apiVersion":"cluster.open-cluster-management.io/v1","kind":"ManagedCluster","metadata":{"name":"cluster-1","annotations":{"kubestellar.io/display-name":"Production Cluster","kubestellar.io/node-count":"5","kubestellar.io/pod-count":"150"}},"status":{"conditions":[{"type":"ManagedClusterConditionAvailable","status":"True"}]}}`
	fixtureCluster2 = `{"apiVersion":"cluster.open-cluster-management.io/v1","kind":"ManagedCluster","metadata":{"name":"cluster-2","annotations":{"kubestellar.io/display-name":"Staging Cluster","kubestellar.io/node-count":"3","kubestellar.io/pod-count":"75"}},"status":{"conditions":[{"type":"ManagedClusterConditionAvailable","status":"Unknown"}]}}`
	fixtureList     = `{"apiVersion":"cluster.open-cluster-management.io/v1","kind":"ManagedClusterList","items":[` + fixtureCluster1 + `,` + fixtureCluster2 + `]}`
	fixtureVersion  = `{"major":"1","minor":"31","gitVersion":"v1.31.0-kspbench-fixture","platform":"fixture"}`
)

var fixtureClusters = map[string]string{
	"cluster-1": fixtureCluster1,
	"cluster-2": fixtureCluster2,
}

// fixtureAnswer returns a fresh body each time: callers may keep or change it.
func fixtureAnswer(method, path string) (int, []byte) {
	path, _, _ = strings.Cut(path, "?")
	if method != http.MethodGet {
		return statusJSON(http.StatusMethodNotAllowed, "MethodNotAllowed",
			fmt.Sprintf("the kube fixture serves only GET, not %s", method), nil)
	}
	switch path {
	case managedClustersPath:
		return http.StatusOK, []byte(fixtureList)
	case "/version":
		return http.StatusOK, []byte(fixtureVersion)
	}
	if name, ok := strings.CutPrefix(path, managedClustersPath+"/"); ok && name != "" && !strings.Contains(name, "/") {
		if item, ok := fixtureClusters[name]; ok {
			return http.StatusOK, []byte(item)
		}
		return statusJSON(http.StatusNotFound, "NotFound",
			fmt.Sprintf("managedclusters.cluster.open-cluster-management.io %q not found", name),
			&statusDetails{Name: name, Group: "cluster.open-cluster-management.io", Kind: "managedclusters"})
	}
	return statusJSON(http.StatusNotFound, "NotFound", "the server could not find the requested resource", nil)
}

// status is the part of a Kubernetes metav1.Status the fixture fills in.
type status struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Metadata   struct{}       `json:"metadata"`
	Status     string         `json:"status"`
	Message    string         `json:"message"`
	Reason     string         `json:"reason"`
	Details    *statusDetails `json:"details,omitempty"`
	Code       int            `json:"code"`
}

type statusDetails struct {
	Name  string `json:"name"`
	Group string `json:"group"`
	Kind  string `json:"kind"`
}

func statusJSON(code int, reason, message string, details *statusDetails) (int, []byte) {
	b, err := json.Marshal(status{
		Kind: "Status", APIVersion: "v1", Status: "Failure",
		Message: message, Reason: reason, Details: details, Code: code,
	})
	if err != nil {
		panic(err) // cannot happen: plain strings and ints
	}
	return code, b
}
