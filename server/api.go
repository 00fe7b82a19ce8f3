package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/action/files"
	"github.com/sprocketrun/sprocket/ingress/shopifyhook"
	"github.com/sprocketrun/sprocket/ingress/webhook"
	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// maxAPIBody limits API request bodies (task documents can be large).
const maxAPIBody = 16 << 20

// apiError is an error answered as {"error": {"message", "field"}}.
type apiError struct {
	status  int
	message string
	field   string
	// details, when set, lists each problem (validation errors).
	details []problem
	// retryAfter, when positive, is sent as Retry-After (seconds).
	retryAfter int
}

// Error returns the message.
func (e *apiError) Error() string { return e.message }

func errorf(status int, field, format string, args ...any) *apiError {
	return &apiError{status: status, field: field, message: fmt.Sprintf(format, args...)}
}

// apiHandler is an API endpoint that returns the status and the body to
// encode, or an error.
type apiHandler func(r *http.Request) (int, any, error)

// recordingMux is a ServeMux that remembers the patterns registered on
// it, so that the OpenAPI document can be checked against them.
type recordingMux struct {
	*http.ServeMux
	patterns []string
}

// Handle registers h for pattern and records the pattern.
func (m *recordingMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers f for pattern and records the pattern.
func (m *recordingMux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(f))
}

// routes builds the service's mux.
func (s *Service) routes(hooks http.Handler) http.Handler {
	mux := &recordingMux{ServeMux: http.NewServeMux()}
	defer func() { s.patterns = mux.patterns }()
	mux.Handle("/webhooks/", hooks)
	mux.HandleFunc("GET /cache/{id}", s.serveCacheEndpoint)
	mux.HandleFunc("HEAD /cache/{id}", s.serveCacheEndpoint)
	mux.HandleFunc("OPTIONS /cache/{id}", cachePreflight)
	mux.HandleFunc("GET /v1/openapi.json", openAPIHandler())
	mux.Handle("GET "+files.PathPrefix+"{token}/{name}", files.Handler{Store: s.files})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})

	api := map[string]apiHandler{
		"GET /v1/auth/verify":                            s.verifyToken,
		"GET /v1/api_tokens":                             s.listAPITokens,
		"POST /v1/api_tokens":                            s.createAPIToken,
		"DELETE /v1/api_tokens/{id}":                     s.revokeAPIToken,
		"GET /v1/shop/status":                            s.shopStatus,
		"GET /v1/tasks":                                  s.markManaged(s.listTasks),
		"POST /v1/tasks":                                 s.createTask,
		"POST /v1/tasks/preview":                         s.previewTask,
		"GET /v1/tasks/{id}":                             s.markManaged(s.getTask),
		"PUT /v1/tasks/{id}":                             s.refuseManaged(s.updateTask),
		"DELETE /v1/tasks/{id}":                          s.refuseManaged(s.deleteTask),
		"POST /v1/tasks/{id}/preview":                    s.previewSavedTask,
		"POST /v1/tasks/{id}/enable":                     s.refuseManaged(s.enableTask(true)),
		"POST /v1/tasks/{id}/disable":                    s.refuseManaged(s.enableTask(false)),
		"GET /v1/tasks/{id}/versions":                    s.listTaskVersions,
		"POST /v1/tasks/{id}/versions/{version}/restore": s.refuseManaged(s.restoreTaskVersion),
		"GET /v1/shop/deprecations":                      s.deprecations,
		"GET /v1/webhooks":                               s.listWebhooks,
		"POST /v1/webhooks":                              s.createWebhook,
		"GET /v1/webhooks/{id}":                          s.getWebhook,
		"DELETE /v1/webhooks/{id}":                       s.deleteWebhook,
		"PUT /v1/webhooks/{id}":                          s.updateWebhook,
		"GET /v1/cache_endpoints/{id}":                   s.getCacheEndpoint,
		"GET /v1/events":                                 s.listEvents,
		"POST /v1/events":                                s.createEvent,
		"GET /v1/events/{id}":                            s.getEvent,
		"POST /v1/events/{id}/cancel":                    s.cancelEvent,
		"GET /v1/runs":                                   s.listRuns(""),
		"GET /v1/event_runs":                             s.listRuns(store.KindEvent),
		"GET /v1/task_runs":                              s.listRuns(store.KindTask),
		"GET /v1/action_runs":                            s.listRuns(store.KindAction),
		"GET /v1/runs/{id}":                              s.getRun(""),
		"GET /v1/task_runs/{id}":                         s.getRun(store.KindTask),
		"GET /v1/action_runs/{id}":                       s.getRun(store.KindAction),
		"GET /v1/event_runs/{id}":                        s.getRun(store.KindEvent),
		"POST /v1/runs/{id}/retry":                       s.retryRun(""),
		"POST /v1/event_runs/{id}/retry":                 s.retryRun(store.KindEvent),
		"POST /v1/task_runs/{id}/retry":                  s.retryRun(store.KindTask),
		"POST /v1/action_runs/{id}/retry":                s.retryRun(store.KindAction),
		"GET /v1/cache_endpoints":                        s.listCacheEndpoints,
		"POST /v1/cache_endpoints":                       s.createCacheEndpoint,
		"DELETE /v1/cache_endpoints/{id}":                s.deleteCacheEndpoint,
		"GET /v1/globals":                                s.listGlobals,
		"PUT /v1/globals/{key}":                          s.putGlobal,
		"DELETE /v1/globals/{key}":                       s.deleteSetting(store.SettingGlobal, "global"),
		"GET /v1/secrets":                                s.listSecrets,
		"PUT /v1/secrets/{key}":                          s.putSecret,
		"DELETE /v1/secrets/{key}":                       s.deleteSetting(store.SettingSecret, "secret"),
		"GET /v1/event_filters":                          s.listEventFilters,
		"PUT /v1/event_filters/{name}":                   s.putEventFilter,
		"DELETE /v1/event_filters/{name}":                s.deleteEventFilter,
		"GET /v1/email_templates":                        s.listEmailTemplates,
		"GET /v1/email_templates/{name}":                 s.getEmailTemplate,
		"PUT /v1/email_templates/{name}":                 s.putEmailTemplate,
		"DELETE /v1/email_templates/{name}":              s.deleteEmailTemplate,
	}
	s.shopRoutes(api)
	s.integrationRoutes(api, mux)
	for pattern, h := range api {
		mux.Handle(pattern, s.guardAs(classify(pattern), h))
	}
	mux.HandleFunc("GET /shopify/oauth/callback", s.oauthCallback)
	mux.Handle("POST "+shopifyhook.Path, s.gateIngest(s.shopifyWebhooks()))
	mux.HandleFunc("GET "+storefrontJSPath, s.scripts.serve)
	mux.HandleFunc("GET "+orderStatusJSPath, s.scripts.serve)
	mux.Handle("/v1/", s.guard(func(r *http.Request) (int, any, error) {
		return 0, nil, errorf(http.StatusNotFound, "", "no API endpoint %s %s", r.Method, r.URL.Path)
	}))
	if s.ui != nil {
		mux.Handle("/", s.ui)
	}
	return mux
}

// guard checks the bearer token, runs h and writes its JSON answer.
func (s *Service) guard(h apiHandler) http.Handler { return s.guardAs(classOther, h) }

// guardAs is guard for a route of class c: the per-IP rate limit is
// checked before the token, the token's limits (and the class's) after.
func (s *Service) guardAs(c routeClass, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := s.limits.checkBefore(r); e != nil {
			s.log.WarnContext(r.Context(), "api: rate limit hit", "method", r.Method, "path", r.URL.Path, "client", clientIP(r), "reason", e.message)
			writeError(w, e)
			return
		}
		if wait := s.authFails.blocked(clientIP(r)); wait > 0 {
			s.log.WarnContext(r.Context(), "api: too many failed authentications", "client", clientIP(r))
			writeError(w, tooManyFailures(s.authFails.perMinute, wait))
			return
		}
		if !s.auth.check(r) {
			s.authFails.failed(clientIP(r))
			w.Header().Set("WWW-Authenticate", `Bearer realm="sprocket"`)
			writeError(w, errorf(http.StatusUnauthorized, "", "missing or invalid API token (send Authorization: Bearer <token>)"))
			return
		}
		release, e := s.limits.checkAfter(r, c)
		if e != nil {
			s.log.WarnContext(r.Context(), "api: rate limit hit", "method", r.Method, "path", r.URL.Path, "client", clientIP(r), "reason", e.message)
			writeError(w, e)
			return
		}
		defer release()
		start := time.Now()
		status, body, err := h(r)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = s.internal(r, err)
			}
			status = ae.status
			writeError(w, ae)
		} else {
			writeJSON(w, status, body)
		}
		s.log.DebugContext(r.Context(), "api request", "method", r.Method, "path", r.URL.Path, "status", status, "elapsed", time.Since(start))
	})
}

// internal maps store errors to API errors, logging unexpected ones.
func (s *Service) internal(r *http.Request, err error) *apiError {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "", "not found")
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, "", "%v", err)
	case errors.Is(err, store.ErrInvalid):
		return errorf(http.StatusBadRequest, "", "%v", err)
	}
	s.log.ErrorContext(r.Context(), "api request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	return errorf(http.StatusInternalServerError, "", "internal error")
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var raw []byte
	switch b := body.(type) {
	case nil:
		w.WriteHeader(status)
		return
	case json.RawMessage:
		raw = b
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // task scripts and logs are full of < > &
		err := enc.Encode(body)
		raw = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":{"message":"could not encode the response","field":null}}`)
			return
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(raw)
	_, _ = io.WriteString(w, "\n")
}

// errorBody is the JSON form of an API error.
type errorBody struct {
	Error struct {
		Message string    `json:"message"`
		Field   *string   `json:"field"`
		Details []problem `json:"details,omitempty"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	var b errorBody
	b.Error.Message = e.message
	if e.field != "" {
		f := e.field
		b.Error.Field = &f
	}
	b.Error.Details = e.details
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, b)
}

// readBody reads a request body up to maxAPIBody.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxAPIBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "", "request body exceeds %d bytes", maxAPIBody)
		}
		return nil, errorf(http.StatusBadRequest, "", "could not read the request body: %v", err)
	}
	return b, nil
}

// decodeBody decodes a JSON object body into v, rejecting unknown fields.
func decodeBody(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return errorf(http.StatusBadRequest, ute.Field, "field %q must be %s", ute.Field, ute.Type)
		}
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			f = strings.Trim(f, `"`)
			return errorf(http.StatusBadRequest, f, "unknown field %q", f)
		}
		return errorf(http.StatusBadRequest, "", "request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "", "request body has data after the JSON value")
	}
	return nil
}

func pathID(r *http.Request) string { return r.PathValue("id") }

func notFound(what, id string) *apiError {
	return errorf(http.StatusNotFound, "id", "%s %q not found", what, id)
}

// deprecations answers GET /v1/shop/deprecations: Sprocket does not talk
// to Shopify's API, so there are never any.
func (s *Service) deprecations(*http.Request) (int, any, error) {
	return http.StatusOK, map[string]any{"deprecations": []any{}, "total_count": 0, "limit": 100, "truncated": false}, nil
}

func (s *Service) verifyToken(*http.Request) (int, any, error) {
	return http.StatusOK, map[string]any{"ok": true}, nil
}

// shopStatus answers the queue status, in the spirit of Mechanic's
// GET /v1/shop/status: waiting and running runs and the queue lag.
func (s *Service) shopStatus(r *http.Request) (int, any, error) {
	qs, err := s.st.Stats(r.Context())
	if err != nil {
		return 0, nil, fmt.Errorf("queue stats: %w", err)
	}
	sum := func(m map[store.RunKind]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}
	byKind := func(m map[store.RunKind]int) map[string]int {
		out := map[string]int{string(store.KindEvent): 0, string(store.KindTask): 0, string(store.KindAction): 0}
		for k, v := range m {
			out[string(k)] = v
		}
		return out
	}
	lag := 0.0
	if !qs.OldestDue.IsZero() {
		lag = max(0, time.Since(qs.OldestDue).Seconds())
	}
	state := "ok"
	if lag > 60 {
		state = "backlogged"
	}
	shop, err := s.shopifyStatus(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{
		"shopify":       shop,
		"status":        state,
		"time_zone":     s.cfg.Location.String(),
		"waiting":       sum(qs.Due),
		"running":       sum(qs.Running),
		"scheduled":     sum(qs.Scheduled),
		"lag_seconds":   lag,
		"oldest_due_at": timeOrNil(qs.OldestDue),
		"queue": map[string]any{
			"due":       byKind(qs.Due),
			"running":   byKind(qs.Running),
			"scheduled": byKind(qs.Scheduled),
		},
	}, nil
}

// --- webhooks ------------------------------------------------------------

type webhookJSON struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Topic           string    `json:"topic"`
	DataMode        string    `json:"data_mode"`
	URL             string    `json:"url"`
	SignatureHeader string    `json:"signature_header,omitempty"`
	HasSecret       bool      `json:"has_secret"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func webhookOut(w store.Webhook) webhookJSON {
	mode := webhook.ModeAuto
	if w.DataMode == store.DataModeFull {
		mode = webhook.ModeFullRequest
	}
	return webhookJSON{
		ID: w.ID, Name: w.Name, Topic: w.Topic, DataMode: mode.String(),
		URL: webhook.DefaultPrefix + w.ID, SignatureHeader: w.SignatureHeader, HasSecret: w.Secret != "",
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
	}
}

// webhookInput is the body of POST /v1/webhooks and PUT /v1/webhooks/{id};
// on update, absent fields keep their values.
type webhookInput struct {
	Name            *string `json:"name"`
	Topic           *string `json:"topic"`
	DataMode        *string `json:"data_mode"`
	Secret          *string `json:"secret"`
	SignatureHeader *string `json:"signature_header"`
}

// apply merges in into w and validates the result; a new secret is
// sealed with box.
func (in webhookInput) apply(w *store.Webhook, box *seal.Box) error {
	if in.Name != nil {
		w.Name = *in.Name
	}
	if in.Topic != nil {
		w.Topic = *in.Topic
	}
	if in.Secret != nil {
		w.Secret = *in.Secret
		if w.Secret != "" {
			if w.ID == "" { // the secret is bound to the id
				w.ID = store.NewID()
			}
			w.Secret = box.Seal([]byte(w.Secret), webhookSecretAD(w.ID))
		}
	}
	if in.SignatureHeader != nil {
		w.SignatureHeader = *in.SignatureHeader
	}
	if in.DataMode != nil || w.DataMode == "" {
		dm := ""
		if in.DataMode != nil {
			dm = *in.DataMode
		}
		mode, err := webhook.ParseDataMode(dm)
		if err != nil {
			return errorf(http.StatusBadRequest, "data_mode", "data_mode must be \"auto\" or \"full_request\", got %q", dm)
		}
		w.DataMode = store.DataModeAuto
		if mode == webhook.ModeFullRequest {
			w.DataMode = store.DataModeFull
		}
	}
	if strings.TrimSpace(w.Name) == "" {
		return errorf(http.StatusBadRequest, "name", "name is required")
	}
	if !strings.HasPrefix(w.Topic, "user/") || !task.ValidTopic(w.Topic) {
		return errorf(http.StatusBadRequest, "topic", "topic must look like user/subject/verb (lowercase letters, digits, underscores), got %q", w.Topic)
	}
	if w.SignatureHeader != "" && w.Secret == "" {
		return errorf(http.StatusBadRequest, "secret", "signature_header needs a secret")
	}
	if strings.ContainsAny(w.SignatureHeader, " \t\r\n:") {
		return errorf(http.StatusBadRequest, "signature_header", "signature_header must be a header name")
	}
	return nil
}

func (s *Service) createWebhook(r *http.Request) (int, any, error) {
	var in webhookInput
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	var w store.Webhook
	if err := in.apply(&w, s.box); err != nil {
		return 0, nil, err
	}
	w, err := s.st.CreateWebhook(r.Context(), w)
	if err != nil {
		return 0, nil, fmt.Errorf("create webhook: %w", err)
	}
	return http.StatusCreated, webhookOut(w), nil
}

func (s *Service) updateWebhook(r *http.Request) (int, any, error) {
	var in webhookInput
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	w, err := s.st.GetWebhook(r.Context(), pathID(r))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("webhook", pathID(r))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("get webhook: %w", err)
	}
	if err := in.apply(&w, s.box); err != nil {
		return 0, nil, err
	}
	w, err = s.st.UpdateWebhook(r.Context(), w)
	s.hooks.forget(pathID(r))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("webhook", pathID(r))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("update webhook: %w", err)
	}
	return http.StatusOK, webhookOut(w), nil
}

func (s *Service) listWebhooks(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	body, err := listPaged(s.cfg.MaxListBytes, "webhooks", p,
		func(p store.Page) ([]store.Webhook, string, error) { return s.st.ListWebhooksPage(r.Context(), p) },
		func(w store.Webhook) string { return store.EncodeCursor(w.CreatedAt, w.ID) },
		func(w store.Webhook) (any, error) { return webhookOut(w), nil })
	if err != nil {
		return 0, nil, pageError("list webhooks", err)
	}
	return http.StatusOK, body, nil
}

func (s *Service) getWebhook(r *http.Request) (int, any, error) {
	w, err := s.st.GetWebhook(r.Context(), pathID(r))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("webhook", pathID(r))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("get webhook: %w", err)
	}
	return http.StatusOK, webhookOut(w), nil
}

func (s *Service) deleteWebhook(r *http.Request) (int, any, error) {
	err := s.st.DeleteWebhook(r.Context(), pathID(r))
	s.hooks.forget(pathID(r))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("webhook", pathID(r))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("delete webhook: %w", err)
	}
	return http.StatusNoContent, nil, nil
}

// --- cache endpoints -----------------------------------------------------

type cacheEndpointJSON struct {
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	ContentType string    `json:"content_type"`
	URL         string    `json:"url"`
	CreatedAt   time.Time `json:"created_at"`
}

// cachePrefix is the path prefix of public cache endpoint URLs.
const cachePrefix = "/cache/"

func cacheEndpointOut(e store.CacheEndpoint) cacheEndpointJSON {
	return cacheEndpointJSON{ID: e.ID, Key: e.Key, ContentType: e.ContentType, URL: cachePrefix + e.ID, CreatedAt: e.CreatedAt}
}

func (s *Service) createCacheEndpoint(r *http.Request) (int, any, error) {
	var in struct {
		Key         string `json:"key"`
		CacheKey    string `json:"cache_key"` // accepted as an alias of key
		ContentType string `json:"content_type"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Key == "" {
		in.Key = in.CacheKey
	}
	if in.Key == "" {
		return 0, nil, errorf(http.StatusBadRequest, "key", "key is required")
	}
	if in.ContentType == "" {
		in.ContentType = "application/json"
	}
	if strings.ContainsAny(in.ContentType, "\r\n") || !strings.Contains(in.ContentType, "/") {
		return 0, nil, errorf(http.StatusBadRequest, "content_type", "content_type must be a media type such as application/json")
	}
	e, err := s.st.CreateCacheEndpoint(r.Context(), store.CacheEndpoint{Key: in.Key, ContentType: in.ContentType})
	if err != nil {
		return 0, nil, fmt.Errorf("create cache endpoint: %w", err)
	}
	return http.StatusCreated, cacheEndpointOut(e), nil
}

func (s *Service) listCacheEndpoints(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	body, err := listPaged(s.cfg.MaxListBytes, "cache_endpoints", p,
		func(p store.Page) ([]store.CacheEndpoint, string, error) {
			return s.st.ListCacheEndpointsPage(r.Context(), p)
		},
		func(e store.CacheEndpoint) string { return store.EncodeCursor(e.CreatedAt, e.ID) },
		func(e store.CacheEndpoint) (any, error) { return cacheEndpointOut(e), nil })
	if err != nil {
		return 0, nil, pageError("list cache endpoints", err)
	}
	return http.StatusOK, body, nil
}

func (s *Service) getCacheEndpoint(r *http.Request) (int, any, error) {
	e, err := s.st.GetCacheEndpoint(r.Context(), pathID(r))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("cache endpoint", pathID(r))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("get cache endpoint: %w", err)
	}
	return http.StatusOK, cacheEndpointOut(e), nil
}

func (s *Service) deleteCacheEndpoint(r *http.Request) (int, any, error) {
	err := s.st.DeleteCacheEndpoint(r.Context(), pathID(r))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("cache endpoint", pathID(r))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("delete cache endpoint: %w", err)
	}
	return http.StatusNoContent, nil, nil
}

func setCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
}

func cachePreflight(w http.ResponseWriter, r *http.Request) {
	setCORS(w.Header())
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		w.Header().Set("Access-Control-Allow-Headers", req)
	}
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// serveCacheEndpoint serves the cached value of a public cache endpoint:
// the JSON value itself for JSON content types, and for other types the
// text of a string value (any other value as JSON). An absent or expired
// value answers 404 with a JSON null.
func (s *Service) serveCacheEndpoint(w http.ResponseWriter, r *http.Request) {
	setCORS(w.Header())
	w.Header().Set("Cache-Control", "no-store")
	e, err := s.st.GetCacheEndpoint(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, errorf(http.StatusNotFound, "", "no cache endpoint at this path"))
		return
	}
	if err != nil {
		writeError(w, s.internal(r, err))
		return
	}
	v, found, err := s.st.CacheGet(r.Context(), e.Key)
	if err != nil {
		writeError(w, s.internal(r, err))
		return
	}
	if !found {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "null\n")
		return
	}
	body := []byte(v)
	ct := e.ContentType
	if !isJSONType(ct) {
		var str string
		if json.Unmarshal(v, &str) == nil {
			body = []byte(str)
		}
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func isJSONType(ct string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}
