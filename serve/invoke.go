package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/internal/worker"
	"github.com/kspbench/kspbench/plugin"
)

// statusClientClosed is the status logged and counted for a request whose
// client went away before the answer (nginx's 499); the client never sees it.
const statusClientClosed = 499

// hiddenHeaders are request headers never passed to a plugin: credentials
// meant for the host (the management token among them) are not the plugin's
// to read. Canonical forms, as http.Header keys them.
var hiddenHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie"}

// Response header values shared by every answer; never modified.
var (
	headerJSON    = []string{"application/json"}
	headerNosniff = []string{"nosniff"}
)

// servePlugin serves /api/plugins/<name>/<route>: it finds the loaded
// plugin and its route, reads the body under the size limit, waits for an
// instance (up to the queue's bounds), and calls the handler under the call
// deadline. The guest's answer is sent as application/json with the status
// the guest set (200 by default).
func (s *Server) servePlugin(w http.ResponseWriter, r *http.Request, name, path string) {
	rec := recorderOf(w)
	rec.route = labelNoRoute // until a route matches

	e, held := s.reg.use(name)
	if !held {
		rec.plugin = labelUnknownPlugin
		err := fmt.Errorf("no plugin named %q", name)
		if e != nil {
			rec.plugin = name // a known name: a bounded label value
			err = fmt.Errorf("plugin %s is %s", name, e.state)
			if e.state == stateFailed {
				err = fmt.Errorf("plugin %s failed to load: %s", name, s.relErr(e.err))
			}
		}
		s.fail(w, r, http.StatusNotFound, kindNoPlugin, err)
		return
	}
	defer e.calls.Done()
	rec.plugin = name

	route, err := e.plugin.Route(r.Method, path)
	var mna *plugin.MethodNotAllowedError
	switch {
	case errors.As(err, &mna):
		rec.route = mna.Path
		w.Header().Set("Allow", strings.Join(mna.Allow, ", "))
		s.fail(w, r, http.StatusMethodNotAllowed, kindMethod, err)
		return
	case err != nil:
		s.fail(w, r, http.StatusNotFound, kindNoRoute, fmt.Errorf("plugin %s has no route %s", name, path))
		return
	}
	rec.route = route.Path

	limit := s.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		s.fail(w, r, http.StatusRequestEntityTooLarge, kindTooLarge,
			fmt.Errorf("request body of %d bytes is over the limit of %d", r.ContentLength, limit))
		return
	}
	body, reserved, err := s.bodies.readBody(http.MaxBytesReader(w, r.Body, limit), r.ContentLength, limit)
	defer s.bodies.give(reserved)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			s.fail(w, r, http.StatusRequestEntityTooLarge, kindTooLarge,
				fmt.Errorf("request body is over the limit of %d bytes", limit))
		case errors.Is(err, errBodyBudget):
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Connection", "close") // the unread body is not worth draining
			s.fail(w, r, http.StatusServiceUnavailable, kindBodyBudget,
				fmt.Errorf("%w (%d bytes for all requests): retry later", err, s.cfg.MaxBodyBytesInFlight))
		case isTimeout(err):
			w.Header().Set("Connection", "close")
			s.fail(w, r, http.StatusRequestTimeout, kindBodyTimeout,
				fmt.Errorf("the request body did not arrive within the read timeout of %s", s.cfg.Conn.ReadTimeout))
		default:
			s.fail(w, r, http.StatusBadRequest, kindBadRequest, fmt.Errorf("reading the request body: %w", err))
		}
		return
	}

	if err := e.gate.enter(r.Context()); err != nil {
		switch {
		case errors.Is(err, errQueueFull):
			w.Header().Set("Retry-After", "1")
			s.fail(w, r, http.StatusServiceUnavailable, kindQueueFull, fmt.Errorf("plugin %s: %w", name, err))
		case errors.Is(err, errQueueTimeout):
			w.Header().Set("Retry-After", "1")
			s.fail(w, r, http.StatusServiceUnavailable, kindQueueTimeout,
				fmt.Errorf("plugin %s: %w (%s)", name, err, s.cfg.QueueTimeout))
		default:
			s.fail(w, r, statusClientClosed, kindCanceled, err)
		}
		return
	}
	defer e.gate.leave()

	// The plugin reads the headers (host_request_info) and never writes
	// them: they are copied only to remove the ones it must not see.
	headers := r.Header
	for _, h := range hiddenHeaders {
		if _, ok := headers[h]; ok {
			headers = r.Header.Clone()
			for _, h := range hiddenHeaders {
				delete(headers, h)
			}
			break
		}
	}
	resp, err := e.plugin.Handle(r.Context(), &abi.Request{
		Method: r.Method, Path: path, Query: r.URL.Query(), Headers: headers, Body: body,
	})
	if err != nil {
		code, kind := classify(r.Context(), err)
		if be := (*backoffError)(nil); errors.As(err, &be) {
			// Whole seconds, rounded up: a client that comes back then
			// finds a slot that may try again.
			w.Header().Set("Retry-After", strconv.Itoa(int((be.retryAfter+time.Second-1)/time.Second)))
		}
		if _, isolated := e.plugin.(*procBackend); kind == kindDeadline && !s.interrupts && !isolated {
			err = fmt.Errorf("%w (engine %s cannot interrupt a call: a guest past its deadline runs on and holds its instance until it returns; GET %s shows how many are held so)",
				err, s.info.Name, pluginPrefix)
		}
		s.fail(w, r, code, kind, err)
		return
	}
	if resp.Status < 200 {
		s.fail(w, r, http.StatusBadGateway, kindGuestStatus, fmt.Errorf(
			"plugin %s set the informational status %d, which cannot end a response", name, resp.Status))
		return
	}
	// The header values are shared by every answer (net/http only reads
	// them), and the keys already canonical: no allocation, no
	// canonicalisation.
	h := w.Header()
	if len(resp.Body) > 0 {
		h["Content-Type"] = headerJSON // ABI.md §3: v1 responses are JSON
	}
	h["X-Content-Type-Options"] = headerNosniff
	h["X-Kspbench-Engine"] = s.engineHeader
	w.WriteHeader(resp.Status)
	w.Write(resp.Body)
}

// classify maps a failed handler call to an HTTP status and an error kind.
func classify(ctx context.Context, err error) (int, string) {
	var se *abi.StatusError
	var re *remoteError
	var died *worker.DiedError
	var be *backoffError
	switch {
	case errors.As(err, &be):
		return http.StatusServiceUnavailable, kindWorkerBackoff
	case errors.As(err, &re):
		return re.code, re.kind
	case errors.As(err, &died) && died.Killed:
		return http.StatusGatewayTimeout, kindDeadline
	case errors.As(err, &died):
		return http.StatusBadGateway, kindWorkerDied
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, kindDeadline
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return statusClientClosed, kindCanceled
	case errors.Is(err, abi.ErrOutOfBounds):
		return http.StatusBadGateway, kindOutOfBounds
	case errors.Is(err, abi.ErrReentry):
		return http.StatusBadGateway, kindReentry
	case errors.Is(err, abi.ErrAllocate):
		return http.StatusBadGateway, kindAllocate
	case errors.As(err, &se):
		return abi.HTTPStatus(se.Status), kindGuestStatus
	case errors.Is(err, abi.ErrTooLarge):
		return http.StatusBadGateway, kindResponseTooLarge // the request's size was checked before the call
	case errors.Is(err, engines.ErrTrap):
		return http.StatusBadGateway, kindTrap
	case errors.Is(err, engines.ErrInstantiate):
		return http.StatusBadGateway, kindInstantiate
	}
	return http.StatusInternalServerError, kindInternal
}
