package compare

import "strings"

// Direction says which way a unit improves.
type Direction int

// Directions.
const (
	// Unknown units are reported when they change but never fail the gate.
	Unknown Direction = iota
	LowerIsBetter
	HigherIsBetter
)

// knownUnits are the units kspbench writes (tidied, as benchunit.Tidy leaves
// them) and those of go test. benchmath and benchunit know a unit's class
// (decimal or binary) but not which way is better, so this table says it.
var knownUnits = map[string]Direction{
	"sec/op":            LowerIsBetter,
	"B/op":              LowerIsBetter,
	"allocs/op":         LowerIsBetter,
	"B":                 LowerIsBetter,
	"rss-B/instance":    LowerIsBetter,
	"linear-B/instance": LowerIsBetter,
	"p50-sec":           LowerIsBetter,
	"p99-sec":           LowerIsBetter,
	"B/s":               HigherIsBetter,
	"calls/s":           HigherIsBetter,
	"req/s":             HigherIsBetter,
}

// DirectionOf says which way unit improves: the table above first, then by
// shape: a rate ("…/s") is better higher; a time or a size per operation,
// per instance or per request ("sec/…", "…-sec", "B/…", "…-B/…") is better
// lower. Anything else is Unknown.
func DirectionOf(unit string) Direction {
	if d, ok := knownUnits[unit]; ok {
		return d
	}
	switch {
	case strings.HasSuffix(unit, "/s"):
		return HigherIsBetter
	case strings.HasPrefix(unit, "sec/"), strings.HasSuffix(unit, "-sec"), strings.HasSuffix(unit, "-ns"),
		strings.HasPrefix(unit, "B/"), strings.Contains(unit, "-B/"), strings.HasSuffix(unit, "-B"):
		return LowerIsBetter
	}
	return Unknown
}

func (d Direction) String() string {
	switch d {
	case LowerIsBetter:
		return "lower is better"
	case HigherIsBetter:
		return "higher is better"
	}
	return "direction unknown"
}
