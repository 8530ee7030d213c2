package serve

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.PluginLogRate and PluginLogBurst.
const (
	DefaultPluginLogRate  = 100
	DefaultPluginLogBurst = 500
)

// logSummaryInterval is how long a limiter counts dropped lines before it
// logs how many.
const logSummaryInterval = time.Second

// logLimiter bounds the log records of one plugin (host_log, and the host's
// notes on its calls) with a token bucket: rate records a second, up to burst
// at once. A guest that logs in a loop would otherwise write the server's log
// as fast as it can call host_log (1.7 MB in a 300 ms call, measured).
// Records past the bucket are dropped and counted, and one summary record a
// second says how many. It is the one gate of a plugin's records into the
// server's logger, in process and isolated alike, and lives as long as the
// server, across reloads, so its count is the plugin's.
type logLimiter struct {
	plugin string
	rate   float64 // records a second; <= 0: no limit
	burst  float64
	out    slog.Handler // the server's handler, for the summary

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	dropped int64 // since the pending summary's interval began
	pending bool  // a summary is due

	total atomic.Int64 // records dropped since the server started
}

func newLogLimiter(plugin string, rate float64, burst int, out slog.Handler) *logLimiter {
	return &logLimiter{plugin: plugin, rate: rate, burst: float64(max(burst, 1)), tokens: float64(max(burst, 1)), out: out}
}

// allow takes a token, or counts a dropped record and arms the summary.
func (l *logLimiter) allow() bool {
	if l.rate <= 0 {
		return true
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true
	}
	l.dropped++
	l.total.Add(1)
	if !l.pending {
		l.pending = true
		time.AfterFunc(logSummaryInterval, l.summarise)
	}
	return false
}

// summarise logs how many records were dropped since the first drop of the
// interval.
func (l *logLimiter) summarise() {
	l.mu.Lock()
	n := l.dropped
	l.dropped, l.pending = 0, false
	l.mu.Unlock()
	if n == 0 || !l.out.Enabled(context.Background(), slog.LevelWarn) {
		return
	}
	r := slog.NewRecord(time.Now(), slog.LevelWarn, fmt.Sprintf("plugin %s: %d log lines dropped in the last second (rate limit %g/s, burst %g; serve --plugin-log-rate, --plugin-log-burst)",
		l.plugin, n, l.rate, l.burst), 0)
	r.AddAttrs(slog.String("plugin", l.plugin), slog.Int64("dropped", n), slog.Int64("dropped_total", l.total.Load()))
	l.out.Handle(context.Background(), r)
}

// limitedLog is a plugin's log handler: records past its limiter are
// dropped.
type limitedLog struct {
	slog.Handler
	lim *logLimiter
}

func (h limitedLog) Handle(ctx context.Context, r slog.Record) error {
	if !h.lim.allow() {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h limitedLog) WithAttrs(as []slog.Attr) slog.Handler {
	return limitedLog{Handler: h.Handler.WithAttrs(as), lim: h.lim}
}

func (h limitedLog) WithGroup(name string) slog.Handler {
	return limitedLog{Handler: h.Handler.WithGroup(name), lim: h.lim}
}

// pluginLog returns the handler of plugin name's records: the server's,
// behind the plugin's limiter.
func (s *Server) pluginLog(name string) slog.Handler {
	return limitedLog{Handler: s.log.Handler(), lim: s.logLimiter(name)}
}

// logLimiter returns plugin name's limiter, made on first use.
func (s *Server) logLimiter(name string) *logLimiter {
	s.logLimitsMu.Lock()
	defer s.logLimitsMu.Unlock()
	l := s.logLimits[name]
	if l == nil {
		if s.logLimits == nil {
			s.logLimits = map[string]*logLimiter{}
		}
		l = newLogLimiter(name, s.cfg.PluginLogRate, s.cfg.PluginLogBurst, s.log.Handler())
		s.logLimits[name] = l
	}
	return l
}

// logDropped is how many of plugin name's records its limiter dropped.
func (s *Server) logDropped(name string) int64 {
	s.logLimitsMu.Lock()
	l := s.logLimits[name]
	s.logLimitsMu.Unlock()
	if l == nil {
		return 0
	}
	return l.total.Load()
}
