// Package commandtest checks an engine's engines.CommandRunner, the optional
// capability to run WASI commands, in the manner of testing/fstest: an engine
// package calls Run on itself from its tests. The command it runs is
// testdata/command.c, built by `make sightglass-kernels`.
package commandtest
