// Package baselinetest checks an engine's engines.Baseliner, the reference
// guest driven through the engine's own API, in the manner of
// testing/fstest: an engine package calls Run on itself from its tests.
package baselinetest
