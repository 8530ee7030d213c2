package conformance

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// clusterMonitorC is testdata/cluster-monitor-c: a copy of
// plugins/cluster-monitor-c (plugin.yml, requests.yml and the wasm clang
// built from main.c), the cluster-monitor plugin written in C without libc.
// TestClusterMonitorCCopy checks the copy is current.
//
//go:embed testdata/cluster-monitor-c
var clusterMonitorC embed.FS

// ClusterMonitorCName is the C plugin's name, the folder WriteClusterMonitorC
// writes, and its guest name in benchmarks.
const ClusterMonitorCName = "cluster-monitor-c"

// WriteClusterMonitorC writes the C build of the cluster-monitor plugin
// (plugin.yml, requests.yml, cluster-monitor-c.wasm) to out/cluster-monitor-c
// and returns that folder, for package plugindir. It needs no compiler: the
// module is embedded.
func WriteClusterMonitorC(out string) (string, error) {
	dir := filepath.Join(out, ClusterMonitorCName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	files, err := fs.ReadDir(clusterMonitorC, "testdata/"+ClusterMonitorCName)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		b, err := clusterMonitorC.ReadFile("testdata/" + ClusterMonitorCName + "/" + f.Name())
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name()), b, 0o644); err != nil {
			return "", fmt.Errorf("conformance: %w", err)
		}
	}
	return dir, nil
}

// cPluginCases returns every plugin case again as plugin-c/<name>, run on the
// C build of the plugin: the same routes must give the same answers whatever
// language the guest is written in.
func cPluginCases() []Case {
	out := make([]Case, 0, len(pluginCases))
	for _, c := range pluginCases {
		run := c.Run
		out = append(out, Case{
			Name: "plugin-c/" + strings.TrimPrefix(c.Name, "plugin/"),
			Doc:  c.Doc + " (the plugin built from C)",
			Run: func(e *Env) error {
				e.cPlugin = true
				return run(e)
			},
		})
	}
	return out
}

// clusterMonitorDir is the plugin folder LoadClusterMonitor reads: the
// suite's Go build, or the embedded C build in the plugin-c cases (written
// into the case's folder).
func (e *Env) clusterMonitorDir() (string, error) {
	if e.cPlugin {
		return WriteClusterMonitorC(e.dir)
	}
	if e.cfg.ClusterMonitorDir == "" {
		return "", fmt.Errorf("Config.ClusterMonitorDir is empty: build the plugin with BuildClusterMonitor or pass it with WithPluginDir")
	}
	return e.cfg.ClusterMonitorDir, nil
}
