package manifest

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// configItem returns a configuration section of one item named a with the
// given default, on line 9 when appended to head.
func configItem(def string) string {
	return "  configuration:\n    - name: a\n      default: " + def + "\n"
}

// nested returns n lists nested in flow style: [[...]].
func nested(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

func TestLimits(t *testing.T) {
	k100 := strings.Repeat("k", 100)
	k64 := strings.Repeat("k", 64) + "…"
	long := strings.Repeat("x", MaxScalarLength+1)
	zeros := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("0,", n), ",") + "]" }
	aliases := func(name string, n int) string {
		return "[" + strings.TrimSuffix(strings.Repeat("*"+name+",", n), ",") + "]"
	}
	cases := []struct {
		name string
		src  string
		want wantErr // the zero wantErr: the manifest loads
	}{
		{"depth at the limit", head + configItem(nested(MaxValueDepth)), wantErr{}},
		{"depth past the limit", head + configItem(nested(MaxValueDepth+1)), wantErr{
			"spec.configuration[0].default" + strings.Repeat("[0]", 32), 9,
			"nests lists and mappings 33 deep; a value may nest them at most 32 deep (manifest.MaxValueDepth)"}},
		{"depth in block style", head + "  configuration:\n    - name: a\n      default:\n        " +
			strings.Repeat("- ", 33) + "x\n", wantErr{
			"spec.configuration[0].default" + strings.Repeat("[0]", 32), 10, "manifest.MaxValueDepth"}},
		{"depth of mappings", head + configItem(strings.Repeat("{a: ", 33)+"1"+strings.Repeat("}", 33)), wantErr{
			"spec.configuration[0].default" + strings.Repeat(".a", 32), 9, "manifest.MaxValueDepth"}},
		{"depth through aliases", head + "  configuration:\n    - name: a\n      default: &d " + nested(20) +
			"\n    - name: b\n      default: " + strings.Repeat("[", 13) + "*d" + strings.Repeat("]", 13) + "\n", wantErr{
			"spec.configuration[1].default" + strings.Repeat("[0]", 32), 11, "33 deep"}},
		{"long keys cut in paths", head + configItem(strings.Repeat("{"+k100+": ", 33)+"1"+strings.Repeat("}", 33)), wantErr{
			"spec.configuration[0].default" + strings.Repeat("."+k64, 32), 9, "manifest.MaxValueDepth"}},

		{"nodes at the limit", head + configItem(zeros(MaxValueNodes-1)), wantErr{}},
		{"nodes past the limit", head + configItem(zeros(MaxValueNodes)), wantErr{
			"spec.configuration[0].default", 9,
			"holds more than 10000 lists, mappings and scalars (an alias counted at each use); that is the most a " +
				"value may hold (manifest.MaxValueNodes)"}},
		// The padding lifts the budget of the whole manifest (4096 values plus
		// one per byte) above MaxValueNodes.
		{"nodes through aliases", head + "  configuration:\n    - name: a\n      default: &z " + zeros(99) +
			"\n    - name: b\n      default: " + aliases("z", 100) + "\n# " + strings.Repeat("-", 8000) + "\n", wantErr{
			"spec.configuration[1].default", 11, "manifest.MaxValueNodes"}},
		{"nodes through aliases, whole manifest", head + "  configuration:\n    - name: a\n      default: &z " + zeros(99) +
			"\n    - name: b\n      default: " + aliases("z", 100) + "\n", wantErr{
			"", 11, "the manifest expands to more than 4765 values through aliases (4096 plus one per byte of the file)"}},

		{"scalar at the limit", head + "  configuration:\n    - name: a\n      description: " +
			long[1:] + "\n", wantErr{}},
		{"scalar past the limit", head + "  configuration:\n    - name: a\n      description: " + long + "\n", wantErr{
			"spec.configuration[0].description", 9,
			"is 65537 bytes long; keys and scalars may be at most 65536 bytes long (manifest.MaxScalarLength)"}},
		{"metadata past the limit", strings.Replace(head, "version: 1.0.0", "version: 1.0.0\n  description: "+long, 1),
			wantErr{"metadata.description", 6, "manifest.MaxScalarLength"}},
		{"default past the limit", head + configItem("{a: ["+long+"]}"), wantErr{
			"spec.configuration[0].default.a[0]", 9, "is 65537 bytes long"}},
		{"key past the limit", head + "  configuration:\n    - name: a\n      default:\n        a:\n          ? " + long +
			"\n          : 1\n", wantErr{
			"spec.configuration[0].default.a." + strings.Repeat("x", 64) + "…", 11,
			"has a key of 65537 bytes; keys and scalars may be at most 65536 bytes long (manifest.MaxScalarLength)"}},

		{"config text through aliases", head + "  configuration:\n    - name: a\n      default: &s " +
			strings.Repeat("s", 60<<10) + "\n    - name: b\n      default: " + aliases("s", 17) +
			"\n    - name: c\n      default: " + aliases("s", 17) + "\n", wantErr{
			"spec.configuration[1].default", 11,
			"brings the text of the configuration defaults past 1048576 bytes (keys and scalars, an alias counted at " +
				"each use); that is the most they may hold together (manifest.MaxConfigBytes)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, opts := range []Options{{}, lenient} {
				m, err := ParseWith([]byte(tc.src), "plugin.yml", opts)
				if tc.want == (wantErr{}) {
					if err != nil {
						t.Fatalf("ParseWith(%+v): %v", opts, err)
					}
					if d := depthOf(m.Spec.Configuration[0].Default); d > MaxValueDepth {
						t.Errorf("default nests %d deep", d)
					}
					continue
				}
				var ve *ValidationError
				if !errors.As(err, &ve) || len(ve.Errors) != 1 || !hasError(ve, tc.want) {
					t.Fatalf("ParseWith(%+v) = %.2000v\nwant exactly one error %+v", opts, err, tc.want)
				}
				if fe := ve.Errors[0]; fe.Column == 0 || !strings.HasPrefix(fe.Error(),
					strings.TrimSuffix(fmt.Sprintf("plugin.yml:%d:%d: %s: ", fe.Line, fe.Column, tc.want.field), " : ")) {
					t.Errorf("error %q does not start with file:line:col: field", fe.Error())
				}
			}
		})
	}
}

// depthOf returns how deeply lists and mappings nest in a default.
func depthOf(v any) int {
	d := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			d = max(d, depthOf(e))
		}
		return d + 1
	case map[string]any:
		for _, e := range x {
			d = max(d, depthOf(e))
		}
		return d + 1
	}
	return 0
}

func TestMaxFileSize(t *testing.T) {
	data := []byte(head + "# " + strings.Repeat("x", MaxFileSize) + "\n")
	_, err := Parse(data, "plugin.yml")
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 1 || !strings.HasPrefix(err.Error(), "plugin.yml: the manifest is ") ||
		!strings.Contains(err.Error(), "it may be at most 1048576 (manifest.MaxFileSize)") {
		t.Errorf("Parse of %d bytes = %v", len(data), err)
	}
}

// TestMaxProblems checks that a manifest with more problems than
// MaxProblems lists the first ones and counts the others, for errors and,
// apart, for warnings.
func TestMaxProblems(t *testing.T) {
	var perms, keys strings.Builder
	for i := range 150 {
		fmt.Fprintf(&perms, "    - kubestellar:read:thing%d\n", i)
		fmt.Fprintf(&keys, "  extra%d: 1\n", i)
	}
	_, err := Parse([]byte(head+"  permissions:\n"+perms.String()), "plugin.yml")
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != MaxProblems+1 {
		t.Fatalf("Parse: %d problems, want %d", len(ve.Errors), MaxProblems+1)
	}
	if got, want := ve.Errors[MaxProblems].Error(),
		"plugin.yml: 50 more problems not listed (at most 100 are, those found first; manifest.MaxProblems)"; got != want {
		t.Errorf("last problem %q, want %q", got, want)
	}
	if fe := ve.Errors[MaxProblems-1]; fe.Field != "spec.permissions[99]" {
		t.Errorf("last listed problem %v, want spec.permissions[99]", fe)
	}

	src := strings.Replace(head, "metadata:\n", "metadata:\n"+strings.ReplaceAll(keys.String(), "  extra", "  _extra"), 1)
	m, err := ParseWith([]byte(src), "plugin.yml", lenient)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) != MaxProblems+1 || m.Warnings[MaxProblems].String() !=
		"plugin.yml: 50 more warnings not listed (at most 100 are, those found first; manifest.MaxProblems)" {
		t.Errorf("%d warnings, the last %v", len(m.Warnings), m.Warnings[len(m.Warnings)-1])
	}
}

// allocated returns the bytes and the number of allocations of one call of
// f, averaged over runs calls after a first one.
func allocated(runs int, f func()) (bytes, allocs float64) {
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(runs),
		float64(after.Mallocs-before.Mallocs) / float64(runs)
}

// TestDeepNestingAttack checks that the manifest of the security finding,
// a 988 KB default nesting 9,500 mappings with 100-byte keys, is refused at
// depth 33 with one error, and that refusing it costs little more than
// yaml.v3's own reading of the file (which it must do first); building the
// path of each node took 4.46 GiB.
func TestDeepNestingAttack(t *testing.T) {
	data := deepManifest(9500, 100)
	if len(data) < 980_000 || len(data) > MaxFileSize {
		t.Fatalf("attack is %d bytes, want about 988 KB", len(data))
	}
	_, err := Parse(data, "plugin.yml")
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 1 {
		t.Fatalf("Parse: %.500v; want one error", err)
	}
	fe := ve.Errors[0]
	wantField := "spec.configuration[0].default" + strings.Repeat("."+strings.Repeat("k", 64)+"…", 32)
	wantCol := len("      default: ") + 32*len("{"+strings.Repeat("k", 100)+": ") + 1
	if fe.Field != wantField || fe.Line != 9 || fe.Column != wantCol || !strings.Contains(fe.Message, "manifest.MaxValueDepth") {
		t.Errorf("error %q at %d:%d; want field %q at 9:%d", fe.Error(), fe.Line, fe.Column, wantField, wantCol)
	}

	yamlAllocs := testing.AllocsPerRun(1, func() { parseYAML(data, "plugin.yml") })
	parseAllocs := testing.AllocsPerRun(1, func() { Parse(data, "plugin.yml") })
	yamlBytes, _ := allocated(1, func() { parseYAML(data, "plugin.yml") })
	parseBytes, _ := allocated(1, func() { Parse(data, "plugin.yml") })
	t.Logf("%d bytes of input: yaml.v3 %.0f allocations, %.0f bytes; Parse %.0f allocations, %.0f bytes",
		len(data), yamlAllocs, yamlBytes, parseAllocs, parseBytes)
	if parseAllocs > yamlAllocs+1000 {
		t.Errorf("Parse makes %.0f allocations, yaml.v3 alone %.0f: the rest should be under 1000", parseAllocs, yamlAllocs)
	}
	if parseBytes > yamlBytes+1<<20 {
		t.Errorf("Parse allocates %.0f bytes, yaml.v3 alone %.0f: the rest should be under 1 MiB", parseBytes, yamlBytes)
	}
}

// TestParseCostLinear checks, by the bytes allocated rather than by time,
// that Parse costs the same per byte of input whatever the size: for the
// deep-nesting attack at growing depths, and for valid manifests of growing
// size. A quadratic cost (paths built for every node) shows here as bytes
// per input byte growing with the input.
func TestParseCostLinear(t *testing.T) {
	perByte := func(data []byte) float64 {
		b, _ := allocated(1, func() { Parse(data, "plugin.yml") })
		return b / float64(len(data))
	}
	for _, depth := range []int{1000, 3000, 9500} {
		data := deepManifest(depth, 100)
		if got := perByte(data); got > 16 {
			t.Errorf("attack of depth %d (%d bytes): %.1f bytes allocated per byte of input, want at most 16",
				depth, len(data), got)
		}
	}
	small := perByte(realisticManifest(t, 10_000))
	for _, size := range []int{100_000, 1_000_000} {
		if got := perByte(realisticManifest(t, size)); got > 2*small {
			t.Errorf("a %d-byte manifest allocates %.1f bytes per byte of input, a 10 KB one %.1f", size, got, small)
		}
	}
	// A syntax error costs a few more parses of prefixes, to find its line:
	// at most scanFactor times the file plus scanMinBytes. Trying each line
	// in turn cost 170 times a 10 KB file.
	for _, size := range []int{10_000, 100_000} {
		data := syntaxError(t, size)
		limit := small * (2 + scanFactor + float64(scanMinBytes)/float64(len(data)))
		if got := perByte(data); got > limit {
			t.Errorf("a %d-byte manifest with a syntax error allocates %.1f bytes per byte of input, want at most %.1f",
				len(data), got, limit)
		}
	}
}

// syntaxError returns a manifest of about size bytes whose last line holds
// a syntax error: an unclosed list.
func syntaxError(tb testing.TB, size int) []byte {
	return append(realisticManifest(tb, size), "    - name: unclosed\n      default: [1, 2\n"...)
}

// TestSyntaxErrorLine checks that the line of a syntax error at the end of
// a long manifest is found, not the line yaml.v3 gives (where the
// enclosing mapping starts).
func TestSyntaxErrorLine(t *testing.T) {
	data := syntaxError(t, 10_000)
	want := strings.Count(string(data), "\n")
	_, err := Parse(data, "plugin.yml")
	var fe FieldError
	if !errors.As(err, &fe) || fe.Line != want || !strings.Contains(fe.Message, "invalid YAML") {
		t.Errorf("Parse: %v; want a syntax error at line %d", err, want)
	}
}

// TestFieldPath checks the text of value paths.
func TestFieldPath(t *testing.T) {
	n := &yaml.Node{}
	cases := []struct {
		path fieldPath
		want string
	}{
		{schemaPath("spec.backend"), "spec.backend"},
		{schemaPath(""), ""},
		{schemaPath("").key(n, "kind"), "kind"},
		{schemaPath("spec").key(n, "wasm"), "spec.wasm"},
		{fieldPath{"d", []pathStep{{n, "", 2}, {n, "a.b", -1}, {n, "", 0}}}, "d[2].a.b[0]"},
		{fieldPath{"d", []pathStep{{n, strings.Repeat("é", 40), -1}}}, "d." + strings.Repeat("é", 32) + "…"},
	}
	for _, tc := range cases {
		if got := tc.path.String(); got != tc.want {
			t.Errorf("path %+v = %q, want %q", tc.path, got, tc.want)
		}
	}
}
