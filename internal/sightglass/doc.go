// Package sightglass runs benchmarks in the layout of Sightglass, the
// Bytecode Alliance's compute suite, on any engine that implements
// engines.CommandRunner: it finds the programs of a folder, runs one from
// scratch (compile, instantiate, execute between bench.start and bench.end,
// each timed apart) and checks its output against the expected files as
// Sightglass does. The runner drives it inside each engine's worker.
package sightglass
