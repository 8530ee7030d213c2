package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/manifest"
	"github.com/kspbench/kspbench/plugin"
)

func get(path string) *abi.Request { return &abi.Request{Method: "GET", Path: path} }

func post(path, body string) *abi.Request {
	return &abi.Request{Method: "POST", Path: path, Body: []byte(body),
		Headers: map[string][]string{"Content-Type": {"application/json"}}}
}

// wantResponse checks an HTTP-shaped answer: its status and its JSON.
func wantResponse(what string, r *plugin.Response, err error, status int, wantJSONDoc string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if r.Status != status {
		return fmt.Errorf("%s: status %d, want %d (body %q)", what, r.Status, status, clip(r.Body))
	}
	if wantJSONDoc == "" {
		return nil
	}
	return wantJSON(what, r.Body, wantJSONDoc)
}

// errorMessage returns the "message" of an {"status":"error"} body.
func errorMessage(what string, r *plugin.Response) (string, error) {
	var body struct{ Status, Message string }
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Status != "error" || body.Message == "" {
		return "", fmt.Errorf("%s: body %q is not {\"status\":\"error\",\"message\":...}", what, clip(r.Body))
	}
	return body.Message, nil
}

const devCluster = `{"id":"cluster-3","name":"Dev Cluster","status":"healthy","nodes":1,"pods":10}`

var pluginCases = []Case{
	{"plugin/status", "GET /status returns the seed README's JSON", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		r, err := g.Handle(e.ctx, get("/status"))
		return wantResponse("GET /status", r, err, 200, SeedStatusJSON)
	}},
	{"plugin/data", "GET /data returns the seed README's JSON, read through host_k8s_api_call", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		r, err := g.Handle(e.ctx, get("/data"))
		if err := wantResponse("GET /data", r, err, 200, SeedDataJSON); err != nil {
			return err
		}
		if g.Kube.Calls() == 0 {
			return errors.New("GET /data answered without calling the Kubernetes backend")
		}
		return nil
	}},
	{"plugin/post-then-get", "POST /data records a cluster (201) and later GET /data answers include it", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		r, err := g.Handle(e.ctx, post("/data", devCluster))
		if err := wantResponse("POST /data", r, err, 201, `{"status":"success","message":"Cluster recorded","data":`+devCluster+`}`); err != nil {
			return err
		}
		r, err = g.Handle(e.ctx, get("/data"))
		want := strings.Replace(SeedDataJSON, `"pods": 75}`, `"pods": 75}, `+devCluster, 1)
		want = strings.NewReplacer(`"total_clusters": 2`, `"total_clusters": 3`, `"healthy_clusters": 1`, `"healthy_clusters": 2`).Replace(want)
		return wantResponse("GET /data after POST", r, err, 200, want)
	}},
	{"plugin/unknown-route", "a path the manifest does not declare is no route", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		_, err = g.Handle(e.ctx, get("/nope"))
		return wantErr("GET /nope", err, plugin.ErrNoRoute)
	}},
	{"plugin/method-not-allowed", "a declared path with an undeclared method is refused, listing the allowed methods", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		for _, c := range []struct {
			method, path string
			allow        []string
		}{{"POST", "/status", []string{"GET"}}, {"DELETE", "/data", []string{"GET", "POST"}}} {
			_, err = g.Handle(e.ctx, &abi.Request{Method: c.method, Path: c.path})
			var mna *plugin.MethodNotAllowedError
			if !errors.As(err, &mna) || !slices.Equal(mna.Allow, c.allow) {
				return fmt.Errorf("%s %s: got %v, want method not allowed with Allow %v", c.method, c.path, err, c.allow)
			}
		}
		return nil
	}},
	{"plugin/malformed-body", "POST /data with a malformed body answers 400 with a message saying what is wrong", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		for _, body := range []string{
			`{not json`,
			`{"id":"cluster-9","name":"x","status":"healthy","nodes":1,"pods":1,"extra":true}`,
			`{"id":"Bad_ID","name":"x","status":"healthy","nodes":1,"pods":1}`,
			`{"id":"cluster-9","name":"x","status":"on fire","nodes":1,"pods":1}`,
			`{"id":"cluster-9","name":"x","status":"healthy","nodes":-1,"pods":1}`,
			``,
		} {
			r, err := g.Handle(e.ctx, post("/data", body))
			if err := wantResponse("POST /data "+body, r, err, 400, ""); err != nil {
				return err
			}
			if _, err := errorMessage("POST /data "+body, r); err != nil {
				return err
			}
		}
		r, err := g.Handle(e.ctx, get("/data"))
		return wantResponse("GET /data after refused POSTs", r, err, 200, SeedDataJSON)
	}},
	{"plugin/logs", "the plugin's host_log lines reach the host log under its name", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		if _, err := g.Handle(e.ctx, get("/status")); err != nil {
			return err
		}
		for _, l := range g.Logs.Lines() {
			if strings.Contains(l, "plugin=cluster-monitor") {
				return nil
			}
		}
		return fmt.Errorf("no log line with plugin=cluster-monitor: %q", g.Logs.Lines())
	}},
	{"plugin/large-response", "GET /data answers well over 1 KiB (the reference host's example panicked past 1 KiB)", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		for i := range 40 {
			rec := fmt.Sprintf(`{"id":"bulk-%d","name":"Bulk cluster number %d with a long name","status":"warning","nodes":%d,"pods":%d}`, i, i, i, i*10)
			if r, err := g.Handle(e.ctx, post("/data", rec)); err != nil || r.Status != 201 {
				return fmt.Errorf("POST %d: %v %v", i, err, r)
			}
		}
		r, err := g.Handle(e.ctx, get("/data"))
		if err := wantResponse("GET /data", r, err, 200, ""); err != nil {
			return err
		}
		var got struct {
			Data struct {
				Clusters []json.RawMessage `json:"clusters"`
				Total    int               `json:"total_clusters"`
				Warning  int               `json:"warning_clusters"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &got); err != nil {
			return fmt.Errorf("GET /data: %v", err)
		}
		if len(r.Body) <= 4096 || len(got.Data.Clusters) != 42 || got.Data.Total != 42 || got.Data.Warning != 41 {
			return fmt.Errorf("GET /data: %d bytes, %d clusters, total %d, warning %d; want > 4096 bytes, 42, 42, 41",
				len(r.Body), len(got.Data.Clusters), got.Data.Total, got.Data.Warning)
		}
		return nil
	}},
	{"plugin/k8s-denied", "without kubestellar:read:clusters GET /data answers 403 and the backend is never called", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, func(m *manifest.Manifest) {
			m.Spec.Permissions = slices.DeleteFunc(slices.Clone(m.Spec.Permissions), func(p string) bool { return p == abi.PermReadClusters })
		})
		if err != nil {
			return err
		}
		r, err := g.Handle(e.ctx, get("/data"))
		if err := wantResponse("GET /data", r, err, 403, ""); err != nil {
			return err
		}
		msg, err := errorMessage("GET /data", r)
		if err != nil {
			return err
		}
		if !strings.Contains(msg, "PERMISSION_DENIED") {
			return fmt.Errorf("message %q does not say PERMISSION_DENIED", msg)
		}
		if n := g.Kube.Calls(); n != 0 {
			return fmt.Errorf("the denied call reached the backend %d times", n)
		}
		return nil
	}},
	{"plugin/storage-persists", "a cluster POSTed before the host closed its database is in GET /data after it reopens", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		if r, err := g.Handle(e.ctx, post("/data", devCluster)); err != nil || r.Status != 201 {
			return fmt.Errorf("POST: %v %v", err, r)
		}
		if err := errors.Join(g.Close(e.ctx), g.Storage.Close()); err != nil {
			return err
		}
		g2, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		r, err := g2.Handle(e.ctx, get("/data"))
		if err != nil {
			return err
		}
		if !strings.Contains(string(r.Body), `"cluster-3"`) {
			return fmt.Errorf("GET /data after reopening lacks cluster-3: %q", clip(r.Body))
		}
		return nil
	}},
	{"plugin/memory-bounded", "10,000 GET /status then 1,000 GET /data calls in a row on one instance: memory reaches a plateau", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{}, nil)
		if err != nil {
			return err
		}
		if err := boundedMemory(e, g, "handle_status", func(int) []byte { return nil }, nil, standardRun); err != nil {
			return fmt.Errorf("handle_status: %w", err)
		}
		if err := boundedMemory(e, g, "handle_data", func(int) []byte { return nil }, nil, memoryRun{1000, 1000, 10000}); err != nil {
			return fmt.Errorf("handle_data: %w", err)
		}
		return nil
	}},
	{"plugin/concurrent-posts", "16 concurrent POST /data requests on separate instances all keep their record (host_storage_cas)", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{MaxInstances: 4}, nil)
		if err != nil {
			return err
		}
		err = concurrently(16, 1, func(w, _ int) error {
			rec := fmt.Sprintf(`{"id":"c-%d","name":"Concurrent %d","status":"healthy","nodes":1,"pods":1}`, w, w)
			r, err := g.Handle(e.ctx, post("/data", rec))
			return wantResponse("POST /data", r, err, 201, "")
		}, func() error { return nil })
		if err != nil {
			return err
		}
		r, err := g.Handle(e.ctx, get("/data"))
		if err != nil {
			return err
		}
		var got struct {
			Data struct {
				Total int `json:"total_clusters"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &got); err != nil || got.Data.Total != 18 {
			return fmt.Errorf("GET /data lists %d clusters after 16 concurrent POSTs, want 18: updates were lost (%v)", got.Data.Total, err)
		}
		return nil
	}},
	{"plugin/concurrent", "8 goroutines calling GET /status and GET /data at once all get the seed's answers", func(e *Env) error {
		g, err := e.LoadClusterMonitor(GuestOptions{MaxInstances: 4}, nil)
		if err != nil {
			return err
		}
		return concurrently(8, 25, func(w, i int) error {
			if (w+i)%2 == 0 {
				r, err := g.Handle(e.ctx, get("/status"))
				return wantResponse("GET /status", r, err, 200, SeedStatusJSON)
			}
			r, err := g.Handle(e.ctx, get("/data"))
			return wantResponse("GET /data", r, err, 200, SeedDataJSON)
		}, func() error {
			if s := g.Stats(); s.Created > 4 || s.Discarded != 0 {
				return fmt.Errorf("pool created %d and discarded %d instances; want at most 4 and none", s.Created, s.Discarded)
			}
			return nil
		})
	}},
}
