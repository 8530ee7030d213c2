package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/results"
)

// Config says which engine to test and where the suite finds what it needs.
type Config struct {
	// Engine is the name the engine under test must report; empty skips
	// that check.
	Engine string
	// Open opens the engine under test. Required.
	Open func(engines.Config) (engines.Engine, error)
	// ClusterMonitorDir holds plugin.yml and cluster-monitor.wasm, built from
	// plugins/cluster-monitor (see BuildClusterMonitor). Required for the
	// plugin cases.
	ClusterMonitorDir string
	// TempDir is where cases keep storage files and caches; each case gets a
	// folder of its own below it. Required.
	TempDir string
	// CacheDir, when set, is a compilation cache shared by the cases that do
	// not test caching, to save compile time.
	CacheDir string
	// Deadline is the call deadline of the deadline cases; zero means 250ms.
	Deadline time.Duration
}

// Case is one check of the suite.
type Case struct {
	Name string
	// Doc says in one line what the case checks.
	Doc string
	Run func(e *Env) error
}

// UnsupportedError is returned by a case whose engine lacks what it checks.
type UnsupportedError struct {
	Reason  string
	Recycle bool
}

func (e *UnsupportedError) Error() string { return "unsupported: " + e.Reason }

// Cases returns the suite's cases in a fixed order.
func Cases() []Case {
	var cs, last []Case
	for _, c := range append(append(append(append(append(append(append(append([]Case{}, engineCases...), loadCases...), abiCases...), wasiCases...), cGuestCases()...), pluginCases...), cPluginCases()...), profileCases...) {
		if slices.Contains(results.InterruptCases, c.Name) {
			last = append(last, c)
		} else {
			cs = append(cs, c)
		}
	}
	// The cases that end runaway calls come last: on an engine that cannot
	// interrupt a call, the abandoned guest spins until the process ends and
	// would slow every case after it.
	return append(cs, last...)
}

// Lookup returns the case called name.
func Lookup(name string) (Case, bool) {
	for _, c := range Cases() {
		if c.Name == name {
			return c, true
		}
	}
	return Case{}, false
}

// RunCase runs one case and never panics: a panic is the case's failure.
func RunCase(ctx context.Context, cfg Config, c Case) (res Result) {
	res.Case = c.Name
	start := time.Now()
	e := &Env{ctx: ctx, cfg: cfg}
	defer func() {
		if r := recover(); r != nil {
			res.Outcome, res.Detail = Fail, fmt.Sprintf("panic: %v\n%s", r, debug.Stack())
		}
		if err := e.close(); err != nil && res.Outcome == Pass {
			res.Outcome, res.Detail = Fail, "cleanup: "+err.Error()
		}
		res.Duration = time.Since(start)
	}()
	if err := e.open(c.Name); err != nil {
		return Result{Case: c.Name, Outcome: Fail, Detail: err.Error()}
	}
	err := c.Run(e)
	var unsup *UnsupportedError
	switch {
	case err == nil:
		res.Outcome = Pass
	case errors.As(err, &unsup):
		res.Outcome, res.Detail, res.Recycle = Unsupported, unsup.Reason, unsup.Recycle
	default:
		res.Outcome, res.Detail = Fail, err.Error()
	}
	return res
}

// caseDir turns a case name into a folder name.
func caseDir(name string) string { return strings.NewReplacer("/", "_", " ", "_").Replace(name) }

func (e *Env) open(name string) error {
	if e.cfg.Open == nil {
		return errors.New("conformance: Config.Open is nil")
	}
	if e.cfg.TempDir == "" {
		return errors.New("conformance: Config.TempDir is empty")
	}
	e.dir = filepath.Join(e.cfg.TempDir, caseDir(name))
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	if e.cfg.Deadline == 0 {
		e.cfg.Deadline = 250 * time.Millisecond
	}
	return nil
}
