package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/integrations/standin"
	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/shopify/sandbox"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// integrationEnv is a service connected to the sandbox shop and to
// loopback stand-ins of every OAuth provider and integration API.
type integrationEnv struct {
	t        *testing.T
	svc      *Service
	c        *client
	sb       *sandbox.Sandbox
	shopBase string
	base     string // the stand-ins' base URL
	slack    *standin.Slack
	airtable *standin.Airtable
	google   *standin.Google
	rt       *standin.ReportToaster
	oauth    map[string]*standin.OAuthServer
	hubspot  atomic.Int64 // contacts API calls answered 200
	incoming atomic.Int64 // Slack incoming webhook posts
	offset   atomic.Int64 // the store clock's lead over the wall clock, ns
	// shipTransport routes the http action's calls to ssapi.shipstation.com
	// (hard-coded in a library task) to a loopback stand-in.
	shipTransport *http.Transport
}

// shipStation serves GET /shipments?orderNumber= over TLS as ShipStation's
// API does, and returns a transport that reaches it for ssapi.shipstation.com.
func shipStation(t *testing.T, orderKey func(name string) string) *http.Transport {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); !ok || r.URL.Path != "/shipments" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		n := r.URL.Query().Get("orderNumber")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"shipments": []any{map[string]any{
			"orderNumber": n, "orderKey": orderKey(n), "shipmentCost": 6.54, "insuranceCost": 0, "trackingNumber": "1Z" + n, "voided": false,
		}}, "total": 1, "page": 1, "pages": 1})
	}))
	t.Cleanup(ts.Close)
	tr := ts.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com" // httptest's certificate names example.com
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	}
	addr := ts.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		if a == "ssapi.shipstation.com:443" {
			return dial(ctx, network, addr)
		}
		if host, _, _ := net.SplitHostPort(a); host != "127.0.0.1" && host != "localhost" {
			return nil, fmt.Errorf("no network in tests: %s", a)
		}
		return dial(ctx, network, a)
	}
	return tr
}

// Now implements store.Clock: the wall clock plus offset, so that delayed
// subscriptions (…+5.months) can come due in a test.
func (e *integrationEnv) Now() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }

const (
	judgemeSecret = "judgeme-app-secret"
	appSecret     = "sprocket-shared-secret"
	rtAPIKey      = "rt-api-key"
)

func startIntegrations(t *testing.T) *integrationEnv {
	t.Helper()
	e := &integrationEnv{t: t, oauth: map[string]*standin.OAuthServer{}}
	mux := http.NewServeMux()
	for _, p := range []struct {
		name  string
		ttl   time.Duration
		basic bool
	}{{"slack", 0, false}, {"airtable", time.Hour, true}, {"google", time.Hour, false}, {"hubspot", 30 * time.Minute, false}} {
		o := &standin.OAuthServer{ClientID: p.name + "-client", ClientSecret: p.name + "-secret", TokenTTL: p.ttl, BasicAuth: p.basic}
		o.Mount(mux, "/"+p.name+"/oauth")
		e.oauth[p.name] = o
	}
	e.slack = &standin.Slack{OAuth: e.oauth["slack"]}
	e.slack.Mount(mux, "/slack/api")
	e.airtable = &standin.Airtable{OAuth: e.oauth["airtable"]}
	e.airtable.Mount(mux, "/airtable")
	e.google = &standin.Google{OAuth: e.oauth["google"]}
	e.google.Mount(mux, "/google")
	e.rt = &standin.ReportToaster{APIKey: rtAPIKey}
	mux.Handle("POST /reporttoaster/api/mechanic", e.rt)
	// A generic OAuth API (HubSpot-like): paginated contacts.
	mux.HandleFunc("GET /hubspot/crm/v3/objects/contacts", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := e.oauth["hubspot"].Valid(r); !ok {
			http.Error(w, `{"status":"error","category":"EXPIRED_AUTHENTICATION"}`, http.StatusUnauthorized)
			return
		}
		e.hubspot.Add(1)
		after := r.URL.Query().Get("after")
		out := map[string]any{"results": []any{map[string]any{"id": "c" + after}}}
		if after == "" {
			out["paging"] = map[string]any{"next": map[string]any{"after": "2"}}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	// A Slack incoming webhook (the library posts some messages that way).
	mux.HandleFunc("POST /slack/incoming/{path...}", func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if json.NewDecoder(r.Body).Decode(&m) != nil || m["text"] == nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		e.incoming.Add(1)
		_, _ = io.WriteString(w, "ok")
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e.base = ts.URL
	e.shipTransport = shipStation(t, e.orderKey)

	sb, shopBase := startSandbox(t, sandbox.Options{BucketSize: 1e8, RestoreRate: 1e8, RESTBucketSize: 10000, RESTLeakRate: 10000, MaxQueryCost: -1})
	e.sb, e.shopBase = sb, shopBase
	e.svc, e.c = startShopService(t, shopBase, Config{StoreClock: e, NewPipeline: StandardPipeline(PipelineOptions{
		ErrorEvents: true,
		PDF:         testPDFRenderer(t),
		Integrations: IntegrationEndpoints{
			HTTPTransport: e.shipTransport,
			SlackBaseURL:  e.base + "/slack/api", AirtableBaseURL: e.base + "/airtable",
			GoogleDriveBaseURL: e.base + "/google", GoogleSheetsBaseURL: e.base + "/google", GoogleDocsBaseURL: e.base + "/google",
		},
	})})
	// Providers: the built-ins take the app's credentials and the
	// stand-in's URLs; hubspot is added by configuration only.
	for name, extra := range map[string]map[string]any{
		"slack":    {},
		"airtable": {"identity_url": e.base + "/airtable/v0/meta/whoami"},
		"google":   {"identity_url": e.base + "/google/oauth/userinfo"},
		"hubspot": {
			"scopes": []string{"crm.objects.contacts.read"}, "identity_url": e.base + "/hubspot/oauth/userinfo",
			"account_field": "email", "api_base_url": e.base + "/hubspot",
		},
	} {
		body := map[string]any{
			"authorize_url": e.base + "/" + name + "/oauth/authorize", "token_url": e.base + "/" + name + "/oauth/token",
			"revoke_url": e.base + "/" + name + "/oauth/revoke", "client_id": name + "-client", "client_secret": name + "-secret",
		}
		for k, v := range extra {
			body[k] = v
		}
		e.c.want(http.StatusOK, "PUT", "/v1/oauth/providers/"+name, body)
	}
	e.c.want(http.StatusOK, "PUT", "/v1/integrations/judgeme", map[string]any{"secret": judgemeSecret})
	e.c.want(http.StatusOK, "PUT", "/v1/integrations/locksmith", map[string]any{"secret": appSecret})
	e.c.want(http.StatusOK, "PUT", "/v1/integrations/report_toaster", map[string]any{"secret": appSecret, "api_url": e.base + "/reporttoaster/api/mechanic", "api_key": rtAPIKey})
	return e
}

// orderKey is ShipStation's orderKey (the Shopify order id) of an order
// number, from the sandbox.
func (e *integrationEnv) orderKey(number string) string {
	for _, gid := range e.sb.IDs("Order") {
		o, _ := e.sb.Object(gid)
		if strings.TrimPrefix(fmt.Sprint(o["name"]), "#") == number {
			return fmt.Sprint(numericID(gid))
		}
	}
	return ""
}

// connect runs the OAuth dance through the service as a browser would:
// POST connect, open the authorize URL, follow the redirect to the
// service's callback, which answers the connected account.
func (e *integrationEnv) connect(provider, account string, identity map[string]any) string {
	e.t.Helper()
	o := e.oauth[provider]
	o.Identity = identity
	if provider == "slack" {
		o.TokenExtra = map[string]any{"ok": true, "team": map[string]any{"name": identity["team"]}, "bot_user_id": "U1"}
	}
	body := map[string]any{}
	if account != "" {
		body["account"] = account
	}
	out := e.c.want(http.StatusOK, "POST", "/v1/oauth/"+provider+"/connect", body)
	req, _ := http.NewRequest("GET", out["authorize_url"].(string), nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req) // follows the 302 to /oauth/callback
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]map[string]any
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &got) != nil {
		e.t.Fatalf("callback: %s: %s", resp.Status, b)
	}
	if !strings.HasSuffix(resp.Request.URL.Path, OAuthCallbackPath) {
		e.t.Fatalf("the redirect ended at %s, not the callback", resp.Request.URL)
	}
	return got["connected"]["account"].(string)
}

// deliver posts an app delivery signed as the app signs it.
func (e *integrationEnv) deliver(app, path string, body []byte) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.c.base+"/integrations/"+app+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	switch app {
	case "judgeme":
		m := hmac.New(sha256.New, []byte(judgemeSecret))
		m.Write(body)
		req.Header.Set("JUDGEME-HMAC-SHA256", hex.EncodeToString(m.Sum(nil)))
	default:
		m := hmac.New(sha256.New, []byte(appSecret))
		m.Write(body)
		req.Header.Set("X-Sprocket-Hmac-Sha256", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	if resp.StatusCode != http.StatusAccepted {
		e.t.Fatalf("deliver %s%s: %s %s", app, path, resp.Status, b)
	}
	return out
}

// createTask creates and enables a task from Liquid and subscriptions.
func (e *integrationEnv) createTask(name string, subs []string, script string) string {
	e.t.Helper()
	out := e.c.want(http.StatusCreated, "POST", "/v1/tasks", map[string]any{"name": name, "subscriptions": subs, "script": script})
	id := out["id"].(string)
	e.c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	return id
}

func (e *integrationEnv) trigger(taskID string) {
	e.t.Helper()
	e.c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": taskID})
}

// actionRuns waits for the queue to drain and returns a task's action runs.
func (e *integrationEnv) actionRuns(taskID string) []store.Run {
	e.t.Helper()
	waitIdle(e.t, e.c, time.Minute)
	return listRuns(e.t, e.svc.Store(), store.KindAction, taskID)
}

// waitActionRuns waits until a task has n finished action runs (a chain
// of perform events takes a few queue rounds) and returns them.
func (e *integrationEnv) waitActionRuns(taskID string, n int) []store.Run {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		waitIdle(e.t, e.c, time.Minute)
		runs := listRuns(e.t, e.svc.Store(), store.KindAction, taskID)
		done := 0
		for _, r := range runs {
			if r.Status != store.StatusPending && r.Status != store.StatusRunning {
				done++
			}
		}
		if done >= n {
			return runs
		}
		if time.Now().After(deadline) {
			var why []string
			for _, r := range listRuns(e.t, e.svc.Store(), store.KindTask, taskID) {
				why = append(why, fmt.Sprintf("task run %s %s", r.Status, r.Error))
			}
			for _, r := range runs {
				why = append(why, fmt.Sprintf("action run %s %s", r.Status, r.Error))
			}
			e.t.Fatalf("task %s: %d finished action runs, want %d: %s", taskID, done, n, strings.Join(why, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestOAuthConnectThroughService(t *testing.T) {
	e := startIntegrations(t)
	// Named after the identity the provider reports.
	if got := e.connect("slack", "", map[string]any{"team": "Acme Workspace"}); got != "Acme Workspace" {
		t.Fatalf("slack account %q", got)
	}
	if got := e.connect("google", "", map[string]any{"email": "g1@example.com"}); got != "g1@example.com" {
		t.Fatalf("google account %q", got)
	}
	if got := e.connect("google", "reports", map[string]any{"email": "g2@example.com"}); got != "reports" {
		t.Fatalf("named google account %q", got)
	}
	accts := e.c.want(http.StatusOK, "GET", "/v1/oauth/accounts", nil)["accounts"].([]any)
	if len(accts) != 3 {
		t.Fatalf("accounts: %v", accts)
	}
	raw, _ := json.Marshal(accts)
	if strings.Contains(string(raw), "at_") || strings.Contains(string(raw), "rt_") {
		t.Fatalf("the accounts list shows tokens: %s", raw)
	}
	providers := e.c.want(http.StatusOK, "GET", "/v1/oauth/providers", nil)
	if !strings.HasSuffix(providers["callback_url"].(string), "/oauth/callback") {
		t.Fatalf("callback_url: %v", providers["callback_url"])
	}
	praw, _ := json.Marshal(providers)
	if strings.Contains(string(praw), "google-secret") {
		t.Fatal("the providers list shows a client secret")
	}
	// A replayed callback is refused.
	st, out := e.c.do("GET", OAuthCallbackPath+"?state=forged&code=x", nil, "Accept", "application/json")
	if st != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out), "state") {
		t.Fatalf("forged state: %d %v", st, out)
	}
	// Disconnect revokes at the provider.
	before := e.oauth["google"].Count("revoke")
	del := e.c.want(http.StatusOK, "DELETE", "/v1/oauth/accounts/google/reports", nil)
	if del["revoked"] != true || e.oauth["google"].Count("revoke") != before+1 {
		t.Fatalf("disconnect: %v", del)
	}
	e.c.want(http.StatusNotFound, "DELETE", "/v1/oauth/accounts/google/reports", nil)
	e.c.want(http.StatusConflict, "DELETE", "/v1/oauth/providers/google", nil)
}

// TestOAuthAccountsRefreshRevoke: two accounts of one provider used by two
// tasks, a token refreshed after expiry (401 then refresh), and a revoked
// grant failing clearly.
func TestOAuthAccountsRefreshRevoke(t *testing.T) {
	e := startIntegrations(t)
	e.connect("google", "", map[string]any{"email": "one@example.com"})
	e.connect("google", "", map[string]any{"email": "two@example.com"})
	script := func(acct string) string {
		return `{% action "google_drive" %}{"account": "` + acct + `", "uploads": {"notes/` + acct + `.txt": "hello from {{ task.id }}"}}{% endaction %}`
	}
	t1 := e.createTask("drive one", []string{"mechanic/user/trigger"}, script("one@example.com"))
	t2 := e.createTask("drive two", []string{"mechanic/user/trigger"}, script("two@example.com"))
	e.trigger(t1)
	e.trigger(t2)
	for _, id := range []string{t1, t2} {
		for _, r := range e.actionRuns(id) {
			if r.Status != store.StatusSuccess {
				t.Fatalf("task %s: %s action: %s %s", id, r.ActionType, r.Status, r.Error)
			}
		}
	}
	one, two := e.google.Drive("one@example.com"), e.google.Drive("two@example.com")
	if one["notes/one@example.com.txt"] != "hello from "+t1 || len(two) != 1 || two["notes/two@example.com.txt"] != "hello from "+t2 {
		t.Fatalf("drives: one=%v two=%v", one, two)
	}

	// The provider expires the token early: the call gets 401, the
	// token is refreshed once and the call repeated.
	refreshes := e.oauth["google"].Count("refresh")
	e.oauth["google"].ExpireAll()
	e.trigger(t1)
	runs := e.actionRuns(t1)
	if last := runs[0]; last.Status != store.StatusSuccess {
		t.Fatalf("after expiry: %s %s", last.Status, last.Error)
	}
	if got := e.oauth["google"].Count("refresh"); got != refreshes+1 {
		t.Fatalf("refreshes: %d, want %d", got, refreshes+1)
	}

	// Revoked by the user at the provider: a clear, permanent failure.
	e.oauth["google"].RevokeAll()
	e.trigger(t2)
	runs = e.actionRuns(t2)
	last := runs[0]
	if last.Status == store.StatusSuccess || !strings.Contains(last.Error, "connected again") || !strings.Contains(last.Error, "two@example.com") {
		t.Fatalf("revoked: %s %q", last.Status, last.Error)
	}
	if last.Attempts > 1 {
		t.Fatalf("a revoked grant was retried (%d attempts)", last.Attempts)
	}
	// Unknown account: names the connected ones.
	t3 := e.createTask("drive three", []string{"mechanic/user/trigger"}, script("nobody@example.com"))
	e.trigger(t3)
	if r := e.actionRuns(t3)[0]; r.Status == store.StatusSuccess || !strings.Contains(r.Error, "one@example.com") {
		t.Fatalf("unknown account: %s %q", r.Status, r.Error)
	}
}

// TestHTTPActionGenericOAuth uses a provider added by configuration only
// (hubspot) from an http action's oauth option, paging through an API.
func TestHTTPActionGenericOAuth(t *testing.T) {
	e := startIntegrations(t)
	e.connect("hubspot", "main", map[string]any{"email": "crm@example.com"})
	id := e.createTask("hubspot pages", []string{"mechanic/user/trigger", "mechanic/actions/perform"}, `
{% if event.topic == "mechanic/user/trigger" %}
  {% action "http" %}{"method": "GET", "url": "`+e.base+`/hubspot/crm/v3/objects/contacts", "oauth": {"provider": "hubspot", "account": "main"}}{% endaction %}
{% elsif action.run.result.body.paging.next.after %}
  {% action "http" %}{"method": "GET", "url": "`+e.base+`/hubspot/crm/v3/objects/contacts?after={{ action.run.result.body.paging.next.after }}", "oauth": {"provider": "hubspot", "account": "main"}}{% endaction %}
{% else %}
  {% log pages_done: action.run.result.body.results %}
{% endif %}`)
	e.trigger(id)
	runs := e.waitActionRuns(id, 2)
	for _, r := range runs {
		if r.Status != store.StatusSuccess || !strings.Contains(string(r.Result), `"status":200`) {
			t.Fatalf("run: %s %s %s", r.Status, r.Error, r.Result)
		}
	}
	if e.hubspot.Load() != 2 {
		t.Fatalf("contacts API calls: %d", e.hubspot.Load())
	}
	// Expired at the provider: 401, refresh, repeat.
	e.oauth["hubspot"].ExpireAll()
	e.trigger(id)
	e.waitActionRuns(id, 4)
	if e.hubspot.Load() != 4 || e.oauth["hubspot"].Count("refresh") != 1 {
		t.Fatalf("after expiry: calls %d refreshes %d", e.hubspot.Load(), e.oauth["hubspot"].Count("refresh"))
	}
}

// integrationTasks are the library tasks that use the integration actions
// or subscribe to integration topics.
var integrationTasks = []string{
	"add-new-shopify-forms-submissions-to-a-google-sheet",
	"auto-tag-customers-with-locksmith-passcodes-used",
	"bulk-trigger-shopify-flow-with-historical-data",
	"demonstration-add-new-orders-to-google-sheet",
	"demonstration-create-and-update-a-table-in-airtable",
	"demonstration-create-sheets-and-list-and-create-files-in-google-drive",
	"demonstration-post-to-a-slack-channel",
	"demonstration-shopify-flow-integration",
	"demonstration-upload-files-to-google-drive",
	"error-reporter",
	"record-judge-me-customer-review-counts",
	"report-toaster-deliver-report-pdf-via-email-or-slack",
	"report-toaster-pirateship-integration",
	"report-toaster-shipstation-integration",
	"trigger-shopify-flow-with-a-time-delay",
}

// integrationKnown are failures that belong to other parts of Sprocket
// (action types or generators built on other branches), by task.
var integrationKnown = map[string]string{}

// integrationOptions are the option values a merchant would configure.
func integrationOptions(e *integrationEnv, customerID, orderID, productID int64) map[string]any {
	return map[string]any{
		"slack_incoming_webhook_url":                                   e.base + "/slack/incoming/T000/B000/XXXX",
		"email_subject__required":                                      "Shipping Costs",
		"api_username__required":                                       "ss-user",
		"api_password__required":                                       "ss-pass",
		"slack_account__required":                                      "Acme Workspace",
		"slack_account":                                                "Acme Workspace",
		"slack_channel_id__required":                                   "C0123456",
		"slack_channel_id_":                                            "C0123456",
		"airtable_account__required":                                   "at@example.com",
		"airtable_base_id__required":                                   "appBase123",
		"google_account__required":                                     "g1@example.com",
		"spreadsheet_title__required":                                  "Sprocket orders",
		"form_id__number_required":                                     int64(1),
		"customer_id__number":                                          customerID,
		"order_id__number":                                             orderID,
		"product_id__number":                                           productID,
		"send_general_trigger__boolean":                                true,
		"create_google_sheet_demo__boolean":                            true,
		"create_google_drive_file_demo__boolean":                       true,
		"list_google_drive_files_demo__boolean":                        true,
		"notification_methods__multiselect_o1_email_o2_slack_required": []any{"slack"},
		"report_id__required":                                          "vVYKue9k7P",
		"metafield_namespace_required":                                 "custom",
		"metafield_key__required":                                      "review_count",
		"echo_all_locksmith_session_pings__boolean":                    true,
	}
}

func numericID(gid string) int64 {
	var n int64
	fmt.Sscanf(gid[strings.LastIndex(gid, "/")+1:], "%d", &n)
	return n
}

// TestIntegrationLibraryLive runs every library task that uses the
// integration actions or topics live: against the stand-ins and the
// sandbox, through the real service, events delivered the way each source
// delivers them (signed app deliveries for app topics).
func TestIntegrationLibraryLive(t *testing.T) {
	dir := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	e := startIntegrations(t)
	e.connect("slack", "", map[string]any{"team": "Acme Workspace"})
	e.connect("airtable", "", map[string]any{"email": "at@example.com"})
	e.connect("google", "", map[string]any{"email": "g1@example.com"})
	cust, ord, prod := e.sb.IDs("Customer"), e.sb.IDs("Order"), e.sb.IDs("Product")
	opts := integrationOptions(e, numericID(cust[0]), numericID(ord[0]), numericID(prod[0]))
	payloads := &shopPayloads{base: e.shopBase, cache: map[string]json.RawMessage{}}
	r := &run.Renderer{Engine: dialect.NewEngine(dialect.Options{})}
	ctx := context.Background()
	ids := map[string]string{}
	tasks := map[string]*task.Task{}
	later := map[string][]*run.Event{}
	for _, name := range integrationTasks {
		raw, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		tk, err := task.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		filled, _ := run.SampleRequiredOptions(tk, tk.Options)
		for k, v := range opts {
			if strings.Contains(tk.Script, "options."+k) {
				filled.Set(k, mustValue(t, v))
			}
		}
		tk.Options = filled
		pv, err := r.Preview(ctx, run.PreviewInput{Task: tk})
		if err != nil {
			t.Fatalf("%s: preview: %v", name, err)
		}
		def, _ := tk.MarshalJSON()
		id := e.c.want(http.StatusCreated, "POST", "/v1/tasks", json.RawMessage(def))["id"].(string)
		e.c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
		ids[name] = id
		seen := map[string]bool{}
		for _, pr := range pv.Runs {
			if pr.Event == nil || seen[pr.Event.Topic] || pr.Event.Topic == "mechanic/actions/perform" {
				continue
			}
			seen[pr.Event.Topic] = true
			if sheetTasks[name] && pr.Event.Topic != "mechanic/user/trigger" {
				later[name] = append(later[name], pr.Event) // after the spreadsheet exists
				continue
			}
			e.fire(t, id, pr.Event, payloads)
		}
		tasks[name] = tk
	}
	waitIdle(t, e.c, 3*time.Minute)

	// As a merchant does: run the sheet tasks once to create their
	// spreadsheet, copy its id into the options, then let events arrive.
	for name := range sheetTasks {
		id := ids[name]
		sheetID := ""
		for _, ar := range listRuns(t, e.svc.Store(), store.KindAction, id) {
			var res map[string]any
			if ar.ActionType == "google_sheets" && json.Unmarshal(ar.Result, &res) == nil && res["spreadsheet_id"] != nil {
				sheetID = res["spreadsheet_id"].(string)
			}
		}
		if sheetID == "" {
			t.Fatalf("%s: no spreadsheet was created", name)
		}
		tk := tasks[name]
		tk.Options.Set("spreadsheet_id", sheetID)
		if _, ok := tk.Options.Get("create_sheet_mode__boolean"); ok {
			tk.Options.Set("create_sheet_mode__boolean", false)
		}
		def, _ := tk.MarshalJSON()
		var doc map[string]any
		if err := json.Unmarshal(def, &doc); err != nil {
			t.Fatal(err)
		}
		doc["force"] = true // an unconditional write, as the task sync API asks
		e.c.want(http.StatusOK, "PUT", "/v1/tasks/"+id, doc)
		for _, ev := range later[name] {
			if ev.Topic == "shopify/customer/tags_added" {
				ev = &run.Event{Topic: ev.Topic, Data: mustValue(t, map[string]any{
					"customerId": e.sb.IDs("Customer")[0], "tags": []any{"shopify-forms-1"}, "occurredAt": "2026-01-02T05:00:00.000Z",
				})}
			}
			e.fire(t, id, ev, payloads)
		}
	}
	waitIdle(t, e.c, 3*time.Minute)
	// Delayed subscriptions (shopify/orders/create+5.months) come due.
	e.offset.Store(int64(200 * 24 * time.Hour))
	e.c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/clock/advanced", "data": nil})
	waitIdle(t, e.c, 3*time.Minute)

	var problems []string
	var lines []string
	for _, name := range integrationTasks {
		id := ids[name]
		trs := listRuns(t, e.svc.Store(), store.KindTask, id)
		ars := listRuns(t, e.svc.Store(), store.KindAction, id)
		types := map[string]int{}
		failed := 0
		for _, tr := range trs {
			if os.Getenv("SPROCKET_INTEGRATION_DEBUG") == name {
				t.Logf("%s: %s task run %s: logs %s", name, tr.Status, tr.Error, tr.Logs)
			}
			if tr.Status != store.StatusSuccess && tr.Status != store.StatusPending {
				failed++
				problems = append(problems, fmt.Sprintf("%s: task run %s: %s", name, tr.Status, tr.Error))
			}
		}
		for _, ar := range ars {
			types[ar.ActionType]++
			if ar.Status != store.StatusSuccess && ar.Status != store.StatusPending {
				failed++
				if why, ok := integrationKnown[name]; ok {
					t.Logf("%s: known: %s action: %.200s (%s)", name, ar.ActionType, ar.Error, why)
					continue
				}
				problems = append(problems, fmt.Sprintf("%s: %s action %s: %.300s", name, ar.ActionType, ar.Status, ar.Error))
			}
		}
		var ts []string
		for k, n := range types {
			ts = append(ts, fmt.Sprintf("%s×%d", k, n))
		}
		sort.Strings(ts)
		lines = append(lines, fmt.Sprintf("%-72s task runs %d, action runs %d [%s], failures %d", name, len(trs), len(ars), strings.Join(ts, " "), failed))
	}
	for _, l := range lines {
		t.Log(l)
	}
	t.Logf("stand-ins: slack %d calls, google %d calls, airtable tables %d, report toaster %d requests, flow triggers %d",
		len(e.slack.Log), e.google.Calls(), len(e.airtable.Tables("appBase123")), len(e.rt.Requests), len(e.sb.FlowTriggers()))
	for _, p := range problems {
		t.Error(p)
	}
}

// sheetTasks create their spreadsheet on a manual run first.
var sheetTasks = map[string]bool{
	"add-new-shopify-forms-submissions-to-a-google-sheet": true,
	"demonstration-add-new-orders-to-google-sheet":        true,
}

func mustValue(t *testing.T, v any) any {
	t.Helper()
	cv, err := value.FromJSON(mustJSON(t, v))
	if err != nil {
		t.Fatal(err)
	}
	return cv
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fire produces an event of ev's topic for task id the way its source would.
func (e *integrationEnv) fire(t *testing.T, id string, ev *run.Event, payloads *shopPayloads) {
	t.Helper()
	data := json.RawMessage("null")
	if ev.Data != nil {
		b, err := value.ToJSON(ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		data = b
	}
	topic := ev.Topic
	base, _, _ := strings.Cut(topic, "+")
	switch {
	case strings.HasPrefix(base, "judgeme/"):
		e.deliver("judgeme", "", judgemePayload(e))
		return
	case strings.HasPrefix(base, "locksmith/"):
		e.deliver("locksmith", "/sessions/ping", locksmithPayload(e))
		return
	case strings.HasPrefix(base, "report_toaster/"):
		e.deliver("report_toaster", "/"+strings.TrimPrefix(base, "report_toaster/"), mustJSON(t, map[string]any{
			"id": "vVYKue9k7P", "name": "30-Day Summary",
			"file": map[string]any{"format": "pdf", "url": e.base + "/reports/30-day.pdf", "size": 1234},
			"meta": map[string]any{"task_id": id}, "definition": map[string]any{},
		}))
		return
	case strings.HasPrefix(base, "shopify/") && base != "shopify/customer/tags_added":
		if p := payloads.get(t, base); p != nil {
			data = p
		}
	case base == "mechanic/user/text":
		order, _ := e.sb.Object(e.sb.IDs("Order")[0])
		data = mustJSON(t, order["name"])
	case base == "mechanic/emails/received":
		csv := "Order ID,Cost\n1001,6.54\n1002,4.76\n"
		data = mustJSON(t, map[string]any{
			"from": "reports@pirateship.com", "to": "shop@example.com", "subject": "Shipping Costs", "text": "attached",
			"attachments": []any{map[string]any{"filename": "shipments.csv", "content_type": "text/csv", "content": base64.StdEncoding.EncodeToString([]byte(csv))}},
		})
	}
	e.c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": base, "data": data, "task_ids": []string{id}})
}

func judgemePayload(e *integrationEnv) []byte {
	cust, _ := e.sb.Object(e.sb.IDs("Customer")[0])
	return mustJSON(e.t, map[string]any{
		"event": "review/created", "platform": "shopify", "shop_domain": sandbox.DefaultShop,
		"review": map[string]any{
			"id": 434, "rating": 5, "body": "great", "created_at": "2026-01-02T08:39:09+00:00",
			"reviewer": map[string]any{"id": 602, "email": cust["email"], "external_id": numericID(e.sb.IDs("Customer")[0]), "name": "R"},
		},
	})
}

func locksmithPayload(e *integrationEnv) []byte {
	gid := e.sb.IDs("Customer")[0]
	return mustJSON(e.t, map[string]any{"event": map[string]any{
		"keys":     []any{map[string]any{"_id": 74, "conditions": []any{map[string]any{"_id": 100, "type": "passcode"}}}},
		"params":   map[string]any{"passcode(100)": "hello", "passcode": "hello"},
		"customer": map[string]any{"id": numericID(gid), "admin_graphql_api_id": gid, "email": "test@example.com"},
	}})
}

// TestAppDeliveries sends app events through the service: Flow's action
// signed with the Shopify app's secret (restricted to one task), an
// Appstle delivery with Svix signatures, and forged deliveries refused.
func TestAppDeliveries(t *testing.T) {
	e := startIntegrations(t)
	flowTask := e.createTask("from flow", []string{"user/flow/order"}, `{% log got: event.data %}`)
	other := e.createTask("also subscribed", []string{"user/flow/order"}, `{% log other: event.data %}`)
	post := func(path string, body []byte, h http.Header) (int, map[string]any) {
		req, _ := http.NewRequest("POST", e.c.base+path, bytes.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	flowBody := mustJSON(t, map[string]any{"shop_id": 1, "shopify_domain": sandbox.DefaultShop, "action_run_id": "r1", "handle": "send-to-mechanic",
		"properties": map[string]any{"Event topic": "user/flow/order", "Event data": `{"order_id": 12}`, "Task ID": flowTask}})
	sig := func(key string, b []byte) string {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(b)
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	st, out := post("/integrations/flow", flowBody, http.Header{"X-Shopify-Hmac-Sha256": {sig(sandbox.DefaultAPISecret, flowBody)}})
	if st != http.StatusAccepted || out["topic"] != "user/flow/order" {
		t.Fatalf("flow delivery: %d %v", st, out)
	}
	waitIdle(t, e.c, time.Minute)
	if n := len(listRuns(t, e.svc.Store(), store.KindTask, flowTask)); n != 1 {
		t.Fatalf("flow task runs: %d", n)
	}
	if n := len(listRuns(t, e.svc.Store(), store.KindTask, other)); n != 0 {
		t.Fatalf("the event reached a task it was not for: %d runs", n)
	}
	forged := []struct {
		path string
		h    http.Header
	}{
		{"/integrations/flow", http.Header{"X-Shopify-Hmac-Sha256": {sig("wrong", flowBody)}}},
		{"/integrations/flow", http.Header{}},
		{"/integrations/judgeme", http.Header{"Judgeme-Hmac-Sha256": {sig("wrong", flowBody)}}},
		{"/integrations/appstle_subscriptions", http.Header{"Svix-Id": {"m"}, "Svix-Timestamp": {"1"}, "Svix-Signature": {"v1,x"}}},
	}
	for _, f := range forged {
		if st, out := post(f.path, flowBody, f.h); st != http.StatusUnauthorized {
			t.Errorf("%s forged: %d %v", f.path, st, out)
		}
	}
	// Appstle through Svix.
	key := []byte("appstle-signing-key-0123456789ab")
	e.c.want(http.StatusOK, "PUT", "/v1/integrations/appstle_subscriptions", map[string]any{"secret": "whsec_" + base64.StdEncoding.EncodeToString(key)})
	appstleTask := e.createTask("appstle", []string{"appstle_subscriptions/subscriptions/create"}, `{% log contract: event.data.data.id %}`)
	body := mustJSON(t, map[string]any{"shop": sandbox.DefaultShop, "type": "subscription.created", "data": map[string]any{"id": "gid://shopify/SubscriptionContract/3344444"}})
	ts := fmt.Sprint(time.Now().Unix())
	m := hmac.New(sha256.New, key)
	m.Write([]byte("msg_1." + ts + "." + string(body)))
	st, out = post("/integrations/appstle_subscriptions", body, http.Header{"Svix-Id": {"msg_1"}, "Svix-Timestamp": {ts}, "Svix-Signature": {"v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))}})
	if st != http.StatusAccepted || out["topic"] != "appstle_subscriptions/subscriptions/create" {
		t.Fatalf("appstle: %d %v", st, out)
	}
	waitIdle(t, e.c, time.Minute)
	runs := listRuns(t, e.svc.Store(), store.KindTask, appstleTask)
	if len(runs) != 1 || !strings.Contains(string(runs[0].Logs), "SubscriptionContract/3344444") {
		t.Fatalf("appstle task: %+v", runs)
	}
	list := e.c.want(http.StatusOK, "GET", "/v1/integrations", nil)
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), judgemeSecret) || strings.Contains(string(raw), rtAPIKey) {
		t.Fatalf("GET /v1/integrations shows secrets: %s", raw)
	}
}

// TestRunLinks mints run links and follows them as a browser would.
func TestRunLinks(t *testing.T) {
	e := startIntegrations(t)
	id := e.createTask("manual", []string{"mechanic/user/trigger", "mechanic/user/text"}, `{% log topic: event.topic, data: event.data %}`)
	orderTask := e.createTask("orders", []string{"mechanic/user/order"}, `{% log name: order.name %}`)
	open := func(method, link string) (int, string) {
		req, _ := http.NewRequest(method, link, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	runs := func(task string) []store.Run {
		waitIdle(t, e.c, time.Minute)
		return listRuns(t, e.svc.Store(), store.KindTask, task)
	}
	trig := e.c.want(http.StatusCreated, "POST", "/v1/run_links", map[string]any{"task_id": id})["url"].(string)
	if st, body := open("GET", trig); st != http.StatusOK || !strings.Contains(body, "<form method=\"post\">") {
		t.Fatalf("GET: %d %s", st, body)
	}
	if n := len(runs(id)); n != 0 {
		t.Fatalf("GET started %d runs", n)
	}
	if st, body := open("POST", trig); st != http.StatusOK || !strings.Contains(body, "Started") {
		t.Fatalf("POST: %d %s", st, body)
	}
	text := e.c.want(http.StatusCreated, "POST", "/v1/run_links", map[string]any{"task_id": id, "data": "drink me!"})["url"].(string)
	if !strings.Contains(text, "data=drink+me%21") {
		t.Fatalf("text link: %s", text)
	}
	if st, _ := open("POST", text); st != http.StatusOK {
		t.Fatalf("text POST: %d", st)
	}
	got := runs(id)
	logs := ""
	for _, r := range got {
		logs += string(r.Logs)
	}
	if len(got) != 2 || !strings.Contains(logs, "mechanic/user/trigger") || !strings.Contains(logs, "drink me!") {
		t.Fatalf("runs: %d %s", len(got), logs)
	}
	tampered := strings.Replace(text, "drink", "eat", 1)
	if st, _ := open("POST", tampered); st != http.StatusForbidden {
		t.Fatalf("tampered: %d", st)
	}
	short := e.c.want(http.StatusCreated, "POST", "/v1/run_links", map[string]any{"task_id": id, "expires_in": 1})["url"].(string)
	time.Sleep(2100 * time.Millisecond)
	if st, _ := open("POST", short); st != http.StatusGone {
		t.Fatalf("expired: %d", st)
	}
	orders := e.sb.IDs("Order")
	res := e.c.want(http.StatusCreated, "POST", "/v1/run_links", map[string]any{"resource_type": "order", "ids": []any{numericID(orders[0]), numericID(orders[1])}})["url"].(string)
	if !strings.Contains(res, "/run/tasks?") || !strings.Contains(res, "ids%5B%5D=") {
		t.Fatalf("resource link: %s", res)
	}
	if st, body := open("POST", res); st != http.StatusOK {
		t.Fatalf("resource POST: %d %s", st, body)
	}
	if n := len(runs(orderTask)); n != 2 {
		t.Fatalf("order task runs: %d", n)
	}
	e.c.want(http.StatusUnprocessableEntity, "POST", "/v1/run_links", map[string]any{"task_id": orderTask})
	e.c.want(http.StatusUnprocessableEntity, "POST", "/v1/run_links", map[string]any{"resource_type": "planet", "ids": []any{1}})
}

// TestOAuthAPIErrors checks the OAuth API's answers to bad requests.
func TestOAuthAPIErrors(t *testing.T) {
	e := startIntegrations(t)
	tests := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"PUT", "/v1/oauth/providers/dropbox", map[string]any{"token_url": "https://api.dropboxapi.com/oauth2/token"}, http.StatusUnprocessableEntity, "authorize_url"},
		{"PUT", "/v1/oauth/providers/dropbox", map[string]any{"authorize_url": "notaurl", "token_url": "https://t"}, http.StatusUnprocessableEntity, "authorize_url"},
		{"PUT", "/v1/oauth/providers/Drop%20Box", map[string]any{}, http.StatusUnprocessableEntity, "name"},
		{"PUT", "/v1/oauth/providers/dropbox", map[string]any{"name": "other"}, http.StatusUnprocessableEntity, "name"},
		{"GET", "/v1/oauth/providers/nope", nil, http.StatusNotFound, ""},
		{"POST", "/v1/oauth/nope/connect", map[string]any{}, http.StatusNotFound, ""},
		{"POST", "/v1/oauth/slack/connect", map[string]any{"account": "a/b"}, http.StatusUnprocessableEntity, "account"},
		{"DELETE", "/v1/oauth/accounts/slack/nobody", nil, http.StatusNotFound, ""},
		{"PUT", "/v1/integrations/zapier", map[string]any{"secret": "x"}, http.StatusNotFound, "app"},
		{"PUT", "/v1/integrations/judgeme", map[string]any{"api_url": "https://x"}, http.StatusUnprocessableEntity, "api_url"},
	}
	for _, tt := range tests {
		st, out := e.c.do(tt.method, tt.path, tt.body)
		if st != tt.status {
			t.Errorf("%s %s: %d %v, want %d", tt.method, tt.path, st, out, tt.status)
			continue
		}
		if tt.field != "" {
			if f, _ := out["error"].(map[string]any)["field"].(string); f != tt.field {
				t.Errorf("%s %s: field %q, want %q (%v)", tt.method, tt.path, f, tt.field, out)
			}
		}
	}
	// Unconfigured built-in: the client id is missing.
	e.c.want(http.StatusOK, "DELETE", "/v1/oauth/providers/airtable", nil)
	e.c.want(http.StatusConflict, "POST", "/v1/oauth/airtable/connect", map[string]any{})
	// Without the API token nothing is answered.
	st, _ := (&client{t: t, base: e.c.base}).do("GET", "/v1/oauth/accounts", nil)
	if st != http.StatusUnauthorized {
		t.Fatalf("no token: %d", st)
	}
}
