package plugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kspbench/kspbench/abi"
)

// ErrNoRoute: no route of the plugin has the request's path.
var ErrNoRoute = errors.New("no such route")

// MethodNotAllowedError: the path exists but not for the request's method.
type MethodNotAllowedError struct {
	Method string
	Path   string
	Allow  []string
}

func (e *MethodNotAllowedError) Error() string {
	return fmt.Sprintf("method %s not allowed on %s (allowed: %s)", e.Method, e.Path, strings.Join(e.Allow, ", "))
}

// Response is a handler's answer to a request.
type Response struct {
	// Status is the HTTP status the guest chose, or 200.
	Status int
	Body   []byte
}

// Route returns the route that serves method and path.
func (p *Plugin) Route(method, path string) (Route, error) {
	for _, r := range p.routes {
		if r.Path != path {
			continue
		}
		if !slices.Contains(r.Methods, method) {
			return Route{}, &MethodNotAllowedError{Method: method, Path: path, Allow: r.Methods}
		}
		return r, nil
	}
	return Route{}, fmt.Errorf("plugin[%s]: %w: %s %s", p.name, ErrNoRoute, method, path)
}

// Handle serves an HTTP-shaped request: it finds the route, passes the body to
// its handler on a pooled instance with req available to host_request_info,
// and returns the body with the status the guest set.
func (p *Plugin) Handle(ctx context.Context, req *abi.Request) (*Response, error) {
	r, err := p.Route(req.Method, req.Path)
	if err != nil {
		return nil, err
	}
	x := &abi.Exchange{Request: *req}
	x.Request.Route = r.Path
	body, err := p.Call(abi.WithExchange(ctx, x), r.Handler, req.Body)
	if err != nil {
		return nil, err
	}
	status := x.ResponseStatus
	if status == 0 {
		status = 200
	}
	return &Response{Status: status, Body: body}, nil
}
