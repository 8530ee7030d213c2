package serve

import "net/http"

// The server's endpoints.
const (
	patternHealth  = "GET /healthz"
	patternMetrics = "GET /metrics"
	// pluginPrefix is where plugin routes are mounted, as in the KubeStellar
	// UI backend: /api/plugins/<name>/<route>.
	pluginPrefix = "/api/plugins"
	// adminPrefix is where the management API lives. It cannot live under
	// pluginPrefix: POST /api/plugins/<name>/enable would be the plugin's own
	// route /enable if its manifest declared one.
	adminPrefix = "/api/admin/plugins"
)

// routes builds the server's handler:
//
//	GET    /healthz                               health, engine, Kubernetes backend, plugin counts
//	GET    /metrics                               Prometheus metrics
//	GET    /api/plugins                           the plugin listing (public, read-only; no file paths)
//	ANY    /api/plugins/<name>/<route>            the plugin's manifest routes
//	GET    /api/admin/plugins                     the listing with the storage file's path, behind the token
//	POST   /api/admin/plugins/install             install a .tar.gz (?replace=true to upgrade)
//	POST   /api/admin/plugins/rescan              load folders added to the plugins folder by hand
//	POST   /api/admin/plugins/<name>/enable       load a disabled plugin
//	POST   /api/admin/plugins/<name>/disable      unload it and remember that it is off
//	POST   /api/admin/plugins/<name>/reload       re-read its folder, compile, swap
//	DELETE /api/admin/plugins/<name>              unload it and delete its folder
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(patternHealth, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.health())
	})
	mux.Handle(patternMetrics, s.metrics.handler())
	mux.HandleFunc("GET "+pluginPrefix, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.listing(false))
	})
	mux.HandleFunc(pluginPrefix+"/{name}/{path...}", s.servePlugin)
	mux.HandleFunc(pluginPrefix+"/{name}", s.servePlugin)

	mux.HandleFunc("GET "+adminPrefix, s.admin(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.listing(true))
	}))
	mux.HandleFunc("POST "+adminPrefix+"/install", s.admin(s.install))
	mux.HandleFunc("POST "+adminPrefix+"/rescan", s.admin(s.rescan))
	mux.HandleFunc("POST "+adminPrefix+"/{name}/{action}", s.admin(s.action))
	mux.HandleFunc("DELETE "+adminPrefix+"/{name}", s.admin(s.uninstall))

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, kindNoRoute, errNotFound)
	})
	return s.withRequestLog(mux)
}
