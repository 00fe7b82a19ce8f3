// Package pathapi implements the action shape that Mechanic's Slack,
// Airtable and Google actions share: the options account, method,
// url_path, headers and body, sent to the provider's API with the named
// account's OAuth token, answering {"status": ..., "body": ...}.
package pathapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/internal/apicall"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Spec describes one action type of this shape.
type Spec struct {
	// Type is the action type, e.g. "slack".
	Type string
	// Provider is the OAuth provider whose accounts the action uses.
	Provider string
	// Resolve maps url_path to the absolute URL to call, or reports the
	// path as unsupported.
	Resolve func(path string) (string, error)
	// BodyAsQuery sends a GET's body hash as query parameters (Google),
	// unless url_path already has a query string.
	BodyAsQuery bool
	// Check inspects a 2xx answer for failures the service reports in its
	// body (Slack's "ok": false); nil accepts every 2xx.
	Check func(body any) error
	// Unauthorized reports a rejected token (nil: status 401).
	Unauthorized func(status int, body []byte) bool
}

// Performer performs one action type of this shape.
type Performer struct {
	spec   Spec
	client *apicall.Client
}

// New returns a performer for spec using tokens; httpc may be nil.
func New(spec Spec, tokens apicall.Tokens, httpc *http.Client) *Performer {
	return &Performer{spec: spec, client: &apicall.Client{
		Type: spec.Type, Provider: spec.Provider, Tokens: tokens, HTTP: httpc, Unauthorized: spec.Unauthorized,
	}}
}

var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

type options struct {
	account, method, url string
	header               http.Header
	body                 []byte
}

func (p *Performer) invalid(field, format string, args ...any) error {
	return action.Invalid(p.spec.Type, field, format, args...)
}

// Validate implements action.Validator.
func (p *Performer) Validate(raw any) error {
	_, err := p.parse(raw)
	return err
}

func (p *Performer) parse(raw any) (*options, error) {
	m, ok := raw.(*value.Map)
	if !ok {
		return nil, p.invalid("", "must be a hash with account, method, url_path, headers and body, got %s", value.TypeName(raw))
	}
	o := &options{header: http.Header{}}
	str := func(field string) (string, error) {
		v, _ := m.Get(field)
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return "", p.invalid(field, "is required (a string), got %s", value.TypeName(v))
		}
		return strings.TrimSpace(s), nil
	}
	var err error
	if o.account, err = str("account"); err != nil {
		return nil, err
	}
	if o.method, err = str("method"); err != nil {
		return nil, err
	}
	o.method = strings.ToUpper(o.method)
	if !slices.Contains(methods, o.method) {
		return nil, p.invalid("method", "must be one of %s, got %q", strings.Join(methods, ", "), o.method)
	}
	path, err := str("url_path")
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(path, "/") {
		return nil, p.invalid("url_path", "must start with '/', got %q", path)
	}
	if o.url, err = p.spec.Resolve(path); err != nil {
		return nil, p.invalid("url_path", "%v", err)
	}
	if hv, ok := m.Get("headers"); ok && hv != nil {
		hm, ok := hv.(*value.Map)
		if !ok {
			return nil, p.invalid("headers", "must be a hash of header names to values, got %s", value.TypeName(hv))
		}
		hm.Each(func(k string, v any) bool {
			s, ok := v.(string)
			if !ok {
				err = p.invalid("headers."+k, "must be a string, got %s", value.TypeName(v))
				return false
			}
			if strings.EqualFold(k, "Authorization") {
				err = p.invalid("headers."+k, "is set by Sprocket from the connected account")
				return false
			}
			o.header.Set(k, s)
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	bv, hasBody := m.Get("body")
	if hasBody && bv != nil {
		if p.spec.BodyAsQuery && o.method == "GET" {
			if err := p.bodyToQuery(o, bv); err != nil {
				return nil, err
			}
		} else if s, ok := bv.(string); ok {
			o.body = []byte(s)
		} else {
			b, err := value.ToJSON(bv)
			if err != nil {
				return nil, p.invalid("body", "cannot be encoded as JSON: %v", err)
			}
			o.body = b
			if o.header.Get("Content-Type") == "" {
				o.header.Set("Content-Type", "application/json")
			}
		}
	}
	if o.header.Get("Accept") == "" {
		o.header.Set("Accept", "application/json")
	}
	return o, nil
}

// bodyToQuery moves a GET's body hash into the query string, unless the
// path already has one (then the body is ignored, as Mechanic documents).
func (p *Performer) bodyToQuery(o *options, bv any) error {
	u, err := url.Parse(o.url)
	if err != nil {
		return p.invalid("url_path", "%v", err)
	}
	if u.RawQuery != "" {
		return nil
	}
	bm, ok := bv.(*value.Map)
	if !ok {
		return p.invalid("body", "must be a hash of query parameters for GET, got %s", value.TypeName(bv))
	}
	q := url.Values{}
	bm.Each(func(k string, v any) bool {
		switch x := v.(type) {
		case string:
			q.Set(k, x)
		case nil:
		default:
			b, _ := value.ToJSON(x)
			q.Set(k, strings.Trim(string(b), `"`))
		}
		return true
	})
	u.RawQuery = q.Encode()
	o.url = u.String()
	return nil
}

// Perform implements action.Performer.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	o, err := p.parse(req.Options)
	if err != nil {
		return action.Result{}, err
	}
	resp, err := p.client.Do(ctx, apicall.Request{Account: o.account, Method: o.method, URL: o.url, Header: o.header, Body: o.body})
	if err != nil {
		return action.Result{}, err
	}
	body := DecodeBody(resp.Body)
	res := action.Result{Value: result(resp.Status, body)}
	if err := apicall.StatusError(p.spec.Type, resp); err != nil {
		return action.Result{}, action.WithResult(err, res)
	}
	if p.spec.Check != nil {
		if err := p.spec.Check(body); err != nil {
			return action.Result{}, action.WithResult(err, res)
		}
	}
	return res, nil
}

func result(status int, body any) *value.Map {
	m := value.NewMap(2)
	m.Set("status", int64(status))
	m.Set("body", body)
	return m
}

// DecodeBody decodes a JSON body into canonical values; other bodies are
// answered as text.
func DecodeBody(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	if json.Valid(b) {
		if v, err := value.FromJSON(b); err == nil {
			return v
		}
	}
	return string(b)
}

// JoinBase joins an API base URL and a path.
func JoinBase(base, path string) string {
	return strings.TrimRight(base, "/") + path
}
