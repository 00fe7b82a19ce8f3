package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock whose Sleep advances the time at once.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
		c.slept += d
	}
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

// fakeShop is a loopback stand-in for a shop's Admin API that answers in
// Shopify's documented shapes: GraphQL with extensions.cost from a leaky
// cost bucket (THROTTLED when the bucket cannot afford the requested
// cost), REST with X-Shopify-Shop-Api-Call-Limit from a leaky request
// bucket (429 with Retry-After when full). A query's requested cost is
// written in it as "# cost=N" (default 1).
type fakeShop struct {
	t     testing.TB
	clock *fakeClock
	srv   *httptest.Server
	token string
	stop  chan struct{}

	mu sync.Mutex
	// GraphQL cost bucket.
	max, avail, rate float64
	at               time.Time
	// actualFraction is the share of the requested cost a query really costs.
	actualFraction float64
	// REST request bucket.
	restUsed, restLimit float64
	restAt              time.Time
	// script, when not empty, answers the next requests (one entry each)
	// before the normal behaviour: a status to answer with, or -1 to hang.
	script []scripted
	// Counters.
	graphql, rest, throttled, rest429, overdrawn int
	bodies                                       []map[string]any
	paths                                        []string
	tokens                                       []string
}

type scripted struct {
	status     int
	retryAfter string
	body       string
}

const hang = -1

var costRE = regexp.MustCompile(`# cost=(\d+)`)

func newFakeShop(t testing.TB, clock *fakeClock) *fakeShop {
	f := &fakeShop{t: t, clock: clock, token: "shpat_test", max: 1000, avail: 1000, rate: 50, actualFraction: 1, restLimit: 40}
	f.at, f.restAt = clock.Now(), clock.Now()
	f.stop = make(chan struct{})
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.stop) }) // runs first: ends hanging answers
	return f
}

func (f *fakeShop) setBucket(max, avail, rate float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.max, f.avail, f.rate, f.at = max, avail, rate, f.clock.Now()
}

func (f *fakeShop) queue(s ...scripted) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, s...)
}

func (f *fakeShop) counts() (graphql, rest, throttled, rest429, overdrawn int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.graphql, f.rest, f.throttled, f.rest429, f.overdrawn
}

func (f *fakeShop) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.URL.RequestURI())
	f.tokens = append(f.tokens, r.Header.Get("X-Shopify-Access-Token"))
	if len(f.script) > 0 {
		s := f.script[0]
		f.script = f.script[1:]
		f.mu.Unlock()
		if s.status == hang {
			io.Copy(io.Discard, r.Body) // so the server notices the client leaving
			select {
			case <-r.Context().Done():
			case <-f.stop:
			}
			return
		}
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		w.WriteHeader(s.status)
		io.WriteString(w, s.body)
		return
	}
	f.mu.Unlock()
	if r.Header.Get("X-Shopify-Access-Token") != f.token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
		return
	}
	if r.URL.Path == "/admin/api/2026-01/graphql.json" || r.URL.Path == "/admin/api/2025-10/graphql.json" {
		f.serveGraphQL(w, r)
		return
	}
	f.serveREST(w, r)
}

func (f *fakeShop) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"errors":"bad json"}`, http.StatusBadRequest)
		return
	}
	q, _ := body["query"].(string)
	requested := 1.0
	if m := costRE.FindStringSubmatch(q); m != nil {
		requested, _ = strconv.ParseFloat(m[1], 64)
	}
	f.mu.Lock()
	f.graphql++
	f.bodies = append(f.bodies, body)
	now := f.clock.Now()
	f.avail = math.Min(f.max, f.avail+f.rate*now.Sub(f.at).Seconds())
	f.at = now
	var out map[string]any
	if f.avail < requested {
		f.throttled++
		out = map[string]any{
			"errors": []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/limits"}}},
			"extensions": map[string]any{"cost": map[string]any{
				"requestedQueryCost": requested, "actualQueryCost": nil,
				"throttleStatus": map[string]any{"maximumAvailable": f.max, "currentlyAvailable": f.avail, "restoreRate": f.rate},
			}},
		}
	} else {
		actual := math.Round(requested * f.actualFraction)
		f.avail -= actual
		if f.avail < 0 {
			f.overdrawn++
		}
		out = map[string]any{
			"data": map[string]any{"shop": map[string]any{"name": "Test shop", "n": f.graphql}},
			"extensions": map[string]any{"cost": map[string]any{
				"requestedQueryCost": requested, "actualQueryCost": actual,
				"throttleStatus": map[string]any{"maximumAvailable": f.max, "currentlyAvailable": f.avail, "restoreRate": f.rate},
			}},
		}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (f *fakeShop) serveREST(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.rest++
	now := f.clock.Now()
	f.restUsed = math.Max(0, f.restUsed-f.restLimit/20*now.Sub(f.restAt).Seconds())
	f.restAt = now
	if f.restUsed+1 > f.restLimit {
		f.rest429++
		f.mu.Unlock()
		w.Header().Set("Retry-After", "2.0")
		w.Header().Set("X-Shopify-Shop-Api-Call-Limit", fmt.Sprintf("%d/%d", int(f.restLimit), int(f.restLimit)))
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}`)
		return
	}
	f.restUsed++
	used := int(math.Ceil(f.restUsed))
	limit := int(f.restLimit)
	f.mu.Unlock()
	w.Header().Set("X-Shopify-Shop-Api-Call-Limit", fmt.Sprintf("%d/%d", used, limit))
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/admin/api/2026-01/orders.json":
		w.Header().Add("Link", `<https://example.myshopify.com/admin/api/2026-01/orders.json?limit=2&page_info=prevcursor>; rel="previous", <https://example.myshopify.com/admin/api/2026-01/orders.json?limit=2&page_info=nextcursor>; rel="next"`)
		io.WriteString(w, `{"orders":[{"id":1},{"id":2}]}`)
	case "/admin/api/2026-01/orders/1.json":
		if r.Method == http.MethodPut {
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, `{"order":{"id":1,"echo":%s}}`, b)
			return
		}
		io.WriteString(w, `{"order":{"id":1}}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errors":"Not Found"}`)
	}
}

// newTestClient returns a client of f with a fake clock.
func newTestClient(t testing.TB, f *fakeShop, mod func(*Config)) *Client {
	cfg := Config{
		Shop:    "example.myshopify.com",
		BaseURL: f.srv.URL,
		Token:   StaticToken(f.token),
		Clock:   f.clock,
		Logger:  slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
