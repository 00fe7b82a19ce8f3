package http

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Option names of the http action (docs: core/actions/http.md).
const (
	optMethod          = "method"
	optURL             = "url"
	optBody            = "body"
	optFiles           = "files"
	optHeaders         = "headers"
	optFollowRedirects = "follow_redirects"
	optProxy           = "proxy"
	optVerify          = "verify"
	optErrorOn5xx      = "error_on_5xx"
	optOAuth           = "oauth"
	// optIdempotencyKey is Sprocket's own option: false stops the
	// Idempotency-Key header.
	optIdempotencyKey = "idempotency_key"
)

// methods are the documented request methods, lower-case as in the docs.
var methods = []string{"options", "head", "get", "post", "put", "patch", "delete"}

// header is one request header in the order the task gave it.
type header struct {
	name  string
	value string
}

// options are the parsed options of one http action.
type options struct {
	method          string // upper-case, e.g. "GET"
	url             *url.URL
	body            any
	hasBody         bool
	files           *value.Map // nil without files
	headers         []header
	followRedirects bool
	proxy           *url.URL // nil without proxy
	verify          bool
	errorOn5xx      bool
	oauth           *oauthRef // nil without the oauth option
	idempotencyKey  bool
	key             string // the Idempotency-Key to send; empty for none
}

func invalid(field, format string, args ...any) *action.ValidationError {
	return action.Invalid(Type, field, format, args...)
}

// parseOptions checks the options of an http action and parses them.
// Unknown options are ignored, as library tasks carry some (e.g. "meta").
func parseOptions(raw any) (*options, error) {
	m, ok := raw.(*value.Map)
	if !ok {
		return nil, invalid("", "must be a hash of request options, got %s", value.TypeName(raw))
	}
	o := &options{followRedirects: true, verify: true}

	mv, ok := m.Get(optMethod)
	if !ok || mv == nil {
		return nil, invalid(optMethod, "is required; one of %s", strings.Join(methods, ", "))
	}
	ms, ok := mv.(string)
	if !ok {
		return nil, invalid(optMethod, "must be a string, got %s", value.TypeName(mv))
	}
	lower := strings.ToLower(strings.TrimSpace(ms))
	known := false
	for _, k := range methods {
		if lower == k {
			known = true
			break
		}
	}
	if !known {
		return nil, invalid(optMethod, "must be one of %s, got %q", strings.Join(methods, ", "), ms)
	}
	o.method = strings.ToUpper(lower)

	u, err := parseURL(m, optURL, true, "http", "https")
	if err != nil {
		return nil, err
	}
	o.url = u

	o.body, o.hasBody = m.Get(optBody)
	if !o.hasBody && lower != "get" {
		return nil, invalid(optBody, "is required for %s requests (it may be an empty string)", lower)
	}

	if o.headers, err = parseHeaders(m); err != nil {
		return nil, err
	}

	if fv, ok := m.Get(optFiles); ok && fv != nil {
		fm, ok := fv.(*value.Map)
		if !ok {
			return nil, invalid(optFiles, "must be a hash of filenames to file generators, got %s", value.TypeName(fv))
		}
		if err := checkFileGenerators(optFiles, fm); err != nil {
			return nil, err
		}
		switch b := o.body.(type) {
		case nil, *value.Map:
		case string:
			if b != "" {
				return nil, invalid(optBody, "must be a hash of form fields when files are given, got a string")
			}
		default:
			return nil, invalid(optBody, "must be a hash of form fields when files are given, got %s", value.TypeName(o.body))
		}
		o.files = fm
	}

	if o.followRedirects, err = boolOption(m, optFollowRedirects, true); err != nil {
		return nil, err
	}
	if o.verify, err = boolOption(m, optVerify, true); err != nil {
		return nil, err
	}
	if o.errorOn5xx, err = boolOption(m, optErrorOn5xx, false); err != nil {
		return nil, err
	}
	if o.idempotencyKey, err = boolOption(m, optIdempotencyKey, true); err != nil {
		return nil, err
	}
	if o.proxy, err = parseURL(m, optProxy, false, "http", "https", "socks5"); err != nil {
		return nil, err
	}
	if err := checkBodyEncoding(o); err != nil {
		return nil, err
	}
	if o.oauth, err = parseOAuth(m); err != nil {
		return nil, err
	}
	return o, nil
}

// parseURL reads an absolute URL option with one of the given schemes.
func parseURL(m *value.Map, field string, required bool, schemes ...string) (*url.URL, error) {
	v, ok := m.Get(field)
	if !ok || v == nil {
		if required {
			return nil, invalid(field, "is required")
		}
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, invalid(field, "must be a string, got %s", value.TypeName(v))
	}
	prefixes := make([]string, len(schemes))
	for i, sc := range schemes {
		prefixes[i] = sc + "://"
	}
	want := strings.Join(prefixes, ", ")
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a secret
		}
		return nil, invalid(field, "is not a valid URL: %v", err)
	}
	scheme := strings.ToLower(u.Scheme)
	okScheme := false
	for _, sc := range schemes {
		if scheme == sc && strings.HasPrefix(strings.ToLower(s), sc+"://") {
			okScheme = true
		}
	}
	if !okScheme {
		return nil, invalid(field, "must start with %s", want)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, invalid(field, "has no host")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return nil, invalid(field, "must not contain whitespace; escape it as %%20")
	}
	u.Scheme = scheme
	return u, nil
}

// boolOption reads a boolean option; the strings "true" and "false" are
// accepted too, as library tasks write "verify": "true".
func boolOption(m *value.Map, field string, def bool) (bool, error) {
	v, ok := m.Get(field)
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, invalid(field, "must be true or false, got %q", x)
	}
	return false, invalid(field, "must be true or false, got %s", value.TypeName(v))
}

// parseHeaders reads the headers option: a hash of names to strings,
// numbers, booleans, or arrays of those for repeated headers. Null values
// are left out.
func parseHeaders(m *value.Map) ([]header, error) {
	v, ok := m.Get(optHeaders)
	if !ok || v == nil {
		return nil, nil
	}
	hm, ok := v.(*value.Map)
	if !ok {
		return nil, invalid(optHeaders, "must be a hash of header names to values, got %s", value.TypeName(v))
	}
	var out []header
	var err error
	hm.Each(func(name string, hv any) bool {
		field := optHeaders + "." + name
		if !validHeaderName(name) {
			err = invalid(field, "is not a valid header name")
			return false
		}
		vals, ok := hv.([]any)
		if !ok {
			vals = []any{hv}
		}
		for _, e := range vals {
			var s string
			switch x := e.(type) {
			case nil:
				continue
			case string:
				s = x
			case bool, int64, float64:
				s = value.ToS(x)
			default:
				if value.IsNumber(x) {
					s = value.ToS(x)
					break
				}
				err = invalid(field, "must be a string, got %s", value.TypeName(e))
				return false
			}
			if !validHeaderValue(s) {
				err = invalid(field, "value must not contain line breaks or control characters")
				return false
			}
			out = append(out, header{name: name, value: s})
		}
		return true
	})
	return out, err
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue rejects control characters other than horizontal tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// get returns the last value of header name (case-insensitive).
func (o *options) get(name string) (string, bool) {
	val, found := "", false
	for _, h := range o.headers {
		if strings.EqualFold(h.name, name) {
			val, found = h.value, true
		}
	}
	return val, found
}

// contentType returns the media type of the Content-Type header, lower-case.
func (o *options) contentType() (string, bool) {
	ct, ok := o.get("Content-Type")
	if !ok {
		return "", false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0])), true
	}
	return mt, true
}

// checkBodyEncoding rejects bodies the chosen encoding cannot express.
func checkBodyEncoding(o *options) error {
	if o.files != nil {
		return nil
	}
	ct, _ := o.contentType()
	if ct != formType {
		return nil
	}
	switch b := o.body.(type) {
	case []any:
		for i, e := range b {
			if pair, ok := e.([]any); !ok || len(pair) != 2 {
				return invalid(fmt.Sprintf("%s.%d", optBody, i), "a form-encoded array body must hold [name, value] pairs")
			}
		}
	}
	return nil
}

const (
	formType      = "application/x-www-form-urlencoded"
	jsonType      = "application/json"
	multipartType = "multipart/form-data"
)
