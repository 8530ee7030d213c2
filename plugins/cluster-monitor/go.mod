module github.com/kspbench/kspbench/plugins/cluster-monitor

go 1.25
