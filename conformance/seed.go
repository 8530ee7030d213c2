package conformance

// The answers of the seed README (shared/seed/cluster-monitor-README.md) that
// the cluster-monitor plugin must give, field for field, on every engine.
const (
	SeedStatusJSON = `{
  "status": "success",
  "message": "Cluster monitor plugin is running",
  "data": {"plugin": "cluster-monitor", "version": "1.0.0", "status": "active"}
}`
	SeedDataJSON = `{
  "status": "success",
  "message": "Cluster data retrieved successfully",
  "data": {
    "clusters": [
      {"id": "cluster-1", "name": "Production Cluster", "status": "healthy", "nodes": 5, "pods": 150},
      {"id": "cluster-2", "name": "Staging Cluster", "status": "warning", "nodes": 3, "pods": 75}
    ],
    "total_clusters": 2,
    "healthy_clusters": 1,
    "warning_clusters": 1
  }
}`
)
