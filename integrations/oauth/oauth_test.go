package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/integrations/oauth"
	"github.com/sprocketrun/sprocket/integrations/standin"
	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	m     *oauth.Manager
	srv   *standin.OAuthServer
	base  string
	clk   *clock
	store *sqlite.Store
}

func newEnv(t *testing.T, ttl time.Duration, basic bool) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := &standin.OAuthServer{ClientID: "cid", ClientSecret: "csecret", TokenTTL: ttl, BasicAuth: basic, Now: clk.now}
	mux := http.NewServeMux()
	srv.Mount(mux, "/oauth")
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	box, err := seal.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	m, err := oauth.New(oauth.Config{Store: st, Box: box, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{m: m, srv: srv, base: ts.URL, clk: clk, store: st}
}

func (e *env) provider(name string) oauth.Provider {
	auth := "post"
	if e.srv.BasicAuth {
		auth = "basic"
	}
	return oauth.Provider{
		Name: name, AuthorizeURL: e.base + "/oauth/authorize", TokenURL: e.base + "/oauth/token",
		RevokeURL: e.base + "/oauth/revoke", IdentityURL: e.base + "/oauth/userinfo", AccountField: "email",
		Scopes: []string{"read", "write"}, ClientID: "cid", ClientSecret: "csecret", ClientAuth: auth,
	}
}

// dance connects an account the way a browser would: it opens the
// authorize URL, takes the redirect and hands its query to Callback.
func (e *env) dance(t *testing.T, provider, account string) oauth.Account {
	t.Helper()
	ctx := context.Background()
	authURL, err := e.m.Connect(ctx, provider, account, "https://sprocket.example/oauth/callback")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	if u.Query().Get("code_challenge") == "" || u.Query().Get("state") == "" {
		t.Fatalf("authorize URL lacks PKCE or state: %s", authURL)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s", resp.Status)
	}
	back, _ := url.Parse(resp.Header.Get("Location"))
	q := back.Query()
	a, err := e.m.Callback(ctx, q.Get("state"), q.Get("code"), q.Get("error"), "")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestConnectRefreshRevoke(t *testing.T) {
	for _, basic := range []bool{false, true} {
		t.Run(map[bool]string{false: "post", true: "basic"}[basic], func(t *testing.T) {
			e := newEnv(t, time.Hour, basic)
			ctx := context.Background()
			if _, err := e.m.PutProvider(ctx, e.provider("hubspot")); err != nil {
				t.Fatal(err)
			}
			e.srv.Identity = map[string]any{"email": "a@example.com"}
			a := e.dance(t, "hubspot", "")
			if a.Name != "a@example.com" || !a.Refreshable {
				t.Fatalf("account %+v", a)
			}
			e.srv.Identity = map[string]any{"email": "b@example.com"}
			b := e.dance(t, "hubspot", "main")
			if b.Name != "main" {
				t.Fatalf("named account: %+v", b)
			}
			t1, err := e.m.Token(ctx, "hubspot", "a@example.com")
			if err != nil {
				t.Fatal(err)
			}
			t2, _ := e.m.Token(ctx, "hubspot", "main")
			if t1 == t2 || t1 == "" {
				t.Fatalf("two accounts share a token: %q %q", t1, t2)
			}
			// Before expiry, no refresh.
			if again, _ := e.m.Token(ctx, "hubspot", "a@example.com"); again != t1 || e.srv.Count("refresh") != 0 {
				t.Fatalf("token changed without expiry")
			}
			// Near expiry: refreshed before use.
			e.clk.add(59 * time.Minute)
			t3, err := e.m.Token(ctx, "hubspot", "a@example.com")
			if err != nil || t3 == t1 || e.srv.Count("refresh") != 1 {
				t.Fatalf("refresh before expiry: %v %q refreshes=%d", err, t3, e.srv.Count("refresh"))
			}
			// A 401 with the stale token refreshes once; a second caller with the same stale token gets the new one.
			t4, err := e.m.Refresh(ctx, "hubspot", "a@example.com", t3)
			if err != nil || t4 == t3 {
				t.Fatal(err)
			}
			t5, _ := e.m.Refresh(ctx, "hubspot", "a@example.com", t3)
			if t5 != t4 || e.srv.Count("refresh") != 2 {
				t.Fatalf("stale refresh refreshed again: refreshes=%d", e.srv.Count("refresh"))
			}
			// Revoked at the provider: the next refresh fails clearly.
			e.srv.RevokeAll()
			_, err = e.m.Refresh(ctx, "hubspot", "main", t2)
			if !errors.Is(err, oauth.ErrReconnect) || !strings.Contains(err.Error(), `"main"`) {
				t.Fatalf("revoked: %v", err)
			}
			// Disconnect revokes and forgets.
			revokeErr, err := e.m.Disconnect(ctx, "hubspot", "a@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if revokeErr != nil {
				t.Logf("revoke of an already revoked grant: %v", revokeErr)
			}
			if _, err := e.m.Token(ctx, "hubspot", "a@example.com"); !errors.Is(err, oauth.ErrNoAccount) || !strings.Contains(err.Error(), `"main"`) {
				t.Fatalf("after disconnect: %v", err)
			}
		})
	}
}

func TestCallbackErrors(t *testing.T) {
	e := newEnv(t, 0, false)
	ctx := context.Background()
	if _, err := e.m.PutProvider(ctx, e.provider("dropbox")); err != nil {
		t.Fatal(err)
	}
	authURL, err := e.m.Connect(ctx, "dropbox", "x", "https://s.example/oauth/callback")
	if err != nil {
		t.Fatal(err)
	}
	state := mustQuery(t, authURL).Get("state")
	tests := []struct {
		name, state, code, errCode string
		want                       string
	}{
		{"no state", "", "c", "", "no state"},
		{"unknown state", "nope", "c", "", "unknown or expired"},
		{"declined", state, "", "access_denied", "declined"},
		{"state used once", state, "c", "", "unknown or expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.m.Callback(ctx, tt.state, tt.code, tt.errCode, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	// Expired state.
	authURL, _ = e.m.Connect(ctx, "dropbox", "x", "https://s.example/oauth/callback")
	e.clk.add(oauth.StateTTL + time.Minute)
	if _, err := e.m.Callback(ctx, mustQuery(t, authURL).Get("state"), "c", "", ""); !errors.Is(err, oauth.ErrState) {
		t.Fatalf("expired state: %v", err)
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestProviderRegistry(t *testing.T) {
	e := newEnv(t, 0, false)
	ctx := context.Background()
	ps, err := e.m.Providers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
		if p.Configured {
			t.Errorf("%s configured without a client id", p.Name)
		}
	}
	if strings.Join(names, ",") != "airtable,google,slack" {
		t.Fatalf("built-ins: %v", names)
	}
	if _, err := e.m.Connect(ctx, "slack", "main", "https://x/oauth/callback"); !errors.Is(err, oauth.ErrNotConfigured) {
		t.Fatalf("unconfigured connect: %v", err)
	}
	// A built-in takes the user's client id and keeps its URLs.
	got, err := e.m.PutProvider(ctx, oauth.Provider{Name: "slack", ClientID: "123.456", ClientSecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if got.TokenURL != "https://slack.com/api/oauth.v2.access" || !got.HasClientSecret || got.ClientSecret != "" || !got.Configured {
		t.Fatalf("merged slack: %+v", got)
	}
	u, err := e.m.Connect(ctx, "slack", "", "https://x/oauth/callback")
	if err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, u); q.Get("scope") != "chat:write,chat:write.public,chat:write.customize" || q.Get("client_id") != "123.456" {
		t.Fatalf("slack authorize URL: %s", u)
	}
	// The secret is sealed at rest.
	s, err := e.store.GetSetting(ctx, "oauth_provider", "slack")
	if err != nil || strings.Contains(string(s.Value), "s3cret") {
		t.Fatalf("stored provider: %s %v", s.Value, err)
	}
	bad := []struct {
		p     oauth.Provider
		field string
	}{
		{oauth.Provider{Name: "Bad Name"}, "name"},
		{oauth.Provider{Name: "x", TokenURL: "https://t"}, "authorize_url"},
		{oauth.Provider{Name: "x", AuthorizeURL: "ftp://a", TokenURL: "https://t"}, "authorize_url"},
		{oauth.Provider{Name: "x", AuthorizeURL: "https://a", TokenURL: "https://t", ClientAuth: "jwt"}, "client_auth"},
		{oauth.Provider{Name: "x", AuthorizeURL: "https://a", TokenURL: "https://t", Scopes: []string{"a b"}}, "scopes[0]"},
	}
	for _, b := range bad {
		_, err := e.m.PutProvider(ctx, b.p)
		var fe *oauth.FieldError
		if !errors.As(err, &fe) || fe.Field != b.field {
			t.Errorf("%+v: got %v, want field %s", b.p, err, b.field)
		}
	}
	// A configured provider without account_field needs an account name.
	p := e.provider("generic")
	p.AccountField, p.IdentityURL = "", ""
	if _, err := e.m.PutProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Connect(ctx, "generic", "", "https://x/oauth/callback"); err == nil || !strings.Contains(err.Error(), "account") {
		t.Fatalf("connect without account: %v", err)
	}
	if err := e.m.DeleteProvider(ctx, "generic"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Provider(ctx, "generic"); !errors.Is(err, oauth.ErrUnknownProvider) {
		t.Fatalf("deleted provider: %v", err)
	}
}

// TestConcurrentRefresh: many runs needing a token at expiry cause one refresh.
func TestConcurrentRefresh(t *testing.T) {
	e := newEnv(t, time.Hour, false)
	ctx := context.Background()
	if _, err := e.m.PutProvider(ctx, e.provider("hubspot")); err != nil {
		t.Fatal(err)
	}
	e.srv.Identity = map[string]any{"email": "a@example.com"}
	e.dance(t, "hubspot", "")
	e.clk.add(time.Hour)
	var wg sync.WaitGroup
	toks := make([]string, 16)
	errs := make([]error, 16)
	for i := range toks {
		wg.Go(func() { toks[i], errs[i] = e.m.Token(ctx, "hubspot", "a@example.com") })
	}
	wg.Wait()
	for i := range toks {
		if errs[i] != nil || toks[i] != toks[0] {
			t.Fatalf("token %d: %q %v (first %q)", i, toks[i], errs[i], toks[0])
		}
	}
	if n := e.srv.Count("refresh"); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}
