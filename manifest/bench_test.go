package manifest

import (
	"fmt"
	"strings"
	"testing"
)

// realisticManifest returns a valid manifest of about size bytes (at least
// a header's worth), grown as real ones would be: more backend routes and
// more configuration items with defaults of every kind.
func realisticManifest(tb testing.TB, size int) []byte {
	tb.Helper()
	var routes, config strings.Builder
	header := `apiVersion: kubestellar.io/v1
kind: Plugin
metadata:
  name: cluster-monitor
  version: 1.4.2
  author: developer@company.com
  description: Cluster monitoring dashboard with many routes and settings
spec:
  wasm:
    file: cluster-monitor.wasm
    memory_limit: 64MiB
  permissions:
    - kubestellar:read:clusters
    - kubestellar:read:workloads
`
	for i := 0; len(header)+routes.Len()+config.Len() < size; i++ {
		fmt.Fprintf(&routes, "      - path: /clusters/%d/status\n        methods: [GET, POST]\n        handler: handle_cluster_%d\n", i, i%50)
		switch i % 4 {
		case 0:
			fmt.Fprintf(&config, "    - name: refresh_interval_%d\n      type: integer\n      default: %d\n"+
				"      description: seconds between two refreshes of cluster %d\n", i, 30+i%90, i)
		case 1:
			fmt.Fprintf(&config, "    - name: namespaces_%d\n      type: array\n      default: [default, kube-system, team-%d]\n", i, i)
		case 2:
			fmt.Fprintf(&config, "    - name: thresholds_%d\n      type: object\n      default:\n        cpu: {warn: 70, crit: %d}\n"+
				"        memory: {warn: 75.5, crit: 90}\n        labels: [env, tier]\n", i, 80+i%20)
		case 3:
			fmt.Fprintf(&config, "    - name: cluster.label_%d\n      type: string\n      default: \"production-%d\"\n", i, i)
		}
	}
	data := []byte(header + "  backend:\n    enabled: true\n    routes:\n" + routes.String() +
		"  configuration:\n" + config.String())
	if len(data) > MaxFileSize {
		tb.Fatalf("realisticManifest(%d) is %d bytes, over MaxFileSize", size, len(data))
	}
	return data
}

// deepManifest returns the manifest of the security finding: a
// configuration default made of depth mappings nested in flow style, each
// with one key of keyLen bytes. With depth 9,500 and keyLen 100 it is
// 988 KB, under MaxFileSize, and yaml.v3 (which stops at 10,000 levels)
// reads it. Building every node's path as a string took 4.46 GiB.
func deepManifest(depth, keyLen int) []byte {
	var b strings.Builder
	b.WriteString(head + "  configuration:\n    - name: a\n      default: ")
	k := strings.Repeat("k", keyLen)
	for range depth {
		b.WriteString("{" + k + ": ")
	}
	b.WriteString("1" + strings.Repeat("}", depth) + "\n")
	return []byte(b.String())
}

// BenchmarkParse measures Parse over manifests of growing size, over the
// deep-nesting attack and over a manifest with a syntax error on its last
// line (the costliest kind to report). The ns/byte metric stays about the
// same from one size to the next: the cost is linear in the input.
func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name  string
		data  []byte
		valid bool
	}{
		{"size=1KB", realisticManifest(b, 1_000), true},
		{"size=10KB", realisticManifest(b, 10_000), true},
		{"size=100KB", realisticManifest(b, 100_000), true},
		{"size=1MB", realisticManifest(b, 1_000_000), true},
		{"attack=deep9500", deepManifest(9500, 100), false},
		{"syntax-error=100KB", syntaxError(b, 100_000), false},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			b.ReportAllocs()
			for b.Loop() {
				m, err := Parse(tc.data, "plugin.yml")
				if tc.valid && (err != nil || len(m.Routes()) == 0) {
					b.Fatalf("Parse: %v", err)
				}
				if !tc.valid && err == nil {
					b.Fatal("Parse accepted the attack")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(tc.data)), "ns/byte")
		})
	}
}
