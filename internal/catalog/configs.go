package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kspbench/kspbench/engines"
)

// DefaultConfig is the name of every engine's safe default configuration,
// as result files record it in their engine-config key.
const DefaultConfig = "default"

// Configuration is one way of running an engine: its safe default, or a
// variation that trades something (a deadline, the compiler) for speed or
// for another point of comparison. `--engines` names one as engine:config;
// each runs in a worker process of its own.
type Configuration struct {
	// Engine is the catalog name of the engine.
	Engine string
	// Name is the configuration's name: DefaultConfig, "no-deadline", ...
	Name string
	// Doc says in one line what the configuration changes.
	Doc string
	// Safety says what the configuration costs in safety; empty when it
	// costs nothing.
	Safety string
	// Config is the engines.Config the configuration sets; Apply lays it
	// over what a workload asks for.
	Config engines.Config
	// Same, when set, says why the configuration runs exactly as the
	// engine's default does (an engine that cannot do what it turns off).
	Same string
	// Platforms, when set, are the goos/goarch pairs the configuration runs
	// on; elsewhere the engine's binding lacks what it needs.
	Platforms []string
}

// NoDeadline is the name of the configurations without call interruption.
const NoDeadline = "no-deadline"

// Direct is the name of the configurations that call the engine through its
// C API instead of through its Go binding: the engine's floor.
const Direct = "direct"

// HangWarning is what a configuration without a deadline costs: the
// conformance matrix and the report say it in these words.
const HangWarning = engines.NoDeadlineReason

// Configurations lists every configuration of every engine, each engine's
// default first, in report order.
var Configurations = []Configuration{
	{Engine: "wazero", Name: DefaultConfig,
		Doc: "compiler; calls end when their context is done (WithCloseOnContextDone); compiles on GOMAXPROCS workers"},
	{Engine: "wazero", Name: NoDeadline, Config: engines.Config{NoDeadline: true},
		Doc: "no WithCloseOnContextDone: no watcher goroutine per call and no exit check at loop headers",
		Safety: HangWarning + "; only ending the process stops it, and as the Go runtime cannot preempt the loop, " +
			"the next garbage collection stalls the whole process"},
	{Engine: "wazero", Name: "interpreter", Config: engines.Config{Interpreter: true},
		Doc: "wazero's interpreter instead of its compiler (what the KubeStellar UI host runs); calls still end with their context"},
	{Engine: "wasmtime", Name: DefaultConfig,
		Doc: "Cranelift with epoch interruption: calls end when their context is done; compiles in parallel"},
	{Engine: "wasmtime", Name: NoDeadline, Config: engines.Config{NoDeadline: true},
		Doc:    "no epoch interruption: no epoch checks in compiled code, no deadline callback per store",
		Safety: HangWarning + "; only ending the process stops it"},
	{Engine: "wasmtime", Name: Direct, Config: engines.Config{Variant: "direct"},
		Doc: "the same libwasmtime called through its C API by kspbench itself (one C trampoline for host calls, " +
			"raw-value calls, no per-call Go allocation) instead of through wasmtime-go's binding: the engine's floor; " +
			"calls still end with their context"},
	{Engine: "wasmtime", Name: "pulley", Config: engines.Config{Interpreter: true},
		Doc: "Pulley, wasmtime's portable interpreter, instead of Cranelift's native code; calls still end with their context"},
	{Engine: "wasmer", Name: DefaultConfig,
		Doc:    "Cranelift through wasmer-go 1.0.4 (Wasmer 2.0); cannot interrupt a running call",
		Safety: "Wasmer 2.0's C API cannot interrupt a call: a looping guest hangs the call in every configuration"},
	{Engine: "wasmer", Name: NoDeadline, Config: engines.Config{NoDeadline: true},
		Doc:    "identical to wasmer's default, which has no deadline to leave out",
		Same:   "wasmer-go cannot interrupt a running call, so its default already runs without a deadline",
		Safety: "as the default: a looping guest hangs the call"},
	{Engine: "wasmer", Name: "singlepass", Config: engines.Config{Variant: "singlepass"},
		Doc:       "Wasmer's Singlepass compiler instead of Cranelift: faster compiles, slower code",
		Safety:    "as the default: a looping guest hangs the call",
		Platforms: []string{"linux/amd64", "darwin/amd64", "windows/amd64"},
	},
}

// ID is how --engines names the configuration: the engine's name for its
// default, engine:config otherwise.
func (c Configuration) ID() string {
	if c.Name == DefaultConfig {
		return c.Engine
	}
	return c.Engine + ":" + c.Name
}

// FileStem is the stem of the configuration's result file: <engine> for the
// default, <engine>-<config> otherwise.
func (c Configuration) FileStem() string {
	if c.Name == DefaultConfig {
		return c.Engine
	}
	return c.Engine + "-" + c.Name
}

// IsDefault reports whether c is its engine's safe default.
func (c Configuration) IsDefault() bool { return c.Name == DefaultConfig }

// Apply lays the configuration over cfg, the configuration a workload or a
// conformance case asks for: the fields the configuration sets win, the
// others (cache folder, memory limit, ...) stay.
func (c Configuration) Apply(cfg engines.Config) engines.Config {
	if c.Config.NoDeadline {
		cfg.NoDeadline = true
	}
	if c.Config.Interpreter {
		cfg.Interpreter = true
	}
	if c.Config.CompileWorkers != 0 {
		cfg.CompileWorkers = c.Config.CompileWorkers
	}
	if c.Config.Variant != "" {
		cfg.Variant = c.Config.Variant
	}
	return cfg
}

// RunsOn reports whether the configuration runs on goos/goarch, and why not.
func (c Configuration) RunsOn(goos, goarch string) (bool, string) {
	if e, ok := Lookup(c.Engine); ok {
		if ok, why := e.Supported(goos, goarch); !ok {
			return false, why
		}
	}
	if len(c.Platforms) > 0 && !slices.Contains(c.Platforms, goos+"/"+goarch) {
		return false, fmt.Sprintf("%s runs only on %s", c.ID(), strings.Join(c.Platforms, ", "))
	}
	return true, ""
}

// ConfigurationsOf returns the configurations of engine, its default first.
func ConfigurationsOf(engine string) []Configuration {
	var out []Configuration
	for _, c := range Configurations {
		if c.Engine == engine {
			out = append(out, c)
		}
	}
	return out
}

// ParseConfiguration parses one entry of --engines: "engine" (its default)
// or "engine:config". "engine:default" is the default too.
func ParseConfiguration(s string) (Configuration, error) {
	engine, name, _ := strings.Cut(strings.TrimSpace(s), ":")
	if _, err := Get(engine); err != nil {
		return Configuration{}, err
	}
	if name == "" {
		name = DefaultConfig
	}
	var known []string
	for _, c := range ConfigurationsOf(engine) {
		if c.Name == name {
			return c, nil
		}
		known = append(known, c.ID())
	}
	return Configuration{}, fmt.Errorf("engine %s has no configuration %q (known: %s)", engine, name, strings.Join(known, ", "))
}

// SafetyPairs returns, for the engines given, the no-deadline configuration
// of each engine whose no-deadline configuration changes anything: the
// configurations the price-of-safety section sets beside the defaults.
func SafetyPairs(engineNames []string) []Configuration {
	var out []Configuration
	for _, name := range engineNames {
		for _, c := range ConfigurationsOf(name) {
			if c.Name == NoDeadline && c.Same == "" {
				out = append(out, c)
			}
		}
	}
	return out
}

// BindingPairs returns, for the engines given, the direct configuration of
// each engine that has one: the configurations the binding-cost section
// ("What the binding costs") sets beside the defaults, measured only on the
// Call figures results.BindingCost names.
func BindingPairs(engineNames []string) []Configuration {
	var out []Configuration
	for _, name := range engineNames {
		for _, c := range ConfigurationsOf(name) {
			if c.Name == Direct {
				out = append(out, c)
			}
		}
	}
	return out
}

// RankConfig orders configuration names within an engine: the catalog's
// order, unknown names after.
func RankConfig(engine, name string) int {
	if name == "" {
		name = DefaultConfig
	}
	cs := ConfigurationsOf(engine)
	if i := slices.IndexFunc(cs, func(c Configuration) bool { return c.Name == name }); i >= 0 {
		return i
	}
	return len(cs)
}
