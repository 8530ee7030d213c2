package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"time"
)

// logLine is a one-way line from worker to parent: a record the worker
// logged through LogHandler during an operation. The parent hands it to
// Spec.Logger and answers nothing:
//
//	worker → parent  {"log":{"time":"...","level":"INFO","msg":"hello","attrs":[{"k":"plugin","v":"edge"},{"k":"n","t":"int","v":3}]}}
//
// Bounded by back-pressure, not by dropping: the parent reads these lines in
// the goroutine of the Call in flight and logs each before it reads the next,
// so a guest that logs in a loop blocks on the full pipe while the parent's
// logger keeps up, costs the parent one line at a time, and is killed at the
// Call's deadline like any other guest that does not return.
type logLine struct {
	Time  time.Time  `json:"time"`
	Level slog.Level `json:"level"`
	Msg   string     `json:"msg"`
	Attrs []logAttr  `json:"attrs,omitempty"`
}

// logAttr is one attribute of a logLine. T is the kind of V: "" for a
// string, then "int", "uint", "float", "bool", "duration" (nanoseconds),
// "time", or "group" (the attributes in G). Any other value (an error, a
// slice) travels as its text, as slog's text handler prints it.
type logAttr struct {
	Key string          `json:"k"`
	T   string          `json:"t,omitempty"`
	V   json.RawMessage `json:"v,omitempty"`
	G   []logAttr       `json:"g,omitempty"`
}

func encodeAttrs(as []slog.Attr) []logAttr {
	out := make([]logAttr, 0, len(as))
	for _, a := range as {
		out = append(out, encodeAttr(a))
	}
	return out
}

func encodeAttr(a slog.Attr) logAttr {
	v := a.Value.Resolve()
	la := logAttr{Key: a.Key}
	str := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	switch v.Kind() {
	case slog.KindString:
		la.V = str(v.String())
	case slog.KindInt64:
		la.T, la.V = "int", strconv.AppendInt(nil, v.Int64(), 10)
	case slog.KindUint64:
		la.T, la.V = "uint", strconv.AppendUint(nil, v.Uint64(), 10)
	case slog.KindFloat64:
		if f := v.Float64(); math.IsNaN(f) || math.IsInf(f, 0) {
			la.V = str(v.String())
		} else {
			la.T, la.V = "float", strconv.AppendFloat(nil, f, 'g', -1, 64)
		}
	case slog.KindBool:
		la.T, la.V = "bool", strconv.AppendBool(nil, v.Bool())
	case slog.KindDuration:
		la.T, la.V = "duration", strconv.AppendInt(nil, int64(v.Duration()), 10)
	case slog.KindTime:
		if b, err := v.Time().MarshalJSON(); err == nil {
			la.T, la.V = "time", b
		} else {
			la.V = str(v.String())
		}
	case slog.KindGroup:
		la.T, la.G = "group", encodeAttrs(v.Group())
	default:
		if err, ok := v.Any().(error); ok {
			la.V = str(err.Error())
		} else {
			la.V = str(fmt.Sprintf("%+v", v.Any()))
		}
	}
	return la
}

func decodeAttrs(las []logAttr) []slog.Attr {
	out := make([]slog.Attr, 0, len(las))
	for _, la := range las {
		out = append(out, decodeAttr(la))
	}
	return out
}

// decodeAttr is encodeAttr's inverse; a value it cannot read becomes its
// JSON text.
func decodeAttr(la logAttr) slog.Attr {
	var err error
	switch la.T {
	case "":
		var s string
		if err = json.Unmarshal(la.V, &s); err == nil {
			return slog.String(la.Key, s)
		}
	case "int", "duration":
		var n int64
		if err = json.Unmarshal(la.V, &n); err == nil {
			if la.T == "duration" {
				return slog.Duration(la.Key, time.Duration(n))
			}
			return slog.Int64(la.Key, n)
		}
	case "uint":
		var n uint64
		if err = json.Unmarshal(la.V, &n); err == nil {
			return slog.Uint64(la.Key, n)
		}
	case "float":
		var f float64
		if err = json.Unmarshal(la.V, &f); err == nil {
			return slog.Float64(la.Key, f)
		}
	case "bool":
		var b bool
		if err = json.Unmarshal(la.V, &b); err == nil {
			return slog.Bool(la.Key, b)
		}
	case "time":
		var t time.Time
		if err = json.Unmarshal(la.V, &t); err == nil {
			return slog.Time(la.Key, t)
		}
	case "group":
		return slog.Attr{Key: la.Key, Value: slog.GroupValue(decodeAttrs(la.G)...)}
	}
	return slog.String(la.Key, string(la.V))
}

// log hands a record the worker logged to Spec.Logger, with the worker's
// process id.
func (p *Process) log(ctx context.Context, l *logLine) {
	if p.spec.Logger == nil {
		return
	}
	h := p.spec.Logger.Handler()
	if !h.Enabled(ctx, l.Level) {
		return
	}
	r := slog.NewRecord(l.Time, l.Level, l.Msg, 0)
	r.AddAttrs(decodeAttrs(l.Attrs)...)
	r.AddAttrs(slog.Int("worker_pid", p.cmd.Process.Pid))
	h.Handle(ctx, r)
}

// LogHandler returns a handler for a worker's logs: a record logged with the
// context of an operation of Serve (or one derived from it), while that
// operation runs, goes to the parent as a log line, one way, and the parent
// logs it to Spec.Logger with the same time, level, message and attributes,
// plus worker_pid; any other record goes to fallback. level is the least
// level handled (the parent's logger may filter further).
func LogHandler(level slog.Leveler, fallback slog.Handler) slog.Handler {
	return &logHandler{level: level, fallback: fallback, groups: []logGroup{{}}}
}

type logHandler struct {
	level    slog.Leveler
	fallback slog.Handler
	// groups are the groups opened by WithGroup, the top level first, each
	// with the attributes added inside it by WithAttrs.
	groups []logGroup
}

type logGroup struct {
	name  string
	attrs []slog.Attr
}

func (h *logHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *logHandler) clone() *logHandler {
	c := *h
	c.groups = slices.Clone(h.groups)
	return &c
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	c := h.clone()
	g := &c.groups[len(c.groups)-1]
	g.attrs = append(slices.Clip(g.attrs), as...)
	c.fallback = h.fallback.WithAttrs(as)
	return c
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := h.clone()
	c.groups = append(c.groups, logGroup{name: name})
	c.fallback = h.fallback.WithGroup(name)
	return c
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	hc, _ := ctx.Value(hostKey{}).(*hostCtx)
	if hc == nil || hc.c.active.Load() != hc {
		return h.fallback.Handle(ctx, r)
	}
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	for i := len(h.groups) - 1; i >= 0; i-- {
		g := h.groups[i]
		attrs = append(slices.Clip(g.attrs), attrs...)
		if i > 0 && len(attrs) > 0 {
			attrs = []slog.Attr{{Key: g.name, Value: slog.GroupValue(attrs...)}}
		}
	}
	line := logLine{Time: r.Time, Level: r.Level, Msg: r.Message, Attrs: encodeAttrs(attrs)}
	if err := hc.c.write(struct {
		Log *logLine `json:"log"`
	}{&line}); err != nil {
		return fmt.Errorf("worker: write log line: %w", err)
	}
	return nil
}
