package report

// The two builds of the same plugin whose figures the "Guest language"
// section sets side by side (bench.GuestLanguages measures the C build
// beside the Go one).
const (
	guestGo = "cluster-monitor"
	guestC  = "cluster-monitor-c"
)

// guestLanguage writes the "Guest language" section: the same plugin in Go
// and in C, figure by figure and engine by engine, with the ratio Go ÷ C.
// It is written only when the run measured both builds.
func (s *summary) guestLanguage() {
	r := s.r
	type figure struct {
		label, unit, family string
		kv                  func(guest string) []string
	}
	fixed := func(kv ...string) func(string) []string {
		return func(g string) []string { return append([]string{"guest", g}, kv...) }
	}
	perInstance := func(g string) []string {
		if ns := r.values(familyFootprint, "instances", "guest", g); len(ns) > 0 {
			return []string{"guest", g, "instances", ns[0]}
		}
		return []string{"guest", g, "instances", "?"}
	}
	figures := []figure{
		{"module size", "B", familyFootprint, fixed("what", "module")},
		{"compiled module", "B", familyFootprint, fixed("what", "compiled")},
		{"compile (no cache)", "sec/op", familyColdStart, fixed("phase", "compile")},
		{"instantiate", "sec/op", familyColdStart, fixed("phase", "instantiate")},
		{"_initialize", "sec/op", familyColdStart, fixed("phase", "initialize")},
		{"first call (GET /status)", "sec/op", familyColdStart, fixed("phase", "first-call")},
		{"time to first response (no cache)", "sec/op", familyColdStart, fixed("phase", "ttfr-uncached")},
		{"resident memory per instance", "rss-B/instance", familyFootprint, perInstance},
		{"linear memory per instance", "linear-B/instance", familyFootprint, perInstance},
		{"GET /status, all cores", "calls/s", familyThroughput, fixed("op", "get-status")},
	}
	both := false // some figure of both builds
	t := table{head: []string{"figure", "engine", "Go (" + guestGo + ")", "C (" + guestC + ")", "Go ÷ C"}}
	for _, f := range figures {
		goMs, cMs := r.metrics(f.unit, f.family, f.kv(guestGo)...), r.metrics(f.unit, f.family, f.kv(guestC)...)
		for i, e := range r.Engines {
			g, c := goMs[i], cMs[i]
			if g == nil && c == nil {
				continue
			}
			cell := func(m *Metric) string {
				if m == nil {
					return missing
				}
				if f.unit == "B" {
					return formatBytes(m.Median())
				}
				return formatValue(m.Median(), m.Unit)
			}
			ratio := missing
			if g != nil && c != nil && c.Median() != 0 {
				ratio = sig3(g.Median()/c.Median()) + "×"
				both = true
			}
			t.add(f.label, e.Name, cell(g), cell(c), ratio)
		}
	}
	if !both {
		return
	}
	s.section("Guest language", "", "")
	s.b.WriteString("The cluster-monitor plugin built from Go (`GOOS=wasip1`, c-shared) and from C (`plugins/" + guestC +
		"`, clang without libc), measured in the same run: medians; Go ÷ C is how many times the Go build's figure is the C build's " +
		"(above 1×, C is smaller or faster; for calls/s, below 1×). " +
		"A C module has no `_initialize`.\n\n")
	t.write(&s.b)
}
