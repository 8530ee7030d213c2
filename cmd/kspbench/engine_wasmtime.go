//go:build wasmtime

package main

import _ "github.com/kspbench/kspbench/engines/wasmtime"
