package shopify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxAttempts      = 5
	DefaultMaxThrottleWaits = 20
	DefaultMaxWait          = 2 * time.Minute
	DefaultBackoffBase      = 250 * time.Millisecond
	DefaultBackoffMax       = 10 * time.Second
	DefaultQueryCost        = 100
	DefaultLowWater         = 0.1
	DefaultMaxBodyBytes     = 64 << 20
)

// TokenSource supplies the Admin API access token for each request.
type TokenSource interface {
	// Token returns a valid access token.
	Token(ctx context.Context) (string, error)
}

// Invalidator is implemented by token sources that can drop a cached
// token; the client calls Invalidate once when the API answers 401 and
// then retries the request with a fresh token.
type Invalidator interface {
	// Invalidate forgets the cached token.
	Invalidate()
}

// StaticToken is a TokenSource for a fixed (pasted) Admin API access token.
type StaticToken string

// Token returns the token itself, or an error when it is empty.
func (t StaticToken) Token(context.Context) (string, error) {
	if t == "" {
		return "", errors.New("shopify: empty access token")
	}
	return string(t), nil
}

// Clock tells the time and waits; tests inject a fake one so that
// throttling waits do not sleep for real.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d or until ctx ends (then it returns ctx's error).
	Sleep(ctx context.Context, d time.Duration) error
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Config configures a Client. Shop and Token are required; every other
// field has a default.
type Config struct {
	// Shop is the shop's permanent domain, name.myshopify.com.
	Shop string
	// BaseURL is where the Admin API is served (default https://<Shop>;
	// a stand-in such as the sandbox is http://127.0.0.1:PORT).
	BaseURL string
	// APIVersion is the default Admin API version (default DefaultAPIVersion).
	APIVersion string
	// Token supplies the access token.
	Token TokenSource
	// HTTPClient sends the requests (default a client with no redirects
	// followed, since the access token header must not travel on).
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt (default 30s).
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one call when Shopify answers 5xx
	// or the connection fails or times out (default 5).
	MaxAttempts int
	// MaxThrottleWaits bounds how often one call waits and retries after a
	// THROTTLED answer or an HTTP 429 (default 20).
	MaxThrottleWaits int
	// MaxWait bounds the total time one call spends waiting for the rate
	// limit and backing off (default 2m); past it the call fails with an
	// *ExhaustedError.
	MaxWait time.Duration
	// RetryUncertainWrites makes the client repeat writes (GraphQL
	// mutations without @idempotent, REST POST/PUT/DELETE) after failures
	// that leave their outcome unknown (timeouts, dropped connections,
	// 5xx other than 503). By default such a write is not repeated, since
	// it could be applied twice: the call fails with *UncertainError.
	RetryUncertainWrites bool
	// BackoffBase and BackoffMax shape the exponential backoff between
	// retries of failed attempts (defaults 250ms and 10s; jittered).
	BackoffBase, BackoffMax time.Duration
	// DefaultQueryCost is the cost assumed for a GraphQL document whose
	// requested cost has not been seen yet (default 100, capped at the
	// bucket size).
	DefaultQueryCost float64
	// LowWater is the fraction of the GraphQL bucket below which Hold
	// reports true (default 0.1).
	LowWater float64
	// MaxBodyBytes bounds a response body (default 64 MiB).
	MaxBodyBytes int64
	// UserAgent is sent with each request (default "Sprocket").
	UserAgent string
	// Clock tells the time and sleeps (default the system clock).
	Clock Clock
	// Logger receives debug lines for waits and retries (default slog.Default()).
	Logger *slog.Logger
}

// Client calls one shop's Admin API. It keeps the shop's rate-limit
// model, so use one Client per shop and share it; it is safe for
// concurrent use.
type Client struct {
	cfg     Config
	shop    string
	base    string
	http    *http.Client
	clock   Clock
	log     *slog.Logger
	gql     *costBucket
	rest    *restBucket
	metrics metrics
}

type metrics struct {
	calls, attempts, retries, throttled, waits atomic.Int64
	waitNanos                                  atomic.Int64
}

var (
	shopRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)
	versionRE = regexp.MustCompile(`^(\d{4}-\d{2}|unstable)$`)
)

// ValidShopDomain reports whether s is a shop's permanent domain,
// name.myshopify.com (lower case letters, digits and hyphens, starting
// with a letter or digit).
func ValidShopDomain(s string) bool {
	return len(s) <= 255 && shopRE.MatchString(s)
}

// New validates cfg, fills in its defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	shop := strings.ToLower(strings.TrimSpace(cfg.Shop))
	if !ValidShopDomain(shop) {
		return nil, fmt.Errorf("shopify: config: shop %q is not a name.myshopify.com domain", cfg.Shop)
	}
	if cfg.Token == nil {
		return nil, errors.New("shopify: config: token source is required")
	}
	base := cfg.BaseURL
	if base == "" {
		base = "https://" + shop
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("shopify: config: base URL %q is not an http(s) URL without credentials or query", base)
	}
	base = strings.TrimRight(u.String(), "/")
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if !versionRE.MatchString(cfg.APIVersion) {
		return nil, fmt.Errorf("shopify: config: API version %q is not YYYY-MM or unstable", cfg.APIVersion)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxThrottleWaits <= 0 {
		cfg.MaxThrottleWaits = DefaultMaxThrottleWaits
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = DefaultBackoffBase
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.DefaultQueryCost <= 0 {
		cfg.DefaultQueryCost = DefaultQueryCost
	}
	if cfg.LowWater <= 0 || cfg.LowWater >= 1 {
		cfg.LowWater = DefaultLowWater
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Sprocket"
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		cp := *cfg.HTTPClient
		hc = &cp
	}
	if hc.CheckRedirect == nil {
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return &Client{
		cfg:   cfg,
		shop:  shop,
		base:  base,
		http:  hc,
		clock: cfg.Clock,
		log:   cfg.Logger.With("shop", shop),
		gql:   newCostBucket(),
		rest:  newRESTBucket(),
	}, nil
}

// Shop returns the shop domain the client calls.
func (c *Client) Shop() string { return c.shop }

// BaseURL returns the base URL requests go to.
func (c *Client) BaseURL() string { return c.base }

// APIVersion returns the client's default Admin API version.
func (c *Client) APIVersion() string { return c.cfg.APIVersion }

// ErrThrottled is wrapped by the *ExhaustedError of a call that Shopify
// kept throttling (THROTTLED or HTTP 429) beyond the client's bounds.
var ErrThrottled = errors.New("shopify: rate limited")

// ExhaustedError is a call that failed transiently (5xx, 429, THROTTLED,
// connection errors, timeouts) on every attempt the client allowed. It
// wraps the last failure.
type ExhaustedError struct {
	// Method and URL identify the request.
	Method, URL string
	// Attempts is how many requests were sent.
	Attempts int
	// Waited is the time spent waiting and backing off.
	Waited time.Duration
	// Err is the last failure.
	Err error
}

// Error describes the last failure and the attempts made.
func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("shopify: %s %s: gave up after %d attempts and %s of waiting: %v", e.Method, e.URL, e.Attempts, e.Waited.Round(time.Millisecond), e.Err)
}

// Unwrap returns the last failure.
func (e *ExhaustedError) Unwrap() error { return e.Err }

// IsTransient reports whether err is a failure worth retrying later: the
// client gave up on 5xx, 429, THROTTLED, connection errors or timeouts.
// Other HTTP errors (400, 401, 403, 404, 422, …), invalid requests, a
// cancelled context and writes of unknown outcome (*UncertainError) are
// not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var ue *UncertainError
	if errors.As(err, &ue) {
		return false
	}
	var ex *ExhaustedError
	if errors.As(err, &ex) {
		return true
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status == http.StatusTooManyRequests || he.Status >= 500
	}
	return errors.Is(err, ErrThrottled)
}

// UncertainError is a write (a GraphQL mutation, a REST POST, PUT or
// DELETE) whose outcome is unknown: it was sent, and then the answer
// timed out, the connection dropped, or Shopify answered a 5xx other than
// 503. The client does not repeat it (unless Config.RetryUncertainWrites),
// and IsTransient reports false: repeating it could apply it twice, so
// whoever retries must first check whether it took effect.
type UncertainError struct {
	// Method and URL identify the request.
	Method, URL string
	// Err is the failure.
	Err error
}

// Error describes the failure and that the write may have been applied.
func (e *UncertainError) Error() string {
	return fmt.Sprintf("shopify: %s %s: the write may or may not have been applied (not repeated): %v", e.Method, e.URL, e.Err)
}

// Unwrap returns the failure.
func (e *UncertainError) Unwrap() error { return e.Err }

// attemptError is a failed attempt the client may retry.
type attemptError struct {
	err error
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// result is the outcome of one HTTP attempt that got an answer.
type result struct {
	status int
	header http.Header
	body   []byte
}

// send performs one HTTP attempt bounded by the per-attempt timeout.
// Connection errors and timeouts come back as *attemptError; a cancelled
// caller context comes back as its error.
func (c *Client) send(ctx context.Context, method, u string, body []byte) (*result, error) {
	tok, err := c.cfg.Token.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("shopify: access token: %w", err)
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("shopify: %s %s: %w", method, u, err)
	}
	req.Header.Set("X-Shopify-Access-Token", tok)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.metrics.attempts.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("shopify: %s %s: %w", method, u, ctx.Err())
		}
		return nil, &attemptError{err: fmt.Errorf("shopify: %s %s: %w", method, u, timeoutOr(err, actx, c.cfg.Timeout))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("shopify: %s %s: reading response: %w", method, u, ctx.Err())
		}
		return nil, &attemptError{err: fmt.Errorf("shopify: %s %s: reading response: %w", method, u, timeoutOr(err, actx, c.cfg.Timeout))}
	}
	if int64(len(data)) > c.cfg.MaxBodyBytes {
		return nil, fmt.Errorf("shopify: %s %s: response body exceeds %d bytes", method, u, c.cfg.MaxBodyBytes)
	}
	return &result{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// notSent reports whether a failed attempt certainly did not reach
// Shopify: the connection could not be made.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// timeoutOr names the per-attempt timeout when it is what ended err.
func timeoutOr(err error, actx context.Context, d time.Duration) error {
	var ne net.Error
	if errors.Is(actx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("no complete answer within %s: %w", d, err)
	}
	return err
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// backoff returns the jittered delay before retry n (1-based).
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.BackoffBase
	for i := 1; i < n && d < c.cfg.BackoffMax; i++ {
		d *= 2
	}
	if d > c.cfg.BackoffMax {
		d = c.cfg.BackoffMax
	}
	half := d / 2
	return half + rand.N(half+1)
}

// callState tracks one call's retries and waiting.
type callState struct {
	c                  *Client
	method, url        string
	attempts, failures int
	throttles          int
	waited             time.Duration
	invalidated        bool
	// write is set for requests that change the shop and are not
	// idempotent.
	write bool
}

// exhausted wraps the last failure of a call.
func (s *callState) exhausted(err error) error {
	s.c.log.Warn("shopify: giving up", "method", s.method, "url", s.url, "attempts", s.attempts, "waited", s.waited, "err", err)
	return &ExhaustedError{Method: s.method, URL: s.url, Attempts: s.attempts, Waited: s.waited, Err: err}
}

// pause sleeps d within the call's wait budget.
func (s *callState) pause(ctx context.Context, d time.Duration, cause error) error {
	if s.waited+d > s.c.cfg.MaxWait {
		return s.exhausted(fmt.Errorf("%w (the next wait of %s would pass the %s bound)", cause, d.Round(time.Millisecond), s.c.cfg.MaxWait))
	}
	s.c.log.Debug("shopify: waiting", "method", s.method, "url", s.url, "wait", d, "cause", cause)
	if err := s.c.clock.Sleep(ctx, d); err != nil {
		return fmt.Errorf("shopify: %s %s: %w", s.method, s.url, err)
	}
	s.waited += d
	s.c.metrics.waitNanos.Add(int64(d))
	return nil
}

// waitFor waits for the bucket: d on the clock (0: no restore can help),
// ending early when a request in flight completes (changed is closed). When
// the clock wait would pass the call's bound but requests are in flight,
// only their completion is awaited.
func (s *callState) waitFor(ctx context.Context, d time.Duration, inflight bool, changed <-chan struct{}) error {
	if d <= 0 || (inflight && s.waited+d > s.c.cfg.MaxWait) {
		if !inflight {
			return s.exhausted(fmt.Errorf("%w (the bucket cannot afford the request)", ErrThrottled))
		}
		select {
		case <-changed:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("shopify: %s %s: %w", s.method, s.url, ctx.Err())
		}
	}
	if s.waited+d > s.c.cfg.MaxWait {
		return s.exhausted(fmt.Errorf("%w (the next wait of %s would pass the %s bound)", ErrThrottled, d.Round(time.Millisecond), s.c.cfg.MaxWait))
	}
	if !inflight {
		return s.pause(ctx, d, ErrThrottled)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-changed:
			cancel()
		case <-sctx.Done():
		}
	}()
	start := s.c.clock.Now()
	err := s.c.clock.Sleep(sctx, d)
	if ctx.Err() != nil {
		return fmt.Errorf("shopify: %s %s: %w", s.method, s.url, ctx.Err())
	}
	slept := min(max(s.c.clock.Now().Sub(start), 0), d)
	if err == nil {
		slept = d
	}
	s.waited += slept
	s.c.metrics.waitNanos.Add(int64(slept))
	return nil
}

// failed handles a retryable failure: backs off, or gives up. unsent
// tells that the request certainly was not processed (a refused
// connection, 503); other failures of writes are not retried unless
// configured.
func (s *callState) failed(ctx context.Context, err error, h http.Header, unsent bool) error {
	if s.write && !unsent && !s.c.cfg.RetryUncertainWrites {
		s.c.log.Warn("shopify: write of unknown outcome not repeated", "method", s.method, "url", s.url, "err", err)
		return &UncertainError{Method: s.method, URL: s.url, Err: err}
	}
	s.failures++
	if s.failures >= s.c.cfg.MaxAttempts {
		return s.exhausted(err)
	}
	s.c.metrics.retries.Add(1)
	d := s.c.backoff(s.failures)
	if ra, ok := retryAfter(h, s.c.clock.Now()); ok {
		d = ra
	}
	return s.pause(ctx, d, err)
}

// throttled handles an HTTP 429: waits Retry-After (or a backoff), or gives up.
func (s *callState) throttled(ctx context.Context, h http.Header, fallback time.Duration) error {
	s.throttles++
	s.c.metrics.throttled.Add(1)
	if s.throttles > s.c.cfg.MaxThrottleWaits {
		return s.exhausted(ErrThrottled)
	}
	d := fallback
	if ra, ok := retryAfter(h, s.c.clock.Now()); ok {
		d = ra
	}
	return s.pause(ctx, d, ErrThrottled)
}

// versionOr returns v when set, else the client's version, validated.
func (c *Client) versionOr(v string) (string, error) {
	if v == "" {
		return c.cfg.APIVersion, nil
	}
	if !versionRE.MatchString(v) {
		return "", fmt.Errorf("shopify: API version %q is not YYYY-MM or unstable", v)
	}
	return v, nil
}

// ThrottleSnapshot is the client's rate-limit model projected to a moment,
// with counters since the client was made.
type ThrottleSnapshot struct {
	// At is the moment the levels are projected to.
	At time.Time
	// GraphQLKnown is false until Shopify reported the cost bucket.
	GraphQLKnown bool
	// GraphQLAvailable, GraphQLMaximum and GraphQLRestoreRate are the
	// cost bucket's projected points available, its size and its restore
	// rate per second.
	GraphQLAvailable, GraphQLMaximum, GraphQLRestoreRate float64
	// GraphQLReserved is the cost reserved by requests in flight.
	GraphQLReserved float64
	// RESTKnown is false until Shopify sent X-Shopify-Shop-Api-Call-Limit.
	RESTKnown bool
	// RESTUsed and RESTLimit are the REST bucket's projected fill and size.
	RESTUsed, RESTLimit float64
	// Calls is the number of GraphQL and REST calls made, Attempts the
	// HTTP requests sent, Retries the retries after failures, Throttled
	// the THROTTLED/429 answers, Waits the waits for the bucket model
	// before sending, and WaitTotal all time spent waiting and backing off.
	Calls, Attempts, Retries, Throttled, Waits int64
	WaitTotal                                  time.Duration
	// Hold is what Hold reports at At.
	Hold bool
}

// ThrottleState returns the rate-limit model projected to now.
func (c *Client) ThrottleState() ThrottleSnapshot {
	now := c.clock.Now()
	s := ThrottleSnapshot{
		At:        now,
		Calls:     c.metrics.calls.Load(),
		Attempts:  c.metrics.attempts.Load(),
		Retries:   c.metrics.retries.Load(),
		Throttled: c.metrics.throttled.Load(),
		Waits:     c.metrics.waits.Load(),
		WaitTotal: time.Duration(c.metrics.waitNanos.Load()),
	}
	c.gql.snapshot(now, &s)
	c.rest.snapshot(now, &s)
	s.Hold = c.hold(now)
	return s
}

// Hold reports whether work that calls Shopify should be held back now:
// the projected GraphQL bucket (less the cost of requests in flight) is
// below the low-water mark, or the REST bucket is as full.
func (c *Client) Hold() bool { return c.hold(c.clock.Now()) }

func (c *Client) hold(now time.Time) bool {
	return c.gql.low(now, c.cfg.LowWater) || c.rest.high(now, c.cfg.LowWater)
}
