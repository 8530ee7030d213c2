package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
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
	serveArgs := fs.String("serve-args", "", "with --kill9: kspbench serve's flags, space-separated (--addr and --ready-file are added), e.g. '--engine wazero --plugins DIR --data FILE'")
	return func(ctx context.Context, inv *invocation) error {
		var rep *attack.Report
		var err error
		switch {
		case *kills > 0:
			if strings.Contains(*serveArgs, "--addr") || strings.Contains(*serveArgs, "--ready-file") {
				return errors.New("attack: --serve-args must not set --addr or --ready-file: the child listens on 127.0.0.1:0")
			}
			self, xerr := os.Executable()
			if xerr != nil {
				return fmt.Errorf("attack: %w", xerr)
			}
			var res attack.Result
			res, err = attack.RunDurability(ctx, attack.Durability{Command: append([]string{self, "serve"}, strings.Fields(*serveArgs)...),
				Plugin: c.Plugin, Kills: *kills})
			rep = &attack.Report{Results: []attack.Result{res}}
		case c.URL == "":
			return errors.New("attack: --url is required (or --kill9 N --serve-args ARGS)")
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

const attackLong = `Runs bounded reliability checks against a live kspbench serve on loopback (any
other host is refused): slow request bodies (connections sending a POST body a
byte at a time), idle keep-alive connections up to a count, and acknowledged
writes (POST /data records, then GET /data must hold every record answered
201). After each, GET /status must still answer 200 with a status document.
Prints the report as JSON; exits non-zero on any violation.

With --kill9 N it checks durability instead: it starts kspbench serve
--serve-args as a child on 127.0.0.1:0, POSTs records to /data, kills the
child with SIGKILL at a random moment, restarts it on the same data, and
requires every record answered 201 so far; N times.`

const attackExample = `  kspbench attack --url http://127.0.0.1:4000
  kspbench attack --url http://127.0.0.1:4000 --plugin cluster-monitor --idle-conns 500 --records 200
  kspbench attack --kill9 5 --serve-args '--engine wazero --plugins ./plugins --data /tmp/attack.db'`
