package main

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Cluster health values of a cluster record.
const (
	healthHealthy   = "healthy"
	healthWarning   = "warning"
	healthUnhealthy = "unhealthy"
)

// Names the plugin reads from ManagedCluster objects.
const (
	managedClustersPath  = "/apis/cluster.open-cluster-management.io/v1/managedclusters"
	annotationName       = "kubestellar.io/display-name"
	annotationNodeCount  = "kubestellar.io/node-count"
	annotationPodCount   = "kubestellar.io/pod-count"
	conditionAvailable   = "ManagedClusterConditionAvailable"
	clustersStorageKey   = "clusters"
	permissionToReadThem = "kubestellar:read:clusters"
)

// cluster is one entry of GET /data, and the body of POST /data. The field
// order is the order of the JSON the seed plugin returns.
type cluster struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Nodes  int64  `json:"nodes"`
	Pods   int64  `json:"pods"`
}

// managedClusterList is the part of a cluster.open-cluster-management.io/v1
// ManagedClusterList the plugin reads.
type managedClusterList struct {
	Kind  string           `json:"kind"`
	Items []managedCluster `json:"items"`
}

type managedCluster struct {
	Metadata struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Status struct {
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
	} `json:"status"`
}

// parseManagedClusters maps the body of a GET on managedclusters to cluster
// entries, in the order of the list. Items without a name are skipped.
func parseManagedClusters(body []byte) ([]cluster, error) {
	var list managedClusterList
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("the ManagedClusterList is not valid JSON: %w", err)
	}
	if list.Kind != "" && list.Kind != "ManagedClusterList" {
		return nil, fmt.Errorf("the Kubernetes API answered with a %s, not a ManagedClusterList", list.Kind)
	}
	clusters := make([]cluster, 0, len(list.Items))
	for _, mc := range list.Items {
		if mc.Metadata.Name == "" {
			continue
		}
		clusters = append(clusters, mc.toCluster())
	}
	return clusters, nil
}

// toCluster maps one ManagedCluster: the id is its name, the name its display
// name annotation (else its name), the status follows its Available
// condition, and nodes and pods come from the count annotations.
func (mc managedCluster) toCluster() cluster {
	c := cluster{
		ID:     mc.Metadata.Name,
		Name:   mc.Metadata.Name,
		Status: healthUnhealthy,
		Nodes:  count(mc.Metadata.Annotations[annotationNodeCount]),
		Pods:   count(mc.Metadata.Annotations[annotationPodCount]),
	}
	if n := mc.Metadata.Annotations[annotationName]; n != "" {
		c.Name = n
	}
	for _, cond := range mc.Status.Conditions {
		if cond.Type != conditionAvailable {
			continue
		}
		switch cond.Status {
		case "True":
			c.Status = healthHealthy
		case "Unknown":
			c.Status = healthWarning
		}
		break
	}
	return c
}

// count reads a count annotation: a decimal integer >= 0, else 0.
func count(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// mergeClusters returns the API clusters with the stored records applied: a
// record replaces the API cluster with the same id in place, the others are
// appended in their stored order.
func mergeClusters(fromAPI, stored []cluster) []cluster {
	merged := make([]cluster, 0, len(fromAPI)+len(stored))
	merged = append(merged, fromAPI...)
	return upsertClusters(merged, stored...)
}

// upsertClusters replaces each record's namesake in list, or appends the
// record when list has none, and returns the list.
func upsertClusters(list []cluster, records ...cluster) []cluster {
next:
	for _, r := range records {
		for i := range list {
			if list[i].ID == r.ID {
				list[i] = r
				continue next
			}
		}
		list = append(list, r)
	}
	return list
}

// clusterData is the data of GET /data.
type clusterData struct {
	Clusters        []cluster `json:"clusters"`
	TotalClusters   int       `json:"total_clusters"`
	HealthyClusters int       `json:"healthy_clusters"`
	WarningClusters int       `json:"warning_clusters"`
}

// summarize counts the clusters by health.
func summarize(clusters []cluster) clusterData {
	if clusters == nil {
		clusters = []cluster{}
	}
	d := clusterData{Clusters: clusters, TotalClusters: len(clusters)}
	for _, c := range clusters {
		switch c.Status {
		case healthHealthy:
			d.HealthyClusters++
		case healthWarning:
			d.WarningClusters++
		}
	}
	return d
}
