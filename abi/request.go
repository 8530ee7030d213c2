package abi

import "context"

// Request is what a handler may learn about the HTTP request it serves, beyond
// the body it receives as its argument. The guest reads it as JSON through
// host_request_info; Body is not part of that envelope.
type Request struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Route   string              `json:"route"`
	Query   map[string][]string `json:"query"`
	Headers map[string][]string `json:"headers"`
	Body    []byte              `json:"-"`
}

// Exchange is the state of one handler call: the request it serves and the
// response status the guest chose through host_set_response_status (0 means
// the guest chose none).
type Exchange struct {
	Request        Request
	ResponseStatus int
}

type exchangeKey struct{}

// WithExchange returns a context that carries x to the host imports of the
// call made with it.
func WithExchange(ctx context.Context, x *Exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

// ExchangeFrom returns the exchange carried by ctx, or nil.
func ExchangeFrom(ctx context.Context) *Exchange {
	x, _ := ctx.Value(exchangeKey{}).(*Exchange)
	return x
}
