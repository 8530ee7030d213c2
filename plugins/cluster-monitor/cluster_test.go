package main

import (
	"reflect"
	"testing"
)

// fixtureManagedClusters is the answer of the host's fixture Kubernetes
// backend to a GET on managedclusters.
const fixtureManagedClusters = `{"apiVersion":"cluster.open-cluster-management.io/v1","kind":"ManagedClusterList","items":[{"apiVersion":"cluster.open-cluster-management.io/v1","kind":"ManagedCluster","metadata":{"name":"cluster-1","annotations":{"kubestellar.io/display-name":"Production Cluster","kubestellar.io/node-count":"5","kubestellar.io/pod-count":"150"}},"status":{"conditions":[{"type":"ManagedClusterConditionAvailable","status":"True"}]}},{"apiVersion":"cluster.open-cluster-management.io/v1","kind":"ManagedCluster","metadata":{"name":"cluster-2","annotations":{"kubestellar.io/display-name":"Staging Cluster","kubestellar.io/node-count":"3","kubestellar.io/pod-count":"75"}},"status":{"conditions":[{"type":"ManagedClusterConditionAvailable","status":"Unknown"}]}}]}`

func TestParseManagedClusters(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []cluster
		wantErr bool
	}{
		{
			name: "fixture",
			body: fixtureManagedClusters,
			want: []cluster{
				{ID: "cluster-1", Name: "Production Cluster", Status: "healthy", Nodes: 5, Pods: 150},
				{ID: "cluster-2", Name: "Staging Cluster", Status: "warning", Nodes: 3, Pods: 75},
			},
		},
		{
			name: "empty list",
			body: `{"kind":"ManagedClusterList","items":[]}`,
			want: []cluster{},
		},
		{
			name: "no annotations, no status",
			body: `{"items":[{"metadata":{"name":"bare"}}]}`,
			want: []cluster{{ID: "bare", Name: "bare", Status: "unhealthy"}},
		},
		{
			name: "available False",
			body: `{"items":[{"metadata":{"name":"c"},"status":{"conditions":[{"type":"ManagedClusterConditionAvailable","status":"False"}]}}]}`,
			want: []cluster{{ID: "c", Name: "c", Status: "unhealthy"}},
		},
		{
			name: "available condition among others",
			body: `{"items":[{"metadata":{"name":"c"},"status":{"conditions":[{"type":"ManagedClusterJoined","status":"True"},{"type":"ManagedClusterConditionAvailable","status":"Unknown"}]}}]}`,
			want: []cluster{{ID: "c", Name: "c", Status: "warning"}},
		},
		{
			name: "only other conditions",
			body: `{"items":[{"metadata":{"name":"c"},"status":{"conditions":[{"type":"ManagedClusterJoined","status":"True"}]}}]}`,
			want: []cluster{{ID: "c", Name: "c", Status: "unhealthy"}},
		},
		{
			name: "counts that are not numbers",
			body: `{"items":[{"metadata":{"name":"c","annotations":{"kubestellar.io/node-count":"many","kubestellar.io/pod-count":"-4"}}}]}`,
			want: []cluster{{ID: "c", Name: "c", Status: "unhealthy"}},
		},
		{
			name: "empty display name falls back to the name",
			body: `{"items":[{"metadata":{"name":"c","annotations":{"kubestellar.io/display-name":""}}}]}`,
			want: []cluster{{ID: "c", Name: "c", Status: "unhealthy"}},
		},
		{
			name: "item without a name is skipped",
			body: `{"items":[{"metadata":{}},{"metadata":{"name":"c"}}]}`,
			want: []cluster{{ID: "c", Name: "c", Status: "unhealthy"}},
		},
		{name: "not JSON", body: `<html>`, wantErr: true},
		{name: "another kind", body: `{"kind":"Status","items":[]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseManagedClusters([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMergeClusters(t *testing.T) {
	api := []cluster{
		{ID: "a", Name: "A", Status: "healthy", Nodes: 1, Pods: 1},
		{ID: "b", Name: "B", Status: "warning", Nodes: 2, Pods: 2},
	}
	tests := []struct {
		name   string
		api    []cluster
		stored []cluster
		want   []cluster
	}{
		{name: "nothing stored", api: api, want: api},
		{name: "nothing at all", want: []cluster{}},
		{
			name:   "stored appended",
			api:    api,
			stored: []cluster{{ID: "c", Name: "C", Status: "unhealthy"}},
			want:   append(append([]cluster{}, api...), cluster{ID: "c", Name: "C", Status: "unhealthy"}),
		},
		{
			name:   "stored replaces in place",
			api:    api,
			stored: []cluster{{ID: "a", Name: "A2", Status: "unhealthy", Nodes: 9, Pods: 9}},
			want:   []cluster{{ID: "a", Name: "A2", Status: "unhealthy", Nodes: 9, Pods: 9}, api[1]},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apiCopy := append([]cluster(nil), tt.api...)
			got := mergeClusters(apiCopy, tt.stored)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(apiCopy, tt.api) && !(apiCopy == nil && tt.api == nil) {
				t.Errorf("mergeClusters changed its input: %+v", apiCopy)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	got := summarize([]cluster{{Status: "healthy"}, {Status: "warning"}, {Status: "unhealthy"}, {Status: "healthy"}})
	if got.TotalClusters != 4 || got.HealthyClusters != 2 || got.WarningClusters != 1 {
		t.Errorf("got total %d healthy %d warning %d, want 4, 2, 1", got.TotalClusters, got.HealthyClusters, got.WarningClusters)
	}
	if empty := summarize(nil); empty.Clusters == nil {
		t.Error("summarize(nil).Clusters is nil; it must encode as []")
	}
}
