//go:build wasip1

// Command ksp-go-sort is a kernel of the Sightglass workload written in Go:
// it builds N records (N from default.input), sorts them by two keys with
// slices.SortFunc, groups them in a map and prints a checksum. Build it with
// GOOS=wasip1 GOARCH=wasm (see build.sh).
package main

import (
	"cmp"
	"os"
	"slices"
	"strconv"
	"strings"
)

//go:wasmimport bench start
func benchStart()

//go:wasmimport bench end
func benchEnd()

type record struct {
	group int
	score uint32
	name  string
}

func main() {
	b, err := os.ReadFile("default.input")
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(2)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		os.Stderr.WriteString("default.input: want a positive number\n")
		os.Exit(2)
	}
	recs := make([]record, n)
	x := uint32(2463534242)
	for i := range recs {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		recs[i] = record{group: int(x % 97), score: x >> 8, name: "r" + strconv.Itoa(i)}
	}

	benchStart()
	slices.SortFunc(recs, func(a, b record) int {
		return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(b.score, a.score), strings.Compare(a.name, b.name))
	})
	best := map[int]string{}
	counts := map[int]int{}
	for _, r := range recs {
		if _, ok := best[r.group]; !ok {
			best[r.group] = r.name
		}
		counts[r.group]++
	}
	benchEnd()

	sum := uint64(0)
	for _, r := range recs {
		sum = sum*31 + uint64(r.score)
	}
	os.Stdout.WriteString("sorted " + strconv.Itoa(n) + " records into " + strconv.Itoa(len(counts)) + " groups; group 0 best " +
		best[0] + " of " + strconv.Itoa(counts[0]) + "; checksum " + strconv.FormatUint(sum, 16) + "\n")
}
