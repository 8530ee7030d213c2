package main

import (
	"bytes"
	"testing"
)

// TestRunSightglassFlag checks --sightglass: a folder is taken as given, and
// a missing folder or a file is refused before anything starts.
func TestRunSightglassFlag(t *testing.T) {
	dir := t.TempDir()
	o, err := parseRunFlags([]string{"--sightglass", dir, "--bench", "Sightglass"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Sightglass != dir {
		t.Errorf("--sightglass %s gives Options.Sightglass %q", dir, o.Sightglass)
	}
	for _, bad := range []string{"/no/such/folder", "sightglass_test.go"} {
		if _, err := parseRunFlags([]string{"--sightglass", bad}, &bytes.Buffer{}); err == nil {
			t.Errorf("--sightglass %s: no error", bad)
		}
	}
}
