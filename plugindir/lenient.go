package plugindir

import "github.com/kspbench/kspbench/manifest"

// loadLenient reads the manifest at path as the KubeStellar UI reference host
// reads it (manifest.Options.Lenient: any apiVersion, unknown keys ignored, an
// enabled backend without routes taken as a frontend-only plugin), and returns
// its warnings as "file:line:column: field: message".
func loadLenient(path string) (*manifest.Manifest, []string, error) {
	m, err := manifest.LoadWith(path, manifest.Options{Lenient: true})
	if err != nil {
		return nil, nil, err
	}
	var ws []string
	for _, w := range m.Warnings {
		ws = append(ws, w.String())
	}
	return m, ws, nil
}
