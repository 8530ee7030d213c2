package catalog

import (
	"strings"
	"testing"

	"github.com/kspbench/kspbench/engines"
)

func TestParseConfiguration(t *testing.T) {
	for _, tc := range []struct {
		in, id, stem string
		want         engines.Config
	}{
		{"wazero", "wazero", "wazero", engines.Config{}},
		{"wazero:default", "wazero", "wazero", engines.Config{}},
		{"wazero:no-deadline", "wazero:no-deadline", "wazero-no-deadline", engines.Config{NoDeadline: true}},
		{"wazero:interpreter", "wazero:interpreter", "wazero-interpreter", engines.Config{Interpreter: true}},
		{"wasmtime:no-deadline", "wasmtime:no-deadline", "wasmtime-no-deadline", engines.Config{NoDeadline: true}},
		{"wasmtime:pulley", "wasmtime:pulley", "wasmtime-pulley", engines.Config{Interpreter: true}},
		{"wasmer", "wasmer", "wasmer", engines.Config{}},
		{"wasmer:no-deadline", "wasmer:no-deadline", "wasmer-no-deadline", engines.Config{NoDeadline: true}},
		{"wasmer:singlepass", "wasmer:singlepass", "wasmer-singlepass", engines.Config{Variant: "singlepass"}},
	} {
		c, err := ParseConfiguration(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if c.ID() != tc.id || c.FileStem() != tc.stem {
			t.Errorf("%s: ID %q, file %q; want %q, %q", tc.in, c.ID(), c.FileStem(), tc.id, tc.stem)
		}
		// Apply keeps what a workload asks for and adds the configuration.
		asked := engines.Config{CacheDir: "/cache", MemoryLimitPages: 7}
		want := tc.want
		want.CacheDir, want.MemoryLimitPages = "/cache", 7
		if got := c.Apply(asked); got != want {
			t.Errorf("%s: Apply gives %+v, want %+v", tc.in, got, want)
		}
	}
	for _, bad := range []string{"v8", "wazero:turbo", "wasmtime:singlepass", ":no-deadline"} {
		if _, err := ParseConfiguration(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestConfigurationsWellFormed checks the catalog's own list: a default
// first for every engine, documented, no duplicates, and a no-deadline
// configuration for every engine that either leaves out a deadline or says
// why it is the default.
func TestConfigurationsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Configurations {
		if _, ok := Lookup(c.Engine); !ok {
			t.Errorf("%s: unknown engine", c.ID())
		}
		if seen[c.ID()] {
			t.Errorf("%s: listed twice", c.ID())
		}
		seen[c.ID()] = true
		if c.Doc == "" {
			t.Errorf("%s: no Doc", c.ID())
		}
		if c.Config.NoDeadline && c.Safety == "" {
			t.Errorf("%s: leaves out the deadline and does not say what that costs", c.ID())
		}
		if c.Config.NoDeadline && c.Same == "" && !strings.Contains(c.Safety, HangWarning) {
			t.Errorf("%s: Safety %q does not warn in the report's words", c.ID(), c.Safety)
		}
	}
	for _, e := range Engines {
		cs := ConfigurationsOf(e.Name)
		if len(cs) == 0 || !cs[0].IsDefault() || cs[0].Config != (engines.Config{}) {
			t.Errorf("%s: the first configuration must be the default, with the zero engines.Config", e.Name)
		}
		if !seen[e.Name+":"+NoDeadline] {
			t.Errorf("%s: no %s configuration", e.Name, NoDeadline)
		}
	}
	if HangWarning != engines.NoDeadlineReason {
		t.Errorf("HangWarning %q differs from engines.NoDeadlineReason %q", HangWarning, engines.NoDeadlineReason)
	}
	var pairs []string
	for _, c := range SafetyPairs(Names()) {
		pairs = append(pairs, c.ID())
	}
	if got := strings.Join(pairs, ","); got != "wazero:no-deadline,wasmtime:no-deadline" {
		t.Errorf("SafetyPairs: %s (wasmer's no-deadline is its default and is no pair)", got)
	}
}

func TestBindingPairs(t *testing.T) {
	var pairs []string
	for _, c := range BindingPairs(Names()) {
		pairs = append(pairs, c.ID())
	}
	if got := strings.Join(pairs, ","); got != "wasmtime:direct" {
		t.Errorf("BindingPairs(all): %s, want wasmtime:direct alone (wasmer has no direct variant)", got)
	}
	if got := BindingPairs([]string{"wazero", "wasmer"}); len(got) != 0 {
		t.Errorf("BindingPairs without wasmtime: %v", got)
	}
}

func TestRunsOn(t *testing.T) {
	c, _ := ParseConfiguration("wasmer:singlepass")
	if ok, _ := c.RunsOn("linux", "amd64"); !ok {
		t.Error("wasmer:singlepass refused on linux/amd64")
	}
	if ok, why := c.RunsOn("linux", "arm64"); ok || why == "" {
		t.Error("wasmer:singlepass accepted on linux/arm64")
	}
}
