package manifest

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/kspbench/kspbench/abi"
)

// maxPages is the most pages a 32-bit WebAssembly memory can have (4 GiB).
const maxPages = 65536

// memoryUnits maps a unit, in lower case, to its number of bytes. Decimal
// units are powers of 1000 and binary units powers of 1024, as in
// Kubernetes quantities and IEC 80000-13.
var memoryUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
}

var memoryNumberRE = regexp.MustCompile(`^[0-9]{1,20}(\.[0-9]{1,20})?$`)

// ParseMemoryLimit converts a memory size to whole 64 KiB WebAssembly
// pages, rounded down.
//
// A size is a number, optionally with a decimal fraction, then an optional
// unit, with optional space between. Units are case-insensitive:
//   - none or B: bytes;
//   - decimal: k/kB (10^3), M/MB (10^6), G/GB (10^9);
//   - binary: Ki/KiB (2^10), Mi/MiB (2^20), Gi/GiB (2^30).
//
// So "64MiB", "64Mi" and "65536KiB" are 1024 pages, while "64MB" and "64M"
// are 64,000,000 bytes: 976 pages.
//
// # Errors
//
// A size that does not parse, or that is less than one page or more than
// 65536 pages (4 GiB, the most a 32-bit memory holds), is an error.
func ParseMemoryLimit(s string) (uint32, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	if num == "" {
		return 0, fmt.Errorf("memory limit %q does not start with a number; want a size such as 64MiB", s)
	}
	if !memoryNumberRE.MatchString(num) {
		return 0, fmt.Errorf("memory limit %q: %q is not a number", s, num)
	}
	mult, ok := memoryUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("memory limit %q: unknown unit %q; use B, kB, MB, GB (powers of 1000) "+
			"or KiB, MiB, GiB (powers of 1024)", s, unit)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("memory limit %q: %q is not a number", s, num)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	pages := new(big.Int).Quo(r.Num(), new(big.Int).Mul(r.Denom(), big.NewInt(abi.PageSize)))
	switch {
	case pages.Sign() == 0:
		return 0, fmt.Errorf("memory limit %q is less than one 64 KiB page", s)
	case pages.Cmp(big.NewInt(maxPages)) > 0:
		return 0, fmt.Errorf("memory limit %q is more than %d pages (4 GiB), the most a 32-bit memory holds", s, maxPages)
	}
	return uint32(pages.Int64()), nil
}
