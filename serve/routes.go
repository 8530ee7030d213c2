package serve

import (
	"net/http"
	pathpkg "path"
	"strings"
)

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
	// Plugin routes rarely get here: pluginRoute takes the usual ones past
	// the mux. These patterns serve the others (escaped or unclean paths,
	// which the mux decodes or redirects).
	mux.HandleFunc(pluginPrefix+"/{name}/{path...}", func(w http.ResponseWriter, r *http.Request) {
		s.servePlugin(w, r, r.PathValue("name"), "/"+r.PathValue("path"))
	})
	mux.HandleFunc(pluginPrefix+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		s.servePlugin(w, r, r.PathValue("name"), "/")
	})

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
	return s.withRequestLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, path, ok := pluginRoute(r); ok {
			s.servePlugin(w, r, name, path)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// pluginRoute splits the path of a plugin request, /api/plugins/<name>/<path>,
// without the mux's pattern matching (about 2 us per request, measured with
// a constant plugin, among the largest of the server's own costs). It declines
// (ok false) what the mux treats apart, so that the answer is the same
// either way: CONNECT, a path with escapes (the mux decodes each segment
// alone), and an unclean path (the mux redirects it to the clean one).
func pluginRoute(r *http.Request) (name, path string, ok bool) {
	if r.Method == http.MethodConnect || r.URL.RawPath != "" {
		return "", "", false
	}
	rest, found := strings.CutPrefix(r.URL.Path, pluginPrefix+"/")
	if !found {
		return "", "", false
	}
	name, path, _ = strings.Cut(rest, "/")
	if name == "" || !isClean(r.URL.Path) {
		return "", "", false
	}
	return name, "/" + path, true
}

// isClean reports whether p is its own path.Clean, but for a trailing slash,
// which the mux keeps.
func isClean(p string) bool {
	if t, ok := strings.CutSuffix(p, "/"); ok && t != "" {
		p = t
	}
	return pathpkg.Clean(p) == p
}
