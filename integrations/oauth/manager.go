package oauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/store"
)

// Setting kinds the Manager stores its records under.
const (
	kindProvider store.SettingKind = "oauth_provider"
	kindAccount  store.SettingKind = "oauth_account"
	kindState    store.SettingKind = "oauth_state"
)

// Defaults of Config.
const (
	// DefaultTimeout bounds each call to a provider's token, revoke and
	// identity endpoints.
	DefaultTimeout = 30 * time.Second
	// StateTTL is how long an authorization started with Connect may take.
	StateTTL = 15 * time.Minute
	// RefreshSkew is how long before its expiry a token is refreshed.
	RefreshSkew = 2 * time.Minute
	// maxTokenResponse bounds token, revoke and identity responses.
	maxTokenResponse = 1 << 20
)

// Errors of the Manager, for errors.Is.
var (
	// ErrUnknownProvider means no provider has the name.
	ErrUnknownProvider = errors.New("unknown OAuth provider")
	// ErrNotConfigured means the provider has no client id yet.
	ErrNotConfigured = errors.New("OAuth provider has no client_id configured")
	// ErrNoAccount means no account of the provider has the name.
	ErrNoAccount = errors.New("no connected OAuth account")
	// ErrReconnect means the account's grant no longer works (revoked,
	// expired without a refresh token, rejected twice): it must be
	// connected again.
	ErrReconnect = errors.New("the OAuth account must be connected again")
	// ErrState means a callback's state is unknown, used or expired.
	ErrState = errors.New("unknown or expired OAuth state")
)

// Config configures a Manager.
type Config struct {
	// Store keeps providers, accounts and pending authorizations.
	Store store.Settings
	// Box seals client secrets and tokens.
	Box *seal.Box
	// Client calls the providers' endpoints; nil means a client with
	// DefaultTimeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives token refreshes and failures; nil discards.
	Logger *slog.Logger
}

// Manager keeps the OAuth providers and connected accounts. It is safe
// for concurrent use.
type Manager struct {
	st     store.Settings
	box    *seal.Box
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per account, serialising refreshes
}

// New returns a Manager.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil || cfg.Box == nil {
		return nil, errors.New("oauth: Store and Box are required")
	}
	m := &Manager{st: cfg.Store, box: cfg.Box, client: cfg.Client, now: cfg.Now, log: cfg.Logger, locks: map[string]*sync.Mutex{}}
	if m.client == nil {
		m.client = &http.Client{Timeout: DefaultTimeout}
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m, nil
}

// storedProvider is a provider as stored, its secret sealed.
type storedProvider struct {
	Provider
	SealedSecret string `json:"sealed_client_secret,omitempty"`
}

// ProviderInfo is a provider as the API shows it: without its secret.
type ProviderInfo struct {
	Provider
	// HasClientSecret reports whether a client secret is configured.
	HasClientSecret bool `json:"has_client_secret"`
	// Configured reports whether accounts can be connected (a client id is set).
	Configured bool `json:"configured"`
}

func (m *Manager) sealAD(kind store.SettingKind, key, field string) string {
	return "oauth/" + string(kind) + "/" + key + "/" + field
}

// provider returns the named provider with its secret opened.
func (m *Manager) provider(ctx context.Context, name string) (Provider, error) {
	s, err := m.st.GetSetting(ctx, kindProvider, name)
	if errors.Is(err, store.ErrNotFound) {
		if p, ok := builtIn(name); ok {
			return p, nil
		}
		return Provider{}, fmt.Errorf("%w %q", ErrUnknownProvider, name)
	}
	if err != nil {
		return Provider{}, fmt.Errorf("read OAuth provider %q: %w", name, err)
	}
	var sp storedProvider
	if err := json.Unmarshal(s.Value, &sp); err != nil {
		return Provider{}, fmt.Errorf("read OAuth provider %q: %w", name, err)
	}
	p := sp.Provider
	if sp.SealedSecret != "" {
		b, err := m.box.Open(sp.SealedSecret, m.sealAD(kindProvider, name, "client_secret"))
		if err != nil {
			return Provider{}, fmt.Errorf("read OAuth provider %q: %w", name, err)
		}
		p.ClientSecret = string(b)
	}
	return p, nil
}

// Provider returns the named provider without its secret.
func (m *Manager) Provider(ctx context.Context, name string) (ProviderInfo, error) {
	p, err := m.provider(ctx, name)
	if err != nil {
		return ProviderInfo{}, err
	}
	return info(p), nil
}

func info(p Provider) ProviderInfo {
	return ProviderInfo{Provider: p.Redacted(), HasClientSecret: p.ClientSecret != "", Configured: p.ClientID != ""}
}

// Providers lists the built-in and configured providers by name.
func (m *Manager) Providers(ctx context.Context) ([]ProviderInfo, error) {
	settings, err := m.st.ListSettings(ctx, kindProvider)
	if err != nil {
		return nil, fmt.Errorf("list OAuth providers: %w", err)
	}
	seen := map[string]bool{}
	var out []ProviderInfo
	for _, s := range settings {
		p, err := m.provider(ctx, s.Key)
		if err != nil {
			return nil, err
		}
		seen[p.Name] = true
		out = append(out, info(p))
	}
	for _, p := range BuiltIns() {
		if !seen[p.Name] {
			out = append(out, info(p))
		}
	}
	slices.SortFunc(out, func(a, b ProviderInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// PutProvider creates or replaces a provider. For a built-in name, the
// fields left empty keep the built-in definition; for an existing
// provider, an empty client secret keeps the stored one.
func (m *Manager) PutProvider(ctx context.Context, p Provider) (ProviderInfo, error) {
	if !ValidName(p.Name) {
		return ProviderInfo{}, fieldErr("name", "%q must be lower-case letters, digits, '-' or '_', starting with a letter (at most 40)", p.Name)
	}
	p.BuiltIn = false
	if b, ok := builtIn(p.Name); ok {
		p = merge(b, p)
	}
	if p.ClientSecret == "" {
		if old, err := m.provider(ctx, p.Name); err == nil {
			p.ClientSecret = old.ClientSecret
		}
	}
	if err := p.Validate(); err != nil {
		return ProviderInfo{}, err
	}
	sp := storedProvider{Provider: p.Redacted()}
	if p.ClientSecret != "" {
		sp.SealedSecret = m.box.Seal([]byte(p.ClientSecret), m.sealAD(kindProvider, p.Name, "client_secret"))
	}
	raw, err := json.Marshal(sp)
	if err != nil {
		return ProviderInfo{}, fmt.Errorf("store OAuth provider %q: %w", p.Name, err)
	}
	if _, err := m.st.PutSetting(ctx, kindProvider, p.Name, raw); err != nil {
		return ProviderInfo{}, fmt.Errorf("store OAuth provider %q: %w", p.Name, err)
	}
	return info(p), nil
}

// merge fills the empty fields of p from the built-in definition b.
func merge(b, p Provider) Provider {
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&p.AuthorizeURL, b.AuthorizeURL)
	fill(&p.TokenURL, b.TokenURL)
	fill(&p.RevokeURL, b.RevokeURL)
	fill(&p.ScopeSeparator, b.ScopeSeparator)
	fill(&p.ScopeParam, b.ScopeParam)
	fill(&p.ClientAuth, b.ClientAuth)
	fill(&p.IdentityURL, b.IdentityURL)
	fill(&p.AccountField, b.AccountField)
	fill(&p.APIBaseURL, b.APIBaseURL)
	if p.Scopes == nil {
		p.Scopes = b.Scopes
	}
	if p.AuthParams == nil {
		p.AuthParams = b.AuthParams
	}
	p.BuiltIn = true
	return p
}

// DeleteProvider removes a configured provider; its accounts must be
// disconnected first. A built-in provider returns to its definition.
func (m *Manager) DeleteProvider(ctx context.Context, name string) error {
	accts, err := m.Accounts(ctx, name)
	if err != nil {
		return err
	}
	if len(accts) > 0 {
		return fmt.Errorf("%w: provider %q still has %d connected account(s); disconnect them first", store.ErrConflict, name, len(accts))
	}
	err = m.st.DeleteSetting(ctx, kindProvider, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w %q (nothing configured)", ErrUnknownProvider, name)
	}
	if err != nil {
		return fmt.Errorf("delete OAuth provider %q: %w", name, err)
	}
	return nil
}

// pendingAuth is a started authorization, keyed by its state.
type pendingAuth struct {
	Provider    string    `json:"provider"`
	Account     string    `json:"account,omitempty"`
	Verifier    string    `json:"sealed_verifier,omitempty"`
	RedirectURI string    `json:"redirect_uri"`
	CreatedAt   time.Time `json:"created_at"`
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("oauth: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Connect starts connecting an account of provider: it answers the URL to
// send the user to. account names the account; when empty, the account is
// named after the identity the provider reports (AccountField).
// redirectURI is the service's callback URL, registered with the app.
func (m *Manager) Connect(ctx context.Context, provider, account, redirectURI string) (string, error) {
	p, err := m.provider(ctx, provider)
	if err != nil {
		return "", err
	}
	if p.ClientID == "" {
		return "", fmt.Errorf("%w: set it with PUT /v1/oauth/providers/%s (provider %q)", ErrNotConfigured, p.Name, p.Name)
	}
	if account != "" && !ValidAccount(account) {
		return "", fieldErr("account", "%q is not a valid account name (1-200 characters, no '/' or control characters)", account)
	}
	if account == "" && p.AccountField == "" {
		return "", fieldErr("account", "is required: provider %q has no account_field to name accounts by", p.Name)
	}
	state := randomToken(24)
	pa := pendingAuth{Provider: p.Name, Account: account, RedirectURI: redirectURI, CreatedAt: m.now().UTC()}
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", p.ClientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("state", state)
	if len(p.Scopes) > 0 {
		param := p.ScopeParam
		if param == "" {
			param = "scope"
		}
		q.Set(param, p.scopeString())
	}
	for k, v := range p.AuthParams {
		q.Set(k, v)
	}
	if !p.DisablePKCE {
		verifier := randomToken(48)
		sum := sha256.Sum256([]byte(verifier))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
		pa.Verifier = m.box.Seal([]byte(verifier), m.sealAD(kindState, state, "verifier"))
	}
	raw, err := json.Marshal(pa)
	if err != nil {
		return "", fmt.Errorf("store OAuth state: %w", err)
	}
	if _, err := m.st.PutSetting(ctx, kindState, state, raw); err != nil {
		return "", fmt.Errorf("store OAuth state: %w", err)
	}
	m.pruneStates(ctx)
	u, err := url.Parse(p.AuthorizeURL)
	if err != nil {
		return "", fmt.Errorf("provider %q authorize_url: %w", p.Name, err)
	}
	existing := u.Query()
	for k, vs := range q {
		existing[k] = vs
	}
	u.RawQuery = existing.Encode()
	return u.String(), nil
}

// pruneStates removes expired pending authorizations.
func (m *Manager) pruneStates(ctx context.Context) {
	states, err := m.st.ListSettings(ctx, kindState)
	if err != nil {
		m.log.WarnContext(ctx, "oauth: list pending authorizations", "error", err)
		return
	}
	for _, s := range states {
		var pa pendingAuth
		if json.Unmarshal(s.Value, &pa) != nil || m.now().Sub(pa.CreatedAt) > StateTTL {
			_ = m.st.DeleteSetting(ctx, kindState, s.Key)
		}
	}
}

// Account is a connected account as the API shows it (no tokens).
type Account struct {
	// Provider names the provider.
	Provider string `json:"provider"`
	// Name is the account's name, the actions' account option.
	Name string `json:"account"`
	// Scopes are the scopes the provider granted, when it said.
	Scopes []string `json:"scopes,omitempty"`
	// ExpiresAt is when the current access token expires (zero: never said).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Refreshable reports whether a refresh token is held.
	Refreshable bool `json:"refreshable"`
	// ConnectedAt is when the account was connected.
	ConnectedAt time.Time `json:"connected_at"`
	// RefreshedAt is when the token was last refreshed.
	RefreshedAt time.Time `json:"refreshed_at,omitzero"`
}

// storedAccount is an account as stored, tokens sealed.
type storedAccount struct {
	Account
	Access  string `json:"sealed_access_token"`
	Refresh string `json:"sealed_refresh_token,omitempty"`
}

func accountKey(provider, account string) string { return provider + "/" + account }

// Callback completes an authorization: it checks state, exchanges code
// for tokens (with the PKCE verifier), names the account and stores it.
// errCode is the callback's error parameter, if the user declined.
func (m *Manager) Callback(ctx context.Context, state, code, errCode, errDesc string) (Account, error) {
	if state == "" {
		return Account{}, fmt.Errorf("%w: the callback has no state parameter", ErrState)
	}
	s, err := m.st.GetSetting(ctx, kindState, state)
	if errors.Is(err, store.ErrNotFound) {
		return Account{}, fmt.Errorf("%w (start again with POST /v1/oauth/{provider}/connect)", ErrState)
	}
	if err != nil {
		return Account{}, fmt.Errorf("read OAuth state: %w", err)
	}
	// Single use, whatever happens next.
	if err := m.st.DeleteSetting(ctx, kindState, state); err != nil && !errors.Is(err, store.ErrNotFound) {
		return Account{}, fmt.Errorf("consume OAuth state: %w", err)
	}
	var pa pendingAuth
	if err := json.Unmarshal(s.Value, &pa); err != nil {
		return Account{}, fmt.Errorf("read OAuth state: %w", err)
	}
	if m.now().Sub(pa.CreatedAt) > StateTTL {
		return Account{}, fmt.Errorf("%w: the authorization took longer than %s", ErrState, StateTTL)
	}
	if errCode != "" {
		msg := errCode
		if errDesc != "" {
			msg += ": " + errDesc
		}
		return Account{}, fmt.Errorf("provider %q declined the authorization: %s", pa.Provider, msg)
	}
	if code == "" {
		return Account{}, fmt.Errorf("the callback from provider %q has no code parameter", pa.Provider)
	}
	p, err := m.provider(ctx, pa.Provider)
	if err != nil {
		return Account{}, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {pa.RedirectURI}}
	if pa.Verifier != "" {
		v, err := m.box.Open(pa.Verifier, m.sealAD(kindState, state, "verifier"))
		if err != nil {
			return Account{}, fmt.Errorf("read OAuth state: %w", err)
		}
		form.Set("code_verifier", string(v))
	}
	tr, raw, err := m.tokenRequest(ctx, p, form)
	if err != nil {
		return Account{}, fmt.Errorf("exchange the code with provider %q: %w", p.Name, err)
	}
	name := pa.Account
	if name == "" {
		name, err = m.identify(ctx, p, tr.AccessToken, raw)
		if err != nil {
			return Account{}, err
		}
	}
	now := m.now().UTC()
	sa := storedAccount{Account: Account{Provider: p.Name, Name: name, ConnectedAt: now}}
	m.apply(&sa, tr, now)
	if err := m.saveAccount(ctx, &sa); err != nil {
		return Account{}, err
	}
	m.log.InfoContext(ctx, "oauth account connected", "provider", p.Name, "account", name)
	return sa.Account, nil
}

// identify names a new account from the token response or the identity URL.
func (m *Manager) identify(ctx context.Context, p Provider, access string, tokenBody map[string]any) (string, error) {
	src := tokenBody
	if p.IdentityURL != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.IdentityURL, nil)
		if err != nil {
			return "", fmt.Errorf("provider %q identity_url: %w", p.Name, err)
		}
		req.Header.Set("Authorization", "Bearer "+access)
		req.Header.Set("Accept", "application/json")
		resp, err := m.client.Do(req)
		if err != nil {
			return "", fmt.Errorf("provider %q identity: %w", p.Name, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
		if err != nil {
			return "", fmt.Errorf("provider %q identity: %w", p.Name, err)
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("provider %q identity: %s: %.200s", p.Name, resp.Status, body)
		}
		src = nil
		if err := json.Unmarshal(body, &src); err != nil {
			return "", fmt.Errorf("provider %q identity: %w", p.Name, err)
		}
	}
	v := lookup(src, p.AccountField)
	name, _ := v.(string)
	if name == "" {
		return "", fmt.Errorf("provider %q: no %q in its answer to name the account by; connect with an explicit account name", p.Name, p.AccountField)
	}
	if !ValidAccount(name) {
		return "", fmt.Errorf("provider %q named the account %q, which is not a valid account name; connect with an explicit account name", p.Name, name)
	}
	return name, nil
}

// lookup follows a dotted path through JSON objects.
func lookup(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// tokenResponse is a token endpoint's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    any    `json:"expires_in"`
	Scope        string `json:"scope"`
}

// TokenError is an error answer of a token endpoint.
type TokenError struct {
	// Status is the HTTP status.
	Status int
	// Code is the OAuth error code, e.g. "invalid_grant".
	Code string
	// Description is the error_description, if any.
	Description string
}

// Error returns e.g. `HTTP 400: invalid_grant: token revoked`.
func (e *TokenError) Error() string {
	s := fmt.Sprintf("HTTP %d: %s", e.Status, e.Code)
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// tokenRequest posts form to the token URL with the client's credentials.
func (m *Manager) tokenRequest(ctx context.Context, p Provider, form url.Values) (tokenResponse, map[string]any, error) {
	if p.ClientAuth != "basic" {
		form.Set("client_id", p.ClientID)
		if p.ClientSecret != "" {
			form.Set("client_secret", p.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if p.ClientAuth == "basic" {
		req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return tokenResponse{}, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return tokenResponse{}, nil, err
	}
	var raw map[string]any
	jsonErr := json.Unmarshal(body, &raw)
	if jsonErr != nil {
		// Some services answer form-encoded tokens.
		if vals, err := url.ParseQuery(string(body)); err == nil && (vals.Get("access_token") != "" || vals.Get("error") != "") {
			raw = map[string]any{}
			for k := range vals {
				raw[k] = vals.Get(k)
			}
			jsonErr = nil
		}
	}
	if resp.StatusCode != http.StatusOK || jsonErr != nil || raw["error"] != nil || raw["ok"] == false {
		te := &TokenError{Status: resp.StatusCode, Code: "invalid_response"}
		if c, ok := raw["error"].(string); ok && c != "" {
			te.Code = c
		} else if jsonErr != nil {
			te.Description = fmt.Sprintf("%.200s", body)
		}
		if d, ok := raw["error_description"].(string); ok {
			te.Description = d
		}
		return tokenResponse{}, nil, te
	}
	var tr tokenResponse
	_ = json.Unmarshal(body, &tr)
	if tr.AccessToken == "" {
		tr.AccessToken, _ = raw["access_token"].(string)
		tr.RefreshToken, _ = raw["refresh_token"].(string)
		tr.ExpiresIn = raw["expires_in"]
		tr.Scope, _ = raw["scope"].(string)
	}
	if tr.AccessToken == "" {
		return tokenResponse{}, nil, &TokenError{Status: resp.StatusCode, Code: "invalid_response", Description: "no access_token in the answer"}
	}
	return tr, raw, nil
}

// apply stores a token response on sa.
func (m *Manager) apply(sa *storedAccount, tr tokenResponse, now time.Time) {
	key := accountKey(sa.Provider, sa.Name)
	sa.Access = m.box.Seal([]byte(tr.AccessToken), m.sealAD(kindAccount, key, "access"))
	if tr.RefreshToken != "" {
		sa.Refresh = m.box.Seal([]byte(tr.RefreshToken), m.sealAD(kindAccount, key, "refresh"))
	}
	sa.Refreshable = sa.Refresh != ""
	sa.ExpiresAt = time.Time{}
	var secs int64
	switch v := tr.ExpiresIn.(type) {
	case float64:
		secs = int64(v)
	case string:
		secs, _ = strconv.ParseInt(v, 10, 64)
	}
	if secs > 0 {
		sa.ExpiresAt = now.Add(time.Duration(secs) * time.Second)
	}
	if tr.Scope != "" {
		sa.Scopes = strings.FieldsFunc(tr.Scope, func(r rune) bool { return r == ' ' || r == ',' })
	}
}

func (m *Manager) saveAccount(ctx context.Context, sa *storedAccount) error {
	raw, err := json.Marshal(sa)
	if err != nil {
		return fmt.Errorf("store OAuth account: %w", err)
	}
	if _, err := m.st.PutSetting(ctx, kindAccount, accountKey(sa.Provider, sa.Name), raw); err != nil {
		return fmt.Errorf("store OAuth account %s/%s: %w", sa.Provider, sa.Name, err)
	}
	return nil
}

func (m *Manager) loadAccount(ctx context.Context, provider, account string) (storedAccount, error) {
	s, err := m.st.GetSetting(ctx, kindAccount, accountKey(provider, account))
	if errors.Is(err, store.ErrNotFound) {
		names := []string{}
		if accts, lerr := m.Accounts(ctx, provider); lerr == nil {
			for _, a := range accts {
				names = append(names, strconv.Quote(a.Name))
			}
		}
		connected := "none is connected"
		if len(names) > 0 {
			connected = "connected: " + strings.Join(names, ", ")
		}
		return storedAccount{}, fmt.Errorf("%w: %s account %q (%s)", ErrNoAccount, provider, account, connected)
	}
	if err != nil {
		return storedAccount{}, fmt.Errorf("read OAuth account %s/%s: %w", provider, account, err)
	}
	var sa storedAccount
	if err := json.Unmarshal(s.Value, &sa); err != nil {
		return storedAccount{}, fmt.Errorf("read OAuth account %s/%s: %w", provider, account, err)
	}
	return sa, nil
}

// Accounts lists the connected accounts, of one provider when provider is
// not empty, by provider and name.
func (m *Manager) Accounts(ctx context.Context, provider string) ([]Account, error) {
	settings, err := m.st.ListSettings(ctx, kindAccount)
	if err != nil {
		return nil, fmt.Errorf("list OAuth accounts: %w", err)
	}
	out := []Account{}
	for _, s := range settings {
		var sa storedAccount
		if err := json.Unmarshal(s.Value, &sa); err != nil {
			return nil, fmt.Errorf("read OAuth account %s: %w", s.Key, err)
		}
		if provider == "" || sa.Provider == provider {
			out = append(out, sa.Account)
		}
	}
	slices.SortFunc(out, func(a, b Account) int {
		if c := strings.Compare(a.Provider, b.Provider); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

func (m *Manager) lock(key string) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		m.locks[key] = l
	}
	return l
}

// Token returns the account's current access token, refreshing it first
// when it expires within RefreshSkew.
func (m *Manager) Token(ctx context.Context, provider, account string) (string, error) {
	l := m.lock(accountKey(provider, account))
	l.Lock()
	defer l.Unlock()
	sa, err := m.loadAccount(ctx, provider, account)
	if err != nil {
		return "", err
	}
	if !sa.ExpiresAt.IsZero() && m.now().Add(RefreshSkew).After(sa.ExpiresAt) {
		if sa.Refresh == "" {
			return "", fmt.Errorf("%w: %s account %q: its access token expired at %s and it has no refresh token", ErrReconnect, provider, account, sa.ExpiresAt.Format(time.RFC3339))
		}
		return m.refresh(ctx, &sa)
	}
	return m.open(sa, "access")
}

// Refresh refreshes the account's token after the service rejected stale
// (a 401): if another caller already replaced it, the current token is
// answered without refreshing again.
func (m *Manager) Refresh(ctx context.Context, provider, account, stale string) (string, error) {
	l := m.lock(accountKey(provider, account))
	l.Lock()
	defer l.Unlock()
	sa, err := m.loadAccount(ctx, provider, account)
	if err != nil {
		return "", err
	}
	cur, err := m.open(sa, "access")
	if err != nil {
		return "", err
	}
	if cur != stale {
		return cur, nil
	}
	if sa.Refresh == "" {
		return "", fmt.Errorf("%w: %s account %q: the service rejected its access token and it has no refresh token", ErrReconnect, provider, account)
	}
	return m.refresh(ctx, &sa)
}

func (m *Manager) open(sa storedAccount, field string) (string, error) {
	sealed := sa.Access
	if field == "refresh" {
		sealed = sa.Refresh
	}
	b, err := m.box.Open(sealed, m.sealAD(kindAccount, accountKey(sa.Provider, sa.Name), field))
	if err != nil {
		return "", fmt.Errorf("open %s token of %s/%s: %w", field, sa.Provider, sa.Name, err)
	}
	return string(b), nil
}

// refresh exchanges the refresh token; the caller holds the account's lock.
func (m *Manager) refresh(ctx context.Context, sa *storedAccount) (string, error) {
	p, err := m.provider(ctx, sa.Provider)
	if err != nil {
		return "", err
	}
	rt, err := m.open(*sa, "refresh")
	if err != nil {
		return "", err
	}
	tr, _, err := m.tokenRequest(ctx, p, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if err != nil {
		var te *TokenError
		if errors.As(err, &te) && (te.Code == "invalid_grant" || te.Code == "invalid_client" || te.Code == "unauthorized_client" || te.Status == http.StatusUnauthorized) {
			m.log.WarnContext(ctx, "oauth refresh refused", "provider", sa.Provider, "account", sa.Name, "error", te.Error())
			return "", fmt.Errorf("%w: %s account %q: refreshing its token was refused (%v)", ErrReconnect, sa.Provider, sa.Name, te)
		}
		return "", fmt.Errorf("refresh the token of %s account %q: %w", sa.Provider, sa.Name, err)
	}
	now := m.now().UTC()
	m.apply(sa, tr, now)
	sa.RefreshedAt = now
	if err := m.saveAccount(ctx, sa); err != nil {
		return "", err
	}
	m.log.DebugContext(ctx, "oauth token refreshed", "provider", sa.Provider, "account", sa.Name, "expires_at", sa.ExpiresAt)
	return tr.AccessToken, nil
}

// Disconnect revokes the account's tokens at the provider (when it has a
// revoke URL) and forgets the account. The account is forgotten even when
// revocation fails; that failure is returned as revokeErr.
func (m *Manager) Disconnect(ctx context.Context, provider, account string) (revokeErr, err error) {
	l := m.lock(accountKey(provider, account))
	l.Lock()
	defer l.Unlock()
	sa, err := m.loadAccount(ctx, provider, account)
	if err != nil {
		return nil, err
	}
	if p, perr := m.provider(ctx, provider); perr == nil && p.RevokeURL != "" {
		tok := sa.Refresh
		field, hint := "refresh", "refresh_token"
		if tok == "" {
			field, hint = "access", "access_token"
		}
		if t, oerr := m.open(sa, field); oerr == nil {
			revokeErr = m.revoke(ctx, p, t, hint)
		} else {
			revokeErr = oerr
		}
	}
	if err := m.st.DeleteSetting(ctx, kindAccount, accountKey(provider, account)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return revokeErr, fmt.Errorf("delete OAuth account %s/%s: %w", provider, account, err)
	}
	return revokeErr, nil
}

func (m *Manager) revoke(ctx context.Context, p Provider, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if p.ClientAuth != "basic" && p.ClientID != "" {
		form.Set("client_id", p.ClientID)
		if p.ClientSecret != "" {
			form.Set("client_secret", p.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.RevokeURL, bytes.NewReader([]byte(form.Encode())))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p.ClientAuth == "basic" {
		req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return fmt.Errorf("revoke at %s: %w", p.Name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	var raw map[string]any
	_ = json.Unmarshal(body, &raw)
	if resp.StatusCode != http.StatusOK || raw["ok"] == false {
		return fmt.Errorf("revoke at %s: %s: %.200s", p.Name, resp.Status, body)
	}
	return nil
}
