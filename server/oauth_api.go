package server

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/sprocketrun/sprocket/integrations/oauth"
	"github.com/sprocketrun/sprocket/store"
)

// OAuthCallbackPath is the fixed path of the OAuth 2.0 callback of every
// provider; register <public URL>/oauth/callback as the app's redirect URL.
const OAuthCallbackPath = "/oauth/callback"

// integrationRoutes adds the OAuth connection endpoints and the inbound
// app event endpoints:
//
//   - GET /v1/oauth/providers, GET/PUT/DELETE /v1/oauth/providers/{name}
//   - POST /v1/oauth/{provider}/connect {"account": optional name}: answers
//     {"authorize_url"} to send the user to
//   - GET /v1/oauth/accounts (?provider=), DELETE /v1/oauth/accounts/{provider}/{account}
//   - GET /oauth/callback (unauthenticated; checked by its state nonce)
//   - the app event endpoints of appevents.go
func (s *Service) integrationRoutes(api map[string]apiHandler, mux *recordingMux) {
	api["GET /v1/oauth/providers"] = s.listOAuthProviders
	api["GET /v1/oauth/providers/{name}"] = s.getOAuthProvider
	api["PUT /v1/oauth/providers/{name}"] = s.putOAuthProvider
	api["DELETE /v1/oauth/providers/{name}"] = s.deleteOAuthProvider
	api["POST /v1/oauth/{provider}/connect"] = s.connectOAuth
	api["GET /v1/oauth/accounts"] = s.listOAuthAccounts
	api["DELETE /v1/oauth/accounts/{provider}/{account}"] = s.deleteOAuthAccount
	mux.HandleFunc("GET "+OAuthCallbackPath, s.oauthProviderCallback)
	s.appEventRoutes(api, mux)
}

// oauthError maps the manager's errors to API errors.
func oauthError(err error) error {
	var fe *oauth.FieldError
	switch {
	case errors.As(err, &fe):
		return errorf(http.StatusUnprocessableEntity, fe.Field, "%v", err)
	case errors.Is(err, oauth.ErrUnknownProvider), errors.Is(err, oauth.ErrNoAccount):
		return errorf(http.StatusNotFound, "", "%v", err)
	case errors.Is(err, oauth.ErrNotConfigured):
		return errorf(http.StatusConflict, "client_id", "%v", err)
	}
	return err
}

func (s *Service) listOAuthProviders(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	ps, err := s.oauth.Providers(r.Context())
	if err != nil {
		return 0, nil, err
	}
	key := func(p oauth.ProviderInfo) string { return p.Name }
	ps, next, err := memPage(ps, p, key)
	if err != nil {
		return 0, nil, pageError("list OAuth providers", err)
	}
	body, err := listOut(s.cfg.MaxListBytes, "providers", ps, next, func(p oauth.ProviderInfo) string { return store.EncodeKeyCursor(key(p)) },
		func(p oauth.ProviderInfo) (any, error) { return p, nil })
	if err != nil {
		return 0, nil, err
	}
	body["callback_url"] = s.publicURL(r) + OAuthCallbackPath
	return http.StatusOK, body, nil
}

func (s *Service) getOAuthProvider(r *http.Request) (int, any, error) {
	p, err := s.oauth.Provider(r.Context(), r.PathValue("name"))
	if err != nil {
		return 0, nil, oauthError(err)
	}
	return http.StatusOK, p, nil
}

func (s *Service) putOAuthProvider(r *http.Request) (int, any, error) {
	var p oauth.Provider
	if err := decodeBody(r, &p); err != nil {
		return 0, nil, err
	}
	name := r.PathValue("name")
	if p.Name != "" && p.Name != name {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "name", "name %q differs from the path's %q", p.Name, name)
	}
	p.Name = name
	out, err := s.oauth.PutProvider(r.Context(), p)
	if err != nil {
		return 0, nil, oauthError(err)
	}
	return http.StatusOK, out, nil
}

func (s *Service) deleteOAuthProvider(r *http.Request) (int, any, error) {
	if err := s.oauth.DeleteProvider(r.Context(), r.PathValue("name")); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return 0, nil, errorf(http.StatusConflict, "", "%v", err)
		}
		return 0, nil, oauthError(err)
	}
	return http.StatusOK, map[string]any{"deleted": true}, nil
}

func (s *Service) connectOAuth(r *http.Request) (int, any, error) {
	var body struct {
		Account string `json:"account"`
	}
	if r.ContentLength != 0 {
		if err := decodeBody(r, &body); err != nil {
			return 0, nil, err
		}
	}
	u, err := s.oauth.Connect(r.Context(), r.PathValue("provider"), strings.TrimSpace(body.Account), s.publicURL(r)+OAuthCallbackPath)
	if err != nil {
		return 0, nil, oauthError(err)
	}
	return http.StatusOK, map[string]any{"authorize_url": u, "expires_in": int(oauth.StateTTL.Seconds())}, nil
}

func (s *Service) listOAuthAccounts(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	accts, err := s.oauth.Accounts(r.Context(), r.URL.Query().Get("provider"))
	if err != nil {
		return 0, nil, err
	}
	key := func(a oauth.Account) string { return a.Provider + "\x00" + a.Name }
	accts, next, err := memPage(accts, p, key)
	if err != nil {
		return 0, nil, pageError("list OAuth accounts", err)
	}
	body, err := listOut(s.cfg.MaxListBytes, "accounts", accts, next, func(a oauth.Account) string { return store.EncodeKeyCursor(key(a)) },
		func(a oauth.Account) (any, error) { return a, nil })
	return http.StatusOK, body, err
}

func (s *Service) deleteOAuthAccount(r *http.Request) (int, any, error) {
	revokeErr, err := s.oauth.Disconnect(r.Context(), r.PathValue("provider"), r.PathValue("account"))
	if err != nil {
		return 0, nil, oauthError(err)
	}
	out := map[string]any{"deleted": true, "revoked": revokeErr == nil}
	if revokeErr != nil {
		s.log.Warn("oauth revocation failed; the account was forgotten anyway", "provider", r.PathValue("provider"), "account", r.PathValue("account"), "error", revokeErr)
		out["revoke_error"] = revokeErr.Error()
	}
	return http.StatusOK, out, nil
}

// oauthProviderCallback completes a connection started with POST
// /v1/oauth/{provider}/connect. It answers JSON when the client asks for
// it (Accept: application/json), else a short page.
func (s *Service) oauthProviderCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	acct, err := s.oauth.Callback(r.Context(), q.Get("state"), q.Get("code"), q.Get("error"), q.Get("error_description"))
	wantJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	if err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, oauth.ErrState) {
			status = http.StatusBadRequest
		}
		s.log.Warn("oauth callback failed", "error", err)
		if wantJSON {
			writeError(w, errorf(status, "", "%v", err))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!doctype html><title>Sprocket</title><p>The connection did not complete: %s</p>\n", html.EscapeString(err.Error()))
		return
	}
	if wantJSON {
		writeJSON(w, http.StatusOK, map[string]any{"connected": acct})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>Sprocket</title><p>Sprocket is connected to the %s account %q. You can close this window.</p>\n",
		html.EscapeString(acct.Provider), html.EscapeString(acct.Name))
}
