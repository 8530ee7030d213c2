package compare

import (
	"strconv"
	"strings"
)

// BenchstatArgs are the arguments for benchstat that print the tables of this
// comparison: one table per engine, engine configuration and plugin (so no
// other key, kspbench-version included, splits them), with the old files
// pooled in a column "old" and the new ones in "new".
func (r *Result) BenchstatArgs() []string {
	keys := []string{KeyEngine, KeyPlugin}
	if r.Old.HasConfig || r.New.HasConfig {
		keys = []string{KeyEngine, KeyEngineConfig, KeyPlugin}
	}
	args := []string{"-table", strings.Join(keys, ","), "-alpha", fmtFloat(r.Options.Alpha)}
	for _, f := range r.Old.Files {
		args = append(args, "old="+f)
	}
	for _, f := range r.New.Files {
		args = append(args, "new="+f)
	}
	return args
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
