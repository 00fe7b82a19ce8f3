package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/shopify/sandbox"
	"github.com/sprocketrun/sprocket/shopify/schema"
	"github.com/sprocketrun/sprocket/task"
)

// TestShopAndEmailTemplateSettings: the settings page shows that no shop
// is connected and refuses a connection the shop does not accept (the
// error next to the field, nothing stored); email templates with broken
// Liquid are refused inline, good ones listed and deletable.
func TestShopAndEmailTemplateSettings(t *testing.T) {
	e := startEnv(t, envOptions{})
	b := e.browser()
	b.mustSignIn()
	st, page := b.get("/settings")
	if st != http.StatusOK || !strings.Contains(page, "No shop is connected") || !strings.Contains(page, `id="shop-form"`) {
		t.Fatalf("settings: %d, shop section missing", st)
	}
	st, _, body := b.post("/settings/shop", url.Values{"shop": {"not a domain"}, "access_token": {"x"}})
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "is not a shop domain") {
		t.Errorf("bad shop: %d %s", st, snippet(body, "shop-form"))
	}
	st, _, body = b.post("/settings/shop", url.Values{"shop": {"demo.myshopify.com"}, "access_token": {""}})
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "An Admin API access token is required") {
		t.Errorf("no token: %d", st)
	}
	if _, page = b.get("/settings"); !strings.Contains(page, "No shop is connected") {
		t.Error("a refused connection was stored")
	}

	st, _, body = b.post("/settings/email_templates", url.Values{"name": {"receipt"}, "body": {"{% if %}broken"}})
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "the template does not parse") {
		t.Errorf("broken template: %d", st)
	}
	st, loc, _ := b.post("/settings/email_templates", url.Values{"name": {"receipt"}, "body": {"<p>{{ email.body }}</p> from <b>{{ shop.name }}</b>"}})
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/settings") {
		t.Fatalf("good template: %d %s", st, loc)
	}
	if _, page = b.get("/settings"); !strings.Contains(page, "<code>receipt</code>") {
		t.Error("the saved template is not listed")
	}
	tpls, err := e.svc.EmailTemplates(t.Context())
	if err != nil || len(tpls) != 1 || !strings.Contains(tpls[0].Body, "{{ shop.name }}") {
		t.Fatalf("stored templates: %v %v", tpls, err)
	}
	b.post("/settings/email_templates/receipt/delete", nil)
	if tpls, _ := e.svc.EmailTemplates(t.Context()); len(tpls) != 0 {
		t.Errorf("the template was not deleted: %v", tpls)
	}
}

// snippet returns some text around the element with id, for messages.
func snippet(page, id string) string {
	i := strings.Index(page, id)
	if i < 0 {
		return "(no " + id + ")"
	}
	return page[i:min(len(page), i+600)]
}

// TestFolderManagedTasksRefused: the UI refuses to enable, disable, edit
// or delete a task the tasks folder manages, as the API does.
func TestFolderManagedTasksRefused(t *testing.T) {
	e := startEnv(t, envOptions{})
	tk, err := task.Parse([]byte(`{"name":"from git","script":"{% log 1 %}","subscriptions":["mechanic/user/trigger"],"subscriptions_template":"mechanic/user/trigger","options":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.ApplyFolderTask(t.Context(), "0198f0aa-0000-7000-8000-000000000001", "tasks/from-git.json", tk)
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.mustSignIn()
	b.get("/")
	for _, path := range []string{"/tasks/" + st.ID + "/disable", "/tasks/" + st.ID + "/delete"} {
		b.post(path, nil)
	}
	cur, err := e.svc.Store().GetTask(t.Context(), st.ID)
	if err != nil {
		t.Fatalf("the task was deleted: %v", err)
	}
	if !cur.Enabled {
		t.Error("the folder-managed task was disabled through the UI")
	}
}

// TestConsoleReadsShopify: the Liquid console reads the connected shop
// live (here the sandbox shop), and says so when no shop is connected
// instead of answering empty data.
func TestConsoleReadsShopify(t *testing.T) {
	sch, err := schema.LoadFile(shared.For(t, "corpus", "shopify", "admin-schema", "admin_2026-01.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Options{Schema: sch, AccessToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { ts.Close(); sb.Close() })
	tpl := `{% assign r = "query { shop { name } }" | shopify %}name={{ r.data.shop.name }}`
	eval := func(e *testEnv) string {
		b := e.browser()
		b.mustSignIn()
		b.get("/console")
		_, _, body := b.post("/console", url.Values{"template": {tpl}, "topic": {"mechanic/user/trigger"}})
		return body
	}
	connected := startEnv(t, envOptions{shopify: server.ShopifyConfig{Shop: sandbox.DefaultShop, AccessToken: "tok", BaseURL: ts.URL}})
	if body := eval(connected); !strings.Contains(body, "name=Sandbox Shop") {
		t.Errorf("connected console: %s", snippet(body, "name="))
	}
	alone := startEnv(t, envOptions{})
	if body := eval(alone); !strings.Contains(body, "no Shopify shop is connected") {
		t.Errorf("console without a shop: %s", snippet(body, "result"))
	}
}

// TestOAuthConnectionsSettings: the settings page lists the providers;
// connecting an account of a configured provider sends the browser to the
// provider's authorize URL with a state nonce and a PKCE challenge.
func TestOAuthConnectionsSettings(t *testing.T) {
	e := startEnv(t, envOptions{})
	body := strings.NewReader(`{"client_id": "cid-123", "client_secret": "shh"}`)
	req, _ := http.NewRequest("PUT", e.base+"/v1/oauth/providers/slack", body)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("configure slack: %d", resp.StatusCode)
	}
	b := e.browser()
	b.mustSignIn()
	_, page := b.get("/settings")
	for _, want := range []string{`id="connections"`, "<code>slack</code>", "<code>airtable</code>", "not configured"} {
		if !strings.Contains(page, want) {
			t.Errorf("settings lacks %q", want)
		}
	}
	st, loc, _ := b.post("/settings/oauth/slack/connect", url.Values{"account": {"team-a"}})
	u, err := url.Parse(loc)
	if st != http.StatusSeeOther || err != nil || u.Query().Get("client_id") != "cid-123" || u.Query().Get("state") == "" || u.Query().Get("code_challenge") == "" {
		t.Errorf("connect: %d %q", st, loc)
	}
	if !strings.Contains(u.Query().Get("redirect_uri"), "/oauth/callback") {
		t.Errorf("redirect_uri %q", u.Query().Get("redirect_uri"))
	}
}
