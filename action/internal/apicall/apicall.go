// Package apicall performs the HTTP calls of Sprocket's OAuth-backed
// integration actions (slack, airtable, google, google_sheets,
// google_drive, and http with its oauth option): it signs each request
// with the named account's current access token, refreshes the token once
// when the service answers 401, and sorts failures into the kinds of
// package action (429 and 5xx transient, a revoked grant permanent).
package apicall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/integrations/oauth"
)

// Tokens hands out the access tokens of connected OAuth accounts
// (*oauth.Manager implements it).
type Tokens interface {
	// Token returns the account's current access token.
	Token(ctx context.Context, provider, account string) (string, error)
	// Refresh replaces a token the service rejected.
	Refresh(ctx context.Context, provider, account, stale string) (string, error)
}

// Defaults of Client.
const (
	DefaultTimeout     = 60 * time.Second
	DefaultMaxResponse = 20 << 20
)

// Client calls one provider's API for one action type.
type Client struct {
	// Type is the action type, for messages.
	Type string
	// Provider is the OAuth provider's name.
	Provider string
	// Tokens supplies access tokens.
	Tokens Tokens
	// HTTP sends requests; nil means a client with DefaultTimeout.
	HTTP *http.Client
	// MaxResponse bounds response bodies; DefaultMaxResponse when zero.
	MaxResponse int64
	// Unauthorized reports whether a response means the token was
	// rejected; nil means status 401.
	Unauthorized func(status int, body []byte) bool
}

// Request is one call.
type Request struct {
	// Account names the connected account.
	Account string
	// Method is the HTTP method.
	Method string
	// URL is the absolute URL.
	URL string
	// Header holds extra headers (Authorization is set by Do).
	Header http.Header
	// Body is the request body, nil for none.
	Body []byte
}

// Response is a service's answer.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header are the response headers.
	Header http.Header
	// Body is the whole response body.
	Body []byte
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// NotSentError marks a failure that happened before the request was
// sent (getting a token), so callers know the service saw nothing.
type NotSentError struct{ Err error }

// Error returns the wrapped error's message.
func (e *NotSentError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped (classified) error.
func (e *NotSentError) Unwrap() error { return e.Err }

// TokenError classifies a token failure: a missing account or a grant
// that must be reconnected is permanent, anything else (the token
// endpoint unreachable) transient. The result is a *NotSentError.
func (c *Client) TokenError(account string, err error) error {
	if errors.Is(err, oauth.ErrNoAccount) || errors.Is(err, oauth.ErrReconnect) || errors.Is(err, oauth.ErrUnknownProvider) {
		return &NotSentError{action.Failed(fmt.Errorf("%s action: account %q: %w", c.Type, account, err))}
	}
	return &NotSentError{action.Transient(fmt.Errorf("%s action: account %q: token: %w", c.Type, account, err))}
}

// Do sends req with the account's token; on a rejected token it refreshes
// once and sends again; rejected twice, it fails permanently. A transport
// failure is transient. Status codes are left to the caller (see Status).
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	if c.Tokens == nil {
		return nil, action.Failed(fmt.Errorf("%s action: no OAuth connections are configured on this server", c.Type))
	}
	tok, err := c.Tokens.Token(ctx, c.Provider, req.Account)
	if err != nil {
		return nil, c.TokenError(req.Account, err)
	}
	resp, err := c.send(ctx, req, tok)
	if err != nil {
		return nil, err
	}
	if !c.unauthorized(resp) {
		return resp, nil
	}
	tok, err = c.Tokens.Refresh(ctx, c.Provider, req.Account, tok)
	if err != nil {
		return nil, c.TokenError(req.Account, err)
	}
	resp, err = c.send(ctx, req, tok)
	if err != nil {
		return nil, err
	}
	if c.unauthorized(resp) {
		return nil, action.Failed(fmt.Errorf("%s action: %s account %q: the service rejected a freshly refreshed token (%d: %.200s); reconnect the account", c.Type, c.Provider, req.Account, resp.Status, resp.Body))
	}
	return resp, nil
}

func (c *Client) unauthorized(r *Response) bool {
	if c.Unauthorized != nil {
		return c.Unauthorized(r.Status, r.Body)
	}
	return r.Status == http.StatusUnauthorized
}

func (c *Client) send(ctx context.Context, req Request, tok string) (*Response, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, action.Failed(fmt.Errorf("%s action: build request: %w", c.Type, err))
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", "Sprocket (+https://github.com/sprocketrun/sprocket)")
	}
	resp, err := c.httpClient().Do(r)
	if err != nil {
		return nil, action.Transient(fmt.Errorf("%s action: %s %s: %w", c.Type, req.Method, redactURL(req.URL), err))
	}
	defer resp.Body.Close()
	limit := c.MaxResponse
	if limit <= 0 {
		limit = DefaultMaxResponse
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, action.Transient(fmt.Errorf("%s action: %s %s: read response: %w", c.Type, req.Method, redactURL(req.URL), err))
	}
	if int64(len(data)) > limit {
		return nil, action.Failed(fmt.Errorf("%s action: %s %s: response larger than the limit of %d bytes", c.Type, req.Method, redactURL(req.URL), limit))
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

func redactURL(u string) string {
	s, _, _ := strings.Cut(u, "?")
	return s
}

// StatusError returns nil for a 2xx response, a transient error for 429
// (naming Retry-After) and 5xx, and a permanent failure otherwise. The
// message quotes the start of the body.
func StatusError(typ string, resp *Response) error {
	if resp.Status >= 200 && resp.Status < 300 {
		return nil
	}
	msg := fmt.Sprintf("%s action: the service answered %d %s: %.300s", typ, resp.Status, http.StatusText(resp.Status), bytes.TrimSpace(resp.Body))
	switch {
	case resp.Status == http.StatusTooManyRequests:
		if ra := RetryAfter(resp.Header); ra > 0 {
			msg += fmt.Sprintf(" (Retry-After %s)", ra)
		}
		return action.Transient(errors.New(msg))
	case resp.Status >= 500:
		return action.Transient(errors.New(msg))
	}
	return action.Failed(errors.New(msg))
}

// RetryAfter parses a Retry-After header (seconds or an HTTP date); zero
// when absent or unparsable.
func RetryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t).Round(time.Second)
	}
	return 0
}
