package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The responses of the seed plugin's README, which the handlers must match.
const (
	seedStatusJSON = `{
  "status": "success",
  "message": "Cluster monitor plugin is running",
  "data": {
    "plugin": "cluster-monitor",
    "version": "1.0.0",
    "status": "active"
  }
}`
	seedDataJSON = `{
  "status": "success",
  "message": "Cluster data retrieved successfully",
  "data": {
    "clusters": [
      {
        "id": "cluster-1",
        "name": "Production Cluster",
        "status": "healthy",
        "nodes": 5,
        "pods": 150
      },
      {
        "id": "cluster-2",
        "name": "Staging Cluster",
        "status": "warning",
        "nodes": 3,
        "pods": 75
      }
    ],
    "total_clusters": 2,
    "healthy_clusters": 1,
    "warning_clusters": 1
  }
}`
)

// fakeHost is a host whose imports answer from its fields and record what
// the plugin did.
type fakeHost struct {
	// Kubernetes API: the answer to any call, and the calls made.
	k8sBody   string
	k8sStatus status
	k8sCalls  []string

	// Storage: the values, and statuses that replace the normal answers.
	store     map[string]string
	getStatus status
	setStatus status
	sets      int
	// conflicts is how many host_storage_cas calls answer CONFLICT first,
	// as when other requests store the list in between.
	conflicts int

	// host_request_info: the envelope, or a status when infoStatus != OK.
	info       string
	infoStatus status

	// What the plugin set and logged. code is 0 when it set none.
	code uint32
	logs []string
}

// newFakeHost answers GET managedclusters with the fixture, has empty
// storage and serves no HTTP request.
func newFakeHost() *fakeHost {
	return &fakeHost{k8sBody: fixtureManagedClusters, store: map[string]string{}, infoStatus: statusNotFound}
}

// serving makes the host serve an HTTP request with the given method.
func (h *fakeHost) serving(method string) *fakeHost {
	h.info = `{"method":"` + method + `","path":"/data","route":"/data","query":{},"headers":{"Content-Type":["application/json"]}}`
	h.infoStatus = statusOK
	return h
}

func (h *fakeHost) Log(msg string) { h.logs = append(h.logs, msg) }

func (h *fakeHost) K8sAPICall(path string, body []byte) ([]byte, status) {
	h.k8sCalls = append(h.k8sCalls, path+" body="+string(body))
	if h.k8sStatus != statusOK {
		return nil, h.k8sStatus
	}
	return []byte(h.k8sBody), statusOK
}

func (h *fakeHost) StorageGet(key string) ([]byte, status) {
	if h.getStatus != statusOK {
		return nil, h.getStatus
	}
	v, ok := h.store[key]
	if !ok {
		return nil, statusNotFound
	}
	return []byte(v), statusOK
}

func (h *fakeHost) StorageCAS(key string, old, value []byte) status {
	h.sets++
	if h.setStatus != statusOK {
		return h.setStatus
	}
	if h.conflicts > 0 { // another request stored first
		h.conflicts--
		return statusConflict
	}
	cur, ok := h.store[key]
	if (len(old) == 0) == ok || (ok && cur != string(old)) {
		return statusConflict
	}
	if len(value) == 0 {
		delete(h.store, key)
	} else {
		h.store[key] = string(value)
	}
	return statusOK
}

func (h *fakeHost) RequestInfo() ([]byte, status) {
	if h.infoStatus != statusOK {
		return nil, h.infoStatus
	}
	return []byte(h.info), statusOK
}

func (h *fakeHost) SetResponseStatus(code uint32) status {
	h.code = code
	if h.infoStatus != statusOK {
		return statusNotFound // no request to set it on
	}
	return statusOK
}

// compact returns s without insignificant white space.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("compact %q: %v", s, err)
	}
	return b.String()
}

// decode returns the JSON of b as a generic value.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("response %q is not a JSON object: %v", b, err)
	}
	return v
}

func TestHandleStatusMatchesSeed(t *testing.T) {
	h := newFakeHost()
	got := handleStatus(h)
	if want := compact(t, seedStatusJSON); string(got) != want {
		t.Errorf("handle_status:\n got %s\nwant %s", got, want)
	}
	if h.code != 0 {
		t.Errorf("handle_status set status %d, want none (200)", h.code)
	}
	if len(h.logs) != 1 || !strings.HasPrefix(h.logs[0], "handle_status: ") {
		t.Errorf("logs = %q, want one handle_status line", h.logs)
	}
}

func TestHandleDataGETMatchesSeed(t *testing.T) {
	for _, h := range []*fakeHost{newFakeHost(), newFakeHost().serving("GET")} {
		got := handleData(h, nil)
		if want := compact(t, seedDataJSON); string(got) != want {
			t.Errorf("handle_data GET:\n got %s\nwant %s", got, want)
		}
		if !reflect.DeepEqual(decode(t, got), decode(t, []byte(seedDataJSON))) {
			t.Error("handle_data GET differs from the seed field for field")
		}
		wantCall := managedClustersPath + " body="
		if len(h.k8sCalls) != 1 || h.k8sCalls[0] != wantCall {
			t.Errorf("kubernetes calls = %q, want [%q]", h.k8sCalls, wantCall)
		}
		if h.code != 0 {
			t.Errorf("status set to %d, want none (200)", h.code)
		}
		if want := []string{"handle_data: GET, 2 clusters"}; !reflect.DeepEqual(h.logs, want) {
			t.Errorf("logs = %q, want %q", h.logs, want)
		}
	}
}

func TestHandleData(t *testing.T) {
	const record = `{"id":"cluster-3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`
	tests := []struct {
		name  string
		host  *fakeHost
		body  string
		code  uint32 // 0: none set (200)
		want  string // the exact response, compacted; "" to check wantMsg only
		msg   string // part of the error message when want is ""
		store string // storage key "clusters" after the call; "" for absent
		log   string // prefix of the one log line
	}{
		{
			name:  "POST stores a record",
			host:  newFakeHost().serving("POST"),
			body:  record,
			code:  201,
			want:  `{"status":"success","message":"Cluster recorded","data":` + record + `}`,
			store: `[` + record + `]`,
			log:   "handle_data: POST, cluster cluster-3 recorded, 1 stored",
		},
		{
			name:  "direct call with a body is a POST",
			host:  newFakeHost(),
			body:  record,
			code:  201,
			want:  `{"status":"success","message":"Cluster recorded","data":` + record + `}`,
			store: `[` + record + `]`,
			log:   "handle_data: POST, ",
		},
		{
			name: "POST replaces the stored record with the same id",
			host: func() *fakeHost {
				h := newFakeHost().serving("POST")
				h.store["clusters"] = `[{"id":"cluster-3","name":"Old","status":"unhealthy","nodes":0,"pods":0},{"id":"x","name":"X","status":"warning","nodes":2,"pods":2}]`
				return h
			}(),
			body:  record,
			code:  201,
			store: `[` + record + `,{"id":"x","name":"X","status":"warning","nodes":2,"pods":2}]`,
			want:  `{"status":"success","message":"Cluster recorded","data":` + record + `}`,
			log:   "handle_data: POST, cluster cluster-3 recorded, 2 stored",
		},
		{
			name: "POST with an invalid record",
			host: newFakeHost().serving("POST"),
			body: `{"id":"Cluster 3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`,
			code: 400,
			want: `{"status":"error","message":"invalid cluster record: id \"Cluster 3\" is not a DNS label (1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit)"}`,
			log:  "handle_data: POST, failed (400): invalid cluster record: ",
		},
		{
			name: "POST with a body that is not JSON",
			host: newFakeHost().serving("POST"),
			body: `hello`,
			code: 400,
			msg:  "invalid cluster record: body is not JSON",
			log:  "handle_data: POST, failed (400)",
		},
		{
			name: "POST without a body",
			host: newFakeHost().serving("POST"),
			code: 400,
			msg:  "invalid cluster record: body is empty",
			log:  "handle_data: POST, failed (400)",
		},
		{
			name: "POST when storage is unreachable on read",
			host: func() *fakeHost { h := newFakeHost().serving("POST"); h.getStatus = statusUnavailable; return h }(),
			body: record,
			code: 503,
			msg:  "host_storage_get returned UNAVAILABLE",
			log:  "handle_data: POST, failed (503)",
		},
		{
			name: "POST when storage refuses the write",
			host: func() *fakeHost { h := newFakeHost().serving("POST"); h.setStatus = statusLimitExceeded; return h }(),
			body: record,
			code: 500,
			msg:  "cannot store the cluster record: host_storage_cas returned LIMIT_EXCEEDED",
			log:  "handle_data: POST, failed (500)",
		},
		{
			name: "POST when storage is unreachable on write",
			host: func() *fakeHost { h := newFakeHost().serving("POST"); h.setStatus = statusUnavailable; return h }(),
			body: record,
			code: 503,
			msg:  "host_storage_cas returned UNAVAILABLE",
			log:  "handle_data: POST, failed (503)",
		},
		{
			name: "GET merges stored records",
			host: func() *fakeHost {
				h := newFakeHost().serving("GET")
				h.store["clusters"] = `[{"id":"cluster-2","name":"Staging Cluster","status":"healthy","nodes":4,"pods":80},` + record + `]`
				return h
			}(),
			want: `{"status":"success","message":"Cluster data retrieved successfully","data":{"clusters":[` +
				`{"id":"cluster-1","name":"Production Cluster","status":"healthy","nodes":5,"pods":150},` +
				`{"id":"cluster-2","name":"Staging Cluster","status":"healthy","nodes":4,"pods":80},` +
				record + `],"total_clusters":3,"healthy_clusters":3,"warning_clusters":0}}`,
			store: `[{"id":"cluster-2","name":"Staging Cluster","status":"healthy","nodes":4,"pods":80},` + record + `]`,
			log:   "handle_data: GET, 3 clusters",
		},
		{
			name: "GET with no clusters at all",
			host: func() *fakeHost { h := newFakeHost(); h.k8sBody = `{"kind":"ManagedClusterList","items":[]}`; return h }(),
			want: `{"status":"success","message":"Cluster data retrieved successfully","data":{"clusters":[],"total_clusters":0,"healthy_clusters":0,"warning_clusters":0}}`,
			log:  "handle_data: GET, 0 clusters",
		},
		{
			name: "GET denied",
			host: func() *fakeHost { h := newFakeHost().serving("GET"); h.k8sStatus = statusPermissionDenied; return h }(),
			code: 403,
			msg:  "kubernetes API call denied: PERMISSION_DENIED",
			log:  "handle_data: GET, failed (403)",
		},
		{
			name: "GET with the API unreachable",
			host: func() *fakeHost { h := newFakeHost().serving("GET"); h.k8sStatus = statusUnavailable; return h }(),
			code: 502,
			msg:  "kubernetes API call failed: UNAVAILABLE",
			log:  "handle_data: GET, failed (502)",
		},
		{
			name: "GET with an unknown status",
			host: func() *fakeHost { h := newFakeHost().serving("GET"); h.k8sStatus = 42; return h }(),
			code: 502,
			msg:  "kubernetes API call failed: STATUS_42",
			log:  "handle_data: GET, failed (502)",
		},
		{
			name: "GET with an unreadable API answer",
			host: func() *fakeHost { h := newFakeHost().serving("GET"); h.k8sBody = `not json`; return h }(),
			code: 502,
			msg:  "kubernetes API call returned an unreadable answer",
			log:  "handle_data: GET, failed (502)",
		},
		{
			name:  "GET with corrupt storage",
			host:  func() *fakeHost { h := newFakeHost().serving("GET"); h.store["clusters"] = `{"id":1}`; return h }(),
			code:  500,
			msg:   "the stored cluster records are not a JSON array of records",
			store: `{"id":1}`,
			log:   "handle_data: GET, failed (500)",
		},
		{
			name: "method not served",
			host: newFakeHost().serving("DELETE"),
			code: 405,
			msg:  "method DELETE is not supported on /data",
			log:  "handle_data: DELETE, failed (405)",
		},
		{
			name: "request info fails",
			host: func() *fakeHost { h := newFakeHost(); h.infoStatus = statusInternal; return h }(),
			code: 500,
			msg:  "host_request_info returned INTERNAL",
			log:  "handle_data: failed (500)",
		},
		{
			name: "request info without a method",
			host: func() *fakeHost { h := newFakeHost(); h.info, h.infoStatus = `{}`, statusOK; return h }(),
			code: 500,
			msg:  "host_request_info names no method",
			log:  "handle_data: failed (500)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.host
			got := handleData(h, []byte(tt.body))
			if tt.want != "" && string(got) != tt.want {
				t.Errorf("response:\n got %s\nwant %s", got, tt.want)
			}
			v := decode(t, got)
			if tt.code >= 400 {
				msg, _ := v["message"].(string)
				if v["status"] != "error" || !strings.Contains(msg, tt.msg) {
					t.Errorf("response %s: want status error and a message containing %q", got, tt.msg)
				}
				if _, ok := v["data"]; ok {
					t.Errorf("error response %s has data", got)
				}
			} else if v["status"] != "success" {
				t.Errorf("response %s: want status success", got)
			}
			if h.code != tt.code {
				t.Errorf("response status set to %d, want %d", h.code, tt.code)
			}
			if gotStore := h.store["clusters"]; gotStore != tt.store {
				t.Errorf("stored clusters = %s, want %s", gotStore, tt.store)
			}
			if len(h.logs) != 1 || !strings.HasPrefix(h.logs[0], tt.log) {
				t.Errorf("logs = %q, want one line starting %q", h.logs, tt.log)
			}
		})
	}
}

// TestPostThenGet runs the two methods against one store, as a host would.
func TestPostThenGet(t *testing.T) {
	h := newFakeHost().serving("POST")
	for _, body := range []string{
		`{"id":"cluster-3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`,
		`{"id":"cluster-1","name":"Production Cluster","status":"unhealthy","nodes":5,"pods":0}`,
		`{"id":"cluster-3","name":"Dev Cluster","status":"warning","nodes":2,"pods":12}`,
	} {
		if got := decode(t, handleData(h, []byte(body))); got["status"] != "success" {
			t.Fatalf("POST %s: %v", body, got)
		}
	}
	h.serving("GET")
	var resp struct {
		Data clusterData `json:"data"`
	}
	if err := json.Unmarshal(handleData(h, nil), &resp); err != nil {
		t.Fatal(err)
	}
	want := clusterData{
		Clusters: []cluster{
			{ID: "cluster-1", Name: "Production Cluster", Status: "unhealthy", Nodes: 5, Pods: 0},
			{ID: "cluster-2", Name: "Staging Cluster", Status: "warning", Nodes: 3, Pods: 75},
			{ID: "cluster-3", Name: "Dev Cluster", Status: "warning", Nodes: 2, Pods: 12},
		},
		TotalClusters: 3, HealthyClusters: 0, WarningClusters: 2,
	}
	if !reflect.DeepEqual(resp.Data, want) {
		t.Errorf("GET after POSTs:\n got %+v\nwant %+v", resp.Data, want)
	}
}

// TestPostRetriesOnConflict: a POST whose compare-and-swap loses to another
// request reads the list again and retries, keeping both records.
func TestPostRetriesOnConflict(t *testing.T) {
	h := newFakeHost()
	h.store[clustersStorageKey] = `[{"id":"cluster-9","name":"Nine","status":"healthy","nodes":1,"pods":1}]`
	h.conflicts = 3
	r := postCluster(h, []byte(`{"id":"cluster-3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`))
	if r.code != codeCreated {
		t.Fatalf("code %d: %+v", r.code, r.body)
	}
	if h.sets != 4 {
		t.Errorf("%d compare-and-swap attempts, want 4 (3 conflicts, then success)", h.sets)
	}
	if got := h.store[clustersStorageKey]; !strings.Contains(got, "cluster-9") || !strings.Contains(got, "cluster-3") {
		t.Errorf("stored %s: a record was lost", got)
	}
	h.conflicts = maxStoreAttempts
	if r := postCluster(h, []byte(`{"id":"cluster-4","name":"Four","status":"healthy","nodes":1,"pods":1}`)); r.code != codeServiceUnavailable {
		t.Errorf("endless conflicts: code %d, want 503", r.code)
	}
}
