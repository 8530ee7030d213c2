package serve

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kspbench/kspbench/plugindir"
)

// adminResult is the answer of a management operation that succeeded.
type adminResult struct {
	Status  string       `json:"status"`
	Message string       `json:"message"`
	Plugin  *PluginInfo  `json:"plugin,omitempty"`
	Added   []PluginInfo `json:"added,omitempty"`
}

// admin guards a management handler with the bearer token. Without a
// configured token management is off: it is never open by default.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Token == "" {
			s.fail(w, r, http.StatusForbidden, kindForbidden, errors.New(
				"plugin management is disabled: start kspbench serve with --token TOKEN (or the environment variable KSPBENCH_TOKEN) to enable it"))
			return
		}
		auth := r.Header.Get("Authorization")
		scheme, token, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kspbench"`)
			s.fail(w, r, http.StatusUnauthorized, kindUnauthorized,
				errors.New("plugin management needs the header Authorization: Bearer <token>"))
			return
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.Token)) != 1 {
			s.fail(w, r, http.StatusForbidden, kindForbidden, errors.New("wrong token"))
			return
		}
		// Management compiles plugins (a rescan, all the new ones), which
		// can outlast WriteTimeout; the token holder gets longer. (Not
		// supported outside Serve: ignored.)
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.Conn.UploadTimeout + s.cfg.Conn.WriteTimeout))
		h(w, r)
	}
}

// install serves POST /api/admin/plugins/install: the body is a .tar.gz as
// `make package` writes it (plugin.yml and the wasm at the archive's root,
// optionally a frontend/ folder), sent as is or as the first file of a
// multipart form. The archive is unpacked into a temporary folder inside the
// plugins folder, checked and compiled there, and only then renamed to
// <plugins>/<name>: a refused archive leaves nothing behind. With
// ?replace=true an installed plugin of the same name is replaced (its
// requests in flight finish on the old version).
func (s *Server) install(w http.ResponseWriter, r *http.Request) {
	// Archives are larger than plugin bodies: the upload gets UploadTimeout
	// instead of ReadTimeout (admin set the write deadline past it).
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.Conn.UploadTimeout))
	replace, _ := strconv.ParseBool(r.URL.Query().Get("replace"))
	limit := s.cfg.MaxUploadBytes
	if r.ContentLength > limit {
		s.fail(w, r, http.StatusRequestEntityTooLarge, kindTooLarge,
			fmt.Errorf("archive of %d bytes is over the upload limit of %d", r.ContentLength, limit))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	src, err := uploadedFile(r)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, kindBadArchive, err)
		return
	}

	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	tmp, err := os.MkdirTemp(s.dir, installPrefix)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, kindInternal, fmt.Errorf("install: %w", err))
		return
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(tmp)
		}
	}()
	if err := extractArchive(src, tmp, s.cfg.Archive); err != nil {
		var ae *archiveError
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			s.fail(w, r, http.StatusRequestEntityTooLarge, kindTooLarge,
				fmt.Errorf("archive is over the upload limit of %d bytes", limit))
		case errors.As(err, &ae):
			s.fail(w, r, http.StatusBadRequest, kindBadArchive, err)
		case isTimeout(err):
			w.Header().Set("Connection", "close")
			s.fail(w, r, http.StatusRequestTimeout, kindBodyTimeout,
				fmt.Errorf("the archive did not arrive within the upload timeout of %s", s.cfg.Conn.UploadTimeout))
		default:
			s.fail(w, r, http.StatusInternalServerError, kindInternal, fmt.Errorf("install: %w", err))
		}
		return
	}
	f, err := plugindir.Read(tmp)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, kindBadPlugin, fmt.Errorf(
			"not a plugin (plugin.yml and the wasm it names must be at the archive's root, as make package lays them out): %s",
			strings.ReplaceAll(s.relErr(err), filepath.Base(tmp)+string(filepath.Separator), "")))
		return
	}
	name := f.Manifest.Metadata.Name
	dest := filepath.Join(s.dir, name)
	old := s.reg.get(name)
	if old != nil && !replace {
		s.fail(w, r, http.StatusConflict, kindConflict, fmt.Errorf(
			"plugin %s is already installed (folder %s); add ?replace=true to replace it", name, old.folder))
		return
	}
	if _, err := os.Lstat(dest); err == nil && (old == nil || old.dir != dest) {
		s.fail(w, r, http.StatusConflict, kindConflict, fmt.Errorf(
			"the plugins folder already holds a folder %s that is not plugin %s; remove it first (DELETE %s/%s)",
			name, name, adminPrefix, name))
		return
	}
	e := s.compile(r.Context(), f)
	if e.state != stateLoaded {
		s.fail(w, r, http.StatusBadRequest, kindBadPlugin, fmt.Errorf("plugin %s does not load: %s", name, s.relErr(e.err)))
		return
	}

	var trash string
	if old != nil {
		trash = filepath.Join(s.dir, trashPrefix+strconv.FormatInt(time.Now().UnixNano(), 36))
		if err := os.Rename(old.dir, trash); err != nil {
			e.plugin.Close(r.Context())
			s.fail(w, r, http.StatusInternalServerError, kindInternal, fmt.Errorf("install: set the old version aside: %w", err))
			return
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		if trash != "" {
			os.Rename(trash, old.dir)
		}
		e.plugin.Close(r.Context())
		s.fail(w, r, http.StatusInternalServerError, kindInternal, fmt.Errorf("install: %w", err))
		return
	}
	committed = true
	e.dir, e.folder = dest, name
	if err := s.setDisabled(r.Context(), name, false); err != nil {
		s.log.Warn("install: cannot clear the plugin's disabled mark", "plugin", name, "error", err)
	}
	s.retire(s.reg.put(e))
	if trash != "" {
		if err := os.RemoveAll(trash); err != nil {
			s.log.Warn("install: cannot delete the replaced version's folder", "folder", filepath.Base(trash), "error", err)
		}
	}
	verb := "installed"
	if old != nil {
		verb = "replaced"
	}
	s.log.Info("plugin "+verb, "plugin", name, "version", f.Manifest.Metadata.Version, "folder", name)
	info := s.pluginInfo(e)
	writeJSON(w, http.StatusCreated, adminResult{Status: "success", Message: fmt.Sprintf("plugin %s %s", name, verb), Plugin: &info})
}

// uploadedFile returns the archive of an install request: the body itself,
// or the first file part of a multipart/form-data body (as browsers and the
// reference host's UI upload it).
func uploadedFile(r *http.Request) (io.Reader, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return r.Body, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("multipart body: %w", err)
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, fmt.Errorf("multipart body without a file part: %w", err)
		}
		if part.FileName() != "" {
			return part, nil
		}
	}
}

// action serves POST /api/admin/plugins/<name>/{enable,disable,reload}.
func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	name, action := r.PathValue("name"), r.PathValue("action")
	switch action {
	case "enable", "disable", "reload":
	default:
		s.fail(w, r, http.StatusNotFound, kindNoRoute, fmt.Errorf("no management action %q (enable, disable, reload)", action))
		return
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	e := s.reg.get(name)
	if e == nil {
		s.fail(w, r, http.StatusNotFound, kindNoPlugin, fmt.Errorf("no plugin named %q", name))
		return
	}
	ctx := r.Context()
	switch action {
	case "disable":
		if e.state == stateDisabled {
			s.answer(w, http.StatusOK, e, "plugin %s was already disabled", name)
			return
		}
		if err := s.setDisabled(ctx, name, true); err != nil {
			s.fail(w, r, http.StatusInternalServerError, kindInternal, fmt.Errorf("disable: %w", err))
			return
		}
		ne := &entry{name: name, folder: e.folder, dir: e.dir, manifest: e.manifest, state: stateDisabled, since: time.Now()}
		s.retire(s.reg.put(ne))
		s.log.Info("plugin disabled: routes removed", "plugin", name)
		s.answer(w, http.StatusOK, ne, "plugin %s disabled: its routes are gone until it is enabled", name)

	case "enable":
		if e.state == stateLoaded {
			s.answer(w, http.StatusOK, e, "plugin %s was already enabled", name)
			return
		}
		if err := s.setDisabled(ctx, name, false); err != nil {
			s.fail(w, r, http.StatusInternalServerError, kindInternal, fmt.Errorf("enable: %w", err))
			return
		}
		ne, err := s.reread(ctx, e)
		if err != nil {
			s.fail(w, r, http.StatusUnprocessableEntity, kindBadPlugin, fmt.Errorf("enable: %s", s.relErr(err)))
			return
		}
		s.retire(s.reg.put(ne))
		if ne.state != stateLoaded {
			s.fail(w, r, http.StatusUnprocessableEntity, kindBadPlugin, fmt.Errorf("enable: plugin %s does not load: %s", name, s.relErr(ne.err)))
			return
		}
		s.answer(w, http.StatusOK, ne, "plugin %s enabled", name)

	case "reload":
		if e.state == stateDisabled {
			s.fail(w, r, http.StatusConflict, kindConflict, fmt.Errorf("plugin %s is disabled: enable it, which reads its folder afresh", name))
			return
		}
		ne, err := s.reread(ctx, e)
		if err != nil {
			s.fail(w, r, http.StatusUnprocessableEntity, kindBadPlugin, fmt.Errorf("reload: %s", s.relErr(err)))
			return
		}
		if ne.state != stateLoaded {
			if e.state == stateLoaded {
				s.fail(w, r, http.StatusUnprocessableEntity, kindBadPlugin, fmt.Errorf(
					"reload: plugin %s does not load, so the running version keeps serving: %s", name, s.relErr(ne.err)))
				return
			}
			s.reg.put(ne)
			s.fail(w, r, http.StatusUnprocessableEntity, kindBadPlugin, fmt.Errorf("reload: plugin %s does not load: %s", name, s.relErr(ne.err)))
			return
		}
		s.retire(s.reg.put(ne))
		s.log.Info("plugin reloaded", "plugin", name)
		s.answer(w, http.StatusOK, ne, "plugin %s reloaded; requests in flight finish on the previous version", name)
	}
}

// reread reads e's folder again and compiles it, without publishing the
// result. It refuses a folder whose manifest now names another plugin.
func (s *Server) reread(ctx context.Context, e *entry) (*entry, error) {
	f, err := plugindir.Read(e.dir)
	if err != nil {
		return nil, err
	}
	if got := f.Manifest.Metadata.Name; got != e.name {
		return nil, fmt.Errorf("folder %s now declares plugin %q instead of %q: uninstall %s and install the new one", e.folder, got, e.name, e.name)
	}
	return s.compile(ctx, f), nil
}

// rescan serves POST /api/admin/plugins/rescan: folders added to the plugins
// folder by hand since the start are loaded, and folders that failed for
// want of a usable name are tried again.
func (s *Server) rescan(w http.ResponseWriter, r *http.Request) {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	res := adminResult{Status: "success", Added: []PluginInfo{}}
	for _, e := range s.discover(r.Context()) {
		res.Added = append(res.Added, s.pluginInfo(e))
	}
	res.Message = fmt.Sprintf("%d folder(s) loaded or retried", len(res.Added))
	writeJSON(w, http.StatusOK, res)
}

// uninstall serves DELETE /api/admin/plugins/<name>: the routes are gone at
// once, the folder is deleted, and the plugin is closed once its requests in
// flight end. <name> may also be the folder of a plugin that failed to load.
// The plugin's stored data is kept, so a reinstall finds it.
func (s *Server) uninstall(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	e := s.reg.remove(name)
	if e == nil {
		e = s.reg.removeBroken(name)
	}
	if e == nil {
		s.fail(w, r, http.StatusNotFound, kindNoPlugin, fmt.Errorf("no plugin or plugin folder named %q", name))
		return
	}
	s.retire(e)
	trash := filepath.Join(s.dir, trashPrefix+strconv.FormatInt(time.Now().UnixNano(), 36))
	var err error
	if err = os.Rename(e.dir, trash); err == nil {
		err = os.RemoveAll(trash)
	} else {
		err = os.RemoveAll(e.dir)
	}
	if e.name != "" {
		if derr := s.setDisabled(r.Context(), e.name, false); derr != nil {
			s.log.Warn("uninstall: cannot clear the plugin's disabled mark", "plugin", e.name, "error", derr)
		}
	}
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, kindInternal, fmt.Errorf("uninstall %s: routes removed, but the folder was not deleted: %w", name, err))
		return
	}
	s.log.Info("plugin uninstalled: routes removed, folder deleted", "plugin", e.name, "folder", e.folder)
	info := s.pluginInfo(e)
	writeJSON(w, http.StatusOK, adminResult{Status: "success", Plugin: &info,
		Message: fmt.Sprintf("plugin %s uninstalled: routes removed, folder deleted; its stored data is kept", name)})
}

// answer writes a management success with the plugin's description.
func (s *Server) answer(w http.ResponseWriter, code int, e *entry, format string, args ...any) {
	info := s.pluginInfo(e)
	writeJSON(w, code, adminResult{Status: "success", Message: fmt.Sprintf(format, args...), Plugin: &info})
}
