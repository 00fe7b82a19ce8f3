package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewValidatesConfig(t *testing.T) {
	tok := StaticToken("x")
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		base    string
	}{
		{"defaults", Config{Shop: "Example.myshopify.com", Token: tok}, "", "https://example.myshopify.com"},
		{"base URL", Config{Shop: "example.myshopify.com", Token: tok, BaseURL: "http://127.0.0.1:9/"}, "", "http://127.0.0.1:9"},
		{"custom domain", Config{Shop: "shop.example.com", Token: tok}, "shop", ""},
		{"empty shop", Config{Token: tok}, "shop", ""},
		{"path in shop", Config{Shop: "a.myshopify.com/admin", Token: tok}, "shop", ""},
		{"no token", Config{Shop: "example.myshopify.com"}, "token", ""},
		{"bad base", Config{Shop: "example.myshopify.com", Token: tok, BaseURL: "ftp://x"}, "base URL", ""},
		{"base with credentials", Config{Shop: "example.myshopify.com", Token: tok, BaseURL: "https://u:p@x"}, "base URL", ""},
		{"bad version", Config{Shop: "example.myshopify.com", Token: tok, APIVersion: "latest"}, "API version", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New: err %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.BaseURL() != tt.base || c.APIVersion() != DefaultAPIVersion || c.Shop() != "example.myshopify.com" {
				t.Fatalf("base %q version %q shop %q", c.BaseURL(), c.APIVersion(), c.Shop())
			}
		})
	}
}

func TestValidShopDomain(t *testing.T) {
	tests := map[string]bool{
		"example.myshopify.com":         true,
		"my-shop-2.myshopify.com":       true,
		"-shop.myshopify.com":           false,
		"EXAMPLE.myshopify.com":         false,
		"example.myshopify.com.evil.io": false,
		"evil.io/example.myshopify.com": false,
		"example.myshopify.co":          false,
		"ex_ample.myshopify.com":        false,
		"":                              false,
		"a.b.myshopify.com":             false,
		"example.myshopify.com:443":     false,
	}
	for in, want := range tests {
		if got := ValidShopDomain(in); got != want {
			t.Errorf("ValidShopDomain(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestGraphQLRequestAndResponse(t *testing.T) {
	clock := newFakeClock()
	f := newFakeShop(t, clock)
	c := newTestClient(t, f, nil)
	ctx := context.Background()

	res, err := c.GraphQL(ctx, GraphQLRequest{
		Query:         "query Q($id: ID!) { shop { name } } # cost=12",
		Variables:     json.RawMessage(`{"id":"gid://shopify/Shop/1"}`),
		OperationName: "Q",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || string(res.Data) != `{"shop":{"n":1,"name":"Test shop"}}` || len(res.Errors) != 0 {
		t.Fatalf("response: status %d data %s errors %v", res.Status, res.Data, res.Errors)
	}
	if res.Cost == nil || res.Cost.RequestedQueryCost != 12 || res.Cost.ThrottleStatus.CurrentlyAvailable != 988 || res.Cost.ThrottleStatus.MaximumAvailable != 1000 {
		t.Fatalf("cost: %+v", res.Cost)
	}
	f.mu.Lock()
	body, path, tok := f.bodies[0], f.paths[0], f.tokens[0]
	f.mu.Unlock()
	if path != "/admin/api/2026-01/graphql.json" || tok != "shpat_test" {
		t.Fatalf("path %q token %q", path, tok)
	}
	if body["operationName"] != "Q" || body["variables"].(map[string]any)["id"] != "gid://shopify/Shop/1" {
		t.Fatalf("body: %v", body)
	}
	// A per-call version.
	if _, err := c.GraphQL(ctx, GraphQLRequest{Query: "{ shop { name } }", APIVersion: "2025-10"}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	path = f.paths[1]
	_, hasVars := f.bodies[1]["variables"]
	f.mu.Unlock()
	if path != "/admin/api/2025-10/graphql.json" || hasVars {
		t.Fatalf("path %q, variables sent: %v", path, hasVars)
	}
	st := c.ThrottleState()
	if !st.GraphQLKnown || st.GraphQLMaximum != 1000 || st.GraphQLRestoreRate != 50 || st.Calls != 2 || st.Attempts != 2 {
		t.Fatalf("state: %+v", st)
	}
}

func TestGraphQLInvalidRequests(t *testing.T) {
	f := newFakeShop(t, newFakeClock())
	c := newTestClient(t, f, nil)
	tests := []struct {
		name string
		req  GraphQLRequest
		want string
	}{
		{"empty query", GraphQLRequest{Query: "  "}, "query is empty"},
		{"array variables", GraphQLRequest{Query: "{shop{name}}", Variables: json.RawMessage(`[1]`)}, "variables must be a JSON object"},
		{"broken variables", GraphQLRequest{Query: "{shop{name}}", Variables: json.RawMessage(`{"a":`)}, "variables must be a JSON object"},
		{"bad version", GraphQLRequest{Query: "{shop{name}}", APIVersion: "v1"}, "API version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.GraphQL(context.Background(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
	if g, _, _, _, _ := f.counts(); g != 0 {
		t.Fatalf("%d invalid requests reached the shop", g)
	}
}

func TestGraphQLErrorsAreInTheResponse(t *testing.T) {
	f := newFakeShop(t, newFakeClock())
	c := newTestClient(t, f, nil)
	f.queue(scripted{status: 200, body: `{"errors":[{"message":"Field 'nope' doesn't exist on type 'Shop'","locations":[{"line":1,"column":9}],"path":["query","shop","nope"],"extensions":{"code":"undefinedField","typeName":"Shop","fieldName":"nope"}}]}`})
	res, err := c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop { nope } }"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Data != nil || len(res.Errors) != 1 || res.Errors[0].Code() != "undefinedField" || res.Errors[0].Locations[0].Column != 9 {
		t.Fatalf("response: %+v", res)
	}
	f.queue(scripted{status: 200, body: `{"errors":"Parse error"}`})
	res, err = c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop {"})
	if err != nil || len(res.Errors) != 1 || res.Errors[0].Message != "Parse error" {
		t.Fatalf("string errors: %v %+v", err, res)
	}
}

func TestGraphQLThrottledWaitsAndRetries(t *testing.T) {
	clock := newFakeClock()
	f := newFakeShop(t, clock)
	f.setBucket(100, 0, 10) // empty bucket, 10 points/s
	c := newTestClient(t, f, nil)
	res, err := c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop { name } } # cost=50"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Cost == nil || *res.Cost.ActualQueryCost != 50 {
		t.Fatalf("cost %+v", res.Cost)
	}
	g, _, throttled, _, _ := f.counts()
	if throttled != 1 || g != 2 {
		t.Fatalf("shop saw %d requests, %d throttled; want 2 and 1 (one THROTTLED, then success after waiting)", g, throttled)
	}
	// 50 points at 10/s: the client waited about 5s on its clock, not more.
	if s := clock.Slept(); s < 5*time.Second || s > 6*time.Second {
		t.Fatalf("slept %s, want about 5s", s)
	}
	st := c.ThrottleState()
	if st.Throttled != 1 || st.Waits != 1 || st.WaitTotal != clock.Slept() {
		t.Fatalf("state %+v", st)
	}
}

func TestGraphQLWaitsBeforeSending(t *testing.T) {
	clock := newFakeClock()
	f := newFakeShop(t, clock)
	f.setBucket(100, 100, 10)
	c := newTestClient(t, f, nil)
	ctx := context.Background()
	q := GraphQLRequest{Query: "{ products(first: 10) { nodes { id } } } # cost=40"}
	// Two calls take 80 of 100 points; the third needs 40 and must wait
	// (40-20)/10 = 2s before it is sent.
	for i := range 3 {
		if _, err := c.GraphQL(ctx, q); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	g, _, throttled, _, overdrawn := f.counts()
	if g != 3 || throttled != 0 || overdrawn != 0 {
		t.Fatalf("shop saw %d requests, %d throttled, %d overdrawn; want 3, 0, 0", g, throttled, overdrawn)
	}
	if s := clock.Slept(); s < 2*time.Second || s > 2100*time.Millisecond {
		t.Fatalf("slept %s, want about 2s", s)
	}
	// The bucket is now empty in the model: 40 points take 4s at 10/s.
	if w := c.WaitTime(40); w < 3900*time.Millisecond || w > 4*time.Second {
		t.Fatalf("WaitTime(40) = %s, want about 4s", w)
	}
}

func TestGraphQLThrottledGivesUp(t *testing.T) {
	clock := newFakeClock()
	f := newFakeShop(t, clock)
	f.setBucket(100, 0, 0) // never restores
	c := newTestClient(t, f, func(c *Config) { c.MaxWait = 30 * time.Second })
	_, err := c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop { name } } # cost=10"})
	var ex *ExhaustedError
	if !errors.As(err, &ex) || !errors.Is(err, ErrThrottled) || !IsTransient(err) {
		t.Fatalf("err %v, want an exhausted, transient throttling error", err)
	}
	if clock.Slept() > 30*time.Second {
		t.Fatalf("waited %s, beyond MaxWait", clock.Slept())
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		script    []scripted
		wantErr   bool
		transient bool
		status    int
		attempts  int
		minSlept  time.Duration
	}{
		{"500 then success", []scripted{{status: 500}}, false, false, 0, 2, 0},
		{"502 503 then success", []scripted{{status: 502}, {status: 503}}, false, false, 0, 3, 0},
		{"429 with Retry-After", []scripted{{status: 429, retryAfter: "3"}}, false, false, 0, 2, 3 * time.Second},
		{"503 with Retry-After", []scripted{{status: 503, retryAfter: "7"}}, false, false, 0, 2, 7 * time.Second},
		{"5xx every time", []scripted{{status: 500}, {status: 500}, {status: 500}}, true, true, 500, 3, 0},
		{"400", []scripted{{status: 400, body: `{"errors":"bad"}`}}, true, false, 400, 1, 0},
		{"403", []scripted{{status: 403}}, true, false, 403, 1, 0},
		{"404", []scripted{{status: 404}}, true, false, 404, 1, 0},
		{"402 frozen shop", []scripted{{status: 402}}, true, false, 402, 1, 0},
		{"423 locked shop", []scripted{{status: 423}}, true, false, 423, 1, 0},
	}
	for _, kind := range []string{"graphql", "rest"} {
		for _, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				clock := newFakeClock()
				f := newFakeShop(t, clock)
				c := newTestClient(t, f, func(c *Config) { c.MaxAttempts = 3 })
				f.queue(tt.script...)
				var err error
				if kind == "graphql" {
					_, err = c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop { name } }"})
				} else {
					_, err = c.REST(context.Background(), RESTRequest{Method: "GET", Path: "orders/1.json"})
				}
				if (err != nil) != tt.wantErr {
					t.Fatalf("err %v, want error %v", err, tt.wantErr)
				}
				if err != nil {
					if IsTransient(err) != tt.transient {
						t.Fatalf("IsTransient(%v) = %v", err, !tt.transient)
					}
					var he *HTTPError
					if !errors.As(err, &he) || he.Status != tt.status {
						t.Fatalf("err %v, want HTTP %d", err, tt.status)
					}
				}
				if got := c.ThrottleState().Attempts; got != int64(tt.attempts) {
					t.Fatalf("attempts %d, want %d", got, tt.attempts)
				}
				if clock.Slept() < tt.minSlept {
					t.Fatalf("slept %s, want at least %s", clock.Slept(), tt.minSlept)
				}
			})
		}
	}
}

func TestTimeoutsAreRetriedAndBounded(t *testing.T) {
	clock := newFakeClock()
	f := newFakeShop(t, clock)
	c := newTestClient(t, f, func(c *Config) { c.Timeout = 50 * time.Millisecond; c.MaxAttempts = 3 })

	// One hang, then an answer: the retry succeeds.
	f.queue(scripted{status: hang})
	if _, err := c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop { name } }"}); err != nil {
		t.Fatalf("after one timeout: %v", err)
	}
	// Hangs every time: an exhausted, transient error naming the timeout.
	f.queue(scripted{status: hang}, scripted{status: hang}, scripted{status: hang})
	_, err := c.REST(context.Background(), RESTRequest{Method: "GET", Path: "orders/1.json"})
	var ex *ExhaustedError
	if !errors.As(err, &ex) || ex.Attempts != 3 || !IsTransient(err) || !strings.Contains(err.Error(), "no complete answer within 50ms") {
		t.Fatalf("err %v", err)
	}
	// The caller's context ends the call; that is not transient.
	f.queue(scripted{status: hang})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	c2 := newTestClient(t, f, func(c *Config) { c.Timeout = 10 * time.Second })
	_, err = c2.GraphQL(ctx, GraphQLRequest{Query: "{ shop { name } }"})
	if !errors.Is(err, context.Canceled) || IsTransient(err) {
		t.Fatalf("cancelled: err %v transient %v", err, IsTransient(err))
	}
}

func TestConnectionErrorsAreTransient(t *testing.T) {
	f := newFakeShop(t, newFakeClock())
	base := f.srv.URL
	f.srv.Close()
	c, err := New(Config{Shop: "example.myshopify.com", BaseURL: base, Token: StaticToken("x"), Clock: newFakeClock(), MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop { name } }"})
	if !IsTransient(err) || c.ThrottleState().Attempts != 2 {
		t.Fatalf("err %v attempts %d", err, c.ThrottleState().Attempts)
	}
}

func TestBodyBounded(t *testing.T) {
	f := newFakeShop(t, newFakeClock())
	c := newTestClient(t, f, func(c *Config) { c.MaxBodyBytes = 1024 })
	f.queue(scripted{status: 200, body: `{"data":{"x":"` + strings.Repeat("a", 2048) + `"}}`})
	_, err := c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop { name } }"})
	if err == nil || !strings.Contains(err.Error(), "exceeds 1024 bytes") || IsTransient(err) {
		t.Fatalf("err %v", err)
	}
}

// countingToken hands out "stale" first and the shop's token after an
// Invalidate, counting both.
type countingToken struct {
	good        string
	invalidated atomic.Int32
}

func (c *countingToken) Token(context.Context) (string, error) {
	if c.invalidated.Load() > 0 {
		return c.good, nil
	}
	return "stale", nil
}

func (c *countingToken) Invalidate() { c.invalidated.Add(1) }

func TestUnauthorizedInvalidatesTokenOnce(t *testing.T) {
	for _, kind := range []string{"graphql", "rest"} {
		t.Run(kind, func(t *testing.T) {
			f := newFakeShop(t, newFakeClock())
			tok := &countingToken{good: f.token}
			c := newTestClient(t, f, func(c *Config) { c.Token = tok })
			var err error
			if kind == "graphql" {
				_, err = c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop { name } }"})
			} else {
				_, err = c.REST(context.Background(), RESTRequest{Method: "GET", Path: "orders/1.json"})
			}
			if err != nil || tok.invalidated.Load() != 1 {
				t.Fatalf("err %v, invalidated %d times", err, tok.invalidated.Load())
			}
			// A token source that stays wrong: one retry, then HTTP 401.
			f.token = "other"
			_, err = c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop { name } }"})
			var he *HTTPError
			if !errors.As(err, &he) || he.Status != 401 || IsTransient(err) || tok.invalidated.Load() != 2 {
				t.Fatalf("err %v invalidated %d", err, tok.invalidated.Load())
			}
		})
	}
}

func TestRESTPath(t *testing.T) {
	tests := []struct {
		in, want, query, err string
	}{
		{"orders/1.json", "orders/1.json", "", ""},
		{"/admin/orders/1.json", "orders/1.json", "", ""},
		{"/admin/api/2024-01/orders/1.json", "orders/1.json", "", ""},
		{"admin/api/unstable/orders/1.json", "orders/1.json", "", ""},
		{"orders/1", "orders/1.json", "", ""},
		{"/admin/shop.json", "shop.json", "", ""},
		{"orders.json?status=any&limit=250", "orders.json", "limit=250&status=any", ""},
		{"", "", "", "empty"},
		{"https://evil.example/admin/orders.json", "", "", "not a URL"},
		{"/admin/api/latest/orders.json", "", "", "API version"},
		{"/admin/../secrets.json", "", "", "relative"},
		{"orders//1.json", "", "", "empty or relative"},
		{"/admin/", "", "", "no resource"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, q, err := RESTPath(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || p != tt.want || q.Encode() != tt.query {
				t.Fatalf("RESTPath(%q) = %q %q %v", tt.in, p, q.Encode(), err)
			}
		})
	}
}

func TestParseLink(t *testing.T) {
	tests := []struct {
		name       string
		in         []string
		next, prev string
	}{
		{"both", []string{`<https://s.myshopify.com/admin/api/2026-01/products.json?limit=50&page_info=abc>; rel="previous", <https://s.myshopify.com/admin/api/2026-01/products.json?limit=50&page_info=def>; rel="next"`}, "def", "abc"},
		{"next only", []string{`<https://s.myshopify.com/admin/api/2026-01/products.json?page_info=x1>; rel="next"`}, "x1", ""},
		{"two headers", []string{`<https://a/p.json?page_info=p>; rel=previous`, `<https://a/p.json?page_info=n>; rel=next`}, "n", "p"},
		{"none", nil, "", ""},
		{"garbage", []string{`nope; rel="next"`}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, p := parseLink(tt.in)
			if n != tt.next || p != tt.prev {
				t.Fatalf("got %q %q", n, p)
			}
		})
	}
}

func TestRESTCall(t *testing.T) {
	clock := newFakeClock()
	f := newFakeShop(t, clock)
	c := newTestClient(t, f, nil)
	ctx := context.Background()
	res, err := c.REST(ctx, RESTRequest{Method: "get", Path: "/admin/orders.json", Query: url.Values{"limit": {"2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || string(res.Body) != `{"orders":[{"id":1},{"id":2}]}` || res.NextPageInfo != "nextcursor" || res.PreviousPageInfo != "prevcursor" {
		t.Fatalf("res %+v", res)
	}
	res, err = c.REST(ctx, RESTRequest{Method: "PUT", Path: "/admin/api/2023-04/orders/1.json", Body: json.RawMessage(`{"order":{"note":"hi"}}`)})
	if err != nil || string(res.Body) != `{"order":{"id":1,"echo":{"order":{"note":"hi"}}}}` {
		t.Fatalf("PUT: %v %s", err, res.Body)
	}
	f.mu.Lock()
	paths := append([]string(nil), f.paths...)
	f.mu.Unlock()
	if paths[0] != "/admin/api/2026-01/orders.json?limit=2" || paths[1] != "/admin/api/2026-01/orders/1.json" {
		t.Fatalf("paths %v", paths)
	}
	_, err = c.REST(ctx, RESTRequest{Method: "GET", Path: "nothing.json"})
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 404 || IsTransient(err) {
		t.Fatalf("404: %v", err)
	}
	for _, bad := range []RESTRequest{{Method: "PATCH", Path: "orders.json"}, {Method: "GET", Path: "orders.json", Body: json.RawMessage(`{}`)}, {Method: "POST", Path: "orders.json", Body: json.RawMessage(`{`)}} {
		if _, err := c.REST(ctx, bad); err == nil {
			t.Fatalf("%+v: no error", bad)
		}
	}
	st := c.ThrottleState()
	if !st.RESTKnown || st.RESTLimit != 40 || st.RESTUsed < 2 {
		t.Fatalf("state %+v", st)
	}
}

func TestRESTBucketWaitsBeforeSending(t *testing.T) {
	clock := newFakeClock()
	f := newFakeShop(t, clock)
	f.mu.Lock()
	f.restUsed, f.restAt = 39, clock.Now()
	f.mu.Unlock()
	c := newTestClient(t, f, nil)
	for i := range 5 {
		if _, err := c.REST(context.Background(), RESTRequest{Method: "GET", Path: "orders/1.json"}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, rest, _, r429, _ := f.counts()
	if rest != 5 || r429 != 0 {
		t.Fatalf("shop saw %d REST requests and answered 429 %d times; want 5 and 0", rest, r429)
	}
	// After 40/40, each request waits for one slot to leak: 0.5s at 2/s.
	if s := clock.Slept(); s < 2*time.Second || s > 2100*time.Millisecond {
		t.Fatalf("slept %s, want about 2s", s)
	}
	if !c.Hold() {
		t.Fatal("Hold is false with the REST bucket full")
	}
}

func TestREST429RetryAfter(t *testing.T) {
	clock := newFakeClock()
	f := newFakeShop(t, clock)
	f.mu.Lock()
	f.restUsed, f.restAt = 40, clock.Now()
	f.mu.Unlock()
	c := newTestClient(t, f, nil)
	// The client does not know the bucket yet: the shop answers 429 with
	// Retry-After: 2.0, and the retry succeeds.
	if _, err := c.REST(context.Background(), RESTRequest{Method: "GET", Path: "orders/1.json"}); err != nil {
		t.Fatal(err)
	}
	_, rest, _, r429, _ := f.counts()
	if rest != 2 || r429 != 1 || clock.Slept() != 2*time.Second {
		t.Fatalf("requests %d, 429s %d, slept %s", rest, r429, clock.Slept())
	}
}

func TestRESTAll(t *testing.T) {
	f := newFakeShop(t, newFakeClock())
	c := newTestClient(t, f, nil)
	pages := 0
	err := c.RESTAll(context.Background(), RESTRequest{Method: "GET", Path: "orders.json", Query: url.Values{"limit": {"2"}, "status": {"any"}}}, 3, func(*RESTResponse) error {
		pages++
		return nil
	})
	// The fake shop always has a next page: the bound is reported.
	if err == nil || !strings.Contains(err.Error(), "more than 3 pages") || pages != 3 {
		t.Fatalf("err %v pages %d", err, pages)
	}
	f.mu.Lock()
	second := f.paths[1]
	f.mu.Unlock()
	if second != "/admin/api/2026-01/orders.json?limit=2&page_info=nextcursor" {
		t.Fatalf("second page %q", second)
	}
}

func TestHoldAndThrottleState(t *testing.T) {
	clock := newFakeClock()
	f := newFakeShop(t, clock)
	f.setBucket(100, 10, 50)
	c := newTestClient(t, f, nil)
	if c.Hold() {
		t.Fatal("Hold before the bucket is known")
	}
	if _, err := c.GraphQL(context.Background(), GraphQLRequest{Query: "{ shop { name } } # cost=5"}); err != nil {
		t.Fatal(err)
	}
	st := c.ThrottleState()
	if !st.Hold || !c.Hold() || st.GraphQLAvailable != 5 || st.GraphQLMaximum != 100 || st.GraphQLRestoreRate != 50 {
		t.Fatalf("after spending to 5/100: %+v", st)
	}
	clock.Advance(100 * time.Millisecond) // +5 points: 10 of 100, not below 10%
	if c.Hold() {
		t.Fatalf("Hold at 10/100: %+v", c.ThrottleState())
	}
	clock.Advance(10 * time.Second)
	if st := c.ThrottleState(); st.GraphQLAvailable != 100 {
		t.Fatalf("projection does not cap at the maximum: %+v", st)
	}
}

func TestIsTransient(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("x"), false},
		{&HTTPError{Status: 500}, true},
		{&HTTPError{Status: 429}, true},
		{&HTTPError{Status: 422}, false},
		{fmt.Errorf("wrapped: %w", &HTTPError{Status: 503}), true},
		{&ExhaustedError{Err: errors.New("dial tcp: connection refused")}, true},
		{ErrThrottled, true},
		{context.Canceled, false},
		{ErrNotConnected, false},
	}
	for _, tt := range tests {
		if got := IsTransient(tt.err); got != tt.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestConcurrentCallersStayWithinTheBucket is the throttling figure at
// the client's level: many concurrent callers sharing a tiny bucket all
// succeed, and the shop never has to refuse one.
func TestConcurrentCallersStayWithinTheBucket(t *testing.T) {
	tests := []struct {
		name                  string
		callers               int
		max, rate             float64
		cost                  int
		actual                float64
		wantThrottledAtMostOf int
	}{
		{"200 callers, bucket 50, cost 10", 200, 50, 10, 10, 1, 0},
		{"200 callers, bucket 50, cost 10, actual 30%", 200, 50, 10, 10, 0.3, 0},
		{"100 callers, bucket 1000, cost 100", 100, 1000, 50, 100, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			f := newFakeShop(t, clock)
			f.setBucket(tt.max, tt.max, tt.rate)
			f.actualFraction = tt.actual
			c := newTestClient(t, f, nil)
			// The first call of a new document teaches its cost.
			if _, err := c.GraphQL(context.Background(), GraphQLRequest{Query: fmt.Sprintf("{ shop { name } } # cost=%d", tt.cost)}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var failures atomic.Int32
			for range tt.callers {
				wg.Go(func() {
					if _, err := c.GraphQL(context.Background(), GraphQLRequest{Query: fmt.Sprintf("{ shop { name } } # cost=%d", tt.cost)}); err != nil {
						failures.Add(1)
						t.Log(err)
					}
				})
			}
			wg.Wait()
			g, _, throttled, _, overdrawn := f.counts()
			t.Logf("%d calls: %d requests, %d throttled, %d overdrawn; client waited %s on its clock", tt.callers+1, g, throttled, overdrawn, clock.Slept())
			if failures.Load() != 0 || throttled > tt.wantThrottledAtMostOf || overdrawn != 0 || g != tt.callers+1 {
				t.Fatalf("failures %d, throttled %d, overdrawn %d, requests %d", failures.Load(), throttled, overdrawn, g)
			}
		})
	}
}

func TestConcurrentRESTCallersStayWithinTheBucket(t *testing.T) {
	clock := newFakeClock()
	f := newFakeShop(t, clock)
	c := newTestClient(t, f, nil)
	var wg sync.WaitGroup
	var failures atomic.Int32
	for range 150 {
		wg.Go(func() {
			if _, err := c.REST(context.Background(), RESTRequest{Method: "GET", Path: "orders/1.json"}); err != nil {
				failures.Add(1)
				t.Log(err)
			}
		})
	}
	wg.Wait()
	_, rest, _, r429, _ := f.counts()
	if failures.Load() != 0 || rest != 150 || r429 != 0 {
		t.Fatalf("failures %d, requests %d, 429s %d", failures.Load(), rest, r429)
	}
}

func BenchmarkGraphQLRoundTrip(b *testing.B) {
	clock := newFakeClock()
	f := newFakeShop(b, clock)
	f.setBucket(1e12, 1e12, 1e12)
	c := newTestClient(b, f, func(c *Config) { c.Logger = nil })
	ctx := context.Background()
	req := GraphQLRequest{Query: "{ shop { name } }", Variables: json.RawMessage(`{"a":1}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GraphQL(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = http.StatusOK

func TestIsMutation(t *testing.T) {
	tests := []struct {
		doc, op string
		want    bool
	}{
		{"{ shop { name } }", "", false},
		{"query { shop { name } }", "", false},
		{"mutation { tagsAdd(id: \"x\", tags: [\"a\"]) { userErrors { message } } }", "", true},
		{"  # a comment with mutation\n query Q { shop { name } }", "", false},
		{"query Q($s: String = \"mutation\") { shop { name } }", "", false},
		{"mutation M($id: ID!) { tagsAdd(id: $id, tags: \"a\") { node { id } } }", "", true},
		{"query A { shop { name } } mutation B { tagsAdd(id: \"x\", tags: \"a\") { node { id } } }", "A", false},
		{"query A { shop { name } } mutation B { tagsAdd(id: \"x\", tags: \"a\") { node { id } } }", "B", true},
		{"query A { shop { name } } mutation B { tagsAdd(id: \"x\", tags: \"a\") { node { id } } }", "", true},
		{"fragment F on Shop { name } query { shop { ...F } }", "", false},
		{"{ shop { mutation: name } }", "", false},
		{`query { shop { description(text: """mutation { x }""") } }`, "", false},
	}
	for _, tt := range tests {
		if got := isMutation(tt.doc, tt.op); got != tt.want {
			t.Errorf("isMutation(%q, %q) = %v, want %v", tt.doc, tt.op, got, tt.want)
		}
	}
}

// TestUncertainWritesAreNotRepeated: a write whose outcome is unknown is
// not sent again (it could apply twice); reads, idempotent mutations,
// writes Shopify refused before processing (503, 429) and writes that never
// left (connection refused) are retried.
func TestUncertainWritesAreNotRepeated(t *testing.T) {
	mutation := GraphQLRequest{Query: `mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["a"]) { userErrors { message } } }`}
	idempotent := GraphQLRequest{Query: `mutation { inventoryAdjustQuantities(input: {}) @idempotent(key: "k1") { userErrors { message } } }`}
	read := GraphQLRequest{Query: `{ shop { name } }`}
	tests := []struct {
		name      string
		req       any
		script    []scripted
		retryAll  bool
		attempts  int64
		uncertain bool
	}{
		{"mutation after 500", mutation, []scripted{{status: 500}}, false, 1, true},
		{"mutation after 502", mutation, []scripted{{status: 502}}, false, 1, true},
		{"mutation after timeout", mutation, []scripted{{status: hang}}, false, 1, true},
		{"mutation after 503", mutation, []scripted{{status: 503}}, false, 2, false},
		{"mutation after 429", mutation, []scripted{{status: 429, retryAfter: "1"}}, false, 2, false},
		{"idempotent mutation after 500", idempotent, []scripted{{status: 500}}, false, 2, false},
		{"mutation after 500, retries configured", mutation, []scripted{{status: 500}}, true, 2, false},
		{"read after 500", read, []scripted{{status: 500}}, false, 2, false},
		{"REST PUT after 500", RESTRequest{Method: "PUT", Path: "orders/1.json", Body: json.RawMessage(`{"order":{}}`)}, []scripted{{status: 500}}, false, 1, true},
		{"REST PUT after timeout", RESTRequest{Method: "PUT", Path: "orders/1.json", Body: json.RawMessage(`{"order":{}}`)}, []scripted{{status: hang}}, false, 1, true},
		{"REST PUT after 503", RESTRequest{Method: "PUT", Path: "orders/1.json", Body: json.RawMessage(`{"order":{}}`)}, []scripted{{status: 503}}, false, 2, false},
		{"REST GET after 500", RESTRequest{Method: "GET", Path: "orders/1.json"}, []scripted{{status: 500}}, false, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeShop(t, newFakeClock())
			c := newTestClient(t, f, func(c *Config) { c.Timeout = 50 * time.Millisecond; c.RetryUncertainWrites = tt.retryAll })
			f.queue(tt.script...)
			var err error
			switch r := tt.req.(type) {
			case GraphQLRequest:
				_, err = c.GraphQL(context.Background(), r)
			case RESTRequest:
				_, err = c.REST(context.Background(), r)
			}
			var ue *UncertainError
			if errors.As(err, &ue) != tt.uncertain || (!tt.uncertain && err != nil) {
				t.Fatalf("err %v, want uncertain %v", err, tt.uncertain)
			}
			if tt.uncertain && IsTransient(err) {
				t.Fatal("an uncertain write is reported transient")
			}
			if n := c.ThrottleState().Attempts; n != tt.attempts {
				t.Fatalf("%d attempts, want %d", n, tt.attempts)
			}
		})
	}
	// A write that could not connect is retried (and then transient).
	f := newFakeShop(t, newFakeClock())
	base := f.srv.URL
	f.srv.Close()
	c, err := New(Config{Shop: "example.myshopify.com", BaseURL: base, Token: StaticToken("x"), Clock: newFakeClock(), MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GraphQL(context.Background(), mutation)
	var ex *ExhaustedError
	if !errors.As(err, &ex) || ex.Attempts != 3 || !IsTransient(err) {
		t.Fatalf("refused connection: %v", err)
	}
}
