//go:build wasmer

package main

import _ "github.com/kspbench/kspbench/engines/wasmer"
