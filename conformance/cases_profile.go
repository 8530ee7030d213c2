package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
)

// ksHandlers are the handlers of the ks_ref guest.
var ksHandlers = []string{"handle_echo", "handle_null", "handle_started", "handle_alloc_seen", "handle_log",
	"handle_config", "handle_storage_set", "handle_storage_get", "handle_k8s"}

// ksRef loads the ks_ref guest with the entry point "main", as the published
// manifests name it, letting the host detect its profile.
func (e *Env) ksRef(o GuestOptions) (*Loaded, error) {
	o.Handlers = ksHandlers
	if o.Entrypoint == "" {
		o.Entrypoint = "main"
	}
	return e.LoadGuest(Guest("ks_ref"), o)
}

// ksReferenceEvidence is the weak evidence a plugin folder gives for the
// kubestellar-ui profile when its manifest is the reference host's.
var ksReferenceEvidence = abi.Evidence{Profile: abi.KubeStellarUI, Reason: "the manifest's apiVersion is not kubestellar.io/v1"}

// profileCases check the kubestellar-ui profile (ABI.md §12) with guests in
// the shape of the plugins published for the KubeStellar UI.
var profileCases = []Case{
	{"profile/detect", "a module's profile is read from its handler and import types; a module that mixes profiles is refused naming both readings", func(e *Env) error {
		g, err := e.ksRef(GuestOptions{})
		if err != nil {
			return err
		}
		if p := g.Profile(); p != abi.KubeStellarUI {
			return fmt.Errorf("ks_ref detected as profile %s, want kubestellar-ui", p)
		}
		ref, err := e.reference(GuestOptions{})
		if err != nil {
			return err
		}
		if p := ref.Profile(); p != abi.V1 {
			return fmt.Errorf("reference detected as profile %s, want v1", p)
		}
		_, err = e.LoadGuest(Guest("ks_mixed"), GuestOptions{Handlers: []string{"handle_v1", "handle_ks"}})
		return wantErr("load ks_mixed", err, abi.ErrAmbiguous, "as v1", "handle_v1", "as kubestellar-ui", "handle_ks")
	}},
	{"profile/call", "handlers (i64, i64) -> i64 get (ptr, len); allocate runs even for an empty body; a result with pointer or length 0 is {}", func(e *Env) error {
		g, err := e.ksRef(GuestOptions{MaxInstances: 1})
		if err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_echo", []byte(`{"name":"x"}`))
		if err := wantBytes("handle_echo", got, err, []byte(`{"name":"x"}`)); err != nil {
			return err
		}
		if got, err := g.Call(e.ctx, "handle_alloc_seen", nil); wantBytes("allocate for an empty body", got, err, []byte("yes")) != nil {
			return fmt.Errorf("the host did not call allocate(0) for an empty body, as the reference host does: got %q, %v", got, err)
		}
		got, err = g.Call(e.ctx, "handle_echo", nil)
		if err := wantBytes("empty result (length 0)", got, err, []byte("{}")); err != nil {
			return err
		}
		got, err = g.Call(e.ctx, "handle_null", nil)
		return wantBytes("result with pointer 0", got, err, []byte("{}"))
	}},
	{"profile/start", "the manifest's entry point runs when exported; _start never runs, even when the manifest names it", func(e *Env) error {
		g, err := e.ksRef(GuestOptions{})
		if err != nil {
			return err
		}
		got, err := g.Call(e.ctx, "handle_started", nil)
		if err := wantBytes("entry point main", got, err, []byte("yes")); err != nil {
			return err
		}
		g, err = e.ksRef(GuestOptions{Entrypoint: abi.StartExport})
		if err != nil {
			return err
		}
		got, err = g.Call(e.ctx, "handle_started", nil)
		if err := wantBytes("entry point _start (not run: it calls proc_exit)", got, err, []byte("no")); err != nil {
			return err
		}
		if !strings.Contains(strings.Join(g.Notes(), " "), "_start") {
			return fmt.Errorf("the plugin's notes %q do not say that _start is not run", g.Notes())
		}
		g, err = e.ksRef(GuestOptions{Entrypoint: "absent"})
		if err != nil {
			return fmt.Errorf("an entry point the module does not export must be skipped, as the reference host skips it: %w", err)
		}
		got, err = g.Call(e.ctx, "handle_started", nil)
		return wantBytes("entry point not exported", got, err, []byte("no"))
	}},
	{"profile/imports", "the reference host's env imports link and reach kspbench's real services: log, configuration, storage, Kubernetes with permissions", func(e *Env) error {
		g, err := e.ksRef(GuestOptions{Config: map[string]string{"greeting": "hi"}, Permissions: []string{abi.PermReadClusters}})
		if err != nil {
			return err
		}
		if got, err := g.Call(e.ctx, "handle_log", []byte("ks-log-line")); err != nil || string(got) != "{}" {
			return fmt.Errorf("handle_log: %q, %v", got, err)
		}
		if !strings.Contains(strings.Join(g.Logs.Lines(), "\n"), "ks-log-line") {
			return fmt.Errorf("host_log's message is not in the log: %q", g.Logs.Lines())
		}
		got, err := g.Call(e.ctx, "handle_config", nil)
		if err != nil {
			return err
		}
		if err := wantJSON("host_get_config", got, `{"greeting":"hi"}`); err != nil {
			return err
		}
		got, err = g.Call(e.ctx, "handle_storage_set", []byte("stored"))
		if err := wantBytes("host_storage_set", got, err, []byte("1")); err != nil {
			return err
		}
		got, err = g.Call(e.ctx, "handle_storage_get", []byte("k"))
		if err := wantBytes("host_storage_get", got, err, []byte("stored")); err != nil {
			return err
		}
		got, err = g.Call(e.ctx, "handle_storage_get", []byte("absent"))
		if err := wantBytes("host_storage_get of an absent key (pointer 0)", got, err, []byte("{}")); err != nil {
			return err
		}
		got, err = g.Call(e.ctx, "handle_k8s", []byte("/apis/cluster.open-cluster-management.io/v1/managedclusters"))
		if err != nil {
			return err
		}
		var list struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(got, &list); err != nil || list.Kind != "ManagedClusterList" {
			return fmt.Errorf("host_k8s_api_call: got %q (%v), want the fixture's ManagedClusterList", clip(got), err)
		}
		got, err = g.Call(e.ctx, "handle_k8s", []byte("/api/v1/pods"))
		if err != nil {
			return err
		}
		if err := wantJSON("host_k8s_api_call without its permission", got, `{"status":"error","error":"PERMISSION_DENIED"}`); err != nil {
			return err
		}
		if n := g.Kube.Calls(); n != 1 {
			return fmt.Errorf("backend saw %d calls, want 1: the denied call must not reach it", n)
		}
		return nil
	}},
	{"profile/recycle", "a bump allocator that never resets runs out after a few thousand calls on one instance; the pool recycles instances before that", func(e *Env) error {
		g, err := e.ksRef(GuestOptions{MaxInstances: 1})
		if err != nil {
			return err
		}
		body := []byte("12345678")
		in, err := g.NewInstance(e.ctx)
		if err != nil {
			return err
		}
		defer in.Close(e.ctx)
		failedAt := 0
		for i := 1; i <= 5000; i++ {
			if _, err := in.Call(e.ctx, "handle_echo", body); err != nil {
				if !errors.Is(err, engines.ErrTrap) && !errors.Is(err, abi.ErrAllocate) {
					return fmt.Errorf("one instance, call %d: %w, want a trap", i, err)
				}
				failedAt = i
				break
			}
		}
		if failedAt == 0 || failedAt < 2000 {
			return fmt.Errorf("one instance failed at call %d, want a failure after a few thousand calls (the guest's bump allocator runs out past 0xf000)", failedAt)
		}
		for i := 1; i <= 2*failedAt; i++ {
			got, err := g.Call(e.ctx, "handle_echo", body)
			if err != nil || string(got) != string(body) {
				return fmt.Errorf("pooled call %d of %d: %q, %v: the pool must recycle instances before the allocator runs out", i, 2*failedAt, got, err)
			}
		}
		if s := g.Stats(); s.Recycled == 0 || s.Discarded != 0 {
			return fmt.Errorf("pool stats %+v: want instances recycled and none discarded", s)
		}
		return nil
	}},
	{"profile/frontend-only", "a frontend-only plugin (memory and _start, no handlers) loads under kubestellar-ui and runs nothing", func(e *Env) error {
		g, err := e.LoadGuest(Guest("ks_frontend"), GuestOptions{Hints: []abi.Evidence{ksReferenceEvidence}, Entrypoint: "main"})
		if err != nil {
			return err
		}
		if g.Profile() != abi.KubeStellarUI {
			return fmt.Errorf("profile %s, want kubestellar-ui from the manifest's evidence", g.Profile())
		}
		_, err = e.LoadGuest(Guest("ks_frontend"), GuestOptions{Profile: abi.V1})
		return wantErr("ks_frontend as v1", err, abi.ErrMissingExport, "export[allocate]", "profile v1")
	}},
	{"profile/imports-checked", "imports the host does not provide are load errors that name the import and its usual cause", func(e *Env) error {
		_, err := e.LoadGuest(Guest("gojs"), GuestOptions{Handlers: []string{"handle_echo"}})
		if err := wantErr("load gojs", err, abi.ErrImport, `"gojs"`, "GOOS=js"); err != nil {
			return err
		}
		_, err = e.LoadGuest(Guest("ks_ref"), GuestOptions{Handlers: ksHandlers, Profile: abi.V1})
		return wantErr("ks_ref forced to v1", err, abi.ErrImport, "env.host_get_config", "kubestellar-ui")
	}},
}
