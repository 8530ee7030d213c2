package main

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestPluginsArg checks that --hostile finds serve's --plugins in either
// form, falls back to serve's default, and removes it from the arguments.
func TestPluginsArg(t *testing.T) {
	for _, c := range []struct {
		args    []string
		plugins string
		rest    []string
	}{
		{[]string{"--engine", "wasmer", "--plugins", "/p", "--data", "d"}, "/p", []string{"--engine", "wasmer", "--data", "d"}},
		{[]string{"--plugins=/q", "--engine", "wazero"}, "/q", []string{"--engine", "wazero"}},
		{[]string{"--data", "d", "--plugins", "r"}, "r", []string{"--data", "d"}},
		{[]string{"--engine", "wazero"}, filepath.Join("build", "plugins"), []string{"--engine", "wazero"}},
	} {
		plugins, rest := pluginsArg(c.args)
		if plugins != c.plugins || !slices.Equal(rest, c.rest) {
			t.Errorf("pluginsArg(%q) = %q, %q; want %q, %q", c.args, plugins, rest, c.plugins, c.rest)
		}
	}
}
