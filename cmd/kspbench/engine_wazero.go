package main

// wazero is pure Go and may share a binary with either cgo engine.
import _ "github.com/kspbench/kspbench/engines/wazero"
