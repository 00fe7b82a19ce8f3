// Package web is Sprocket's web interface, served by `sprocket serve` at
// "/": server-rendered html/template pages enhanced with htmx, and one
// bundled CodeMirror asset for the task editor (built by editor/build.mjs
// and committed under static/). It signs a browser in with the admin token
// or an API token, keeps the session in an HttpOnly, SameSite=Strict cookie
// and requires a CSRF token on every state change. Handlers use the
// service's Go APIs (store, previewer, vault) directly.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Service is what the interface needs of the running service;
// *server.Service implements it.
type Service interface {
	Store() store.Store
	CheckToken(token string) bool
	Wake()
	Location() *time.Location
	Retention() time.Duration
	Previewer() server.Previewer
	Vault() *server.Vault
	SettingsChanged()
	PutSecret(ctx context.Context, key, value string) (store.Setting, error)
	CreateWebhook(ctx context.Context, f server.WebhookFields) (store.Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
	ListAPITokens(ctx context.Context) ([]server.APIToken, error)
	CreateAPIToken(ctx context.Context, name string) (server.APIToken, string, error)
	RevokeAPIToken(ctx context.Context, id string) error
	SetTaskEnabled(ctx context.Context, id string, on bool) (store.Task, []server.TaskProblem, error)
	ShopConnection(ctx context.Context) (map[string]any, error)
	ConnectShop(ctx context.Context, shop, accessToken string) error
	DisconnectShop(ctx context.Context) error
	EmailTemplates(ctx context.Context) ([]server.EmailTemplate, error)
	PutEmailTemplate(ctx context.Context, name, body string) error
	DeleteEmailTemplate(ctx context.Context, name string) error
	FolderManaged(id string) (source string, ok bool)
	ShopifyReads(calls int) (dialect.GraphQLClient, func(ctx context.Context, version string) run.LiveObjects)
	OAuthConnections(ctx context.Context) ([]server.OAuthConnection, error)
	ConnectOAuth(ctx context.Context, provider, account, publicURL string) (string, error)
	DisconnectOAuth(ctx context.Context, provider, account string) error
}

// DefaultSessionTTL is how long a sign-in lasts.
const DefaultSessionTTL = 12 * time.Hour

// LibraryDirEnv names the environment variable of the task library directory.
const LibraryDirEnv = "SPROCKET_LIBRARY_DIR"

// Options configure the interface.
type Options struct {
	// LibraryDir holds the Mechanic task library (*.json); "" means
	// $SPROCKET_LIBRARY_DIR, else DefaultLibraryDir() when it exists.
	LibraryDir string
	// SessionTTL is how long a sign-in lasts; zero means DefaultSessionTTL.
	SessionTTL time.Duration
	// SecureCookies forces the Secure cookie flag even for plain HTTP on loopback.
	SecureCookies bool
	// PlainHTTPCookies drops the Secure flag for plain HTTP from any
	// address (browsers ignore Secure cookies sent over plain HTTP, except
	// to localhost); only for trusted networks.
	PlainHTTPCookies bool
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Logger receives errors; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultLibraryDir is the task library beside the working directory's
// repository: ../shared/corpus/mechanic-tasks/tasks.
func DefaultLibraryDir() string {
	return filepath.Join("..", "shared", "corpus", "mechanic-tasks", "tasks")
}

// Factory returns the server.UIFactory that mounts the interface.
func Factory(o Options) server.UIFactory {
	return func(s *server.Service) (http.Handler, error) { return New(s, o) }
}

// UI is the web interface's handler.
type UI struct {
	svc      Service
	st       store.Store
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	sess     *sessions
	limit    *throttle
	pages    map[string]*template.Template
	mux      *http.ServeMux
	lib      *library
	eng      *liquid.Engine
	parsed   *taskCache
	complete []byte // editor completion JSON (tags, filters, variables)
	assets   *assets
	act      activityCache
	// activityTTL is how long an activity summary is reused.
	activityTTL time.Duration
}

// New builds the interface on svc.
func New(svc Service, o Options) (*UI, error) {
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LibraryDir == "" {
		o.LibraryDir = os.Getenv(LibraryDirEnv)
	}
	if o.LibraryDir == "" {
		if st, err := os.Stat(DefaultLibraryDir()); err == nil && st.IsDir() {
			o.LibraryDir = DefaultLibraryDir()
		}
	}
	var err error
	u := &UI{
		svc: svc, st: svc.Store(), opts: o, log: o.Logger, now: o.Now,
		sess:   newSessions(o.SessionTTL, o.Now),
		limit:  &throttle{now: o.Now},
		eng:    dialect.NewEngine(dialect.Options{}),
		parsed: newTaskCache(4096), activityTTL: activityTTL,
	}
	if u.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	pages, err := parsePages(u.assets.url, svc.Location())
	if err != nil {
		return nil, err
	}
	u.pages = pages
	u.lib = newLibrary(o.LibraryDir)
	u.complete = completions(u.eng)
	u.routes()
	return u, nil
}

// ServeHTTP implements http.Handler.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	u.mux.ServeHTTP(w, r)
}

// handler is a page handler with its session.
type handler func(w http.ResponseWriter, r *http.Request, s *session)

func (u *UI) routes() {
	m := http.NewServeMux()
	m.Handle("GET /static/", u.assets)
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	m.HandleFunc("GET /signin", u.signinPage)
	m.HandleFunc("POST /signin", u.signin)
	m.Handle("POST /signout", u.auth(u.signout))
	get := func(p string, h handler) { m.Handle("GET "+p, u.auth(h)) }
	post := func(p string, h handler) { m.Handle("POST "+p, u.auth(h)) }

	get("/{$}", u.home)
	post("/tasks/bulk", u.bulkTasks)
	post("/tasks/{id}/enable", u.enableTask(true))
	post("/tasks/{id}/disable", u.enableTask(false))
	get("/tasks/new", u.newTask)
	post("/tasks/new", u.createTask)
	get("/tasks/import", u.importPage)
	post("/tasks/import", u.importTask)
	get("/tasks/{id}", u.editTask)
	post("/tasks/{id}", u.saveTask)
	post("/tasks/{id}/preview", u.previewTask)
	post("/tasks/preview", u.previewTask)
	get("/tasks/{id}/export", u.exportTask)
	post("/tasks/{id}/duplicate", u.duplicateTask)
	post("/tasks/{id}/delete", u.deleteTask)
	get("/tasks/{id}/versions", u.versionsPage)
	post("/tasks/{id}/versions/{version}/restore", u.restoreVersion)
	post("/tasks/{id}/run", u.runTask)

	get("/library", u.libraryPage)
	get("/library/{slug}", u.libraryTask)
	post("/library/{slug}", u.installLibraryTask)

	get("/events", u.eventsPage)
	get("/events/{id}", u.eventPage)
	get("/events/{id}/export", u.exportEvent)
	post("/events/{id}/cancel", u.cancelEvent)
	post("/runs/{id}/retry", u.retryRun)
	get("/activity", u.activityPage)

	get("/console", u.consolePage)
	post("/console", u.consoleEval)

	get("/settings", u.settingsPage)
	post("/settings/webhooks", u.createWebhook)
	post("/settings/webhooks/{id}/delete", u.deleteWebhook)
	post("/settings/globals", u.putGlobal)
	post("/settings/globals/{key}/delete", u.deleteSetting(store.SettingGlobal, "global"))
	post("/settings/secrets", u.putSecret)
	post("/settings/secrets/{key}/delete", u.deleteSetting(store.SettingSecret, "secret"))
	post("/settings/event_filters", u.putEventFilter)
	post("/settings/event_filters/{key}/delete", u.deleteSetting(store.SettingEventFilter, "event filter"))
	post("/settings/cache_endpoints", u.createCacheEndpoint)
	post("/settings/cache_endpoints/{id}/delete", u.deleteCacheEndpoint)
	post("/settings/api_tokens", u.createAPIToken)
	post("/settings/api_tokens/{id}/delete", u.revokeAPIToken)
	post("/settings/shop", u.connectShop)
	post("/settings/shop/delete", u.disconnectShop)
	post("/settings/email_templates", u.putEmailTemplate)
	post("/settings/oauth/{provider}/connect", u.connectOAuth)
	post("/settings/oauth/{provider}/{account}/delete", u.disconnectOAuth)
	post("/settings/email_templates/{name}/delete", u.deleteEmailTemplate)

	m.Handle("/", u.auth(func(w http.ResponseWriter, r *http.Request, s *session) {
		u.fail(w, r, s, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	}))
	u.mux = m
}

// auth requires a live session, and on state changes a same-origin
// request carrying the session's CSRF token.
func (u *UI) auth(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s *session
		if c, err := r.Cookie(sessionCookie); err == nil {
			s = u.sess.get(c.Value)
		}
		if s != nil && !u.svc.CheckToken(s.token) {
			u.sess.remove(s) // its API token was revoked
			s = nil
		}
		if s == nil {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				http.Error(w, "your session has ended; sign in again", http.StatusUnauthorized)
				return
			}
			next := r.URL.RequestURI()
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", "/signin")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseMultipartForm(maxFormBytes); err != nil && !errors.Is(err, http.ErrNotMultipart) {
				http.Error(w, "could not read the form: "+err.Error(), http.StatusBadRequest)
				return
			}
			tok := r.Header.Get(csrfHeader)
			if tok == "" {
				tok = r.PostFormValue(csrfField)
			}
			if !sameOrigin(r) || !equalTokens(tok, s.csrf) {
				http.Error(w, "the form's security token is missing or stale; reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h(w, r, s)
	})
}

// maxFormBytes limits form bodies (task documents can be large).
const maxFormBytes = 8 << 20

func (u *UI) signinPage(w http.ResponseWriter, r *http.Request) {
	u.showSignin(w, r, "", http.StatusOK)
}

func (u *UI) showSignin(w http.ResponseWriter, r *http.Request, msg string, status int) {
	// Reuse the form token of this browser, so that a second sign-in page
	// (another tab, or a favicon request redirected here) does not make
	// the first one stale.
	tok := randomToken()
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) == len(tok) {
		tok = c.Value
	}
	http.SetCookie(w, &http.Cookie{
		Name: preCookie, Value: tok, Path: "/signin", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: u.cookieSecure(r), MaxAge: 3600,
	})
	next := r.FormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	// A Secure cookie over plain HTTP would be dropped by the browser.
	plain := u.cookieSecure(r) && !isHTTPS(r)
	u.render(w, r, nil, status, "signin", "Sign in", map[string]any{"CSRF": tok, "Next": next, "Error": msg, "PlainHTTP": plain})
}

func (u *UI) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	c, err := r.Cookie(preCookie)
	if err != nil || !sameOrigin(r) || !equalTokens(r.PostFormValue(csrfField), c.Value) {
		u.showSignin(w, r, "The sign-in form expired; please try again.", http.StatusForbidden)
		return
	}
	if u.limit.blocked() {
		u.showSignin(w, r, "Too many failed sign-ins; wait a minute and try again.", http.StatusTooManyRequests)
		return
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if tok == "" || !u.svc.CheckToken(tok) {
		u.limit.fail()
		u.log.Warn("web sign-in failed", "remote", r.RemoteAddr)
		u.showSignin(w, r, "That token is not valid. Use the admin API token printed at first start (or SPROCKET_API_TOKEN), or an API token.", http.StatusUnauthorized)
		return
	}
	val, _ := u.sess.create(tok)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: val, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: u.cookieSecure(r), MaxAge: int(u.opts.SessionTTL / time.Second),
	})
	http.SetCookie(w, &http.Cookie{Name: preCookie, Path: "/signin", MaxAge: -1})
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *UI) signout(w http.ResponseWriter, r *http.Request, s *session) {
	u.sess.remove(s)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// redirect answers a form post with a redirect (htmx follows it too).
func (u *UI) redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// fail renders an error page.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	u.render(w, r, s, status, "error", "Error", map[string]any{"Message": msg, "Status": status})
}

// internal logs err and renders a 500 (or 404 for store.ErrNotFound).
func (u *UI) internal(w http.ResponseWriter, r *http.Request, s *session, err error) {
	if errors.Is(err, store.ErrNotFound) {
		u.fail(w, r, s, http.StatusNotFound, "Not found.")
		return
	}
	u.log.ErrorContext(r.Context(), "web request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	u.fail(w, r, s, http.StatusInternalServerError, fmt.Sprintf("Something went wrong: %v", err))
}
