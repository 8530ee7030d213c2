//go:build !race

package wazero_test

// raceDetector is true when the tests are built with -race.
const raceDetector = false
