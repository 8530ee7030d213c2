package serve

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Label values for requests that match no plugin or no route: neither is a
// DNS label, so neither can be a plugin's name, and an unknown name sent by a
// client never becomes a label value (which would let clients grow the
// metrics without bound).
const (
	labelUnknownPlugin = "(unknown)"
	labelNoRoute       = "(none)"
)

// Error kinds, the kind label of kspbench_errors_total and the kind field of
// JSON errors and request log lines.
const (
	kindNoPlugin         = "no_plugin"          // 404: no loaded plugin of that name
	kindNoRoute          = "no_route"           // 404: the plugin has no such route
	kindMethod           = "method_not_allowed" // 405
	kindTooLarge         = "too_large"          // 413: request body past the limit
	kindQueueFull        = "queue_full"         // 503: every instance busy and the queue full
	kindQueueTimeout     = "queue_timeout"      // 503: waited past the queue timeout
	kindDeadline         = "deadline"           // 504: the call overran its deadline
	kindTrap             = "trap"               // 502: the guest trapped
	kindOutOfBounds      = "oob"                // 502: the guest answered out of bounds
	kindAllocate         = "allocate"           // 502: the guest's allocate failed
	kindReentry          = "reentry"            // 502: host imports nested too deeply inside allocate
	kindGuestStatus      = "guest_status"       // 502: the handler answered a status without a body
	kindResponseTooLarge = "response_too_large" // 502: the handler's answer is past the limit
	kindInstantiate      = "instantiate"        // 502: no instance could be made
	kindWorkerDied       = "worker_died"        // 502: the plugin's worker process died (--isolation process)
	kindWorkerBackoff    = "worker_backoff"     // 503: the plugin's workers fail to start or load and back off (--isolation process)
	kindCanceled         = "canceled"           // 499: the client went away
	kindBadRequest       = "bad_request"        // 400: the request could not be read
	kindBodyTimeout      = "body_timeout"       // 408: the body did not arrive within the read timeout
	kindBodyBudget       = "body_budget"        // 503: request bodies in flight hold too many bytes
	kindBadArchive       = "bad_archive"        // 400: an uploaded archive refused
	kindBadPlugin        = "bad_plugin"         // 400 or 422: a plugin folder that does not load
	kindConflict         = "conflict"           // 409
	kindUnauthorized     = "unauthorized"       // 401: management without a token
	kindForbidden        = "forbidden"          // 403: a wrong token, or management disabled
	kindInternal         = "internal"           // 500
	kindPanic            = "panic"              // 500: a bug of the server, recovered
)

// metrics holds the server's Prometheus collectors, in a registry of its own
// (never the global one, so that two servers in one process, as in tests, do
// not collide).
type metrics struct {
	engine      string
	reg         *prometheus.Registry
	requestsVec *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	errorsVec   *prometheus.CounterVec
	routes      sync.Map // routeKey -> *routeMetrics
}

func newMetrics(engine string, pools func() []poolSample) *metrics {
	m := &metrics{
		engine: engine,
		reg:    prometheus.NewRegistry(),
		requestsVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kspbench_http_requests_total",
			Help: "HTTP requests served, by engine, plugin (empty for the host's own endpoints), manifest route, method and status code.",
		}, []string{"engine", "plugin", "route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kspbench_http_request_duration_seconds",
			Help:    "Time from the request's arrival to the end of its answer, queueing included.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"engine", "plugin", "route"}),
		errorsVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kspbench_errors_total",
			Help: "Requests that failed, by kind: no_plugin, no_route, method_not_allowed, too_large, queue_full, queue_timeout, deadline, trap, oob, allocate, reentry, guest_status, response_too_large, instantiate, canceled, bad_request, body_timeout, body_budget, bad_archive, bad_plugin, conflict, unauthorized, forbidden, internal, panic.",
		}, []string{"engine", "plugin", "kind"}),
	}
	m.reg.MustRegister(m.requestsVec, m.duration, m.errorsVec,
		&poolCollector{engine: engine, samples: pools},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// observe records one finished request.
func (m *metrics) observe(plugin, route, method string, code int, kind string, d time.Duration) {
	rm := m.route(plugin, route)
	rm.duration.Observe(d.Seconds())
	rm.requests(m, methodLabel(method), code).Inc()
	if kind != "" {
		rm.errors(m, kind).Inc()
	}
}

// routeKey names the series of one route of one plugin (or one endpoint of
// the host's: plugin "").
type routeKey struct{ plugin, route string }

// routeMetrics holds the collectors of one route, bound to their label
// values once: WithLabelValues hashes and checks every label value on every
// call, which cost more than the rest of the metrics together.
type routeMetrics struct {
	key      routeKey
	duration prometheus.Observer
	mu       sync.Mutex // serialises additions to the lists below
	codes    atomic.Pointer[[]codeCounter]
	kinds    atomic.Pointer[[]kindCounter]
}

type codeCounter struct {
	method string
	code   int
	c      prometheus.Counter
}

type kindCounter struct {
	kind string
	c    prometheus.Counter
}

func (m *metrics) route(plugin, route string) *routeMetrics {
	k := routeKey{plugin, route}
	if rm, ok := m.routes.Load(k); ok {
		return rm.(*routeMetrics)
	}
	rm, _ := m.routes.LoadOrStore(k, &routeMetrics{key: k, duration: m.duration.WithLabelValues(m.engine, plugin, route)})
	return rm.(*routeMetrics)
}

// requests returns the request counter of method and code. The lists are
// short (the methods and codes a route answers) and read without a lock.
func (rm *routeMetrics) requests(m *metrics, method string, code int) prometheus.Counter {
	if l := rm.codes.Load(); l != nil {
		for _, c := range *l {
			if c.code == code && c.method == method {
				return c.c
			}
		}
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	var l []codeCounter
	if p := rm.codes.Load(); p != nil {
		l = *p
	}
	for _, c := range l {
		if c.code == code && c.method == method {
			return c.c
		}
	}
	c := m.requestsVec.WithLabelValues(m.engine, rm.key.plugin, rm.key.route, method, strconv.Itoa(code))
	l = append(slices.Clip(l), codeCounter{method, code, c})
	rm.codes.Store(&l)
	return c
}

// errors returns the error counter of kind (a series per plugin and kind;
// each route keeps its own handle on it).
func (rm *routeMetrics) errors(m *metrics, kind string) prometheus.Counter {
	if l := rm.kinds.Load(); l != nil {
		for _, c := range *l {
			if c.kind == kind {
				return c.c
			}
		}
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	var l []kindCounter
	if p := rm.kinds.Load(); p != nil {
		l = *p
	}
	for _, c := range l {
		if c.kind == kind {
			return c.c
		}
	}
	c := m.errorsVec.WithLabelValues(m.engine, rm.key.plugin, kind)
	l = append(slices.Clip(l), kindCounter{kind, c})
	rm.kinds.Store(&l)
	return c
}

// methodLabel bounds the method label to the methods HTTP names.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodHead, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// poolSample is one plugin's pool and queue at a scrape.
type poolSample struct {
	plugin                             string
	state                              string
	idle, inFlight, created, discarded int
	max, waiting, abandoned            int
	logDropped                         int64
	// Process isolation only.
	isolated                bool
	kills, restarts, deaths int64
}

// poolCollector reads the pools of the plugins loaded at scrape time, so that
// plugins installed, reloaded or removed need no registration. Created and
// discarded are counters of the plugin's current pool: a reload starts a new
// pool, which Prometheus sees as a counter reset.
type poolCollector struct {
	engine  string
	samples func() []poolSample
}

var (
	descInstances = prometheus.NewDesc("kspbench_pool_instances",
		"Instances of a plugin's pool, by state: idle (ready for a call) or in_flight (serving one).",
		[]string{"engine", "plugin", "state"}, nil)
	descMax = prometheus.NewDesc("kspbench_pool_max_instances",
		"The bound on a plugin's instances and calls in flight.", []string{"engine", "plugin"}, nil)
	descCreated = prometheus.NewDesc("kspbench_pool_instances_created_total",
		"Instances the plugin's current pool created.", []string{"engine", "plugin"}, nil)
	descDiscarded = prometheus.NewDesc("kspbench_pool_instances_discarded_total",
		"Instances the plugin's current pool discarded (after a trap, a missed deadline or an out-of-bounds answer, or at unload).",
		[]string{"engine", "plugin"}, nil)
	descAbandoned = prometheus.NewDesc("kspbench_pool_abandoned_calls",
		"Calls answered at their deadline whose guest still runs and holds an instance slot (engines that cannot interrupt a call: wasmer).",
		[]string{"engine", "plugin"}, nil)
	descWaiting = prometheus.NewDesc("kspbench_queue_waiting",
		"Requests waiting for an instance of the plugin.", []string{"engine", "plugin"}, nil)
	descWorkerKills = prometheus.NewDesc("kspbench_worker_kills_total",
		"Worker processes of a plugin killed because a call overran its deadline (--isolation process).", []string{"engine", "plugin"}, nil)
	descWorkerDeaths = prometheus.NewDesc("kspbench_worker_deaths_total",
		"Worker processes of a plugin that died during a call: a crash or a signal (--isolation process).", []string{"engine", "plugin"}, nil)
	descWorkerRestarts = prometheus.NewDesc("kspbench_worker_restarts_total",
		"Worker processes of a plugin started again after a kill or a death (--isolation process).", []string{"engine", "plugin"}, nil)
	descLogDropped = prometheus.NewDesc("kspbench_plugin_log_lines_dropped_total",
		"Log records of a plugin dropped past its rate limit (serve --plugin-log-rate, --plugin-log-burst).", []string{"engine", "plugin"}, nil)
	descPlugins = prometheus.NewDesc("kspbench_plugins",
		"Plugins known to the server, by state: loaded, failed, disabled.", []string{"engine", "state"}, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInstances, descMax, descCreated, descDiscarded, descAbandoned, descWaiting, descPlugins,
		descWorkerKills, descWorkerDeaths, descWorkerRestarts, descLogDropped} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	states := map[string]int{stateLoaded: 0, stateFailed: 0, stateDisabled: 0}
	for _, s := range c.samples() {
		states[s.state]++
		if s.state != stateLoaded {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descInstances, prometheus.GaugeValue, float64(s.idle), c.engine, s.plugin, "idle")
		ch <- prometheus.MustNewConstMetric(descInstances, prometheus.GaugeValue, float64(s.inFlight), c.engine, s.plugin, "in_flight")
		ch <- prometheus.MustNewConstMetric(descMax, prometheus.GaugeValue, float64(s.max), c.engine, s.plugin)
		ch <- prometheus.MustNewConstMetric(descCreated, prometheus.CounterValue, float64(s.created), c.engine, s.plugin)
		ch <- prometheus.MustNewConstMetric(descDiscarded, prometheus.CounterValue, float64(s.discarded), c.engine, s.plugin)
		ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(s.waiting), c.engine, s.plugin)
		ch <- prometheus.MustNewConstMetric(descAbandoned, prometheus.GaugeValue, float64(s.abandoned), c.engine, s.plugin)
		ch <- prometheus.MustNewConstMetric(descLogDropped, prometheus.CounterValue, float64(s.logDropped), c.engine, s.plugin)
		if s.isolated {
			ch <- prometheus.MustNewConstMetric(descWorkerKills, prometheus.CounterValue, float64(s.kills), c.engine, s.plugin)
			ch <- prometheus.MustNewConstMetric(descWorkerDeaths, prometheus.CounterValue, float64(s.deaths), c.engine, s.plugin)
			ch <- prometheus.MustNewConstMetric(descWorkerRestarts, prometheus.CounterValue, float64(s.restarts), c.engine, s.plugin)
		}
	}
	for state, n := range states {
		ch <- prometheus.MustNewConstMetric(descPlugins, prometheus.GaugeValue, float64(n), c.engine, state)
	}
}
