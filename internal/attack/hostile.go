package attack

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kspbench/kspbench/conformance"
)

// Hostile is the hostile-guest check: a serve started as a child process on
// loopback with a plugins folder of its own, holding the cluster-monitor
// plugin beside plugins built from the conformance suite's misbehaving
// guests, whose routes are called in rounds, one at a time and then
// concurrently. Every call must get its expected answer (or 503, overload)
// within a bound; after every burst the child must be alive, cluster-monitor
// must answer GET /status and keep every acknowledged POST /data record; and
// from the first round to the last the child's threads, resident memory and
// worker processes must not grow past their bounds: a runaway guest must cost
// its own call, not the server.
type Hostile struct {
	// Command starts the server: the program and its arguments, to which
	// "--plugins DIR --call-timeout T --max-workers W --addr 127.0.0.1:0
	// --ready-file FILE" are appended (kspbench serve's flags). It must not set them itself.
	Command []string
	// Env is added to the child's environment.
	Env []string
	// Plugin is the well-behaved plugin whose /status and /data are checked
	// between bursts. Default "cluster-monitor".
	Plugin string
	// PluginDir is Plugin's folder (plugin.yml and its wasm), copied into
	// the child's plugins folder. Required.
	PluginDir string
	// MaxWorkers is the child's --max-workers: the most worker processes
	// of one plugin under process isolation, the bound on its children
	// with the number of plugins. Default 2.
	MaxWorkers int
	// CallTimeout is the child's --call-timeout: how long an endless guest
	// runs before 504. Default 1s.
	CallTimeout time.Duration
	// Rounds is how many times every hostile route is attacked; growth is
	// measured from the end of the first round, so at least 2. Default 3.
	Rounds int
	// Concurrency is how many calls of one route are sent at once after
	// the sequential ones. Default 4.
	Concurrency int
	// Bound is the longest a hostile call may take to be answered; past it
	// the call counts as a hang. Default 2 × CallTimeout + 10s (a call may
	// wait for an instance, and an isolated plugin's worker may restart).
	Bound time.Duration
	// MaxThreadGrowth bounds how many threads the server may gain from the
	// end of the first round to the end of the last. Default 32.
	MaxThreadGrowth int
	// MaxRSSGrowth bounds, in bytes, how much the resident memory of the
	// server and its worker processes may grow over the same span. Default
	// 256 MiB.
	MaxRSSGrowth int64
	// Dir holds the plugins folder, the ready file and, unless Command sets
	// --data, the storage. Default a temporary folder.
	Dir string
}

func (h Hostile) withDefaults() Hostile {
	if h.Plugin == "" {
		h.Plugin = "cluster-monitor"
	}
	if h.CallTimeout <= 0 {
		h.CallTimeout = time.Second
	}
	if h.Rounds <= 0 {
		h.Rounds = 3
	}
	if h.Rounds < 2 {
		h.Rounds = 2
	}
	if h.Concurrency <= 0 {
		h.Concurrency = 4
	}
	if h.Bound <= 0 {
		h.Bound = 2*h.CallTimeout + 10*time.Second
	}
	if h.MaxWorkers <= 0 {
		h.MaxWorkers = 2
	}
	if h.MaxThreadGrowth <= 0 {
		h.MaxThreadGrowth = 32
	}
	if h.MaxRSSGrowth <= 0 {
		h.MaxRSSGrowth = 256 << 20
	}
	return h
}

// hostilePlugin is a plugin folder built from a conformance guest.
type hostilePlugin struct {
	name, guest string
	// config is the manifest's spec.configuration: the values the guest's
	// host_get_config reads.
	config map[string]string
	routes []hostileRoute
}

// hostileRoute is one misbehaving route and the answer it must get.
type hostileRoute struct {
	method, path, handler string
	body                  []byte
	// want is the statuses a call may get, besides 503 (overload); every
	// burst must get one of them at least once.
	want []int
}

// hostileMemoryLimit is the hostile plugins' memory_limit: small, so that
// the guests that grow memory until it fails reach the limit quickly.
const hostileMemoryLimit = "16MiB"

// hostilePlugins are the plugins the check installs beside the well-behaved
// one (conformance/guests.go describes each guest).
var hostilePlugins = []hostilePlugin{
	{name: "hostile-edge", guest: "edge", routes: []hostileRoute{
		{method: "GET", path: "/trap", handler: "handle_trap", want: []int{http.StatusBadGateway}},
		{method: "GET", path: "/oob-ptr", handler: "handle_oob_ptr", want: []int{http.StatusBadGateway}},
		{method: "GET", path: "/oob-len", handler: "handle_oob_len", want: []int{http.StatusBadGateway}},
		{method: "GET", path: "/oob-wrap", handler: "handle_oob_wrap", want: []int{http.StatusBadGateway}},
		{method: "GET", path: "/bad-import-ptr", handler: "handle_bad_import_ptr", want: []int{http.StatusBadGateway}},
		// Unbounded recursion traps when the stack runs out; on wazero,
		// whose stack grows on the heap, that can take longer than a short
		// call timeout, which then ends it.
		{method: "GET", path: "/stack-overflow", handler: "handle_stack_overflow", want: []int{http.StatusBadGateway, http.StatusGatewayTimeout}},
		// memory.grow of 65536 pages (4 GiB) past memory_limit returns -1;
		// the guest answers LIMIT_EXCEEDED, which is 413.
		{method: "POST", path: "/grow", handler: "handle_grow", body: []byte("65536"), want: []int{http.StatusRequestEntityTooLarge}},
		// Grows page by page until memory.grow fails, then traps: on a slow
		// engine or machine that may outlast a short call timeout.
		{method: "GET", path: "/grow-trap", handler: "handle_grow_trap", want: []int{http.StatusBadGateway, http.StatusGatewayTimeout}},
		{method: "GET", path: "/loop", handler: "handle_loop", want: []int{http.StatusGatewayTimeout}},
	}},
	{name: "hostile-alloc", guest: "alloc_trap", config: map[string]string{"greeting": "hi"}, routes: []hostileRoute{
		// allocate traps when the host copies the body in, and when a host
		// import writes its answer (re-entry into the guest).
		{method: "POST", path: "/echo", handler: "handle_echo", body: []byte(`{"hostile":true}`), want: []int{http.StatusBadGateway}},
		{method: "GET", path: "/reentrant", handler: "handle_reentrant", want: []int{http.StatusBadGateway}},
	}},
	{name: "hostile-sleep", guest: "wasi_sleep", routes: []hostileRoute{
		// An hour's sleep in WASI poll_oneoff: blocked in the host, not
		// looping in wasm, and still ended by the call deadline.
		{method: "POST", path: "/poll", handler: "handle_poll", body: hourSleep(), want: []int{http.StatusGatewayTimeout}},
	}},
}

// hourSleep is one WASI preview1 subscription (48 bytes): a relative
// monotonic clock of one hour.
func hourSleep() []byte {
	sub := make([]byte, 48)
	binary.LittleEndian.PutUint64(sub[0:], 1)                         // userdata
	binary.LittleEndian.PutUint32(sub[16:], 1)                        // clock id: monotonic (tag 0 at [8] is clock)
	binary.LittleEndian.PutUint64(sub[24:], uint64(time.Hour))        // timeout, ns
	binary.LittleEndian.PutUint64(sub[32:], uint64(time.Microsecond)) // precision
	return sub
}

// writeHostilePlugins writes one folder per hostile plugin into dir.
func writeHostilePlugins(dir string) error {
	for _, p := range hostilePlugins {
		var m strings.Builder
		fmt.Fprintf(&m, "apiVersion: kubestellar.io/v1\nkind: Plugin\nmetadata:\n  name: %s\n  version: 1.0.0\n", p.name)
		fmt.Fprintf(&m, "  description: misbehaving guest %s of the conformance suite (kspbench attack --hostile)\n", p.guest)
		fmt.Fprintf(&m, "spec:\n  wasm:\n    memory_limit: %s\n", hostileMemoryLimit)
		if len(p.config) > 0 {
			m.WriteString("  configuration:\n")
			for _, k := range slices.Sorted(maps.Keys(p.config)) {
				fmt.Fprintf(&m, "    - name: %s\n      type: string\n      default: %q\n", k, p.config[k])
			}
		}
		m.WriteString("  backend:\n    enabled: true\n    routes:\n")
		for _, r := range p.routes {
			fmt.Fprintf(&m, "      - path: %s\n        methods: [%s]\n        handler: %s\n", r.path, r.method, r.handler)
		}
		pdir := filepath.Join(dir, p.name)
		if err := os.MkdirAll(pdir, 0o755); err != nil {
			return fmt.Errorf("attack: hostile plugin %s: %w", p.name, err)
		}
		if err := os.WriteFile(filepath.Join(pdir, "plugin.yml"), []byte(m.String()), 0o644); err != nil {
			return fmt.Errorf("attack: hostile plugin %s: %w", p.name, err)
		}
		if err := os.WriteFile(filepath.Join(pdir, p.name+".wasm"), conformance.Guest(p.guest), 0o644); err != nil {
			return fmt.Errorf("attack: hostile plugin %s: %w", p.name, err)
		}
	}
	return nil
}

// copyPlugin copies the files of a plugin folder (not its sub-folders).
func copyPlugin(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("attack: plugin folder %s: %w (build it with make -C plugins/cluster-monitor install PLUGINS_DIR=...)", src, err)
	}
	if _, err := os.Stat(filepath.Join(src, "plugin.yml")); err != nil {
		return fmt.Errorf("attack: plugin folder %s has no plugin.yml: %w", src, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("attack: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return fmt.Errorf("attack: copy plugin: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return fmt.Errorf("attack: copy plugin: %w", err)
		}
	}
	return nil
}

// RunHostile runs the hostile-guest check and returns its result.
//
// # Errors
//
// When the plugins folder cannot be written or the server cannot be started;
// everything the server does wrong once started is a violation in the
// result, not an error.
func RunHostile(ctx context.Context, h Hostile) (Result, error) {
	res := Result{Check: "hostile-guests"}
	h = h.withDefaults()
	if len(h.Command) == 0 {
		return res, errors.New("attack: hostile: no server command")
	}
	if h.PluginDir == "" {
		return res, errors.New("attack: hostile: no folder for plugin " + h.Plugin)
	}
	if h.Dir == "" {
		dir, err := os.MkdirTemp("", "kspbench-hostile-")
		if err != nil {
			return res, fmt.Errorf("attack: %w", err)
		}
		defer os.RemoveAll(dir)
		h.Dir = dir
	}
	plugins := filepath.Join(h.Dir, "plugins")
	if err := copyPlugin(h.PluginDir, filepath.Join(plugins, h.Plugin)); err != nil {
		return res, err
	}
	if err := writeHostilePlugins(plugins); err != nil {
		return res, err
	}
	command := append(append([]string{}, h.Command...), "--plugins", plugins, "--call-timeout", h.CallTimeout.String(),
		"--max-workers", strconv.Itoa(h.MaxWorkers))
	srv, err := startChild(ctx, command, h.Env, filepath.Join(h.Dir, "ready"))
	if err != nil {
		return res, err
	}
	defer srv.stop()

	r := &hostileRun{h: h, srv: srv, res: &res, answers: map[string]map[string]int{},
		a: &attacker{cfg: Config{Timeout: 10 * time.Second}.withDefaults(), addr: srv.addr,
			base: "http://" + srv.addr + "/api/plugins/" + h.Plugin, client: &http.Client{Timeout: 10 * time.Second}},
		// A connection of its own per call: an error is then this call's,
		// never a stale keep-alive connection's.
		client: &http.Client{Timeout: h.Bound, Transport: &http.Transport{DisableKeepAlives: true}}}
	defer r.a.client.CloseIdleConnections()
	if !r.checkServer(ctx, "before the attack") {
		return res, nil
	}
	stats := []string{}
	if st, err := readProcStats(srv.cmd.Process.Pid); err == nil {
		stats = append(stats, "at start: "+st.String())
	}
	var first procStats
	measured := false
	for round := range h.Rounds {
		for _, p := range hostilePlugins {
			for _, rt := range p.routes {
				r.burst(ctx, p.name, rt)
				if !r.checkServer(ctx, fmt.Sprintf("round %d, after %s %s%s", round+1, rt.method, p.name, rt.path)) {
					r.notes(stats)
					return res, nil
				}
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
			}
		}
		// Growth is measured from the end of the first round, once every
		// plugin has run and its workers (if any) started: from there on a
		// runaway guest that leaks threads, memory or processes shows.
		st, ok, why := r.settle(ctx, first, measured)
		switch {
		case !ok:
			if round == 0 {
				stats = append(stats, "not measured: "+why)
			}
		case !measured:
			first, measured = st, true
			stats = append(stats, fmt.Sprintf("round 1: %s", st))
		default:
			stats = append(stats, fmt.Sprintf("round %d: %s", round+1, st))
			if v := r.overBounds(first, st); v != "" {
				res.Violations = append(res.Violations, fmt.Sprintf("after round %d: %s", round+1, v))
			}
		}
	}
	r.notes(stats)
	return res, nil
}

type hostileRun struct {
	h      Hostile
	srv    *child
	res    *Result
	a      *attacker // the well-behaved plugin
	client *http.Client
	acked  []string
	mu     sync.Mutex
	// answers counts, per route, each kind of answer: "502", "hang", ...
	answers map[string]map[string]int
}

// burst calls a route twice in turn, then Concurrency times at once, and
// checks every answer.
func (r *hostileRun) burst(ctx context.Context, plugin string, rt hostileRoute) {
	key := fmt.Sprintf("%s %s%s", rt.method, plugin, rt.path)
	got := map[string]int{}
	record := func(outcome string, violation string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		got[outcome]++
		if r.answers[key] == nil {
			r.answers[key] = map[string]int{}
		}
		r.answers[key][outcome]++
		if violation != "" {
			r.res.Violations = append(r.res.Violations, key+": "+violation)
		}
	}
	call := func() { record(r.call(ctx, plugin, rt)) }
	for range 2 {
		call()
	}
	var wg sync.WaitGroup
	for range r.h.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			call()
		}()
	}
	wg.Wait()
	wanted := 0
	for _, w := range rt.want {
		wanted += got[fmt.Sprint(w)]
	}
	if wanted == 0 && ctx.Err() == nil {
		record("never", fmt.Sprintf("no call of the burst answered %s: %v", statuses(rt.want), got))
	}
}

// call makes one hostile call and returns its outcome and, when it broke a
// promise, the violation.
func (r *hostileRun) call(ctx context.Context, plugin string, rt hostileRoute) (string, string) {
	url := "http://" + r.srv.addr + "/api/plugins/" + plugin + rt.path
	req, err := http.NewRequestWithContext(ctx, rt.method, url, strings.NewReader(string(rt.body)))
	if err != nil {
		return "error", err.Error()
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "cancelled", ""
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "hang", fmt.Sprintf("no answer within the bound of %s", r.h.Bound)
		}
		return "dropped", fmt.Sprintf("connection ended without an answer after %s: %v", time.Since(start).Round(time.Millisecond), err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if err != nil {
		return "dropped", fmt.Sprintf("answer %d cut short: %v", resp.StatusCode, err)
	}
	outcome := fmt.Sprint(resp.StatusCode)
	if !slices.Contains(rt.want, resp.StatusCode) && resp.StatusCode != http.StatusServiceUnavailable {
		return outcome, fmt.Sprintf("answered %d, want %s (or 503): %.300s", resp.StatusCode, statuses(rt.want), body)
	}
	return outcome, ""
}

// statuses writes a list of statuses as "502 or 504".
func statuses(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, " or ")
}

// checkServer checks, after a burst, that the child is alive, that the
// well-behaved plugin answers GET /status, takes a record with POST /data,
// and still holds every record it acknowledged. It returns false when the
// child is gone, which ends the check.
func (r *hostileRun) checkServer(ctx context.Context, when string) bool {
	if !r.srv.alive() {
		err := <-r.srv.exited
		r.srv.exited <- err
		out := r.srv.stderr.String()
		if len(out) > 2000 {
			out = out[len(out)-2000:]
		}
		r.res.Violations = append(r.res.Violations, fmt.Sprintf("%s: the server exited (%v); its last output: %s", when, err, out))
		return false
	}
	r.a.probe(ctx, r.res, when)
	id := fmt.Sprintf("hostile-%d-%d", time.Now().UnixNano(), len(r.acked))
	body := fmt.Sprintf(`{"id":%q,"name":"hostile","status":"healthy","nodes":1,"pods":1}`, id)
	code, answer, err := r.a.do(ctx, "POST", "/data", body)
	switch {
	case err != nil:
		r.res.Violations = append(r.res.Violations, fmt.Sprintf("%s: POST /data: %v", when, err))
	case code != http.StatusCreated:
		r.res.Violations = append(r.res.Violations, fmt.Sprintf("%s: POST /data: status %d: %.200s", when, code, answer))
	default:
		r.acked = append(r.acked, id)
	}
	lost, err := r.a.missing(ctx, r.acked)
	switch {
	case err != nil:
		r.res.Violations = append(r.res.Violations, fmt.Sprintf("%s: %v", when, err))
	case len(lost) > 0:
		r.res.Violations = append(r.res.Violations, fmt.Sprintf("%s: %d of %d acknowledged records missing from GET /data, first %s", when, len(lost), len(r.acked), lost[0]))
	}
	return true
}

// settle measures the child until its worker processes are reaped and, once
// a first measurement exists, until it is within bounds, for up to 5s
// (a killed worker is reaped and replaced asynchronously). ok is false when
// the platform has no /proc, with the reason.
func (r *hostileRun) settle(ctx context.Context, first procStats, measured bool) (st procStats, ok bool, why string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := readProcStats(r.srv.cmd.Process.Pid)
		if err != nil {
			return st, false, err.Error()
		}
		settled := st.zombies == 0 && st.children <= (len(hostilePlugins)+1)*r.h.MaxWorkers
		if measured {
			settled = settled && r.overBounds(first, st) == ""
		}
		if settled || time.Now().After(deadline) || ctx.Err() != nil {
			return st, true, ""
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// overBounds says how st passes the bounds measured from first, or "".
func (r *hostileRun) overBounds(first, st procStats) string {
	var over []string
	if st.threads > first.threads+r.h.MaxThreadGrowth {
		over = append(over, fmt.Sprintf("threads grew from %d to %d, more than %d", first.threads, st.threads, r.h.MaxThreadGrowth))
	}
	if st.rss > first.rss+r.h.MaxRSSGrowth {
		over = append(over, fmt.Sprintf("resident memory grew from %d to %d MiB, more than %d MiB", first.rss>>20, st.rss>>20, r.h.MaxRSSGrowth>>20))
	}
	// MaxWorkers per plugin at most (process isolation), none otherwise.
	if limit := (len(hostilePlugins) + 1) * r.h.MaxWorkers; st.children > limit {
		over = append(over, fmt.Sprintf("%d child processes, more than %d per plugin (%d)", st.children, r.h.MaxWorkers, limit))
	}
	if st.zombies > 0 {
		over = append(over, fmt.Sprintf("%d exited child processes not reaped", st.zombies))
	}
	return strings.Join(over, "; ")
}

// notes writes what was attacked and what was measured into the result.
func (r *hostileRun) notes(stats []string) {
	keys := make([]string, 0, len(r.answers))
	for k := range r.answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d rounds, each route 2 calls in turn then %d at once, call timeout %s, bound %s; answers:", r.h.Rounds, r.h.Concurrency, r.h.CallTimeout, r.h.Bound)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %v;", k, r.answers[k])
	}
	fmt.Fprintf(&b, " %d records acknowledged and kept", len(r.acked))
	if len(stats) > 0 {
		fmt.Fprintf(&b, "; server: %s", strings.Join(stats, ", "))
	}
	r.res.Notes = b.String()
}
