// Package standin serves loopback stand-ins for the third-party services
// Sprocket integrates with (an OAuth 2.0 authorization server, Slack's Web
// API, Airtable's API, Google's Drive and Sheets APIs, a Report Toaster
// endpoint), speaking their documented endpoints so that tests exercise
// the real client code with only base URLs changed.
package standin

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// OAuthServer is an OAuth 2.0 authorization server: an authorize endpoint
// that grants at once (the user consents) and redirects with a code, a
// token endpoint for authorization_code (PKCE S256 checked) and
// refresh_token grants, an RFC 7009 revoke endpoint and a userinfo
// endpoint. Access tokens it issued can be checked with Valid.
type OAuthServer struct {
	// ClientID and ClientSecret are the registered app's credentials.
	ClientID, ClientSecret string
	// TokenTTL is the access token lifetime (expires_in); zero issues
	// tokens that do not expire and no refresh token.
	TokenTTL time.Duration
	// Identity is what the userinfo endpoint answers for new grants.
	Identity map[string]any
	// TokenExtra is merged into token responses (e.g. Slack's "team").
	TokenExtra map[string]any
	// BasicAuth requires client credentials in an HTTP Basic header.
	BasicAuth bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	codes    map[string]grant
	access   map[string]*token
	refresh  map[string]*grant
	Requests map[string]int // path → count
}

type grant struct {
	redirect, challenge, scope string
	identity                   map[string]any
	revoked                    bool
}

type token struct {
	g       *grant
	expires time.Time
}

func (s *OAuthServer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func random() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Mount adds the endpoints under prefix (e.g. "/oauth"): prefix+"/authorize",
// "/token", "/revoke", "/userinfo".
func (s *OAuthServer) Mount(mux *http.ServeMux, prefix string) {
	s.mu.Lock()
	if s.codes == nil {
		s.codes, s.access, s.refresh, s.Requests = map[string]grant{}, map[string]*token{}, map[string]*grant{}, map[string]int{}
	}
	s.mu.Unlock()
	mux.HandleFunc("GET "+prefix+"/authorize", s.authorize)
	mux.HandleFunc("POST "+prefix+"/token", s.token)
	mux.HandleFunc("POST "+prefix+"/revoke", s.revoke)
	mux.HandleFunc("GET "+prefix+"/userinfo", s.userinfo)
}

func (s *OAuthServer) count(path string) {
	s.mu.Lock()
	s.Requests[path]++
	s.mu.Unlock()
}

func (s *OAuthServer) authorize(w http.ResponseWriter, r *http.Request) {
	s.count("authorize")
	q := r.URL.Query()
	if q.Get("client_id") != s.ClientID || q.Get("response_type") != "code" {
		http.Error(w, "unknown client_id or response_type", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Host == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256" {
		http.Error(w, "only S256 code challenges", http.StatusBadRequest)
		return
	}
	code := random()
	s.mu.Lock()
	s.codes[code] = grant{redirect: redirect.String(), challenge: q.Get("code_challenge"), scope: q.Get("scope"), identity: s.Identity}
	s.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func oauthErr(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (s *OAuthServer) clientOK(r *http.Request) bool {
	if s.BasicAuth {
		id, secret, ok := r.BasicAuth()
		return ok && id == s.ClientID && secret == s.ClientSecret
	}
	return r.PostForm.Get("client_id") == s.ClientID && r.PostForm.Get("client_secret") == s.ClientSecret
}

func (s *OAuthServer) token(w http.ResponseWriter, r *http.Request) {
	s.count("token")
	if err := r.ParseForm(); err != nil {
		oauthErr(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if !s.clientOK(r) {
		oauthErr(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var g *grant
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c, ok := s.codes[r.PostForm.Get("code")]
		if !ok {
			oauthErr(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
			return
		}
		delete(s.codes, r.PostForm.Get("code"))
		if c.redirect != r.PostForm.Get("redirect_uri") {
			oauthErr(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs")
			return
		}
		if c.challenge != "" {
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
				oauthErr(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match")
				return
			}
		}
		g = &c
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		g = s.refresh[rt]
		if g == nil || g.revoked {
			oauthErr(w, http.StatusBadRequest, "invalid_grant", "refresh token revoked or unknown")
			return
		}
		delete(s.refresh, rt) // rotation
		s.Requests["refresh"]++
	default:
		oauthErr(w, http.StatusBadRequest, "unsupported_grant_type", r.PostForm.Get("grant_type"))
		return
	}
	at := "at_" + random()
	out := map[string]any{"access_token": at, "token_type": "Bearer", "scope": g.scope}
	for k, v := range s.TokenExtra {
		out[k] = v
	}
	tk := &token{g: g}
	if s.TokenTTL > 0 {
		tk.expires = s.now().Add(s.TokenTTL)
		out["expires_in"] = int(s.TokenTTL.Seconds())
		rt := "rt_" + random()
		s.refresh[rt] = g
		out["refresh_token"] = rt
	}
	s.access[at] = tk
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *OAuthServer) revoke(w http.ResponseWriter, r *http.Request) {
	s.count("revoke")
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	tok := r.PostForm.Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.refresh[tok]; g != nil {
		g.revoked = true
	} else if t := s.access[tok]; t != nil {
		t.g.revoked = true
	} else {
		http.Error(w, `{"error":"invalid_token"}`, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// RevokeAll revokes every grant, as a user removing the app would.
func (s *OAuthServer) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.access {
		t.g.revoked = true
	}
	for _, g := range s.refresh {
		g.revoked = true
	}
}

// ExpireAll makes every issued access token expired (refresh tokens stay valid).
func (s *OAuthServer) ExpireAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.access {
		t.expires = s.now().Add(-time.Second)
	}
}

// Valid reports whether the request carries a live access token, and the
// identity it was granted to.
func (s *OAuthServer) Valid(r *http.Request) (map[string]any, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.access[tok]
	if t == nil || t.g.revoked || (!t.expires.IsZero() && s.now().After(t.expires)) {
		return nil, false
	}
	return t.g.identity, true
}

func (s *OAuthServer) userinfo(w http.ResponseWriter, r *http.Request) {
	s.count("userinfo")
	id, ok := s.Valid(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(id)
}

// Count returns how many requests an endpoint ("authorize", "token",
// "refresh", "revoke", "userinfo") has had.
func (s *OAuthServer) Count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Requests[name]
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// unauthorized answers a 401 in the service's style.
func unauthorized(w http.ResponseWriter, body any) {
	writeJSON(w, http.StatusUnauthorized, body)
}
