package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kspbench/kspbench/internal/attack"
)

// runAttack runs internal/attack's bounded checks against a live server on
// loopback, prints the report as JSON, and fails on any violation.
func runAttack(fs *flag.FlagSet) action {
	var c attack.Config
	fs.StringVar(&c.URL, "url", "", "base URL of the server, loopback only: http://127.0.0.1:PORT")
	fs.StringVar(&c.Plugin, "plugin", "cluster-monitor", "plugin whose GET /status and GET, POST /data are used")
	fs.IntVar(&c.SlowBodies, "slow-bodies", 8, "connections sending a POST body a byte at a time (negative: skip)")
	fs.IntVar(&c.SlowBodyBytes, "slow-body-bytes", 32, "size of each slow body")
	fs.DurationVar(&c.SlowByteInterval, "slow-byte-interval", 20*time.Millisecond, "pause between two bytes of a slow body")
	fs.IntVar(&c.IdleConns, "idle-conns", 64, "keep-alive connections opened and left idle (negative: skip)")
	fs.IntVar(&c.Records, "records", 50, "records POSTed to /data, each acknowledged one then required in GET /data (negative: skip)")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "bound of one request")
	kills := fs.Int("kill9", 0, "durability mode instead: start kspbench serve --serve-args as a child, SIGKILL it this many times during POSTs, restart it, and check every acknowledged record survived")
	hostile := fs.Int("hostile", 0, "hostile-guest mode instead: start kspbench serve --serve-args as a child with --plugin beside misbehaving plugins (traps, out-of-bounds answers, endless loops, memory growth, stack overflow, failing allocate, an hour's WASI sleep), attack each of their routes this many rounds (at least 2: growth is measured from the end of the first), and check every answer, the plugin, and the server's threads and memory")
	callTimeout := fs.Duration("call-timeout", time.Second, "with --hostile: the child's --call-timeout, which ends the endless guests")
	concurrency := fs.Int("concurrency", 4, "with --hostile: calls of one hostile route sent at once, after two in turn")
	serveArgs := fs.String("serve-args", "", "with --kill9 or --hostile: kspbench serve's flags, space-separated (--addr and --ready-file are added; --hostile replaces --plugins by a folder of its own holding a copy of --plugin's folder), e.g. '--engine wazero --plugins DIR --data FILE'")
	return func(ctx context.Context, inv *invocation) error {
		var rep *attack.Report
		var err error
		switch {
		case *kills > 0 && *hostile > 0:
			return errors.New("attack: --kill9 and --hostile are two runs: give one")
		case *kills > 0 || *hostile > 0:
			args := strings.Fields(*serveArgs)
			for _, a := range args {
				if name := strings.SplitN(strings.TrimLeft(a, "-"), "=", 2)[0]; strings.HasPrefix(a, "-") && (name == "addr" || name == "ready-file" || (*hostile > 0 && name == "call-timeout")) {
					return fmt.Errorf("attack: --serve-args must not set %s: the attack sets it (the child listens on 127.0.0.1:0; --call-timeout is the attack's own flag)", a)
				}
			}
			self, xerr := os.Executable()
			if xerr != nil {
				return fmt.Errorf("attack: %w", xerr)
			}
			var res attack.Result
			if *kills > 0 {
				res, err = attack.RunDurability(ctx, attack.Durability{Command: append([]string{self, "serve"}, args...),
					Plugin: c.Plugin, Kills: *kills})
			} else {
				plugins, rest := pluginsArg(args)
				res, err = attack.RunHostile(ctx, attack.Hostile{Command: append([]string{self, "serve"}, rest...),
					Plugin: c.Plugin, PluginDir: filepath.Join(plugins, c.Plugin), CallTimeout: *callTimeout,
					Rounds: *hostile, Concurrency: *concurrency})
			}
			rep = &attack.Report{Results: []attack.Result{res}}
		case c.URL == "":
			return errors.New("attack: --url is required (or --kill9 N or --hostile N with --serve-args ARGS)")
		default:
			rep, err = attack.Run(ctx, c)
		}
		if rep != nil {
			enc := json.NewEncoder(inv.stdout)
			enc.SetIndent("", "  ")
			if werr := enc.Encode(rep); werr != nil {
				return errors.Join(err, werr)
			}
		}
		if err != nil {
			return err
		}
		if rep.Failed() {
			for _, r := range rep.Results {
				for _, v := range r.Violations {
					fmt.Fprintf(inv.stderr, "attack: %s: %s\n", r.Check, v)
				}
			}
			return attack.ErrViolation
		}
		return nil
	}
}

// pluginsArg returns the value of serve's --plugins flag in args (its
// default when absent) and args without it.
func pluginsArg(args []string) (string, []string) {
	plugins := filepath.Join("build", "plugins") // kspbench serve's default
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--plugins":
			if i+1 < len(args) {
				plugins = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--plugins="):
			plugins = strings.TrimPrefix(a, "--plugins=")
		default:
			rest = append(rest, a)
		}
	}
	return plugins, rest
}

const attackLong = `Runs bounded reliability checks against a live kspbench serve on loopback (any
other host is refused): slow request bodies (connections sending a POST body a
byte at a time), idle keep-alive connections up to a count, and acknowledged
writes (POST /data records, then GET /data must hold every record answered
201). After each, GET /status must still answer 200 with a status document.
Prints the report as JSON; exits non-zero on any violation.

With --kill9 N it checks durability instead: it starts kspbench serve
--serve-args as a child on 127.0.0.1:0, POSTs records to /data, kills the
child with SIGKILL at a random moment, restarts it on the same data, and
requires every record answered 201 so far; N times.

With --hostile N it checks that misbehaving plugins cost only their own calls:
it starts kspbench serve --serve-args as a child with --call-timeout and a
plugins folder of its own, holding a copy of --plugin's folder from the
--plugins of --serve-args beside plugins built from the conformance suite's
misbehaving guests (traps, out-of-bounds answers, an endless loop, memory
grown to its limit and past it, stack overflow, a failing allocate, also
inside a host import, an hour's WASI sleep). Each of their routes is called
twice in turn and --concurrency times at once, N rounds. Every call must be
answered, with its route's status (502, 504, 413) or 503, within 2 × the call
timeout + 10s; after each burst the child must be alive, --plugin must answer
GET /status, take a POST /data and still hold every record it acknowledged;
from the end of the first round to the end of the last the child's threads
may grow by 32 at most, the resident memory of it and its workers by 256 MiB,
and it may have two worker processes per plugin (the child runs with
--max-workers 2), none left unreaped (Linux
only: read from /proc; skipped elsewhere, with a note).`

const attackExample = `  kspbench attack --url http://127.0.0.1:4000
  kspbench attack --url http://127.0.0.1:4000 --plugin cluster-monitor --idle-conns 500 --records 200
  kspbench attack --kill9 5 --serve-args '--engine wazero --plugins ./plugins --data /tmp/attack.db'
  kspbench attack --hostile 3 --serve-args '--engine wasmer --plugins build/plugins'`
