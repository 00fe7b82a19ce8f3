package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/store"
)

// listCase is one list endpoint: seed stores n items through the store,
// field names the items' array, id tells an item apart.
type listCase struct {
	name, path, field string
	n                 int
	seed              func(ctx context.Context, st store.Store, n int) error
	id                func(item map[string]any) string
}

func putSettings(kind store.SettingKind, key func(i int) string, value func(i int) string) func(context.Context, store.Store, int) error {
	return func(ctx context.Context, st store.Store, n int) error {
		for i := range n {
			if _, err := st.PutSetting(ctx, kind, key(i), json.RawMessage(value(i))); err != nil {
				return err
			}
		}
		return nil
	}
}

func field(name string) func(map[string]any) string {
	return func(m map[string]any) string { return fmt.Sprint(m[name]) }
}

// listCases covers every GET list endpoint of the API (TestListCasesCoverRoutes
// checks none is missing). The lists hold more than a default page where
// the data allows; a task keeps at most store.MaxTaskVersions versions.
func listCases(taskID *string) []listCase {
	const n = DefaultListLimit + 5
	events := func(ctx context.Context, st store.Store, n int) error {
		evs := make([]store.NewEvent, n)
		for i := range evs {
			evs[i] = store.NewEvent{Topic: "user/page/test", Data: json.RawMessage(fmt.Sprintf(`{"i":%d,"pad":%q}`, i, strings.Repeat("x", 200)))}
		}
		_, err := st.InsertEvents(ctx, evs)
		return err
	}
	return []listCase{
		{name: "tasks", path: "/v1/tasks", field: "tasks", n: n, id: field("id"),
			seed: func(ctx context.Context, st store.Store, n int) error {
				for i := range n - 1 { // the task versions case makes the nth

					if _, _, err := st.CreateTask(ctx, store.NewTask{Name: fmt.Sprint("t", i), Definition: json.RawMessage(`{"name":"t","script":"{% comment %}x{% endcomment %}","subscriptions":[]}`)}); err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "task versions", path: "/v1/tasks/{id}/versions", field: "versions", n: store.MaxTaskVersions, id: field("version"),
			seed: func(ctx context.Context, st store.Store, n int) error {
				t, _, err := st.CreateTask(ctx, store.NewTask{Name: "v", Definition: json.RawMessage(`{"name":"v","script":"0"}`)})
				if err != nil {
					return err
				}
				*taskID = t.ID
				for i := 1; i < n; i++ {
					t.Definition = json.RawMessage(fmt.Sprintf(`{"name":"v","script":"%d"}`, i))
					if t, err = st.UpdateTask(ctx, t); err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "events", path: "/v1/events", field: "events", n: n, id: field("id"), seed: events},
		{name: "runs", path: "/v1/runs", field: "runs", n: n, id: field("id"), seed: events},
		{name: "event runs", path: "/v1/event_runs", field: "event_runs", n: n, id: field("id"), seed: events},
		{name: "task runs", path: "/v1/task_runs", field: "task_runs", n: 0, id: field("id"), seed: func(context.Context, store.Store, int) error { return nil }},
		{name: "action runs", path: "/v1/action_runs", field: "action_runs", n: 0, id: field("id"), seed: func(context.Context, store.Store, int) error { return nil }},
		{name: "webhooks", path: "/v1/webhooks", field: "webhooks", n: n, id: field("id"),
			seed: func(ctx context.Context, st store.Store, n int) error {
				for i := range n {
					if _, err := st.CreateWebhook(ctx, store.Webhook{Name: fmt.Sprint("w", i), Topic: "user/page/w"}); err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "cache endpoints", path: "/v1/cache_endpoints", field: "cache_endpoints", n: n, id: field("id"),
			seed: func(ctx context.Context, st store.Store, n int) error {
				for i := range n {
					if _, err := st.CreateCacheEndpoint(ctx, store.CacheEndpoint{Key: fmt.Sprint("k", i)}); err != nil {
						return err
					}
				}
				return nil
			}},
		{name: "globals", path: "/v1/globals", field: "globals", n: n, id: field("key"),
			seed: putSettings(store.SettingGlobal, func(i int) string { return fmt.Sprintf("g%03d", i) }, func(i int) string { return fmt.Sprint(i) })},
		{name: "secrets", path: "/v1/secrets", field: "secrets", n: n, id: field("key"),
			seed: putSettings(store.SettingSecret, func(i int) string { return fmt.Sprintf("s%03d", i) }, func(int) string { return `"sealed"` })},
		{name: "event filters", path: "/v1/event_filters", field: "event_filters", n: n, id: field("name"),
			seed: putSettings(store.SettingEventFilter, func(i int) string { return fmt.Sprintf("f%03d", i) },
				func(i int) string { return fmt.Sprintf(`{"Name":"f%03d","Template":"true"}`, i) })},
		{name: "email templates", path: "/v1/email_templates", field: "email_templates", n: n, id: field("name"),
			seed: putSettings(settingEmailTemplate, func(i int) string { return fmt.Sprintf("e%03d", i) }, func(int) string { return `{"body":"hi"}` })},
		{name: "api tokens", path: "/v1/api_tokens", field: "api_tokens", n: n, id: field("id"),
			seed: putSettings(store.SettingAPIToken, func(i int) string { return fmt.Sprintf("%016d%048d", i, 0) }, func(i int) string { return fmt.Sprintf(`{"name":"tok %d"}`, i) })},
		{name: "oauth providers", path: "/v1/oauth/providers", field: "providers", n: n, id: field("name"),
			seed: func(ctx context.Context, st store.Store, n int) error {
				// The built-in providers count among the n.
				return putSettings("oauth_provider", func(i int) string { return fmt.Sprintf("p%03d", i) }, func(i int) string {
					return fmt.Sprintf(`{"name":"p%03d","authorize_url":"https://p.example/auth","token_url":"https://p.example/token","client_id":"c"}`, i)
				})(ctx, st, n-3)
			}},
		{name: "oauth accounts", path: "/v1/oauth/accounts", field: "accounts", n: n, id: func(m map[string]any) string { return fmt.Sprint(m["provider"], "/", m["account"]) },
			seed: putSettings("oauth_account", func(i int) string { return fmt.Sprintf("slack/a%03d", i) }, func(i int) string {
				return fmt.Sprintf(`{"provider":"slack","account":"a%03d","refreshable":false,"connected_at":"2026-01-01T00:00:00Z"}`, i)
			})},
	}
}

// getRaw answers a GET's status and body.
func (c *client) getRaw(path string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b
}

type listPage struct {
	items []map[string]any
	next  string
	bytes int
}

func (c *client) listPage(lc listCase, path string) listPage {
	c.t.Helper()
	status, body := c.getRaw(path)
	if status != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	var p listPage
	if err := json.Unmarshal(m[lc.field], &p.items); err != nil {
		c.t.Fatalf("GET %s: %q: %v (body %.300s)", path, lc.field, err, body)
	}
	if raw, ok := m["next_cursor"]; ok {
		_ = json.Unmarshal(raw, &p.next)
	}
	p.bytes = len(body)
	return p
}

// followAll pages through lc with query q and checks every item comes
// exactly once; it returns the pages' sizes.
func (c *client) followAll(t *testing.T, lc listCase, path, q string) []listPage {
	t.Helper()
	seen := map[string]bool{}
	var pages []listPage
	cursor := ""
	for range 10_000 {
		u := path + "?" + q
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		p := c.listPage(lc, u)
		pages = append(pages, p)
		for _, it := range p.items {
			id := lc.id(it)
			if seen[id] {
				t.Fatalf("%s: item %s seen twice", lc.name, id)
			}
			seen[id] = true
		}
		if p.next == "" {
			break
		}
		cursor = p.next
	}
	if len(seen) != lc.n {
		t.Fatalf("%s: %d items over %d pages, want %d", lc.name, len(seen), len(pages), lc.n)
	}
	return pages
}

func seedLists(t *testing.T, svc *Service, cases []listCase) {
	t.Helper()
	seeded := map[string]bool{}
	for _, lc := range cases {
		key := lc.field
		if strings.HasSuffix(lc.path, "runs") || lc.path == "/v1/events" {
			key = "events" // one seeding serves the events and runs lists
		}
		if seeded[key] {
			continue
		}
		seeded[key] = true
		if err := lc.seed(context.Background(), svc.Store(), lc.n); err != nil {
			t.Fatalf("seed %s: %v", lc.name, err)
		}
	}
}

// TestListEndpointsPaged: every list endpoint answers a default page of
// DefaultListLimit items with next_cursor, lowers a limit above
// MaxListLimit, refuses a bad limit or cursor with 400 naming it, and its
// cursors lead through every item exactly once.
func TestListEndpointsPaged(t *testing.T) {
	var taskID string
	cases := listCases(&taskID)
	svc, c := openTestService(t, Config{SecretKey: strings.Repeat("ab", 32)})
	seedLists(t, svc, cases)
	for _, lc := range cases {
		t.Run(lc.name, func(t *testing.T) {
			c := &client{t: t, base: c.base, token: c.token}
			path := strings.Replace(lc.path, "{id}", taskID, 1)
			p := c.listPage(lc, path)
			if want := min(lc.n, DefaultListLimit); len(p.items) != want || (p.next != "") != (lc.n > DefaultListLimit) {
				t.Fatalf("default page: %d items, next %q; want %d items, a cursor: %v", len(p.items), p.next, want, lc.n > DefaultListLimit)
			}
			if p = c.listPage(lc, path+"?limit=5000"); len(p.items) != min(lc.n, MaxListLimit) {
				t.Fatalf("limit=5000: %d items, want %d (limit lowered to %d)", len(p.items), min(lc.n, MaxListLimit), MaxListLimit)
			}
			for _, bad := range []string{"limit=0", "limit=-1", "limit=ten", "cursor=%25%25%25", "cursor=" + store.EncodeCursor(store.SystemClock{}.Now(), "x")[:3]} {
				status, body := c.getRaw(path + "?" + bad)
				var e errorBody
				_ = json.Unmarshal(body, &e)
				if status != http.StatusBadRequest || e.Error.Field == nil || !strings.HasPrefix(bad, *e.Error.Field) {
					t.Fatalf("%s: %d %s, want 400 naming the parameter", bad, status, body)
				}
			}
			c.followAll(t, lc, path, "limit=7")
		})
	}
}

// TestListResponseBytesBounded: with a small byte budget every page stays
// within it (a page whose next item would pass it ends early with a
// cursor), and following the cursors still gives every item once.
func TestListResponseBytesBounded(t *testing.T) {
	const budget = 8 << 10
	var taskID string
	cases := listCases(&taskID)
	svc, c := openTestService(t, Config{SecretKey: strings.Repeat("ab", 32), MaxListBytes: budget})
	seedLists(t, svc, cases)
	for _, lc := range cases {
		t.Run(lc.name, func(t *testing.T) {
			c := &client{t: t, base: c.base, token: c.token}
			path := strings.Replace(lc.path, "{id}", taskID, 1)
			pages := c.followAll(t, lc, path, "limit=1000")
			for i, p := range pages {
				// The items are a few hundred bytes each; the envelope
				// (field name, cursor) adds well under 1 KiB.
				if p.bytes > budget+1024 {
					t.Fatalf("page %d: %d bytes, budget %d", i, p.bytes, budget)
				}
			}
			if lc.n > 0 && lc.n*200 > budget && len(pages) < 2 {
				t.Fatalf("%d items in one page of %d bytes", lc.n, pages[0].bytes)
			}
		})
	}
}

// TestListCasesCoverRoutes: every GET route answering a list (a path
// without a trailing {param}, other than single documents) is in listCases.
func TestListCasesCoverRoutes(t *testing.T) {
	svc, _ := openTestService(t, Config{SecretKey: strings.Repeat("ab", 32)})
	var id string
	have := map[string]bool{}
	for _, lc := range listCases(&id) {
		have[lc.path] = true
	}
	notLists := map[string]bool{
		"/v1/auth/verify": true, "/v1/shop/status": true, "/v1/shop/deprecations": true, "/v1/openapi.json": true,
		"/v1/shop/connection": true,
		"/v1/integrations":    true, // one entry per built-in app: a fixed, short list
	}
	for _, p := range svc.patterns {
		path, ok := strings.CutPrefix(p, "GET ")
		if !ok || !strings.HasPrefix(path, "/v1/") || strings.HasSuffix(path, "}") || notLists[path] {
			continue
		}
		if !have[path] {
			t.Errorf("GET %s is not in listCases (a list endpoint must be paged and tested)", path)
		}
	}
}
