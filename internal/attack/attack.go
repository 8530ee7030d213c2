package attack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config says what to attack and how hard. Its zero value, given a URL,
// runs every check with small counts.
type Config struct {
	// URL is the server's base URL, http://127.0.0.1:PORT; only loopback
	// hosts are accepted.
	URL string
	// Plugin is the plugin whose routes are used: GET /status, and GET and
	// POST /data of the cluster-monitor shape. Default "cluster-monitor".
	Plugin string
	// SlowBodies is how many connections send a request body byte by byte.
	// Default 8; negative skips the check.
	SlowBodies int
	// SlowBodyBytes is the size of each slow body. Default 32.
	SlowBodyBytes int
	// SlowByteInterval is the pause between two bytes of a slow body.
	// Default 20ms.
	SlowByteInterval time.Duration
	// IdleConns is how many keep-alive connections are opened and left idle.
	// Default 64; negative skips the check.
	IdleConns int
	// Records is how many records are POSTed to /data before GET /data
	// must show every acknowledged one. Default 50; negative skips the
	// check.
	Records int
	// Timeout bounds one request. Default 10s.
	Timeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Plugin == "" {
		c.Plugin = "cluster-monitor"
	}
	if c.SlowBodies == 0 {
		c.SlowBodies = 8
	}
	if c.SlowBodyBytes <= 0 {
		c.SlowBodyBytes = 32
	}
	if c.SlowByteInterval <= 0 {
		c.SlowByteInterval = 20 * time.Millisecond
	}
	if c.IdleConns == 0 {
		c.IdleConns = 64
	}
	if c.Records == 0 {
		c.Records = 50
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	return c
}

// Result is the outcome of one check: Violations empty when the server held.
type Result struct {
	Check      string   `json:"check"`
	Notes      string   `json:"notes,omitempty"`
	Violations []string `json:"violations,omitempty"`
}

// Report is every check's result.
type Report struct {
	Results []Result `json:"results"`
}

// Failed reports whether any check found a violation.
func (r *Report) Failed() bool {
	for _, c := range r.Results {
		if len(c.Violations) > 0 {
			return true
		}
	}
	return false
}

// Loopback returns the host:port of rawURL, an http URL whose host is a
// loopback address or "localhost".
//
// # Errors
//
// When rawURL does not parse, is not http, or names another host.
func Loopback(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("attack: url[%s]: %w", rawURL, err)
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("attack: url[%s]: only http:// is supported", rawURL)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("attack: url[%s]: refusing a host that is not loopback", rawURL)
	}
	if u.Port() == "" {
		return net.JoinHostPort(host, "80"), nil
	}
	return u.Host, nil
}

// Run runs every check Config enables, one after another, and returns their
// results.
//
// # Errors
//
// When the URL is not loopback, or the server does not answer GET /status
// before the first check; violations are in the report, not errors.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	addr, err := Loopback(cfg.URL)
	if err != nil {
		return nil, err
	}
	a := &attacker{cfg: cfg, addr: addr, base: strings.TrimRight(cfg.URL, "/") + "/api/plugins/" + cfg.Plugin,
		client: &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
	defer a.client.CloseIdleConnections()
	if err := a.status(ctx); err != nil {
		return nil, fmt.Errorf("attack: server not answering before the attack: %w", err)
	}
	rep := &Report{}
	for _, c := range []struct {
		name string
		on   bool
		run  func(context.Context) Result
	}{
		{"slow-bodies", cfg.SlowBodies > 0, a.slowBodies},
		{"idle-conns", cfg.IdleConns > 0, a.idleConns},
		{"acknowledged-writes", cfg.Records > 0, a.acknowledgedWrites},
	} {
		if !c.on {
			continue
		}
		res := c.run(ctx)
		res.Check = c.name
		rep.Results = append(rep.Results, res)
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	return rep, nil
}

type attacker struct {
	cfg    Config
	addr   string
	base   string
	client *http.Client
}

// status checks GET /status answers 200 with a JSON document whose
// "status" field is set.
func (a *attacker) status(ctx context.Context) error {
	code, body, err := a.do(ctx, "GET", "/status", "")
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("GET /status: status %d: %.200s", code, body)
	}
	var doc struct {
		Status any `json:"status"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Status == nil {
		return fmt.Errorf("GET /status: not a status document: %.200s", body)
	}
	return nil
}

func (a *attacker) do(ctx context.Context, method, route, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+route, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// probe checks GET /status while an attack holds, into res.
func (a *attacker) probe(ctx context.Context, res *Result, when string) {
	if err := a.status(ctx); err != nil {
		res.Violations = append(res.Violations, when+": "+err.Error())
	}
}

// slowBodies opens SlowBodies connections that each POST /data with a body
// sent a byte at a time, and checks GET /status answers meanwhile and after.
func (a *attacker) slowBodies(ctx context.Context) Result {
	var res Result
	path := strings.TrimPrefix(a.base, strings.TrimRight(a.cfg.URL, "/"))
	body := bytes.Repeat([]byte(" "), a.cfg.SlowBodyBytes-2)
	body = append(append([]byte("{"), body...), '}')
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := map[string]int{}
	for range a.cfg.SlowBodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcome := a.slowBody(ctx, path, body)
			mu.Lock()
			answered[outcome]++
			mu.Unlock()
		}()
	}
	// Probe while the bodies trickle in.
	during := time.Duration(len(body)) * a.cfg.SlowByteInterval / 2
	select {
	case <-time.After(during):
	case <-ctx.Done():
	}
	a.probe(ctx, &res, "during slow bodies")
	wg.Wait()
	a.probe(ctx, &res, "after slow bodies")
	res.Notes = fmt.Sprintf("%d connections, %d-byte bodies at one byte every %s; answers: %v", a.cfg.SlowBodies, len(body), a.cfg.SlowByteInterval, answered)
	return res
}

// slowBody sends one slow POST and returns what came of it: "status N" or
// the error's kind. The server may refuse or time out a slow client; that is
// not a violation.
func (a *attacker) slowBody(ctx context.Context, path string, body []byte) string {
	d := net.Dialer{Timeout: a.cfg.Timeout}
	conn, err := d.DialContext(ctx, "tcp", a.addr)
	if err != nil {
		return "dial error"
	}
	defer conn.Close()
	limit := time.Duration(len(body)+1)*a.cfg.SlowByteInterval + a.cfg.Timeout
	conn.SetDeadline(time.Now().Add(limit))
	if _, err := fmt.Fprintf(conn, "POST %s/data HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, a.addr, len(body)); err != nil {
		return "write error"
	}
	for _, c := range body {
		if _, err := conn.Write([]byte{c}); err != nil {
			return "closed by server"
		}
		select {
		case <-time.After(a.cfg.SlowByteInterval):
		case <-ctx.Done():
			return "cancelled"
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "no answer"
	}
	resp.Body.Close()
	return fmt.Sprintf("status %d", resp.StatusCode)
}

// idleConns opens IdleConns keep-alive connections, makes one request on
// each, leaves them idle, and checks GET /status on a new connection.
func (a *attacker) idleConns(ctx context.Context) Result {
	var res Result
	path := strings.TrimPrefix(a.base, strings.TrimRight(a.cfg.URL, "/"))
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	opened, answered := 0, 0
	for range a.cfg.IdleConns {
		d := net.Dialer{Timeout: a.cfg.Timeout}
		conn, err := d.DialContext(ctx, "tcp", a.addr)
		if err != nil {
			break
		}
		conns = append(conns, conn)
		opened++
		conn.SetDeadline(time.Now().Add(a.cfg.Timeout))
		if _, err := fmt.Fprintf(conn, "GET %s/status HTTP/1.1\r\nHost: %s\r\n\r\n", path, a.addr); err != nil {
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			answered++
		}
		conn.SetDeadline(time.Time{})
	}
	a.probe(ctx, &res, fmt.Sprintf("with %d idle connections", opened))
	res.Notes = fmt.Sprintf("%d of %d connections opened, %d answered 200 before going idle", opened, a.cfg.IdleConns, answered)
	return res
}

// acknowledgedWrites POSTs Records records to /data, four at a time, then
// checks GET /data holds every record answered 201.
func (a *attacker) acknowledgedWrites(ctx context.Context) Result {
	var res Result
	run := time.Now().UnixNano()
	var mu sync.Mutex
	var acked []string
	codes := map[string]int{}
	ids := make(chan string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				body := fmt.Sprintf(`{"id":%q,"name":"attack","status":"healthy","nodes":1,"pods":1}`, id)
				code, _, err := a.do(ctx, "POST", "/data", body)
				mu.Lock()
				if err != nil {
					codes["error"]++
				} else {
					codes[fmt.Sprint(code)]++
					if code == http.StatusCreated {
						acked = append(acked, id)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := range a.cfg.Records {
		select {
		case ids <- fmt.Sprintf("attack-%d-%d", run, i):
		case <-ctx.Done():
		}
	}
	close(ids)
	wg.Wait()
	code, body, err := a.do(ctx, "GET", "/data", "")
	switch {
	case err != nil:
		res.Violations = append(res.Violations, "GET /data: "+err.Error())
	case code != http.StatusOK:
		res.Violations = append(res.Violations, fmt.Sprintf("GET /data: status %d: %.200s", code, body))
	default:
		var lost []string
		for _, id := range acked {
			if !bytes.Contains(body, []byte(`"`+id+`"`)) {
				lost = append(lost, id)
			}
		}
		if len(lost) > 0 {
			res.Violations = append(res.Violations, fmt.Sprintf("%d of %d acknowledged records missing from GET /data, first %s", len(lost), len(acked), lost[0]))
		}
	}
	if len(acked) == 0 {
		res.Violations = append(res.Violations, fmt.Sprintf("no POST /data acknowledged with 201: %v", codes))
	}
	a.probe(ctx, &res, "after the writes")
	res.Notes = fmt.Sprintf("%d records posted, answers %v", a.cfg.Records, codes)
	return res
}

// ErrViolation is returned by callers that turn a failed report into an
// error (kspbench attack exits non-zero with it).
var ErrViolation = errors.New("attack: the server broke a promise")
