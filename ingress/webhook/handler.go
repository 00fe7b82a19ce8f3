// Package webhook receives Sprocket (Mechanic-style) webhooks: HTTP requests
// to /webhooks/{id} that become events on the webhook's user/… topic.
//
// The behaviour follows Mechanic's "Mechanic webhooks" page
// (platform/webhooks.md):
//
//   - Requests: only POST creates events; other methods get 405, except the
//     documented client-specific endpoints (/webhooks/{id}/mailchimp accepts
//     GET, /webhooks/{id}/ship24 accepts HEAD, both for verification, without
//     creating an event). CORS is open to all origins, with preflight
//     (OPTIONS) answered for any path under the prefix.
//   - Responses: 204 No Content once the event is committed (200 OK on the
//     mailchimp endpoint), always with an x-request-id header holding a
//     UUID that is also passed to the sink (event.webhook_request_id) and,
//     in "Full request" mode, stored as data.request_id. The header is
//     exposed to browsers through Access-Control-Expose-Headers.
//   - The asana endpoint echoes a request's X-Hook-Secret header, which
//     completes Asana's handshake; the request still creates an event.
//   - Event data: see BuildData for the "Auto" and "Full request" mappings.
//
// Sprocket additions, not in Mechanic: an unknown webhook id gets 404 (set
// Options.ConcealUnknown for Mechanic's silent 204), bodies over
// Options.MaxBodyBytes get 413, and a webhook with a Secret requires an
// HMAC-SHA256 signature of the raw body (see Webhook.Secret), answering 401
// when it is missing or wrong. Errors are JSON objects
// {"error": message, "request_id": id}.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// DataMode selects how a request is translated into event data.
type DataMode int

const (
	// ModeAuto merges body and query parameters (the default).
	ModeAuto DataMode = iota
	// ModeFullRequest describes the whole request: body, headers, query, ….
	ModeFullRequest
)

// String returns the mode's configuration name: "auto" or "full_request".
func (m DataMode) String() string {
	if m == ModeFullRequest {
		return "full_request"
	}
	return "auto"
}

// ParseDataMode accepts "auto" and "full_request" (also "Auto",
// "Full request" and "full-request"); an empty string means ModeAuto.
func ParseDataMode(s string) (DataMode, error) {
	switch strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(s))) {
	case "", "auto":
		return ModeAuto, nil
	case "full_request", "full":
		return ModeFullRequest, nil
	}
	return ModeAuto, fmt.Errorf("webhook: unknown event data mode %q (want auto or full_request)", s)
}

// DefaultSignatureHeader is the request header read for the signature when
// a webhook has a Secret and no SignatureHeader.
const DefaultSignatureHeader = "X-Sprocket-Signature"

// Webhook is one configured webhook.
type Webhook struct {
	// ID is the webhook's identifier, the last element of its URL.
	ID string
	// Topic is the event topic, a user/… topic.
	Topic string
	// Mode is the event data mode.
	Mode DataMode
	// Secret, when not empty, makes the webhook require a signature: the
	// HMAC-SHA256 of the raw request body keyed with Secret, sent in
	// SignatureHeader as lowercase or uppercase hex, or as standard or
	// URL-safe base64 (padding optional), optionally prefixed "sha256=".
	Secret string
	// SignatureHeader names the header carrying the signature; empty means
	// DefaultSignatureHeader.
	SignatureHeader string
}

// ErrNotFound is returned by a Registry for an unknown (or inactive)
// webhook id.
var ErrNotFound = errors.New("webhook: not found")

// Registry finds webhooks by id.
type Registry interface {
	// Lookup returns the webhook with the given id, or an error wrapping
	// ErrNotFound.
	Lookup(ctx context.Context, id string) (Webhook, error)
}

// Meta describes the request behind an event.
type Meta struct {
	// WebhookID identifies the webhook that received the request.
	WebhookID string
	// RequestID is the request's UUID, sent back as x-request-id
	// (event.webhook_request_id).
	RequestID string
	// ReceivedAt is when the request arrived.
	ReceivedAt time.Time
	// ClientIP is the requesting client's address.
	ClientIP string
	// DedupeKey is the client's Idempotency-Key (or X-Request-Id) header;
	// requests to one webhook with the same key should make one event.
	// Empty when the client sent none.
	DedupeKey string
}

// Sink records events.
type Sink interface {
	// Accept creates an event and returns its id once it is committed.
	Accept(ctx context.Context, topic string, data any, meta Meta) (eventID string, err error)
}

// DefaultMaxBodyBytes is the default request body limit (10 MiB).
const DefaultMaxBodyBytes = 10 << 20

// DefaultPrefix is the default URL path prefix of webhook URLs.
const DefaultPrefix = "/webhooks/"

// Options configures a Handler.
type Options struct {
	// Registry finds webhooks (required).
	Registry Registry
	// Sink records events (required).
	Sink Sink
	// Prefix is the path before the webhook id; empty means DefaultPrefix.
	Prefix string
	// MaxBodyBytes limits request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ConcealUnknown answers requests for unknown webhooks as if they
	// existed (204, no event), as Mechanic does, instead of 404.
	ConcealUnknown bool
	// ClientIP returns the requesting client's address; nil means the host
	// part of Request.RemoteAddr. Set it when behind a trusted proxy.
	ClientIP func(r *http.Request) string
	// NewRequestID returns a fresh request id; nil means a random UUID.
	NewRequestID func() string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives the handler's logs; nil means slog.Default().
	Logger *slog.Logger
	// Limits rate-limits requests per webhook and per client address
	// (429 with Retry-After); the zero value limits nothing.
	Limits Limits
	// Admit is asked before a request's body is read; an error answers
	// 503 with Retry-After and the error's message (e.g. free disk space
	// below the floor), before anything is stored. Nil admits everything.
	Admit func(r *http.Request) error
}

// AdmitRetryAfter is the Retry-After sent when Admit refuses a request.
const AdmitRetryAfter = 30 * time.Second

// AdmitError is an Admit refusal with its own status (say, 429 for a
// storage quota) and Retry-After, instead of 503 and AdmitRetryAfter.
type AdmitError struct {
	Status     int
	RetryAfter time.Duration
	Err        error
}

// Error returns the refusal's message.
func (e *AdmitError) Error() string { return e.Err.Error() }

// Unwrap returns the refusal's cause.
func (e *AdmitError) Unwrap() error { return e.Err }

// Handler is the http.Handler for webhook requests; create it with
// NewHandler and mount it at the prefix (e.g. mux.Handle("/webhooks/", h)).
type Handler struct {
	opts  Options
	log   *slog.Logger
	rates *rateLimiter
}

// NewHandler validates opts and returns a Handler.
func NewHandler(opts Options) (*Handler, error) {
	if opts.Registry == nil {
		return nil, errors.New("webhook: Options.Registry is required")
	}
	if opts.Sink == nil {
		return nil, errors.New("webhook: Options.Sink is required")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(opts.Prefix, "/") {
		opts.Prefix += "/"
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.ClientIP == nil {
		opts.ClientIP = remoteIP
	}
	if opts.NewRequestID == nil {
		opts.NewRequestID = newUUID
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Handler{opts: opts, log: log, rates: newRateLimiter(opts.Limits, opts.Now)}, nil
}

// Client-specific endpoint suffixes (platform/webhooks.md, "Client-specific
// endpoints").
const (
	clientNone      = ""
	clientAsana     = "asana"
	clientMailchimp = "mailchimp"
	clientShip24    = "ship24"
)

// parsePath splits "<prefix><id>[/<client>]" and reports whether the path
// names a webhook and a known client.
func (h *Handler) parsePath(p string) (id, client string, ok bool) {
	rest, found := strings.CutPrefix(p, h.opts.Prefix)
	if !found {
		return "", "", false
	}
	rest = strings.TrimSuffix(rest, "/")
	id, client, _ = strings.Cut(rest, "/")
	if id == "" || strings.Contains(client, "/") {
		return "", "", false
	}
	switch client {
	case clientNone, clientAsana, clientMailchimp, clientShip24:
		return id, client, true
	}
	return "", "", false
}

func allowedMethods(client string) string {
	switch client {
	case clientMailchimp:
		return "GET, POST, OPTIONS"
	case clientShip24:
		return "HEAD, POST, OPTIONS"
	}
	return "POST, OPTIONS"
}

// ServeHTTP handles one webhook request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := h.opts.NewRequestID()
	hdr := w.Header()
	hdr.Set("X-Request-Id", requestID)
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Access-Control-Expose-Headers", "X-Request-Id")

	id, client, ok := h.parsePath(r.URL.Path)
	if !ok {
		h.fail(w, requestID, http.StatusNotFound, "no webhook at this path")
		return
	}
	switch {
	case r.Method == http.MethodOptions:
		h.preflight(w, r, client)
	case r.Method == http.MethodPost:
		h.receive(w, r, requestID, id, client)
	case r.Method == http.MethodGet && client == clientMailchimp,
		r.Method == http.MethodHead && client == clientShip24:
		h.verify(w, r, requestID, id, client)
	default:
		hdr.Set("Allow", allowedMethods(client))
		h.fail(w, requestID, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed; webhooks accept POST")
	}
}

// preflight answers a CORS preflight request: any origin, the endpoint's
// methods, and whatever request headers the browser asks for.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request, client string) {
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Methods", allowedMethods(client))
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		hdr.Set("Access-Control-Allow-Headers", req)
	}
	hdr.Set("Access-Control-Max-Age", "86400")
	hdr.Add("Vary", "Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
}

// verify answers the GET (mailchimp) and HEAD (ship24) verification
// requests: 200 when the webhook exists, without creating an event.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request, requestID, id, client string) {
	if _, done := h.lookup(w, r, requestID, id, client); done {
		return
	}
	w.WriteHeader(http.StatusOK)
}

// lookup finds the webhook, answering the request itself when it cannot
// (done is true then).
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request, requestID, id, client string) (Webhook, bool) {
	wh, err := h.opts.Registry.Lookup(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound):
		if h.opts.ConcealUnknown {
			w.WriteHeader(successStatus(client))
			return Webhook{}, true
		}
		h.fail(w, requestID, http.StatusNotFound, "webhook not found")
		return Webhook{}, true
	case err != nil:
		h.log.ErrorContext(r.Context(), "webhook: lookup failed", "webhook_id", id, "request_id", requestID, "error", err)
		h.fail(w, requestID, http.StatusServiceUnavailable, "webhook lookup failed; try again later")
		return Webhook{}, true
	case !strings.HasPrefix(wh.Topic, "user/"):
		h.log.ErrorContext(r.Context(), "webhook: topic is not a user/ topic", "webhook_id", id, "topic", wh.Topic)
		h.fail(w, requestID, http.StatusInternalServerError, "webhook is misconfigured")
		return Webhook{}, true
	}
	return wh, false
}

func successStatus(client string) int {
	if client == clientMailchimp {
		return http.StatusOK
	}
	return http.StatusNoContent
}

func (h *Handler) receive(w http.ResponseWriter, r *http.Request, requestID, id, client string) {
	ctx := r.Context()
	if client == clientAsana {
		if secret := r.Header.Get("X-Hook-Secret"); secret != "" {
			w.Header().Set("X-Hook-Secret", secret)
		}
	}
	clientIP := h.opts.ClientIP(r)
	if ok, wait := h.rates.take("ip", clientIP, h.opts.Limits.PerIP); !ok {
		setRetryAfter(w, wait)
		h.fail(w, requestID, http.StatusTooManyRequests, fmt.Sprintf("rate limit reached: at most %d webhook requests per minute from one address", h.opts.Limits.PerIP))
		return
	}
	wh, done := h.lookup(w, r, requestID, id, client)
	if done {
		return
	}
	if ok, wait := h.rates.take("webhook", wh.ID, h.opts.Limits.PerWebhook); !ok {
		setRetryAfter(w, wait)
		h.fail(w, requestID, http.StatusTooManyRequests, fmt.Sprintf("rate limit reached: this webhook accepts at most %d requests per minute", h.opts.Limits.PerWebhook))
		return
	}
	if h.opts.Admit != nil {
		if err := h.opts.Admit(r); err != nil {
			status, wait := http.StatusServiceUnavailable, AdmitRetryAfter
			var ae *AdmitError
			if errors.As(err, &ae) {
				status, wait = ae.Status, ae.RetryAfter
			}
			setRetryAfter(w, wait)
			h.log.WarnContext(ctx, "webhook: request refused", "webhook_id", wh.ID, "request_id", requestID, "reason", err)
			h.fail(w, requestID, status, err.Error())
			return
		}
	}
	key, problem := dedupeKey(r)
	if problem != "" {
		h.fail(w, requestID, http.StatusBadRequest, problem)
		return
	}
	received := h.opts.Now()
	body, status, msg := h.readBody(w, r)
	if status != 0 {
		h.fail(w, requestID, status, msg)
		return
	}
	if wh.Secret != "" {
		name := wh.SignatureHeader
		if name == "" {
			name = DefaultSignatureHeader
		}
		sig := r.Header.Get(name)
		if sig == "" {
			h.fail(w, requestID, http.StatusUnauthorized, "missing signature header "+name)
			return
		}
		if !validSignature(wh.Secret, body, sig) {
			h.fail(w, requestID, http.StatusUnauthorized, "signature in "+name+" does not match the request body")
			return
		}
	}
	data := BuildData(wh.Mode, r, body, RequestInfo{RequestID: requestID, WebhookID: wh.ID, ClientIP: clientIP})
	meta := Meta{WebhookID: wh.ID, RequestID: requestID, ReceivedAt: received, ClientIP: clientIP, DedupeKey: key}
	eventID, err := h.opts.Sink.Accept(ctx, wh.Topic, data, meta)
	if err != nil {
		h.log.ErrorContext(ctx, "webhook: recording event failed", "webhook_id", wh.ID, "request_id", requestID, "error", err)
		h.fail(w, requestID, http.StatusServiceUnavailable, "the event could not be recorded; try again later")
		return
	}
	h.log.InfoContext(ctx, "webhook: event created", "webhook_id", wh.ID, "topic", wh.Topic, "request_id", requestID, "event_id", eventID)
	w.WriteHeader(successStatus(client))
}

// readBody reads the whole body within the size limit; on failure it
// returns the status and message to answer with.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	limit := h.opts.MaxBodyBytes
	tooLarge := fmt.Sprintf("request body exceeds the limit of %d bytes", limit)
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		return nil, http.StatusBadRequest, "could not read the request body"
	}
	return body, 0, ""
}

// validSignature checks sig against HMAC-SHA256(secret, body) in the
// accepted encodings, in constant time for each candidate decoding.
func validSignature(secret string, body []byte, sig string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := mac.Sum(nil)
	sig = strings.TrimSpace(sig)
	if len(sig) > 7 && strings.EqualFold(sig[:7], "sha256=") {
		sig = sig[7:]
	}
	decoders := []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	}
	match := false
	for _, dec := range decoders {
		if got, err := dec(sig); err == nil && len(got) == len(want) && hmac.Equal(got, want) {
			match = true
		}
	}
	return match
}

// fail writes a JSON error. Rejections of the sender's request (4xx) are
// logged at WARN with the reason, never the body; server-side failures are
// logged where they happen.
func (h *Handler) fail(w http.ResponseWriter, requestID string, status int, msg string) {
	if status < 500 {
		h.log.Warn("webhook: request rejected", "status", status, "reason", msg, "request_id", requestID)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	b, err := json.Marshal(struct {
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
	}{msg, requestID})
	if err != nil {
		return
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		h.log.Debug("webhook: writing error response failed", "error", err)
	}
}

// RequestInfo carries the request facts that BuildData cannot read from the
// http.Request itself.
type RequestInfo struct {
	// RequestID is the request's UUID.
	RequestID string
	// WebhookID identifies the webhook.
	WebhookID string
	// ClientIP is the requesting client's address.
	ClientIP string
}

// BuildData translates a request with the already-read body into event
// data, as platform/webhooks.md ("Event data mode") documents.
//
// Auto: when the body has parameters (see bodyParams), the data is the body
// hash merged with the query hash; like Ruby's Hash#merge the merge is
// shallow, the query's value wins for a key present in both, and keys keep
// the body's order followed by the query's new keys. Without body
// parameters (none found, or parsing failed) the data is the query hash.
// Without either, it is the body as a string (read as Windows-1252 when it
// is not valid UTF-8), or null when that string is blank (empty or
// whitespace only).
//
// Full request: a hash with, in this order, body_base64 (the raw body in
// base64), body (the body hash, possibly empty, or null when the body has
// no parameters or parsing failed), client_ip, headers (lowercased names,
// sorted, each mapped to a one-element array holding the values joined with
// ","; Host is included), mime_type (the Content-Type media type, lowercased
// and without parameters, or null when absent), query_string (the raw text
// after "?", or null when empty), query (the query hash, or null when it
// has no parameters or does not parse), request_id and webhook_id.
func BuildData(mode DataMode, r *http.Request, body []byte, info RequestInfo) any {
	var query *value.Map
	if r.URL.RawQuery != "" {
		if q, err := parseNestedQuery(r.URL.RawQuery); err == nil && q.Len() > 0 {
			query = q
		}
	}
	bodyHash, bodyErr := bodyParams(r.Header.Get("Content-Type"), body)
	if mode == ModeFullRequest {
		return fullRequestData(r, body, bodyHash, bodyErr, query, info)
	}
	if bodyErr == nil && bodyHash.Len() > 0 {
		if query == nil {
			return bodyHash
		}
		merged := bodyHash.Clone()
		query.Each(func(k string, v any) bool {
			merged.Set(k, v)
			return true
		})
		return merged
	}
	if query != nil {
		return query
	}
	s := string(body)
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return toUTF8(s)
}

func fullRequestData(r *http.Request, body []byte, bodyHash *value.Map, bodyErr error, query *value.Map, info RequestInfo) *value.Map {
	var bodyVal, mimeVal, queryStringVal, queryVal any
	if bodyErr == nil {
		bodyVal = bodyHash
	}
	if mt, ok := mediaType(r.Header.Get("Content-Type")); ok {
		mimeVal = mt
	}
	if r.URL.RawQuery != "" {
		queryStringVal = r.URL.RawQuery
	}
	if query != nil {
		queryVal = query
	}
	return value.MapOf(
		"body_base64", base64.StdEncoding.EncodeToString(body),
		"body", bodyVal,
		"client_ip", info.ClientIP,
		"headers", headerHash(r),
		"mime_type", mimeVal,
		"query_string", queryStringVal,
		"query", queryVal,
		"request_id", info.RequestID,
		"webhook_id", info.WebhookID,
	)
}

// headerHash represents the request headers as documented: lowercased
// names, each with a single-element array of the comma-joined values.
func headerHash(r *http.Request) *value.Map {
	joined := make(map[string]string, len(r.Header)+1)
	for name, vals := range r.Header {
		key := strings.ToLower(name)
		v := strings.Join(vals, ",")
		if prev, ok := joined[key]; ok {
			v = prev + "," + v
		}
		joined[key] = v
	}
	if r.Host != "" {
		if _, ok := joined["host"]; !ok {
			joined["host"] = r.Host
		}
	}
	names := make([]string, 0, len(joined))
	for k := range joined {
		names = append(names, k)
	}
	sort.Strings(names)
	m := value.NewMap(len(names))
	for _, k := range names {
		m.Set(k, []any{joined[k]})
	}
	return m
}

// remoteIP returns the host part of r.RemoteAddr.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
