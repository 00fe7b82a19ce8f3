package http

import (
	"context"
	"errors"
	"fmt"
	nethttp "net/http"
	"slices"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/integrations/oauth"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// OAuthTokens hands out the access tokens of connected OAuth accounts
// for the oauth option (*oauth.Manager implements it).
type OAuthTokens interface {
	// Token returns the account's current access token.
	Token(ctx context.Context, provider, account string) (string, error)
	// Refresh replaces a token the service rejected.
	Refresh(ctx context.Context, provider, account, stale string) (string, error)
}

// oauthRef names the connected account that signs a request.
type oauthRef struct {
	provider, account string
}

// parseOAuth reads the oauth option: {"provider": name, "account": name}.
func parseOAuth(m *value.Map) (*oauthRef, error) {
	v, ok := m.Get(optOAuth)
	if !ok || v == nil {
		return nil, nil
	}
	om, ok := v.(*value.Map)
	if !ok {
		return nil, invalid(optOAuth, `must be a hash {"provider": ..., "account": ...}, got %s`, value.TypeName(v))
	}
	ref := &oauthRef{}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"provider", &ref.provider}, {"account", &ref.account}} {
		fv, _ := om.Get(f.name)
		s, ok := fv.(string)
		if !ok || s == "" {
			return nil, invalid(optOAuth+"."+f.name, "is required (a string), got %s", value.TypeName(fv))
		}
		*f.dst = s
	}
	if !oauth.ValidName(ref.provider) {
		return nil, invalid(optOAuth+".provider", "%q is not a provider name", ref.provider)
	}
	return ref, nil
}

// tokenErr carries a classified failure to get a token past the
// request error classification.
type tokenErr struct{ err error }

func (e *tokenErr) Error() string { return e.err.Error() }
func (e *tokenErr) Unwrap() error { return e.err }

// tokenError classifies a failure to get a token.
func tokenError(ref *oauthRef, err error) error {
	err = fmt.Errorf("http action: oauth %s account %q: %w", ref.provider, ref.account, err)
	if errors.Is(err, oauth.ErrNoAccount) || errors.Is(err, oauth.ErrReconnect) || errors.Is(err, oauth.ErrUnknownProvider) {
		return &tokenErr{action.Failed(err)}
	}
	return &tokenErr{action.Transient(err)}
}

// doSigned sends the request, signed with the oauth option's account when
// it is set; a 401 refreshes the token once and repeats the request.
func (p *Performer) doSigned(ctx context.Context, o *options, eb encodedBody) (*nethttp.Response, []byte, error) {
	if o.oauth == nil {
		return p.do(ctx, o, eb)
	}
	if p.cfg.OAuth == nil {
		return nil, nil, &tokenErr{action.Failed(errors.New("http action: the oauth option is not available: this server has no OAuth connections configured"))}
	}
	ref := o.oauth
	tok, err := p.cfg.OAuth.Token(ctx, ref.provider, ref.account)
	if err != nil {
		return nil, nil, tokenError(ref, err)
	}
	signed := func(tok string) *options {
		c := *o
		c.headers = slices.DeleteFunc(slices.Clone(o.headers), func(h header) bool { return strings.EqualFold(h.name, "Authorization") })
		c.headers = append(c.headers, header{name: "Authorization", value: "Bearer " + tok})
		return &c
	}
	resp, data, err := p.do(ctx, signed(tok), eb)
	if err != nil || resp.StatusCode != nethttp.StatusUnauthorized {
		return resp, data, err
	}
	tok, err = p.cfg.OAuth.Refresh(ctx, ref.provider, ref.account, tok)
	if err != nil {
		return nil, nil, tokenError(ref, err)
	}
	return p.do(ctx, signed(tok), eb)
}
