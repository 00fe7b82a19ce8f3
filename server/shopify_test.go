package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/shared"
)

// waitFinal polls the API until the task has n runs of kind in a final
// status, and returns them.
func waitFinal(t *testing.T, c *client, kind, taskID string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		list := c.want(http.StatusOK, "GET", "/v1/"+kind+"?limit=1000&task_id="+taskID, nil)[kind].([]any)
		var done []map[string]any
		for _, r := range list {
			m := r.(map[string]any)
			if st := m["status"]; st == "success" || st == "failed" {
				done = append(done, m)
			}
		}
		if len(done) >= n {
			return done
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s of task %s: %d final of %d, want %d", kind, taskID, len(done), len(list), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// createTask creates and enables a task through the API.
func createTask(t *testing.T, c *client, name, script string, subs ...string) string {
	t.Helper()
	doc := map[string]any{"name": name, "script": script, "subscriptions": subs, "options": map[string]any{}}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	return id
}

// TestShopifyWithoutShop: with no shop connected, a live run reading
// Shopify fails with an error naming the filter and its line, and a
// shopify action fails naming the missing connection — never empty data.
func TestShopifyWithoutShop(t *testing.T) {
	_, c := startPipelineService(t)
	reader := createTask(t, c, "reader", "{% log \"before\" %}\n{% assign r = \"query { shop { name } }\" | shopify %}\n{% log r %}", "mechanic/user/trigger")
	writer := createTask(t, c, "writer", `{% action "shopify" %}mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["x"]) { userErrors { message } } }{% endaction %}`, "mechanic/user/trigger")
	for _, id := range []string{reader, writer} {
		c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
	}
	run := waitFinal(t, c, "task_runs", reader, 1)[0]
	msg, _ := json.Marshal(run["error"])
	if run["status"] != "failed" || !strings.Contains(string(msg), "line 2") || !strings.Contains(string(msg), "shopify") ||
		!strings.Contains(string(msg), "no Shopify shop is connected") {
		t.Errorf("reader run: status %v, error %s", run["status"], msg)
	}
	t.Logf("reader run error: %s", msg)
	act := waitFinal(t, c, "action_runs", writer, 1)[0]
	msg, _ = json.Marshal(act["error"])
	if act["status"] != "failed" || !strings.Contains(string(msg), "no Shopify shop is connected") {
		t.Errorf("shopify action run: status %v, error %s", act["status"], msg)
	}
	st := c.want(http.StatusOK, "GET", "/v1/shop/status", nil)["shopify"].(map[string]any)
	if st["connected"] != false {
		t.Errorf("status says connected: %v", st)
	}
}

// TestShopifyOAuthInstall walks the authorization-code install: the
// install URL carries the scopes the enabled tasks need and a state
// nonce; the callback is refused with a bad HMAC or an unknown state, and
// with a good one the code is exchanged and the token stored sealed.
func TestShopifyOAuthInstall(t *testing.T) {
	const secret, clientID, token = "app-secret-123", "client-abc", "shpua_installed_token_0123456789"
	var exchanged int
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/oauth/access_token" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if r.Form.Get("client_id") != clientID || r.Form.Get("client_secret") != secret || r.Form.Get("code") != "the-code" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_request"}`))
			return
		}
		exchanged++
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"` + token + `","scope":"write_orders,read_customers"}`))
	}))
	t.Cleanup(shop.Close)
	dir := t.TempDir()
	svc, c := openTestService(t, Config{DataDir: dir})
	_ = svc
	createTask(t, c, "tagger", `{% action "shopify" %}mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["x"]) { node { id } } }{% endaction %}`, "shopify/customers/create")

	_, bad := c.do("POST", "/v1/shop/oauth/install", map[string]any{"shop": "not a shop", "client_id": clientID, "client_secret": secret})
	if _, f := errorField(t, bad); f != "shop" {
		t.Errorf("bad shop: %v", bad)
	}
	out := c.want(http.StatusOK, "POST", "/v1/shop/oauth/install", map[string]any{
		"shop": "demo.myshopify.com", "client_id": clientID, "client_secret": secret, "base_url": shop.URL,
	})
	inst, err := url.Parse(out["install_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	q := inst.Query()
	if inst.Path != "/admin/oauth/authorize" || q.Get("client_id") != clientID || q.Get("state") != out["state"] {
		t.Errorf("install URL %s", inst)
	}
	if got := q.Get("scope"); got != "read_customers,write_orders" {
		t.Errorf("install scopes %q, want the tasks' read_customers,write_orders", got)
	}
	callback := func(params url.Values, key string) (int, string) {
		params.Set("timestamp", strconv.FormatInt(time.Now().Unix(), 10))
		keys := make([]string, 0, len(params))
		for k := range params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+"="+params.Get(k))
		}
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(strings.Join(parts, "&")))
		params.Set("hmac", hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.Get(c.base + "/shopify/oauth/callback?" + params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	state := out["state"].(string)
	if code, body := callback(url.Values{"code": {"the-code"}, "shop": {"demo.myshopify.com"}, "state": {state}}, "wrong-secret"); code != http.StatusUnauthorized {
		t.Errorf("bad hmac: %d %s", code, body)
	}
	if code, body := callback(url.Values{"code": {"the-code"}, "shop": {"demo.myshopify.com"}, "state": {"feedface"}}, secret); code != http.StatusBadRequest {
		t.Errorf("unknown state: %d %s", code, body)
	}
	if code, body := callback(url.Values{"code": {"the-code"}, "shop": {"demo.myshopify.com"}, "state": {state}}, secret); code != http.StatusOK || !strings.Contains(body, "connected to demo.myshopify.com") {
		t.Fatalf("good callback: %d %s", code, body)
	}
	if code, _ := callback(url.Values{"code": {"the-code"}, "shop": {"demo.myshopify.com"}, "state": {state}}, secret); code != http.StatusBadRequest {
		t.Errorf("a state was used twice: %d", code)
	}
	if exchanged != 1 {
		t.Errorf("code exchanged %d times, want 1", exchanged)
	}
	conn := c.want(http.StatusOK, "GET", "/v1/shop/connection", nil)
	if conn["connected"] != true || conn["auth"] != "oauth" || conn["shop"] != "demo.myshopify.com" {
		t.Errorf("connection: %v", conn)
	}
	raw, _ := json.Marshal(conn)
	if bytes.Contains(raw, []byte(token)) || bytes.Contains(raw, []byte(secret)) {
		t.Errorf("the connection answer shows a credential: %s", raw)
	}
	// Credentials are sealed at rest: neither appears in the database files.
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range []string{token, secret} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a credential in plain text", filepath.Base(f))
			}
		}
	}
	st := c.want(http.StatusOK, "GET", "/v1/shop/status", nil)["shopify"].(map[string]any)
	if miss := st["scopes_missing"].([]any); len(miss) != 0 {
		t.Errorf("scopes missing after the install: %v (status %v)", miss, st)
	}
}

// TestStorefrontJavaScript: enabled tasks' online_store_javascript is
// rendered with shop and options and served from a stable URL; a broken
// task does not take the others' scripts down; disabled tasks are left out.
func TestStorefrontJavaScript(t *testing.T) {
	_, c := openTestService(t, Config{})
	mk := func(name, js string, enable bool) {
		doc := map[string]any{"name": name, "script": "", "subscriptions": []string{}, "options": map[string]any{"greeting": "hi <there>"},
			"online_store_javascript": js}
		id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
		if enable {
			c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
		}
	}
	mk("greeter", `console.log({{ options.greeting | json }}, {{ shop.myshopify_domain | json }});`, true)
	mk("broken", `{{ 1 | divided_by: 0 }}`, true)
	mk("off", `console.log("disabled");`, false)
	resp, err := http.Get(c.base + "/shopify/storefront.js")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	js := b.String()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/javascript") {
		t.Fatalf("status %d, type %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(js, `console.log("hi <there>", "`) {
		t.Errorf("greeter's script missing:\n%s", js)
	}
	if !strings.Contains(js, "javascript not rendered") || strings.Contains(js, "disabled") {
		t.Errorf("broken or disabled tasks handled wrongly:\n%s", js)
	}
}

// TestSaveWarnsAboutGraphQL: saving a task whose preview renders GraphQL
// that does not validate against the Admin schema answers warnings naming
// the script line; valid GraphQL gives none.
func TestSaveWarnsAboutGraphQL(t *testing.T) {
	t.Setenv("SPROCKET_SHOPIFY_SCHEMA_DIR", shared.For(t, "corpus", "shopify", "admin-schema"))
	_, c := openTestService(t, Config{})
	doc := map[string]any{"name": "bad gql", "subscriptions": []string{"mechanic/user/trigger"}, "options": map[string]any{},
		"script": "{% action \"shopify\" %}\n  mutation {\n    tagsAdd(id: \"gid://shopify/Order/1\", tags: [\"a\"]) {\n      userErrors { feild }\n    }\n  }\n{% endaction %}"}
	out := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)
	raw, _ := json.Marshal(out["warnings"])
	if !strings.Contains(string(raw), `script line 4: GraphQL (shopify action 1 (preview event 1), 3:20): Cannot query field \"feild\" on type \"UserError\"`) {
		t.Errorf("warnings: %s", raw)
	}
	doc["name"], doc["script"] = "good gql", `{% action "shopify" %}mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["a"]) { userErrors { field } } }{% endaction %}`
	out = c.want(http.StatusCreated, "POST", "/v1/tasks", doc)
	if raw, _ := json.Marshal(out["warnings"]); strings.Contains(string(raw), "GraphQL") {
		t.Errorf("warnings for valid GraphQL: %s", raw)
	}
}
