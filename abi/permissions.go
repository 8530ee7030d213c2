package abi

import (
	"fmt"
	"slices"
	"strings"
)

// Permissions a manifest may list. Each Kubernetes resource belongs to one
// area; reading it needs the area's read permission, changing it the write one.
const (
	PermReadClusters         = "kubestellar:read:clusters"
	PermWriteClusters        = "kubestellar:write:clusters"
	PermReadWorkloads        = "kubestellar:read:workloads"
	PermWriteWorkloads       = "kubestellar:write:workloads"
	PermReadBindingPolicies  = "kubestellar:read:bindingpolicies"
	PermWriteBindingPolicies = "kubestellar:write:bindingpolicies"
)

// KnownPermissions lists every permission of ABI v1.
var KnownPermissions = []string{
	PermReadClusters, PermWriteClusters,
	PermReadWorkloads, PermWriteWorkloads,
	PermReadBindingPolicies, PermWriteBindingPolicies,
}

// IsKnownPermission reports whether p is one of KnownPermissions.
func IsKnownPermission(p string) bool { return slices.Contains(KnownPermissions, p) }

// resourceArea maps "group/resource" (core resources have an empty group) to
// the permission area that governs it.
var resourceArea = map[string]string{
	"cluster.open-cluster-management.io/managedclusters":    "clusters",
	"cluster.open-cluster-management.io/managedclustersets": "clusters",
	"tenancy.kflex.kubestellar.org/controlplanes":           "clusters",
	"/nodes":                                         "clusters",
	"/namespaces":                                    "workloads",
	"/pods":                                          "workloads",
	"/services":                                      "workloads",
	"/configmaps":                                    "workloads",
	"/events":                                        "workloads",
	"/persistentvolumeclaims":                        "workloads",
	"/replicationcontrollers":                        "workloads",
	"apps/deployments":                               "workloads",
	"apps/statefulsets":                              "workloads",
	"apps/daemonsets":                                "workloads",
	"apps/replicasets":                               "workloads",
	"batch/jobs":                                     "workloads",
	"batch/cronjobs":                                 "workloads",
	"networking.k8s.io/ingresses":                    "workloads",
	"autoscaling/horizontalpodautoscalers":           "workloads",
	"control.kubestellar.io/bindingpolicies":         "bindingpolicies",
	"control.kubestellar.io/bindings":                "bindingpolicies",
	"control.kubestellar.io/statuscollectors":        "bindingpolicies",
	"control.kubestellar.io/customtransforms":        "bindingpolicies",
	"control.kubestellar.io/combinedstatuses":        "bindingpolicies",
	"control.kubestellar.io/workstatuses":            "bindingpolicies",
	"events.k8s.io/events":                           "workloads",
	"discovery.k8s.io/endpointslices":                "workloads",
	"policy/poddisruptionbudgets":                    "workloads",
	"autoscaling.k8s.io/verticalpodautoscalers":      "workloads",
	"networking.k8s.io/networkpolicies":              "workloads",
	"storage.k8s.io/storageclasses":                  "clusters",
	"apiextensions.k8s.io/customresourcedefinitions": "clusters",
}

// K8sCall is a host_k8s_api_call request after parsing: the HTTP method and
// the API path with its query.
type K8sCall struct {
	Method string
	Path   string
}

// ParseK8sCall reads the path argument of host_k8s_api_call: either "/path" or
// "METHOD /path". Without a method the call is a GET when body is empty and a
// POST otherwise.
func ParseK8sCall(path string, bodyLen int) (K8sCall, error) {
	method := "GET"
	if bodyLen > 0 {
		method = "POST"
	}
	if m, p, ok := strings.Cut(path, " "); ok {
		switch m {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
			method, path = m, p
		default:
			return K8sCall{}, fmt.Errorf("method %q is not GET, POST, PUT, PATCH or DELETE", m)
		}
	}
	if !strings.HasPrefix(path, "/") {
		return K8sCall{}, fmt.Errorf("path %q does not start with /", path)
	}
	if strings.Contains(path, "..") || strings.ContainsAny(path, " \t\r\n") {
		return K8sCall{}, fmt.Errorf("path %q has a '..' segment or white space", path)
	}
	return K8sCall{Method: method, Path: path}, nil
}

// RequiredPermission returns the permission a Kubernetes API call needs, or
// an error when no permission of ABI v1 grants it (secrets, RBAC, unknown
// resources): such calls are always denied.
func (c K8sCall) RequiredPermission() (string, error) {
	p, _, _ := strings.Cut(c.Path, "?")
	if p == "/version" || p == "/api" || p == "/apis" || p == "/api/v1" {
		return PermReadClusters, nil
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	var group string
	switch {
	case len(segs) >= 3 && segs[0] == "api":
		segs = segs[2:] // api/v1/...
	case len(segs) >= 4 && segs[0] == "apis":
		group, segs = segs[1], segs[3:] // apis/group/version/...
	default:
		return "", fmt.Errorf("path %q is not a Kubernetes resource path", p)
	}
	resource := segs[0]
	if resource == "namespaces" && len(segs) >= 3 {
		resource = segs[2] // namespaces/<ns>/<resource>
	}
	area, ok := resourceArea[group+"/"+resource]
	if !ok {
		return "", fmt.Errorf("resource %q of group %q is not covered by any permission", resource, group)
	}
	verb := "read"
	if c.Method != "GET" {
		verb = "write"
	}
	return "kubestellar:" + verb + ":" + area, nil
}
