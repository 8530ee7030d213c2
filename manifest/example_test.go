package manifest_test

import (
	"fmt"

	"github.com/kspbench/kspbench/manifest"
)

func ExampleParse() {
	src := `apiVersion: kubestellar.io/v1
kind: Plugin
metadata:
  name: cluster-monitor
  version: 1.0.0
spec:
  wasm:
    memory_limit: 64MiB
  backend:
    enabled: true
    routes:
      - path: /status
        methods: [GET]
        handler: handle_status
      - path: /data
        methods: [GET, POST]
        handler: handle_data
  permissions:
    - kubestellar:read:clusters
  configuration:
    - name: refresh_interval
      type: integer
      default: 30
`
	m, err := manifest.Parse([]byte(src), "plugin.yml")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range m.Routes() {
		fmt.Printf("%v %s -> %s (line %d)\n", r.Methods, r.Path, r.Handler, r.Line)
	}
	fmt.Println("handlers:", m.Handlers())
	fmt.Println("module:", m.WasmFile(), "pages:", m.MemoryLimitPages())
	fmt.Println("config:", m.ConfigValues())
	// Output:
	// [GET] /status -> handle_status (line 12)
	// [GET POST] /data -> handle_data (line 15)
	// handlers: [handle_status handle_data]
	// module: cluster-monitor.wasm pages: 1024
	// config: map[refresh_interval:30]
}

// Every problem is reported, each with its line and field.
func ExampleParse_errors() {
	src := `apiVersion: kubestellar.io/v1
kind: Plugin
metadata:
  name: cluster-monitor
  version: v1.0.0
spec:
  backend:
    enabled: true
    routes:
      - path: /data
        methods: [GET]
        handler: handle_data
      - path: /data
        methods: [post]
        handler: allocate
  premissions:
    - kubestellar:read:clusters
`
	_, err := manifest.Parse([]byte(src), "plugin.yml")
	fmt.Println(err)
	// Output:
	// plugin.yml:5:3: metadata.version: "v1.0.0" is not a semantic version: drop the leading "v"
	// plugin.yml:13:9: spec.backend.routes[1].path: "/data" is declared twice (first at line 10)
	// plugin.yml:14:19: spec.backend.routes[1].methods[0]: "post" must be upper case: POST
	// plugin.yml:15:9: spec.backend.routes[1].handler: "allocate" is an export the plugin ABI reserves for itself; name the handler otherwise, such as handle_allocate
	// plugin.yml:16:3: spec.premissions: unknown key "premissions" (did you mean "permissions"?)
}

// A manifest written for the KubeStellar UI host loads with the lenient
// reading; what kspbench does not use comes back as warnings.
func ExampleParseWith() {
	src := `apiVersion: ks-monitoring/v1
kind: Plugin
metadata:
  name: ks-monitoring
  version: 1.0.0
spec:
  wasm:
    entrypoint: main
  backend:
    enabled: true
  frontend:
    enabled: true
  info:
    tags: [monitoring]
`
	if _, err := manifest.Parse([]byte(src), "plugin.yml"); err != nil {
		fmt.Println(err)
	}
	m, err := manifest.ParseWith([]byte(src), "plugin.yml", manifest.Options{Lenient: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("entrypoint:", m.Spec.Wasm.Entrypoint, "backend:", m.HasBackend())
	for _, w := range m.Warnings {
		fmt.Println(w)
	}
	// Output:
	// plugin.yml:1:1: apiVersion: must be "kubestellar.io/v1", not "ks-monitoring/v1": that is kspbench's own rule (ABI v1); manifests written for the KubeStellar UI host load with the kubestellar-ui profile (--abi kubestellar-ui)
	// plugin.yml:10:5: spec.backend.routes: the backend is enabled but declares no routes
	// plugin.yml:13:3: spec.info: unknown key "info"; known keys are wasm, build, backend, permissions, frontend, navigation, widgets, routes, configuration
	// entrypoint: main backend: false
	// plugin.yml:10:5: spec.backend.routes: the backend is enabled but declares no routes: the plugin loads as frontend-only, without a backend
	// plugin.yml:11:3: spec.frontend: the KubeStellar UI's frontend integration; kspbench serves no frontend and does not use it
	// plugin.yml:13:3: spec.info: unknown key "info", ignored
}
