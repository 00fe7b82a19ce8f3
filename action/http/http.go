// Package http implements Mechanic's http action: it performs one HTTP
// request described by the action's options and returns the response as
// the run's result (docs: core/actions/http.md).
//
// Options: method (options, head, get, post, put, patch, delete; any
// case), url (http:// or https://), body (required except for GET; a hash
// or array is sent as JSON, or as a form with Content-Type
// application/x-www-form-urlencoded; a string as is), files (filenames to
// file generators, sent as multipart/form-data with the body's fields),
// headers, follow_redirects (default true), proxy (http://, https:// or
// socks5://), verify (default true; false skips TLS certificate checks) and
// error_on_5xx (default false). Sprocket adds idempotency_key (default
// true): every attempt of an action run sends the same Idempotency-Key
// header (see IdempotencyKey) unless this is false or the task sets the
// header. Booleans may also be the strings "true" and "false". Unknown
// options are ignored.
//
// Sprocket adds the option oauth, {"provider": "hubspot", "account":
// "main"}: the request is sent with "Authorization: Bearer <token>" of that
// connected OAuth account (see package integrations/oauth), refreshed
// before it expires; a 401 answer refreshes the token once and repeats the
// request. A missing account or a grant that must be reconnected fails
// the run permanently with a message naming the account.
//
// The result is {"status": 200, "headers": {"content-type": ["..."]},
// "body": ..., "body_base64": "..."}: header names lower-case, each with an
// array of values; body parsed JSON when the response is application/json
// (and valid JSON), otherwise a UTF-8 string; body_base64 the raw bytes.
//
// Any HTTP response counts as success, whatever its status, unless
// error_on_5xx is true and the status is 5xx: then the run fails with a
// transient (retried) error that carries the result. Connection failures
// and timeouts are transient; invalid options, TLS certificate failures,
// unknown hosts, redirect loops and oversized responses are permanent.
//
// Redirects are followed as Go's client does: 307 and 308 repeat the
// request, 301, 302 and 303 turn it into a GET without a body, and an
// Authorization header is only kept on redirects to the same host.
package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	nethttp "net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Type is the action type name the http action is registered under.
const Type = "http"

// IdempotencyKeyHeader is the request header carrying IdempotencyKey,
// sent unless the action sets idempotency_key to false or gives the header
// itself.
const IdempotencyKeyHeader = "Idempotency-Key"

// IdempotencyKey returns the key sent with every attempt of the action run
// runID: the same on retries and on the attempt after a crash, so a remote
// that honours the header performs the request once. Empty without a run id.
func IdempotencyKey(runID string) string {
	if runID == "" {
		return ""
	}
	return "sprocket-" + runID
}

// RedactedValue replaces body_base64 in results of requests that used
// secrets, so encoded secret values are not exposed.
const RedactedValue = "__mechanic_secret_value_redacted__"

// Defaults used when the corresponding Config field is zero.
const (
	DefaultTimeout          = 60 * time.Second
	DefaultDialTimeout      = 10 * time.Second
	DefaultMaxResponseBytes = 20 << 20
	DefaultMaxRedirects     = 10
	DefaultUserAgent        = "Sprocket (+https://github.com/sprocketrun/sprocket)"
)

// Config configures a Performer. The zero value gives sane defaults.
type Config struct {
	// Transport performs the requests. Nil means a transport of our own
	// with DefaultDialTimeout. When it is an *http.Transport, clones of it
	// honour the verify and proxy options; any other RoundTripper is used as
	// is, and actions asking for verify false or a proxy fail.
	Transport nethttp.RoundTripper
	// Timeout bounds a whole request, redirects and body included;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// MaxResponseBytes bounds the response body; larger responses fail
	// the run. DefaultMaxResponseBytes when zero.
	MaxResponseBytes int64
	// MaxRedirects bounds the redirects followed; DefaultMaxRedirects when
	// zero.
	MaxRedirects int
	// UserAgent is sent when the action sets no User-Agent header;
	// DefaultUserAgent when empty.
	UserAgent string
	// Network is the outbound network policy, checked on the resolved
	// address when connecting (so numeric host forms, redirects and DNS
	// answers pointing inside are refused too). Nil is the default policy:
	// loopback, private, link-local, CGNAT, reserved and similar ranges are
	// refused. It applies only to the transport built when Transport is nil.
	Network *netpolicy.Policy
	// Resolver resolves host names for the transport built when Transport
	// is nil; nil means the default resolver.
	Resolver *net.Resolver
	// BlockPrivateNetworks is deprecated and ignored: private networks are
	// refused by default (see Network).
	BlockPrivateNetworks bool
	// Files generates the files of the files option. Nil means package
	// filegen's generators with this performer downloading for the url
	// generator and no pdf generator; pass a filegen.Generators bound with
	// For("http", "files") to add one.
	Files FileGenerator
	// Logger receives one debug record per request; nil discards.
	Logger *slog.Logger
	// OAuth supplies the tokens of the oauth option; nil makes actions
	// using it fail.
	OAuth OAuthTokens
}

// Performer performs http actions. It is safe for concurrent use.
type Performer struct {
	cfg      Config
	secure   nethttp.RoundTripper
	insecure nethttp.RoundTripper // nil when the transport cannot skip verification
	proxies  bool                 // whether the proxy option can be honoured
	files    FileGenerator
	logger   *slog.Logger
}

// New returns a Performer with cfg, filling in defaults.
func New(cfg Config) *Performer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	p := &Performer{cfg: cfg, logger: cfg.Logger}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	base := cfg.Transport
	if base == nil {
		base = defaultTransport(cfg)
	}
	if t, ok := base.(*nethttp.Transport); ok {
		p.secure = withContextProxy(t.Clone())
		insecure := withContextProxy(t.Clone())
		tc := insecure.TLSClientConfig
		if tc == nil {
			tc = &tls.Config{}
		}
		tc = tc.Clone()
		tc.InsecureSkipVerify = true
		insecure.TLSClientConfig = tc
		p.insecure = insecure
		p.proxies = true
	} else {
		p.secure = base
	}
	p.files = cfg.Files
	if p.files == nil {
		p.files = (&filegen.Generators{Fetcher: p}).For(Type, optFiles)
	}
	return p
}

func defaultTransport(cfg Config) *nethttp.Transport {
	d := cfg.Network.Dialer(DefaultDialTimeout, cfg.Resolver)
	return &nethttp.Transport{
		Proxy:                  nethttp.ProxyFromEnvironment,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    10,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    DefaultDialTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
}

// proxyKey is the context key carrying the proxy option to the transport.
type proxyKey struct{}

// withContextProxy makes t use the proxy found in a request's context,
// falling back to its own proxy setting.
func withContextProxy(t *nethttp.Transport) *nethttp.Transport {
	fallback := t.Proxy
	t.Proxy = func(r *nethttp.Request) (*url.URL, error) {
		if u, ok := r.Context().Value(proxyKey{}).(*url.URL); ok {
			return u, nil
		}
		if fallback != nil {
			return fallback(r)
		}
		return nil, nil
	}
	return t
}

// CloseIdleConnections closes the idle keep-alive connections of the
// performer's transports, e.g. when shutting down.
func (p *Performer) CloseIdleConnections() {
	for _, rt := range []nethttp.RoundTripper{p.secure, p.insecure} {
		if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
}

// Validate checks the options of an http action.
func (p *Performer) Validate(options any) error {
	_, err := parseOptions(options)
	return err
}

// secretFields are the options in which secret references are resolved.
var secretFields = []string{optURL, optHeaders, optBody, optProxy}

// Perform sends the request and returns the response as the result. When
// secrets were resolved, body_base64 is redacted, and if req.Secrets is also
// an action.SecretRedactor, the raw secret values are removed from the
// result and from error messages.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	res, usedSecrets, err := p.perform(ctx, req)
	red, ok := req.Secrets.(action.SecretRedactor)
	if !usedSecrets || !ok {
		return res, err
	}
	if res.Value != nil {
		res.Value = action.RedactValue(res.Value, red.Redact)
	}
	if err != nil {
		attached, hasResult := action.ResultOf(err)
		err = &redactedError{msg: red.Redact(err.Error()), err: err}
		if hasResult {
			attached.Value = action.RedactValue(attached.Value, red.Redact)
			err = action.WithResult(err, attached)
		}
	}
	return res, err
}

// redactedError shows a message with secrets removed while keeping the
// original error's kind for Classify.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (p *Performer) perform(ctx context.Context, req action.Request) (action.Result, bool, error) {
	opts := req.Options
	shown := displayURL(opts)
	usedSecrets := false
	if m, ok := opts.(*value.Map); ok && req.Secrets != nil {
		m = m.Clone()
		for _, f := range secretFields {
			v, ok := m.Get(f)
			if !ok {
				continue
			}
			r, used, err := req.Secrets.Resolve(ctx, v)
			if err != nil {
				return action.Result{}, usedSecrets, fmt.Errorf("http action: resolve secrets in %q: %w", f, err)
			}
			m.Set(f, r)
			usedSecrets = usedSecrets || used
		}
		opts = m
	}
	o, err := parseOptions(opts)
	if err != nil {
		return action.Result{}, usedSecrets, err
	}
	if !usedSecrets {
		shown = o.url.Redacted()
	}
	if o.proxy != nil && !p.proxies {
		return action.Result{}, usedSecrets, action.Failed(errors.New("http action: the proxy option is not supported by the configured transport"))
	}
	if !o.verify && p.insecure == nil {
		return action.Result{}, usedSecrets, action.Failed(errors.New("http action: verify false is not supported by the configured transport"))
	}

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	eb, err := encodeBody(ctx, o, p.files)
	if err != nil {
		var ve *action.ValidationError
		if errors.As(err, &ve) {
			return action.Result{}, usedSecrets, err
		}
		return action.Result{}, usedSecrets, fmt.Errorf("http action: %s %s: %w", o.method, shown, err) // keeps its kind
	}
	if o.idempotencyKey {
		o.key = IdempotencyKey(req.RunID)
	}
	start := time.Now()
	resp, data, err := p.doSigned(ctx, o, eb)
	if err != nil {
		var te *tokenErr
		if errors.As(err, &te) {
			return action.Result{}, usedSecrets, te.err // already classified
		}
		return action.Result{}, usedSecrets, p.requestError(parent, o.method, shown, err)
	}
	p.logger.LogAttrs(ctx, slog.LevelDebug, "http action",
		slog.String("run_id", req.RunID), slog.String("method", o.method), slog.String("url", shown),
		slog.Int("status", resp.StatusCode), slog.Int("bytes", len(data)), slog.Duration("elapsed", time.Since(start)))

	res := action.Result{Value: resultValue(resp, data, usedSecrets)}
	if o.errorOn5xx && resp.StatusCode >= 500 && resp.StatusCode <= 599 {
		err := fmt.Errorf("http action: %s %s: received %s (error_on_5xx is set)", o.method, shown, statusText(resp))
		return action.Result{}, usedSecrets, action.WithResult(action.Transient(err), res)
	}
	return res, usedSecrets, nil
}

// do sends the request and reads the whole response body.
func (p *Performer) do(ctx context.Context, o *options, eb encodedBody) (*nethttp.Response, []byte, error) {
	var body io.Reader
	if eb.present {
		body = bytes.NewReader(eb.data)
	}
	r, err := nethttp.NewRequestWithContext(ctx, o.method, o.url.String(), body)
	if err != nil {
		return nil, nil, action.Failed(fmt.Errorf("build request: %w", err))
	}
	for _, h := range o.headers {
		if strings.EqualFold(h.name, "Host") {
			r.Host = h.value
			continue
		}
		r.Header.Add(h.name, h.value)
	}
	if eb.contentType != "" {
		r.Header.Set("Content-Type", eb.contentType)
	}
	if _, ok := r.Header["User-Agent"]; !ok {
		r.Header.Set("User-Agent", p.cfg.UserAgent)
	}
	if o.key != "" && r.Header.Get(IdempotencyKeyHeader) == "" {
		r.Header.Set(IdempotencyKeyHeader, o.key)
	}
	if o.proxy != nil {
		r = r.WithContext(context.WithValue(ctx, proxyKey{}, o.proxy))
	}
	rt := p.secure
	if !o.verify {
		rt = p.insecure
	}
	return p.send(r, rt, o.followRedirects, p.cfg.MaxResponseBytes)
}

// errTooManyRedirects stops a redirect chain that is too long.
var errTooManyRedirects = errors.New("too many redirects")

// errTooLarge reports a response body over the configured limit.
var errTooLarge = errors.New("response body too large")

func (p *Performer) send(r *nethttp.Request, rt nethttp.RoundTripper, follow bool, limit int64) (*nethttp.Response, []byte, error) {
	client := &nethttp.Client{
		Transport: rt,
		CheckRedirect: func(_ *nethttp.Request, via []*nethttp.Request) error {
			if !follow {
				return nethttp.ErrUseLastResponse
			}
			if len(via) > p.cfg.MaxRedirects {
				return fmt.Errorf("stopped after %d redirects: %w", p.cfg.MaxRedirects, errTooManyRedirects)
			}
			return nil
		},
	}
	resp, err := client.Do(r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return nil, nil, fmt.Errorf("%w: Content-Length %d exceeds the limit of %d bytes", errTooLarge, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read response body: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, nil, fmt.Errorf("%w: more than the limit of %d bytes", errTooLarge, limit)
	}
	return resp, data, nil
}

// requestError classifies a failed request and names it without exposing
// secrets: shown is the URL as the task wrote it, before secrets were
// resolved, and the resolved URL inside *url.Error messages is dropped.
// parent is the caller's context, whose end is not the action's fault.
func (p *Performer) requestError(parent context.Context, method, shown string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	wrap := func(e error) error { return fmt.Errorf("http action: %s %s: %w", method, shown, e) }
	if perr := parent.Err(); perr != nil {
		return wrap(fmt.Errorf("%w (%v)", perr, err)) // Classify: transient
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidCert):
		return action.Failed(wrap(fmt.Errorf("TLS certificate verification failed (set verify to false to skip it): %w", err)))
	case errors.Is(err, errTooManyRedirects), errors.Is(err, errTooLarge), errors.Is(err, netpolicy.ErrDenied):
		return action.Failed(wrap(err))
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return action.Failed(wrap(err))
	case isContextErr(err), errors.As(err, &netErr) && netErr.Timeout():
		return action.Transient(wrap(fmt.Errorf("timed out after %s: %w", p.cfg.Timeout, err)))
	}
	return action.Transient(wrap(err))
}

func isContextErr(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// displayURL is the url option as the task wrote it, for messages.
func displayURL(opts any) string {
	m, _ := opts.(*value.Map)
	v, _ := m.Get(optURL)
	str, _ := v.(string)
	if u, err := url.Parse(str); err == nil {
		return u.Redacted()
	}
	return str
}

func statusText(resp *nethttp.Response) string {
	if resp.Status != "" {
		return "status " + resp.Status
	}
	return fmt.Sprintf("status %d", resp.StatusCode)
}

// resultValue builds the documented result of a response.
func resultValue(resp *nethttp.Response, data []byte, redact bool) *value.Map {
	headers := value.NewMap(len(resp.Header))
	names := make([]string, 0, len(resp.Header))
	byName := make(map[string][]string, len(resp.Header))
	for k, vs := range resp.Header {
		lk := strings.ToLower(k)
		if _, seen := byName[lk]; !seen {
			names = append(names, lk)
		}
		byName[lk] = append(byName[lk], vs...)
	}
	slices.Sort(names)
	for _, k := range names {
		vs := byName[k]
		arr := make([]any, len(vs))
		for i, v := range vs {
			arr[i] = v
		}
		headers.Set(k, arr)
	}

	var body any
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		mt, params = "", nil
	}
	if mt == jsonType {
		if v, err := value.FromJSON(data); err == nil {
			body = v
		}
	}
	if body == nil {
		body = decodeText(data, params["charset"])
	}
	b64 := base64.StdEncoding.EncodeToString(data)
	if redact {
		b64 = RedactedValue
	}
	res := value.NewMap(4)
	res.Set("status", int64(resp.StatusCode))
	res.Set("headers", headers)
	res.Set("body", body)
	res.Set("body_base64", b64)
	return res
}

// Fetch downloads rawURL for the url file generator, verifying TLS and
// following redirects, within the performer's timeout and network policy,
// and returns its body (at most limit bytes) and Content-Type. Only http
// and https URLs are fetched. It implements filegen.Fetcher.
func (p *Performer) Fetch(parent context.Context, rawURL string, limit int64) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(parent, p.cfg.Timeout)
	defer cancel()
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", action.Failed(fmt.Errorf("download: invalid URL: %w", err))
	}
	shown := u.Redacted()
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, "", action.Failed(fmt.Errorf("download %s: only http and https URLs can be downloaded", shown))
	}
	r, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", action.Failed(fmt.Errorf("download %s: %w", shown, err))
	}
	r.Header.Set("User-Agent", p.cfg.UserAgent)
	resp, data, err := p.send(r, p.secure, true, limit)
	if err != nil {
		return nil, "", p.requestError(parent, "GET", shown, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := fmt.Errorf("download %s: received %s", shown, statusText(resp))
		if resp.StatusCode >= 500 || resp.StatusCode == nethttp.StatusTooManyRequests {
			return nil, "", action.Transient(err)
		}
		return nil, "", action.Failed(err)
	}
	return data, resp.Header.Get("Content-Type"), nil
}
