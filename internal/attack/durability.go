package attack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Durability is the kill -9 check: a serve started as a child process,
// killed with SIGKILL at a random moment while records are POSTed to /data,
// restarted on the same data, and asked for every record it had answered
// 201.
type Durability struct {
	// Command starts the server: the program and its arguments, to which
	// "--addr 127.0.0.1:0 --ready-file FILE" are appended (kspbench serve's
	// flags); it must keep its data across restarts.
	Command []string
	// Env is added to the child's environment.
	Env []string
	// Plugin is the plugin whose /data is written. Default "cluster-monitor".
	Plugin string
	// Kills is how many times the server is killed. Default 3.
	Kills int
	// MaxDelay bounds the random time between the first POST and the kill.
	// Default 300ms.
	MaxDelay time.Duration
	// Dir holds the ready files. Default a temporary folder.
	Dir string
}

// RunDurability runs the kill -9 check and returns its result.
//
// # Errors
//
// When the server cannot be started or does not become ready; lost records
// are violations in the result, not errors.
func RunDurability(ctx context.Context, d Durability) (Result, error) {
	res := Result{Check: "kill-9-durability"}
	if len(d.Command) == 0 {
		return res, errors.New("attack: durability: no server command")
	}
	if d.Plugin == "" {
		d.Plugin = "cluster-monitor"
	}
	if d.Kills <= 0 {
		d.Kills = 3
	}
	if d.MaxDelay <= 0 {
		d.MaxDelay = 300 * time.Millisecond
	}
	if d.Dir == "" {
		dir, err := os.MkdirTemp("", "kspbench-attack-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		d.Dir = dir
	}
	var acked []string
	posted := 0
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for round := range d.Kills + 1 {
		srv, err := startChild(ctx, d.Command, d.Env, filepath.Join(d.Dir, fmt.Sprintf("ready-%d", round)))
		if err != nil {
			return res, err
		}
		a := &attacker{cfg: Config{Timeout: 5 * time.Second}.withDefaults(), addr: srv.addr,
			base: "http://" + srv.addr + "/api/plugins/" + d.Plugin, client: client}
		// Every record acknowledged so far must have survived.
		if lost, err := a.missing(ctx, acked); err != nil {
			res.Violations = append(res.Violations, fmt.Sprintf("after restart %d: %v", round, err))
		} else if len(lost) > 0 {
			res.Violations = append(res.Violations, fmt.Sprintf("after kill %d: %d of %d acknowledged records lost, first %s", round, len(lost), len(acked), lost[0]))
		}
		a.probe(ctx, &res, fmt.Sprintf("after restart %d", round))
		if round == d.Kills {
			srv.stop()
			break
		}
		// POST until the kill, four at a time.
		stopPosting := make(chan struct{})
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stopPosting:
						return
					default:
					}
					id := fmt.Sprintf("kill9-%d-%d-%d-%d", time.Now().UnixNano(), round, w, i)
					body := fmt.Sprintf(`{"id":%q,"name":"kill9","status":"healthy","nodes":1,"pods":1}`, id)
					code, _, err := a.do(ctx, "POST", "/data", body)
					mu.Lock()
					posted++
					if err == nil && code == http.StatusCreated {
						acked = append(acked, id)
					}
					mu.Unlock()
					if err != nil {
						return // the server is gone
					}
				}
			}()
		}
		time.Sleep(time.Duration(rand.Int64N(int64(d.MaxDelay))))
		srv.kill()
		close(stopPosting)
		wg.Wait()
		client.CloseIdleConnections()
	}
	res.Notes = fmt.Sprintf("%d kills, %d POSTs, %d acknowledged", d.Kills, posted, len(acked))
	return res, nil
}

// missing returns the ids GET /data does not hold.
func (a *attacker) missing(ctx context.Context, ids []string) ([]string, error) {
	code, body, err := a.do(ctx, "GET", "/data", "")
	if err != nil {
		return nil, fmt.Errorf("GET /data: %w", err)
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /data: status %d: %.200s", code, body)
	}
	var lost []string
	for _, id := range ids {
		if !bytes.Contains(body, []byte(`"`+id+`"`)) {
			lost = append(lost, id)
		}
	}
	return lost, nil
}

type child struct {
	cmd    *exec.Cmd
	addr   string
	exited chan error
	// stderr is the child's standard error; read it only once exited has
	// delivered (the copying goroutine writes it until then).
	stderr *bytes.Buffer
}

// startChild starts command with "--addr 127.0.0.1:0 --ready-file ready"
// appended and env added to this process's environment, and waits until the
// server has written its address to ready.
func startChild(ctx context.Context, command, env []string, ready string) (*child, error) {
	args := append(append([]string{}, command[1:]...), "--addr", "127.0.0.1:0", "--ready-file", ready)
	cmd := exec.Command(command[0], args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("attack: start server: %w", err)
	}
	c := &child{cmd: cmd, exited: make(chan error, 1), stderr: &stderr}
	go func() { c.exited <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute)
	for {
		if b, err := os.ReadFile(ready); err == nil && len(bytes.TrimSpace(b)) > 0 {
			c.addr = strings.TrimSpace(string(b))
			if _, err := Loopback("http://" + c.addr); err != nil {
				c.kill()
				return nil, err
			}
			return c, nil
		}
		select {
		case err := <-c.exited:
			return nil, fmt.Errorf("attack: server exited before it was ready (%v): %.2000s", err, stderr.String())
		case <-deadline:
			c.kill()
			return nil, fmt.Errorf("attack: server not ready after 2 minutes: %.2000s", stderr.String())
		case <-ctx.Done():
			c.kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// alive reports whether the process has not exited.
func (c *child) alive() bool {
	select {
	case err := <-c.exited:
		c.exited <- err // keep it for kill and stop
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to go.
func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.exited
}

// stop interrupts the server and waits, killing it after 15s.
func (c *child) stop() {
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		c.kill()
	}
}
