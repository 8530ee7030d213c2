package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/internal/inspect"
)

// abiFlagUsage is the help of the --abi flag of inspect, run and serve.
var abiFlagUsage = "ABI profile of the plugins: auto (read from each module and manifest), " + strings.Join(abi.ProfileNames(), ", ") +
	" (kubestellar-ui: plugins built for the KubeStellar UI's reference host)"

// parseABI reads an --abi value: nil for auto.
func parseABI(s string) (*abi.Profile, error) {
	if s == "" || s == "auto" {
		return nil, nil
	}
	p, err := abi.ProfileByName(s)
	if err != nil {
		return nil, fmt.Errorf("--abi: %w (or auto)", err)
	}
	return p, nil
}

// runInspect is kspbench inspect: package inspect does the work.
func runInspect(fs *flag.FlagSet) action {
	engine := fs.String("engine", "wazero", "engine used to decode the module")
	abiName := fs.String("abi", "auto", abiFlagUsage)
	return func(ctx context.Context, inv *invocation) error {
		if len(inv.args) != 1 {
			return errors.New("inspect: want one argument, a plugin folder or a .wasm file")
		}
		forced, err := parseABI(*abiName)
		if err != nil {
			return fmt.Errorf("inspect: %w", err)
		}
		return inspect.Inspect(ctx, inv.stdout, inv.args[0], *engine, forced)
	}
}

const inspectLong = `Prints what a plugin folder (or a lone .wasm) holds: the manifest summary, the
module's size, the ABI profile it follows and why, its exports and imports
checked against that profile, and, for a plugin of another profile, what to
change to reach ABI v1. Exits 1 when the exports or imports do not conform.`

const inspectExample = `  kspbench inspect plugins/cluster-monitor
  kspbench inspect --abi kubestellar-ui ./my-plugin
  kspbench inspect --engine wasmtime build/plugins/cluster-monitor/plugin.wasm`
