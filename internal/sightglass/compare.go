package sightglass

import (
	"fmt"
	"strings"
)

// lines splits s as Rust's str::lines does, which Sightglass uses to compare
// output: at "\n", with a "\r" before it dropped, and no empty last line for
// a final newline.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	ls := strings.Split(s, "\n")
	if ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	for i, l := range ls {
		ls[i] = strings.TrimSuffix(l, "\r")
	}
	return ls
}

// Diff compares a stream's output with what was expected, line by line as
// Sightglass does (ignoring "\r\n" against "\n" and a missing final newline),
// and returns "" when they match, else a short report of the first
// difference.
func Diff(stream, got, want string) string {
	g, w := lines(got), lines(want)
	n := min(len(g), len(w))
	i := 0
	for i < n && g[i] == w[i] {
		i++
	}
	if i == n && len(g) == len(w) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s differs from the expected output at line %d (got %d lines, %d bytes; want %d lines, %d bytes)\n",
		stream, i+1, len(g), len(got), len(w), len(want))
	for j := max(0, i-2); j < min(max(len(g), len(w)), i+3); j++ {
		switch {
		case j < i:
			fmt.Fprintf(&b, "  %s\n", clip(g[j]))
		default:
			if j < len(w) {
				fmt.Fprintf(&b, "- %s\n", clip(w[j]))
			}
			if j < len(g) {
				fmt.Fprintf(&b, "+ %s\n", clip(g[j]))
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// clip shortens a line for a report.
func clip(s string) string {
	const n = 120
	if len(s) > n {
		return fmt.Sprintf("%q…", s[:n])
	}
	return fmt.Sprintf("%q", s)
}
