// Package actiontest helps the integration actions' tests: it connects
// accounts of a stand-in OAuth server through a real oauth.Manager and
// builds action requests from JSON.
package actiontest

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/integrations/oauth"
	"github.com/sprocketrun/sprocket/integrations/standin"
	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

// Manager returns an oauth.Manager on a fresh store with provider
// configured against the stand-in at base+"/"+provider+"/oauth".
func Manager(t *testing.T, provider, base string, srv *standin.OAuthServer) *oauth.Manager {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	box, _ := seal.New(make([]byte, 32))
	m, err := oauth.New(oauth.Config{Store: st, Box: box})
	if err != nil {
		t.Fatal(err)
	}
	auth := "post"
	if srv.BasicAuth {
		auth = "basic"
	}
	p := base + "/" + provider + "/oauth"
	if _, err := m.PutProvider(context.Background(), oauth.Provider{
		Name: provider, AuthorizeURL: p + "/authorize", TokenURL: p + "/token", RevokeURL: p + "/revoke",
		IdentityURL: p + "/userinfo", AccountField: "email", ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, ClientAuth: auth,
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

// Connect connects account with identity, following the redirect by hand.
func Connect(t *testing.T, m *oauth.Manager, srv *standin.OAuthServer, provider, account string, identity map[string]any) {
	t.Helper()
	srv.Identity = identity
	u, err := m.Connect(context.Background(), provider, account, "https://sprocket.test/oauth/callback")
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if _, err := m.Callback(context.Background(), loc.Query().Get("state"), loc.Query().Get("code"), "", ""); err != nil {
		t.Fatal(err)
	}
}

// Request builds an action request from JSON options.
func Request(t *testing.T, typ, options string) action.Request {
	t.Helper()
	v, err := value.FromJSON([]byte(options))
	if err != nil {
		t.Fatalf("options %s: %v", options, err)
	}
	return action.Request{Type: typ, Options: v, RunID: "run1", TaskID: "task1", EventID: "ev1"}
}

// JSON encodes a result value as JSON text.
func JSON(t *testing.T, v any) string {
	t.Helper()
	b, err := value.ToJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
