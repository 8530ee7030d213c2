package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Plugin identity, as plugin.yml declares it.
const (
	pluginName    = "cluster-monitor"
	pluginVersion = "1.0.0"
)

// HTTP methods and statuses the handlers use. They are spelt out here rather
// than taken from net/http, which would add its whole package to the module.
const (
	methodGet  = "GET"
	methodPost = "POST"

	codeOK                  = 200
	codeCreated             = 201
	codeBadRequest          = 400
	codeForbidden           = 403
	codeMethodNotAllowed    = 405
	codeInternalServerError = 500
	codeBadGateway          = 502
	codeServiceUnavailable  = 503
)

// host is what the handlers need from the host: the ABI v1 env imports
// (abi/ABI.md §4) in Go types. The wasip1 build implements it with the
// imports; tests implement it with a fake.
//
// Methods that return data return (nil, statusOK) for "OK, empty".
type host interface {
	// Log is host_log.
	Log(msg string)
	// K8sAPICall is host_k8s_api_call.
	K8sAPICall(path string, body []byte) ([]byte, status)
	// StorageGet is host_storage_get.
	StorageGet(key string) ([]byte, status)
	// StorageCAS is host_storage_cas: it replaces key's value only if it is
	// still old (nil old: only if the key is absent), or answers CONFLICT.
	StorageCAS(key string, old, value []byte) status
	// RequestInfo is host_request_info: the JSON envelope of the request.
	RequestInfo() ([]byte, status)
	// SetResponseStatus is host_set_response_status.
	SetResponseStatus(code uint32) status
}

// envelope is the JSON of every response: "status" is "success" or "error".
type envelope struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// reply is a handler's answer before it is sent: the HTTP status, the body,
// and the summary it logs.
type reply struct {
	code int
	body envelope
	log  string
}

func success(code int, message string, data any, log string) reply {
	return reply{code: code, body: envelope{Status: "success", Message: message, Data: data}, log: log}
}

func failure(code int, format string, args ...any) reply {
	msg := fmt.Sprintf(format, args...)
	return reply{code: code, body: envelope{Status: "error", Message: msg}, log: fmt.Sprintf("failed (%d): %s", code, msg)}
}

// send sets the HTTP status when it is not 200, logs one line for the call,
// and returns the JSON body.
func send(h host, handler, method string, r reply) []byte {
	if r.code != codeOK {
		// NOT_FOUND when the call serves no HTTP request: nothing to set then.
		h.SetResponseStatus(uint32(r.code))
	}
	prefix := handler + ": "
	if method != "" {
		prefix += method + ", "
	}
	h.Log(prefix + r.log)
	b, err := json.Marshal(r.body)
	if err != nil { // only if a data type cannot be marshalled: a bug
		return []byte(`{"status":"error","message":"cannot encode the response"}`)
	}
	return b
}

// statusInfo is the data of GET /status.
type statusInfo struct {
	Plugin  string `json:"plugin"`
	Version string `json:"version"`
	Status  string `json:"status"`
}

// handleStatus serves /status.
func handleStatus(h host) []byte {
	info := statusInfo{Plugin: pluginName, Version: pluginVersion, Status: "active"}
	return send(h, "handle_status", "", success(codeOK, "Cluster monitor plugin is running", info, "active"))
}

// handleData serves /data: GET lists the clusters, POST records one.
func handleData(h host, body []byte) []byte {
	method, r, ok := requestMethod(h, body)
	if ok {
		switch method {
		case methodGet:
			r = getClusters(h)
		case methodPost:
			r = postCluster(h, body)
		default:
			r = failure(codeMethodNotAllowed, "method %s is not supported on /data; use GET or POST", method)
		}
	}
	return send(h, "handle_data", method, r)
}

// requestMethod returns the HTTP method of the request being served. Without
// an HTTP request (host_request_info answers NOT_FOUND, as for a direct call
// or a benchmark) an empty body means GET and any other body POST. When the
// method cannot be learnt, ok is false and r is the error reply.
func requestMethod(h host, body []byte) (method string, r reply, ok bool) {
	data, st := h.RequestInfo()
	switch st {
	case statusOK:
	case statusNotFound:
		if len(body) == 0 {
			return methodGet, reply{}, true
		}
		return methodPost, reply{}, true
	default:
		return "", failure(codeInternalServerError, "cannot read the request: host_request_info returned %s", st), false
	}
	var info struct {
		Method string `json:"method"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return "", failure(codeInternalServerError, "cannot read the request: host_request_info returned invalid JSON: %v", err), false
	}
	if info.Method == "" {
		return "", failure(codeInternalServerError, "cannot read the request: host_request_info names no method"), false
	}
	return strings.ToUpper(info.Method), reply{}, true
}

// getClusters lists the managed clusters of the Kubernetes API, with the
// records stored by POST applied.
func getClusters(h host) reply {
	body, st := h.K8sAPICall(managedClustersPath, nil)
	switch st {
	case statusOK:
	case statusPermissionDenied:
		return failure(codeForbidden, "kubernetes API call denied: %s (GET %s needs the permission %s)", st, managedClustersPath, permissionToReadThem)
	default:
		return failure(codeBadGateway, "kubernetes API call failed: %s (GET %s)", st, managedClustersPath)
	}
	fromAPI, err := parseManagedClusters(body)
	if err != nil {
		return failure(codeBadGateway, "kubernetes API call returned an unreadable answer: %v", err)
	}
	_, stored, r, ok := loadRecords(h)
	if !ok {
		return r
	}
	data := summarize(mergeClusters(fromAPI, stored))
	return success(codeOK, "Cluster data retrieved successfully", data, fmt.Sprintf("%d clusters", data.TotalClusters))
}

// maxStoreAttempts bounds the read-modify-swap loop of postCluster: each
// attempt fails only because another request stored a record in between.
const maxStoreAttempts = 32

// postCluster validates a cluster record and stores it, replacing the stored
// record with the same id. Requests run concurrently on separate instances,
// so the list is updated with a compare-and-swap: read it, change it, and
// store it only if nobody stored another version in between; else retry.
func postCluster(h host, body []byte) reply {
	rec, err := parseClusterRecord(body)
	if err != nil {
		return failure(codeBadRequest, "invalid cluster record: %v", err)
	}
	for range maxStoreAttempts {
		raw, stored, r, ok := loadRecords(h)
		if !ok {
			return r
		}
		stored = upsertClusters(stored, rec)
		value, err := json.Marshal(stored)
		if err != nil {
			return failure(codeInternalServerError, "cannot encode the cluster records: %v", err)
		}
		switch st := h.StorageCAS(clustersStorageKey, raw, value); st {
		case statusOK:
			return success(codeCreated, "Cluster recorded", rec, fmt.Sprintf("cluster %s recorded, %d stored", rec.ID, len(stored)))
		case statusConflict:
			continue // another request stored the list first: read it again
		default:
			return failure(storageCode(st), "cannot store the cluster record: host_storage_cas returned %s", st)
		}
	}
	return failure(codeServiceUnavailable, "cannot store the cluster record: the list changed under %d attempts in a row; try again", maxStoreAttempts)
}

// loadRecords reads the records stored by POST, with the stored bytes for a
// later compare-and-swap; an absent key is an empty list (raw nil). When they
// cannot be read, ok is false and r is the error reply.
func loadRecords(h host) (raw []byte, records []cluster, r reply, ok bool) {
	data, st := h.StorageGet(clustersStorageKey)
	switch st {
	case statusOK:
	case statusNotFound:
		return nil, nil, reply{}, true
	default:
		return nil, nil, failure(storageCode(st), "cannot read the stored cluster records: host_storage_get returned %s", st), false
	}
	if len(data) == 0 {
		return nil, nil, reply{}, true
	}
	if err := json.Unmarshal(data, &records); err != nil {
		return nil, nil, failure(codeInternalServerError, "the stored cluster records are not a JSON array of records: %v", err), false
	}
	return data, records, reply{}, true
}

// storageCode is the HTTP status for a storage failure: 503 when the store
// cannot be reached, 500 otherwise.
func storageCode(st status) int {
	if st == statusUnavailable {
		return codeServiceUnavailable
	}
	return codeInternalServerError
}
