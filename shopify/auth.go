package shopify

// This file holds the ways a shop is connected besides a pasted token:
//
//   - the client-credentials grant (an app of the shop owner's own
//     organisation exchanges its client id and secret for a token that
//     expires, typically after 24 hours): ClientCredentials;
//   - the OAuth authorization-code install flow of an app: InstallURL
//     sends the merchant to Shopify, VerifyCallback checks the redirect
//     Shopify sends back (HMAC, shop, timestamp; the caller checks the
//     state nonce it issued), ExchangeCode trades the code for a token;
//   - VerifyWebhook checks the HMAC of a webhook body.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Token is an access token granted by Shopify's OAuth endpoint.
type Token struct {
	// AccessToken is the Admin API access token.
	AccessToken string
	// Scopes are the access scopes granted.
	Scopes Scopes
	// ExpiresIn is the token's lifetime from when it was granted (0: it
	// does not expire).
	ExpiresIn time.Duration
	// RefreshToken and RefreshTokenExpiresIn come with expiring offline
	// tokens ("" and 0 otherwise).
	RefreshToken          string
	RefreshTokenExpiresIn time.Duration
}

// String describes the token without revealing it.
func (t Token) String() string {
	return fmt.Sprintf("shopify token (scopes %s, expires in %s)", t.Scopes, t.ExpiresIn)
}

// maxTokenBody bounds the body of a token endpoint answer.
const maxTokenBody = 1 << 20

// defaultAuthHTTPClient is used when the caller gives no HTTP client.
func defaultAuthHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// requestToken posts form to {baseURL}/admin/oauth/access_token and reads
// the token answer.
func requestToken(ctx context.Context, hc *http.Client, baseURL string, form url.Values) (Token, error) {
	if hc == nil {
		hc = defaultAuthHTTPClient()
	}
	u := strings.TrimRight(baseURL, "/") + "/admin/oauth/access_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, fmt.Errorf("shopify: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Token{}, &ExhaustedError{Method: http.MethodPost, URL: u, Attempts: 1, Err: fmt.Errorf("token request: %w", err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody+1))
	if err != nil {
		return Token{}, fmt.Errorf("shopify: POST %s: reading token answer: %w", u, err)
	}
	if len(body) > maxTokenBody {
		return Token{}, fmt.Errorf("shopify: POST %s: token answer exceeds %d bytes", u, maxTokenBody)
	}
	if resp.StatusCode >= 400 {
		return Token{}, &HTTPError{Method: http.MethodPost, URL: u, Status: resp.StatusCode, Body: body}
	}
	var ans struct {
		AccessToken           string  `json:"access_token"`
		Scope                 string  `json:"scope"`
		ExpiresIn             float64 `json:"expires_in"`
		RefreshToken          string  `json:"refresh_token"`
		RefreshTokenExpiresIn float64 `json:"refresh_token_expires_in"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return Token{}, fmt.Errorf("shopify: POST %s: token answer is not JSON: %w", u, err)
	}
	if ans.AccessToken == "" {
		return Token{}, fmt.Errorf("shopify: POST %s: token answer has no access_token", u)
	}
	return Token{
		AccessToken:           ans.AccessToken,
		Scopes:                ParseScopes(ans.Scope),
		ExpiresIn:             time.Duration(ans.ExpiresIn * float64(time.Second)),
		RefreshToken:          ans.RefreshToken,
		RefreshTokenExpiresIn: time.Duration(ans.RefreshTokenExpiresIn * float64(time.Second)),
	}, nil
}

// ClientCredentialsConfig configures a ClientCredentials token source.
type ClientCredentialsConfig struct {
	// BaseURL is the shop's base URL, https://name.myshopify.com (or a
	// stand-in's).
	BaseURL string
	// ClientID and ClientSecret are the app's credentials.
	ClientID, ClientSecret string
	// HTTPClient sends the token requests (default: 30s timeout, no redirects).
	HTTPClient *http.Client
	// RefreshBefore is how long before expiry the token is renewed
	// (default 5 minutes, at most half the token's lifetime).
	RefreshBefore time.Duration
	// Now tells the time (default time.Now).
	Now func() time.Time
}

// ClientCredentials is a TokenSource for the client-credentials grant: it
// exchanges the app's client id and secret for an access token, caches
// it, renews it before it expires, and drops it when the API answers 401
// (Invalidate). It is safe for concurrent use; one exchange runs at a time.
type ClientCredentials struct {
	cfg     ClientCredentialsConfig
	sem     chan struct{}
	mu      sync.Mutex
	tok     Token
	renewAt time.Time
	have    bool
}

// NewClientCredentials validates cfg and returns the token source.
func NewClientCredentials(cfg ClientCredentialsConfig) (*ClientCredentials, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("shopify: client credentials: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("shopify: client credentials: client id is required")
	}
	if cfg.ClientSecret == "" {
		return nil, errors.New("shopify: client credentials: client secret is required")
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &ClientCredentials{cfg: cfg, sem: make(chan struct{}, 1)}, nil
}

// Token returns the cached token, exchanging the credentials for a new
// one when there is none or it is about to expire.
func (s *ClientCredentials) Token(ctx context.Context) (string, error) {
	if t, ok := s.cached(); ok {
		return t, nil
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.sem }()
	if t, ok := s.cached(); ok { // another caller renewed it meanwhile
		return t, nil
	}
	tok, err := requestToken(ctx, s.cfg.HTTPClient, s.cfg.BaseURL, url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.cfg.ClientID},
		"client_secret": {s.cfg.ClientSecret},
	})
	if err != nil {
		return "", fmt.Errorf("client credentials grant: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok, s.have = tok, true
	s.renewAt = time.Time{}
	if tok.ExpiresIn > 0 {
		margin := min(s.cfg.RefreshBefore, tok.ExpiresIn/2)
		s.renewAt = s.cfg.Now().Add(tok.ExpiresIn - margin)
	}
	return tok.AccessToken, nil
}

func (s *ClientCredentials) cached() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.have || (!s.renewAt.IsZero() && !s.cfg.Now().Before(s.renewAt)) {
		return "", false
	}
	return s.tok.AccessToken, true
}

// Invalidate drops the cached token; the next Token call exchanges the
// credentials again.
func (s *ClientCredentials) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.have = false
}

// Granted returns the scopes of the current token (nil before the first
// exchange).
func (s *ClientCredentials) Granted() Scopes {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.have {
		return nil
	}
	return slices.Clone(s.tok.Scopes)
}

// InstallURL returns the URL that asks the merchant to install the app on
// shop with the given scopes: Shopify redirects to redirectURI with a
// code, and state is echoed back for the caller to check. No
// grant_options[] is sent, so the code yields an offline token, the kind
// a background service needs.
func InstallURL(shop, clientID string, scopes []string, redirectURI, state string) string {
	q := url.Values{
		"client_id":    {clientID},
		"scope":        {Scopes(scopes).Normalize().String()},
		"redirect_uri": {redirectURI},
		"state":        {state},
	}
	return "https://" + shop + "/admin/oauth/authorize?" + q.Encode()
}

// ErrInvalidCallback is wrapped by the errors of VerifyCallback.
var ErrInvalidCallback = errors.New("shopify: invalid OAuth callback")

// VerifyCallback checks the query of the redirect Shopify sends after an
// install: the hmac parameter must be the hex HMAC-SHA256, keyed with the
// app's client secret, of the other parameters sorted by name; shop must
// be a name.myshopify.com domain; and timestamp must be at most maxAge old
// (and not more than a minute ahead of now). The caller checks that state
// is the nonce it issued.
func VerifyCallback(query url.Values, secret string, maxAge time.Duration, now time.Time) error {
	if secret == "" {
		return fmt.Errorf("%w: no client secret to check the hmac with", ErrInvalidCallback)
	}
	got, err := hex.DecodeString(query.Get("hmac"))
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: hmac is missing or not a hex SHA-256 digest", ErrInvalidCallback)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(callbackMessage(query)))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: hmac does not match", ErrInvalidCallback)
	}
	if shop := query.Get("shop"); !ValidShopDomain(shop) {
		return fmt.Errorf("%w: shop %q is not a name.myshopify.com domain", ErrInvalidCallback, shop)
	}
	ts, err := strconv.ParseInt(query.Get("timestamp"), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not a Unix time", ErrInvalidCallback, query.Get("timestamp"))
	}
	at := time.Unix(ts, 0)
	if maxAge > 0 && now.Sub(at) > maxAge {
		return fmt.Errorf("%w: timestamp %s is older than %s", ErrInvalidCallback, at.UTC().Format(time.RFC3339), maxAge)
	}
	if at.Sub(now) > time.Minute {
		return fmt.Errorf("%w: timestamp %s is in the future", ErrInvalidCallback, at.UTC().Format(time.RFC3339))
	}
	return nil
}

// callbackMessage is the signed message of an OAuth redirect: the
// parameters but hmac (and the legacy signature), sorted by name, as
// name=value joined with "&"; '%' and '&' are escaped in names and values
// and '=' in names; a repeated or name[] parameter is written as
// name=["a", "b"].
func callbackMessage(q url.Values) string {
	keyEsc := strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D")
	valEsc := strings.NewReplacer("%", "%25", "&", "%26")
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		if k == "hmac" || k == "signature" {
			continue
		}
		name := keyEsc.Replace(strings.TrimSuffix(k, "[]"))
		if len(vs) == 1 && !strings.HasSuffix(k, "[]") {
			pairs = append(pairs, pair{name, valEsc.Replace(vs[0])})
			continue
		}
		quoted := make([]string, len(vs))
		for i, v := range vs {
			quoted[i] = `"` + valEsc.Replace(v) + `"`
		}
		pairs = append(pairs, pair{name, "[" + strings.Join(quoted, ", ") + "]"})
	}
	slices.SortFunc(pairs, func(a, b pair) int { return strings.Compare(a.k, b.k) })
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// ExchangeCode trades the authorization code of a verified install
// callback for an access token at {baseURL}/admin/oauth/access_token;
// the token carries the scopes granted. httpClient may be nil.
func ExchangeCode(ctx context.Context, httpClient *http.Client, baseURL, clientID, secret, code string) (Token, error) {
	if clientID == "" || secret == "" || code == "" {
		return Token{}, errors.New("shopify: code exchange: client id, secret and code are required")
	}
	tok, err := requestToken(ctx, httpClient, baseURL, url.Values{
		"client_id":     {clientID},
		"client_secret": {secret},
		"code":          {code},
	})
	if err != nil {
		return Token{}, fmt.Errorf("code exchange: %w", err)
	}
	return tok, nil
}

// VerifyWebhook reports whether hmacHeader (X-Shopify-Hmac-Sha256) is the
// base64 HMAC-SHA256 of body keyed with the app's client secret.
func VerifyWebhook(body []byte, hmacHeader, secret string) bool {
	if secret == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(hmacHeader))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Scopes is a list of Admin API access scopes (read_orders, write_products, …).
type Scopes []string

// ParseScopes reads scopes separated by commas or spaces, in lower case,
// without duplicates, sorted.
func ParseScopes(s string) Scopes {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	slices.Sort(f)
	return Scopes(slices.Compact(f))
}

// String joins the scopes with commas, as Shopify writes them.
func (s Scopes) String() string { return strings.Join(s, ",") }

// implies reports whether scope a grants scope b: equal, or a is the
// write scope of b's read scope (write implies read).
func implies(a, b string) bool {
	if a == b {
		return true
	}
	for _, pre := range []string{"", "unauthenticated_"} {
		if res, ok := strings.CutPrefix(b, pre+"read_"); ok && a == pre+"write_"+res {
			return true
		}
	}
	return false
}

// Has reports whether the scopes grant scope (a write scope grants its read).
func (s Scopes) Has(scope string) bool {
	scope = strings.ToLower(strings.TrimSpace(scope))
	return slices.ContainsFunc(s, func(g string) bool { return implies(g, scope) })
}

// Missing returns the scopes of need that s does not grant, normalised.
func (s Scopes) Missing(need Scopes) Scopes {
	var out Scopes
	for _, n := range need.Normalize() {
		if !s.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

// Normalize returns the scopes in lower case, sorted, without duplicates
// and without read scopes that a write scope in the list implies.
func (s Scopes) Normalize() Scopes {
	all := ParseScopes(strings.Join(s, ","))
	out := make(Scopes, 0, len(all))
	for _, sc := range all {
		if !slices.ContainsFunc(all, func(o string) bool { return o != sc && implies(o, sc) }) {
			out = append(out, sc)
		}
	}
	return out
}
