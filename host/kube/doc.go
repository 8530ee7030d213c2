// Package kube gives host_k8s_api_call its way to a Kubernetes API server: a
// Client that sends one request and returns the status and body unchanged.
//
// REST talks to a real server configured by a kubeconfig file or the in-cluster
// service account; Fixture is a test double that answers in process with the
// two clusters of the KubeStellar seed README, and says so in its Backend.
package kube
