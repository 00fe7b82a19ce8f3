package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/store"
)

const testToken = "test-token"

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// client is a tiny API client for tests.
type client struct {
	t     *testing.T
	base  string
	token string
}

// do sends a request and decodes the JSON answer (if any) into a map.
func (c *client) do(method, path string, body any, hdr ...string) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, out
}

// want fails unless status matches, showing the body.
func (c *client) want(status int, method, path string, body any, hdr ...string) map[string]any {
	c.t.Helper()
	got, out := c.do(method, path, body, hdr...)
	if got != status {
		c.t.Fatalf("%s %s: status %d, want %d; body %v", method, path, got, status, out)
	}
	return out
}

func openTestService(t *testing.T, cfg Config) (*Service, *client) {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.APIToken == "" {
		cfg.APIToken = testToken
	}
	cfg.DisableScheduler = cfg.Clock == nil
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	svc, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	ts := httptest.NewServer(svc.Handler())
	t.Cleanup(ts.Close)
	return svc, &client{t: t, base: ts.URL, token: testToken}
}

// fullTask is a task document using most fields of the format.
const fullTask = `{
  "docs": "Sends a note when a cart is abandoned. <b>Bold</b> & more.",
  "halt_action_run_sequence_on_error": false,
  "name": "Abandoned cart notes",
  "online_store_javascript": null,
  "options": {"wait_hours__number_required": 24, "note__multiline": "Hello {{ shop.name }}"},
  "order_status_javascript": null,
  "perform_action_runs_in_sequence": true,
  "preview_event_definitions": [],
  "script": "{% if event.data.total > 10 %}{% action \"echo\" note: options.note__multiline %}{% endif %}",
  "subscriptions": ["user/carts/abandoned+24.hours", "shopify/checkouts/create", "shopify/checkouts/update", "mechanic/user/trigger"],
  "subscriptions_template": "user/carts/abandoned+{{ options.wait_hours__number_required }}.hours\nshopify/checkouts/create\nshopify/checkouts/update\nmechanic/user/trigger",
  "tags": ["Carts", "Notes"]
}`

const simpleTask = `{"name":"Tag orders","script":"{% action \"echo\" %}{\"id\": {{ event.data.id | json }}}{% endaction %}","subscriptions":["user/orders/new"],"subscriptions_template":"user/orders/new","options":{}}`

func errorField(t *testing.T, out map[string]any) (msg string, field any) {
	t.Helper()
	e, ok := out["error"].(map[string]any)
	if !ok {
		t.Fatalf("answer has no error object: %v", out)
	}
	if _, ok := e["field"]; !ok {
		t.Fatalf("error has no field key: %v", e)
	}
	msg, _ = e["message"].(string)
	if msg == "" {
		t.Fatalf("error has no message: %v", e)
	}
	return msg, e["field"]
}

func TestAuth(t *testing.T) {
	_, c := openTestService(t, Config{})
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"none", "", http.StatusUnauthorized},
		{"wrong", "nope", http.StatusUnauthorized},
		{"right", testToken, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := *c
			cc.t, cc.token = t, tc.token
			out := cc.want(tc.status, "GET", "/v1/tasks", nil)
			if tc.status == http.StatusUnauthorized {
				errorField(t, out)
			} else if _, ok := out["tasks"].([]any); !ok {
				t.Fatalf("want a tasks list, got %v", out)
			}
		})
	}
	out := c.want(http.StatusNotFound, "GET", "/v1/nothing", nil)
	errorField(t, out)
}

func TestGeneratedToken(t *testing.T) {
	dir := t.TempDir()
	var printed []string
	a, err := newAuthenticator(dir, "", func(tok string) { printed = append(printed, tok) })
	if err != nil {
		t.Fatal(err)
	}
	if len(printed) != 1 || !strings.HasPrefix(printed[0], "spr_") {
		t.Fatalf("first start should hand out one token, got %q", printed)
	}
	stored, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), printed[0]) || len(strings.TrimSpace(string(stored))) != 64 {
		t.Fatalf("token file should hold only a SHA-256 hex hash, got %q", stored)
	}
	b, err := newAuthenticator(dir, "", func(string) { t.Fatal("second start must not create a token") })
	if err != nil {
		t.Fatal(err)
	}
	for _, au := range []*authenticator{a, b} {
		r := httptest.NewRequest("GET", "/v1/tasks", nil)
		r.Header.Set("Authorization", "Bearer "+printed[0])
		if !au.check(r) {
			t.Fatal("generated token rejected")
		}
		r.Header.Set("Authorization", "Bearer "+printed[0]+"x")
		if au.check(r) {
			t.Fatal("wrong token accepted")
		}
	}
}

func TestTaskSync(t *testing.T) {
	_, c := openTestService(t, Config{})
	created := c.want(http.StatusCreated, "POST", "/v1/tasks", fullTask)
	id, _ := created["id"].(string)
	if id == "" || created["enabled"] != false || created["name"] != "Abandoned cart notes" {
		t.Fatalf("unexpected created task: id=%q enabled=%v name=%v", id, created["enabled"], created["name"])
	}
	if subs, _ := created["subscriptions"].([]any); len(subs) != 4 {
		t.Fatalf("subscriptions = %v", created["subscriptions"])
	}
	got := c.want(http.StatusOK, "GET", "/v1/tasks/"+id, nil)
	if got["script"] != created["script"] || got["content_hash"] != created["content_hash"] || got["docs"] != created["docs"] {
		t.Fatal("GET answers a different task than POST")
	}
	// JSON answers do not HTML-escape text.
	req, _ := http.NewRequest("GET", c.base+"/v1/tasks/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(raw, []byte("<b>Bold</b> & more")) {
			t.Fatalf("task answer escapes HTML: %s", raw)
		}
	}
	if tags, _ := got["tags"].([]any); len(tags) != 2 || got["perform_action_runs_in_sequence"] != true {
		t.Fatalf("task fields lost: tags %v, sequence %v", got["tags"], got["perform_action_runs_in_sequence"])
	}

	// Idempotency-Key: a UUID becomes the id; a retry returns the same task.
	key := "0b5e7c62-3f0a-4d8e-9a55-6a1c1e2f3a4b"
	first := c.want(http.StatusCreated, "POST", "/v1/tasks", simpleTask, "Idempotency-Key", key)
	again := c.want(http.StatusOK, "POST", "/v1/tasks", simpleTask, "Idempotency-Key", key)
	if first["id"] != key || again["id"] != key {
		t.Fatalf("idempotent create ids: %v, %v; want %s", first["id"], again["id"], key)
	}
	list := c.want(http.StatusOK, "GET", "/v1/tasks", nil)
	if n := len(list["tasks"].([]any)); n != 2 {
		t.Fatalf("listed %d tasks, want 2", n)
	}

	// Enable and disable.
	if out := c.want(http.StatusOK, "POST", "/v1/tasks/"+key+"/enable", nil); out["enabled"] != true {
		t.Fatalf("enable: %v", out["enabled"])
	}
	enabled := c.want(http.StatusOK, "GET", "/v1/tasks?enabled=true", nil)
	if n := len(enabled["tasks"].([]any)); n != 1 {
		t.Fatalf("%d enabled tasks, want 1", n)
	}
	if out := c.want(http.StatusOK, "POST", "/v1/tasks/"+key+"/disable", nil); out["enabled"] != false {
		t.Fatalf("disable: %v", out["enabled"])
	}

	// Update: a stale content hash is refused; the right one, or none, applies.
	upd := strings.Replace(simpleTask, "Tag orders", "Tag new orders", 1)
	var doc map[string]any
	if err := json.Unmarshal([]byte(upd), &doc); err != nil {
		t.Fatal(err)
	}
	doc["previous_content_hash"] = "stale"
	out := c.want(http.StatusConflict, "PUT", "/v1/tasks/"+key, doc)
	if _, f := errorField(t, out); f != "previous_content_hash" {
		t.Fatalf("conflict field = %v", f)
	}
	doc["previous_content_hash"] = first["content_hash"]
	out = c.want(http.StatusOK, "PUT", "/v1/tasks/"+key, doc)
	if out["name"] != "Tag new orders" || out["content_hash"] == first["content_hash"] {
		t.Fatalf("update not applied: %v", out["name"])
	}
	// A task read from the API can be sent back as is, with the guard.
	out["name"] = "Round trip"
	out["previous_content_hash"] = out["content_hash"]
	c.want(http.StatusOK, "PUT", "/v1/tasks/"+key, out)
	c.want(http.StatusNotFound, "PUT", "/v1/tasks/00000000-0000-4000-8000-000000000000", strings.Replace(simpleTask, `{"name"`, `{"force":true,"name"`, 1))
	// Without previous_content_hash or force, an update is refused.
	out = c.want(http.StatusBadRequest, "PUT", "/v1/tasks/"+key, simpleTask)
	if msg, f := errorField(t, out); f != "previous_content_hash" || !strings.Contains(msg, "force: true") {
		t.Fatalf("unguarded update: %q (field %v)", msg, f)
	}

	// Versions: create, "Tag new orders", "Round trip"; restoring the first
	// brings its name back as a new version.
	vs := c.want(http.StatusOK, "GET", "/v1/tasks/"+key+"/versions", nil)["versions"].([]any)
	if len(vs) != 3 || vs[0].(map[string]any)["name"] != "Round trip" || vs[2].(map[string]any)["name"] != "Tag orders" {
		t.Fatalf("versions %v", vs)
	}
	first1 := vs[2].(map[string]any)["version"].(float64)
	restored := c.want(http.StatusOK, "POST", fmt.Sprintf("/v1/tasks/%s/versions/%d/restore", key, int(first1)), nil)
	if restored["name"] != "Tag orders" || restored["content_hash"] != first["content_hash"] {
		t.Fatalf("restored %v (hash %v, want %v)", restored["name"], restored["content_hash"], first["content_hash"])
	}
	c.want(http.StatusNotFound, "POST", "/v1/tasks/"+key+"/versions/99/restore", nil)

	// Validation errors name the field.
	for _, tc := range []struct {
		body, field string
	}{
		{`{"name":"x"}`, ""},
		{`{"name":"x","script":"","bogus":1}`, "bogus"},
		{`{"name":"x","script":"","subscriptions":["not a topic"]}`, "subscriptions"},
		{`{"name":5,"script":""}`, "name"},
	} {
		out := c.want(http.StatusBadRequest, "POST", "/v1/tasks", tc.body)
		_, f := errorField(t, out)
		if tc.field != "" && f != tc.field {
			t.Errorf("%s: field %v, want %q", tc.body, f, tc.field)
		}
	}
	// Without subscriptions, the template is rendered with the options.
	tmplTask := `{"name":"T","script":"","subscriptions":[],"subscriptions_template":"{% if options.on__boolean %}user/orders/new{% endif %}\nmechanic/user/trigger","options":{"on__boolean":true}}`
	out = c.want(http.StatusCreated, "POST", "/v1/tasks", tmplTask)
	if subs, _ := out["subscriptions"].([]any); len(subs) != 2 || subs[0] != "user/orders/new" || subs[1] != "mechanic/user/trigger" {
		t.Fatalf("rendered subscriptions %v", out["subscriptions"])
	}
	out = c.want(http.StatusUnprocessableEntity, "POST", "/v1/tasks", `{"name":"T","script":"","subscriptions":[],"subscriptions_template":"{% if %}"}`)
	if _, f := errorField(t, out); f != "subscriptions_template" {
		t.Fatalf("bad template field %v", f)
	}
	c.want(http.StatusNotImplemented, "POST", "/v1/tasks/preview", simpleTask)
	c.want(http.StatusNoContent, "DELETE", "/v1/tasks/"+id, nil)
	c.want(http.StatusNotFound, "DELETE", "/v1/tasks/"+id, nil)
	c.want(http.StatusNotFound, "GET", "/v1/tasks/"+id, nil)
}

func TestWebhooksEventsRuns(t *testing.T) {
	svc, c := openTestService(t, Config{})
	ctx := context.Background()
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"name": "x", "topic": "shopify/orders/create"}, "topic"},
		{map[string]any{"name": "x", "topic": "user/orders/new", "data_mode": "weird"}, "data_mode"},
		{map[string]any{"topic": "user/orders/new"}, "name"},
		{map[string]any{"name": "x", "topic": "user/orders/new", "extra": 1}, "extra"},
	} {
		out := c.want(http.StatusBadRequest, "POST", "/v1/webhooks", tc.body)
		if _, f := errorField(t, out); f != tc.field {
			t.Errorf("%v: field %v, want %s", tc.body, f, tc.field)
		}
	}
	wh := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "Orders", "topic": "user/orders/new", "data_mode": "auto"})
	id, _ := wh["id"].(string)
	if id == "" || wh["url"] != "/webhooks/"+id || wh["data_mode"] != "auto" {
		t.Fatalf("webhook answer %v", wh)
	}
	full := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "Raw", "topic": "user/raw/in", "data_mode": "full_request"})
	if full["data_mode"] != "full_request" {
		t.Fatalf("data_mode = %v", full["data_mode"])
	}
	if l := c.want(http.StatusOK, "GET", "/v1/webhooks", nil); len(l["webhooks"].([]any)) != 2 {
		t.Fatalf("webhooks: %v", l)
	}

	// The webhook is public: no token needed; 204 once committed.
	pub := &client{t: t, base: c.base}
	if st, _ := pub.do("POST", "/webhooks/"+id, `{"id": 42, "name": "#1001"}`); st != http.StatusNoContent {
		t.Fatalf("webhook POST status %d", st)
	}
	if st, _ := pub.do("POST", "/webhooks/unknown-id", `{}`); st != http.StatusNotFound {
		t.Fatalf("unknown webhook status %d", st)
	}
	// Updating a webhook applies at once: a secret makes signatures required.
	upd := c.want(http.StatusOK, "PUT", "/v1/webhooks/"+id, map[string]any{"secret": "k3y", "name": "Orders (signed)"})
	if upd["has_secret"] != true || upd["name"] != "Orders (signed)" || upd["topic"] != "user/orders/new" {
		t.Fatalf("updated webhook %v", upd)
	}
	if st, _ := pub.do("POST", "/webhooks/"+id, `{"id": 43}`); st != http.StatusUnauthorized {
		t.Fatalf("unsigned POST to a signed webhook: status %d", st)
	}
	mac := hmac.New(sha256.New, []byte("k3y"))
	mac.Write([]byte(`{"id": 43}`))
	if st, _ := pub.do("POST", "/webhooks/"+id, `{"id": 43}`, "X-Sprocket-Signature", hex.EncodeToString(mac.Sum(nil))); st != http.StatusNoContent {
		t.Fatalf("signed POST: status %d", st)
	}
	c.want(http.StatusOK, "PUT", "/v1/webhooks/"+id, map[string]any{"secret": ""})
	out := c.want(http.StatusBadRequest, "PUT", "/v1/webhooks/"+id, map[string]any{"topic": "shopify/orders/create"})
	if _, f := errorField(t, out); f != "topic" {
		t.Fatalf("bad update field %v", f)
	}
	// A deleted webhook stops answering at once, even though lookups are cached.
	fullURL := full["url"].(string)
	if st, _ := pub.do("POST", fullURL, `{}`); st != http.StatusNoContent {
		t.Fatalf("full webhook POST status %d", st)
	}
	c.want(http.StatusNoContent, "DELETE", "/v1/webhooks/"+full["id"].(string), nil)
	if st, _ := pub.do("POST", fullURL, `{}`); st != http.StatusNotFound {
		t.Fatalf("deleted webhook status %d", st)
	}
	evs := c.want(http.StatusOK, "GET", "/v1/events?topic=user/orders/new", nil)["events"].([]any)
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	ev := evs[1].(map[string]any)
	if d := ev["data"].(map[string]any); d["id"] != 42.0 || d["name"] != "#1001" || ev["webhook_id"] != id {
		t.Fatalf("event %v", ev)
	}
	evID := ev["id"].(string)
	if got := c.want(http.StatusOK, "GET", "/v1/events/"+evID, nil); got["topic"] != "user/orders/new" {
		t.Fatalf("event by id: %v", got)
	}
	if other := c.want(http.StatusOK, "GET", "/v1/events?topic=user/raw/in", nil)["events"].([]any); len(other) != 1 {
		t.Fatalf("full-request webhook events: %v", other)
	} else if d := other[0].(map[string]any)["data"].(map[string]any); d["body_base64"] != "e30=" || d["webhook_id"] != full["id"] {
		t.Fatalf("full-request event data %v", d)
	}
	// Without a pipeline the event run stays pending.
	runs := c.want(http.StatusOK, "GET", "/v1/runs?event_id="+evID, nil)["runs"].([]any)
	if len(runs) != 1 || runs[0].(map[string]any)["status"] != "pending" || runs[0].(map[string]any)["kind"] != "event_run" {
		t.Fatalf("runs %v", runs)
	}
	c.want(http.StatusOK, "GET", "/v1/task_runs?status=pending", nil)
	out = c.want(http.StatusBadRequest, "GET", "/v1/task_runs?status=done", nil)
	if _, f := errorField(t, out); f != "status" {
		t.Fatalf("field %v", f)
	}
	out = c.want(http.StatusConflict, "POST", "/v1/runs/"+evID+"/retry", nil)
	errorField(t, out)
	c.want(http.StatusNotFound, "POST", "/v1/runs/nope/retry", nil)

	// Manual triggers.
	task := c.want(http.StatusCreated, "POST", "/v1/tasks", strings.Replace(simpleTask, `"user/orders/new"]`, `"mechanic/user/text"]`, 1))
	tid := task["id"].(string)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"topic": "mechanic/user/trigger"}, "task_id"},
		{map[string]any{"topic": "mechanic/user/text", "task_id": tid, "data": 5}, "data"},
		{map[string]any{"topic": "mechanic/user/form", "task_id": tid, "data": "x"}, "data"},
		{map[string]any{"topic": "mechanic/user/trigger", "task_id": "missing"}, "task_id"},
		{map[string]any{"topic": "Bad Topic"}, "topic"},
	} {
		out := c.want(http.StatusBadRequest, "POST", "/v1/events", tc.body)
		if _, f := errorField(t, out); f != tc.field {
			t.Errorf("%v: field %v, want %s", tc.body, f, tc.field)
		}
	}
	c.want(http.StatusOK, "POST", "/v1/tasks/"+tid+"/enable", nil)
	trig := c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/text", "task_id": tid, "data": "hello"})
	if trig["data"] != "hello" || trig["task_ids"].([]any)[0] != tid {
		t.Fatalf("trigger event %v", trig)
	}
	if _, err := svc.Store().GetEvent(ctx, trig["id"].(string)); err != nil {
		t.Fatalf("trigger event not stored: %v", err)
	}
	// Pages: limit and next_cursor walk through all events once.
	seen := map[string]bool{}
	for path := "/v1/events?limit=1"; ; {
		out := c.want(http.StatusOK, "GET", path, nil)
		evs := out["events"].([]any)
		for _, e := range evs {
			seen[e.(map[string]any)["id"].(string)] = true
		}
		next, _ := out["next_cursor"].(string)
		if next == "" {
			break
		}
		if len(evs) != 1 {
			t.Fatalf("page of %d events, want 1", len(evs))
		}
		path = "/v1/events?limit=1&cursor=" + next
	}
	if len(seen) != 4 {
		t.Fatalf("paged through %d events, want 4", len(seen))
	}
	if st := c.want(http.StatusOK, "GET", "/v1/shop/status", nil); st["waiting"] != 4.0 {
		t.Fatalf("shop status waiting = %v, want 4 event runs", st["waiting"])
	}
}

func TestCacheEndpoints(t *testing.T) {
	svc, c := openTestService(t, Config{})
	ctx := context.Background()
	jsonEP := c.want(http.StatusCreated, "POST", "/v1/cache_endpoints", map[string]any{"key": "stats"})
	textEP := c.want(http.StatusCreated, "POST", "/v1/cache_endpoints", map[string]any{"key": "page", "content_type": "text/html; charset=utf-8"})
	c.want(http.StatusBadRequest, "POST", "/v1/cache_endpoints", map[string]any{"content_type": "text/plain"})
	if l := c.want(http.StatusOK, "GET", "/v1/cache_endpoints", nil)["cache_endpoints"].([]any); len(l) != 2 {
		t.Fatalf("cache endpoints %v", l)
	}
	if got := c.want(http.StatusOK, "GET", "/v1/cache_endpoints/"+jsonEP["id"].(string), nil); got["key"] != "stats" || got["content_type"] != "application/json" {
		t.Fatalf("cache endpoint %v", got)
	}
	jsonURL, textURL := jsonEP["url"].(string), textEP["url"].(string)
	if !strings.HasPrefix(jsonURL, "/cache/") || len(jsonURL) < len("/cache/")+32 {
		t.Fatalf("cache endpoint url %q is not unguessable", jsonURL)
	}
	get := func(path string) (int, string, string) {
		resp, err := http.Get(c.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS header", path)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if st, _, _ := get(jsonURL); st != http.StatusNotFound {
		t.Fatalf("empty cache key: status %d", st)
	}
	for _, op := range []store.CacheOp{
		{Kind: store.CacheSet, Key: "stats", Value: json.RawMessage(`{"orders":3}`)},
		{Kind: store.CacheSet, Key: "page", Value: json.RawMessage(`"<b>hi</b>"`)},
	} {
		if _, err := svc.Store().CacheApply(ctx, op); err != nil {
			t.Fatal(err)
		}
	}
	if st, ct, body := get(jsonURL); st != 200 || ct != "application/json" || body != `{"orders":3}` {
		t.Fatalf("json endpoint: %d %q %q", st, ct, body)
	}
	if st, ct, body := get(textURL); st != 200 || ct != "text/html; charset=utf-8" || body != "<b>hi</b>" {
		t.Fatalf("text endpoint: %d %q %q", st, ct, body)
	}
	if st, _, _ := get("/cache/not-an-endpoint"); st != http.StatusNotFound {
		t.Fatalf("unknown endpoint status %d", st)
	}
}

func TestPreview(t *testing.T) {
	_, c := openTestService(t, Config{Previewer: NewPreviewer()})
	doc := `{"name":"Preview me","script":"{% action \"echo\" %}{\"n\": {{ event.data.n | plus: 1 }}}{% endaction %}{% log \"seen\" %}",
		"subscriptions":["user/orders/new"],"subscriptions_template":"user/orders/new","options":{},
		"preview_event_definitions":[{"description":"one","event_attributes":{"topic":"user/orders/new","data":{"n":41}}}]}`
	out := c.want(http.StatusOK, "POST", "/v1/tasks/preview", doc)
	runs, _ := out["runs"].([]any)
	if out["ok"] != true || len(runs) != 1 {
		t.Fatalf("preview %v", out)
	}
	r := runs[0].(map[string]any)
	actions := r["actions"].([]any)
	if len(actions) != 1 || actions[0].(map[string]any)["type"] != "echo" || actions[0].(map[string]any)["options"].(map[string]any)["n"] != 42.0 {
		t.Fatalf("preview actions %v", r["actions"])
	}
	if logs := r["logs"].([]any); len(logs) != 1 || logs[0] != "seen" {
		t.Fatalf("preview logs %v", r["logs"])
	}
	// The saved task previews the same way; nothing is stored by a preview.
	created := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)
	again := c.want(http.StatusOK, "POST", "/v1/tasks/"+created["id"].(string)+"/preview", nil)
	if again["ok"] != true || len(again["runs"].([]any)) != 1 {
		t.Fatalf("saved task preview %v", again)
	}
	if evs := c.want(http.StatusOK, "GET", "/v1/events", nil)["events"].([]any); len(evs) != 0 {
		t.Fatalf("preview stored events: %v", evs)
	}
	bad := c.want(http.StatusBadRequest, "POST", "/v1/tasks/preview", `{"name":"x","script":"{% if %}"}`)
	errorField(t, bad)

	// Previews see globals, and secrets only as references.
	c.want(http.StatusOK, "PUT", "/v1/globals/greeting", map[string]any{"global": map[string]any{"value": "hi"}})
	c.want(http.StatusOK, "PUT", "/v1/secrets/k", map[string]any{"secret": map[string]any{"value": "hidden-value"}})
	out = c.want(http.StatusOK, "POST", "/v1/tasks/preview", `{"name":"G","script":"{% log g: globals.greeting, s: secrets.k %}","subscriptions":["mechanic/user/trigger"],"options":{}}`)
	logs, _ := json.Marshal(out["runs"].([]any)[0].(map[string]any)["logs"])
	if !strings.Contains(string(logs), `"g":"hi"`) || !strings.Contains(string(logs), `"s":"[[secret:k]]"`) || strings.Contains(string(logs), "hidden-value") {
		t.Fatalf("preview logs %s", logs)
	}
}

func TestAPITokens(t *testing.T) {
	_, c := openTestService(t, Config{})
	created := c.want(http.StatusCreated, "POST", "/v1/api_tokens", map[string]any{"name": "ci"})
	tok, _ := created["token"].(string)
	id, _ := created["id"].(string)
	if !strings.HasPrefix(tok, "spr_") || len(id) != 16 {
		t.Fatalf("created token %v", created)
	}
	other := &client{t: t, base: c.base, token: tok}
	other.want(http.StatusOK, "GET", "/v1/tasks", nil)
	list := c.want(http.StatusOK, "GET", "/v1/api_tokens", nil)["api_tokens"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["name"] != "ci" || list[0].(map[string]any)["token"] != nil {
		t.Fatalf("token list %v", list)
	}
	for i := 1; i < MaxAPITokens; i++ {
		c.want(http.StatusCreated, "POST", "/v1/api_tokens", map[string]any{"name": fmt.Sprint("t", i)})
	}
	c.want(http.StatusConflict, "POST", "/v1/api_tokens", map[string]any{"name": "one too many"})
	c.want(http.StatusNoContent, "DELETE", "/v1/api_tokens/"+id, nil)
	other.want(http.StatusUnauthorized, "GET", "/v1/tasks", nil)
	c.want(http.StatusNotFound, "DELETE", "/v1/api_tokens/"+id, nil)
}
