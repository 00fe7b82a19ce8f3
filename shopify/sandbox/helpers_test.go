package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/shopify/schema"
)

const testToken = "shpat_test_token"

var (
	schemaOnce sync.Once
	schemaVal  *schema.Schema
	schemaErr  error
)

func testSchema(t testing.TB) *schema.Schema {
	t.Helper()
	path := shared.For(t, "corpus", "shopify", "admin-schema", "admin_2026-01.json.gz")
	schemaOnce.Do(func() { schemaVal, schemaErr = schema.LoadFile(path) })
	if schemaErr != nil {
		t.Fatalf("load schema: %v", schemaErr)
	}
	return schemaVal
}

// clock is an injectable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	sb    *Sandbox
	srv   *httptest.Server
	clock *clock
}

func newFixture(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	c := newClock()
	opts := Options{Schema: testSchema(t), AccessToken: testToken, Now: c.Now}
	if mod != nil {
		mod(&opts)
	}
	sb, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() { sb.Close() })
	return &fixture{sb: sb, srv: srv, clock: c}
}

// gqlResponse is a decoded GraphQL answer.
type gqlResponse struct {
	Status     int
	Data       map[string]any `json:"data"`
	Errors     []gqlErrorJSON `json:"errors"`
	Extensions struct {
		Cost struct {
			RequestedQueryCost int  `json:"requestedQueryCost"`
			ActualQueryCost    *int `json:"actualQueryCost"`
			ThrottleStatus     struct {
				MaximumAvailable   float64 `json:"maximumAvailable"`
				CurrentlyAvailable float64 `json:"currentlyAvailable"`
				RestoreRate        float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
	} `json:"extensions"`
	Raw string
}

type gqlErrorJSON struct {
	Message    string `json:"message"`
	Locations  []struct{ Line, Column int }
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (f *fixture) gql(t *testing.T, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/api/2026-01/graphql.json", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", testToken)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if resp.StatusCode != http.StatusOK {
		return gqlResponse{Status: resp.StatusCode, Raw: string(raw)}
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	out.Status = resp.StatusCode
	out.Raw = string(raw)
	return out
}

// mustData runs a query that must succeed without errors.
func (f *fixture) mustData(t *testing.T, query string, vars map[string]any) map[string]any {
	t.Helper()
	r := f.gql(t, query, vars)
	if r.Status != http.StatusOK || len(r.Errors) > 0 || r.Data == nil {
		t.Fatalf("query failed: HTTP %d %s", r.Status, r.Raw)
	}
	return r.Data
}

func (f *fixture) rest(t *testing.T, method, path string, body any) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	req.Header.Set("X-Shopify-Access-Token", testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp, out
}

// dig walks a decoded JSON value by keys and indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}
