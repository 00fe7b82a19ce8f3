// Package oauth connects Sprocket to third-party services with OAuth 2.0:
// a registry of providers (built in for Slack, Airtable and Google, any
// other service added by configuration), the authorization-code flow with
// PKCE and a state nonce, several named accounts per provider, access
// tokens refreshed before they expire and once on a 401, and revocation.
//
// Client secrets and tokens are stored sealed with the installation's key
// (package internal/seal); they never leave the Manager except as the
// current access token handed to the action that uses it.
package oauth

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Provider describes one OAuth 2.0 service and the app registered with it.
type Provider struct {
	// Name identifies the provider, e.g. "slack" or "hubspot".
	Name string `json:"name"`
	// AuthorizeURL is where the user is sent to grant access.
	AuthorizeURL string `json:"authorize_url"`
	// TokenURL exchanges codes and refresh tokens for access tokens.
	TokenURL string `json:"token_url"`
	// RevokeURL revokes a token (RFC 7009 form post); "" when the service has none.
	RevokeURL string `json:"revoke_url,omitempty"`
	// Scopes are requested when connecting.
	Scopes []string `json:"scopes,omitempty"`
	// ScopeSeparator joins Scopes ("," for Slack; " " by default).
	ScopeSeparator string `json:"scope_separator,omitempty"`
	// ScopeParam is the authorize parameter carrying the scopes ("scope" by default).
	ScopeParam string `json:"scope_param,omitempty"`
	// AuthParams are extra authorize parameters (e.g. Google's access_type=offline).
	AuthParams map[string]string `json:"auth_params,omitempty"`
	// ClientID is the app's client id.
	ClientID string `json:"client_id,omitempty"`
	// ClientSecret is the app's client secret; it is stored sealed and
	// never answered by the API.
	ClientSecret string `json:"client_secret,omitempty"`
	// ClientAuth is how the client authenticates at the token URL:
	// "basic" (HTTP Basic) or "post" (client_id and client_secret in the
	// form body, the default).
	ClientAuth string `json:"client_auth,omitempty"`
	// DisablePKCE turns PKCE off for services that reject it.
	DisablePKCE bool `json:"disable_pkce,omitempty"`
	// IdentityURL, when set, is fetched with a new access token to name the
	// account (e.g. Google's userinfo endpoint).
	IdentityURL string `json:"identity_url,omitempty"`
	// AccountField is the dotted path of the account's name in the token
	// response, or in the identity response when IdentityURL is set (e.g.
	// "team.name" for Slack, "email" for Google).
	AccountField string `json:"account_field,omitempty"`
	// APIBaseURL is the base URL of the service's API, for reference and
	// for actions that default to it.
	APIBaseURL string `json:"api_base_url,omitempty"`
	// BuiltIn reports a provider whose definition ships with Sprocket.
	BuiltIn bool `json:"built_in"`
}

// Redacted returns p without its client secret, with HasSecret-style
// information kept by the caller.
func (p Provider) Redacted() Provider {
	p.ClientSecret = ""
	return p
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// ValidName reports whether s can name a provider.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// accountRE bounds account names: printable, no slashes (they appear in paths).
var accountRE = regexp.MustCompile(`^[^/\x00-\x1f\x7f]{1,200}$`)

// ValidAccount reports whether s can name an account.
func ValidAccount(s string) bool { return accountRE.MatchString(s) }

// FieldError is a provider definition or request field that is wrong.
type FieldError struct {
	// Field names the field, e.g. "token_url".
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error returns e.g. `token_url: must be an absolute http(s) URL`.
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks p for use.
func (p Provider) Validate() error {
	if !ValidName(p.Name) {
		return fieldErr("name", "%q must be lower-case letters, digits, '-' or '_', starting with a letter (at most 40)", p.Name)
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"authorize_url", p.AuthorizeURL, true},
		{"token_url", p.TokenURL, true},
		{"revoke_url", p.RevokeURL, false},
		{"identity_url", p.IdentityURL, false},
		{"api_base_url", p.APIBaseURL, false},
	} {
		if f.v == "" {
			if f.required {
				return fieldErr(f.name, "is required")
			}
			continue
		}
		u, err := url.Parse(f.v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fieldErr(f.name, "%q must be an absolute http(s) URL", f.v)
		}
	}
	switch p.ClientAuth {
	case "", "basic", "post":
	default:
		return fieldErr("client_auth", "must be \"basic\" or \"post\", got %q", p.ClientAuth)
	}
	for i, s := range p.Scopes {
		if s == "" || strings.ContainsAny(s, " ,\t\r\n") {
			return fieldErr(fmt.Sprintf("scopes[%d]", i), "%q is not a scope", s)
		}
	}
	return nil
}

func (p Provider) scopeString() string {
	sep := p.ScopeSeparator
	if sep == "" {
		sep = " "
	}
	return strings.Join(p.Scopes, sep)
}

// BuiltIns returns the provider definitions that ship with Sprocket,
// without client credentials (those are the user's app's). Each can be
// overridden field by field through the API.
func BuiltIns() []Provider {
	return []Provider{
		{
			Name:           "slack",
			AuthorizeURL:   "https://slack.com/oauth/v2/authorize",
			TokenURL:       "https://slack.com/api/oauth.v2.access",
			RevokeURL:      "https://slack.com/api/auth.revoke",
			Scopes:         []string{"chat:write", "chat:write.public", "chat:write.customize"},
			ScopeSeparator: ",",
			AccountField:   "team.name",
			APIBaseURL:     "https://slack.com/api",
			BuiltIn:        true,
		},
		{
			Name:         "airtable",
			AuthorizeURL: "https://airtable.com/oauth2/v1/authorize",
			TokenURL:     "https://airtable.com/oauth2/v1/token",
			Scopes: []string{
				"data.records:read", "data.records:write",
				"data.recordComments:read", "data.recordComments:write",
				"schema.bases:read", "schema.bases:write", "user.email:read",
			},
			ClientAuth:   "basic",
			IdentityURL:  "https://api.airtable.com/v0/meta/whoami",
			AccountField: "email",
			APIBaseURL:   "https://api.airtable.com",
			BuiltIn:      true,
		},
		{
			Name:         "google",
			AuthorizeURL: "https://accounts.google.com/o/oauth2/v2/auth",
			TokenURL:     "https://oauth2.googleapis.com/token",
			RevokeURL:    "https://oauth2.googleapis.com/revoke",
			Scopes:       []string{"openid", "email", "https://www.googleapis.com/auth/drive.file"},
			AuthParams:   map[string]string{"access_type": "offline", "prompt": "consent"},
			IdentityURL:  "https://openidconnect.googleapis.com/v1/userinfo",
			AccountField: "email",
			APIBaseURL:   "https://www.googleapis.com",
			BuiltIn:      true,
		},
	}
}

// builtIn returns the built-in definition named name.
func builtIn(name string) (Provider, bool) {
	i := slices.IndexFunc(BuiltIns(), func(p Provider) bool { return p.Name == name })
	if i < 0 {
		return Provider{}, false
	}
	return BuiltIns()[i], true
}
