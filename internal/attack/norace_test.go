//go:build !race

package attack_test

// raceDetector is true when the tests are built with -race.
const raceDetector = false
