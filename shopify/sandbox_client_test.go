package shopify_test

// Integration tests of the client against the sandbox shop (package
// shopify/sandbox), in-process on loopback: the real client code path
// against a server that validates queries against the Admin schema,
// computes Shopify's query cost and throttles like Shopify.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/shopify/sandbox"
	"github.com/sprocketrun/sprocket/shopify/schema"
)

const sandboxToken = "shpat_sandbox_client_test"

var (
	schemaOnce sync.Once
	schemaVal  *schema.Schema
	schemaErr  error
)

func newSandbox(t *testing.T, mod func(*sandbox.Options)) (*sandbox.Sandbox, *httptest.Server) {
	t.Helper()
	path := shared.For(t, "corpus", "shopify", "admin-schema", "admin_2026-01.json.gz")
	schemaOnce.Do(func() { schemaVal, schemaErr = schema.LoadFile(path) })
	if schemaErr != nil {
		t.Fatalf("load schema: %v", schemaErr)
	}
	opts := sandbox.Options{Schema: schemaVal, AccessToken: sandboxToken}
	if mod != nil {
		mod(&opts)
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return sb, srv
}

func newSandboxClient(t *testing.T, srv *httptest.Server, mod func(*shopify.Config)) *shopify.Client {
	t.Helper()
	cfg := shopify.Config{
		Shop:    sandbox.DefaultShop,
		BaseURL: srv.URL,
		Token:   shopify.StaticToken(sandboxToken),
		Logger:  slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := shopify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	readOrder = `query Read($id: ID!) { order(id: $id) { id name tags } }`
	tagOrder  = `mutation Tag($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}`
)

// TestSandboxConcurrentCallersTinyBucket is the throttling figure
// at the client's level: 200 concurrent callers, each reading an order
// and tagging it, share a 60-point bucket; all complete with 0 failures
// and the sandbox never receives a request its bucket cannot afford.
func TestSandboxConcurrentCallersTinyBucket(t *testing.T) {
	sb, srv := newSandbox(t, func(o *sandbox.Options) { o.BucketSize = 60; o.RestoreRate = 1000 })
	c := newSandboxClient(t, srv, nil)
	orders := sb.IDs("Order")
	if len(orders) == 0 {
		t.Fatal("the sandbox has no orders")
	}
	const callers = 200
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	var failures atomic.Int32
	for i := range callers {
		wg.Go(func() {
			id := orders[i%len(orders)]
			vars, _ := json.Marshal(map[string]any{"id": id})
			res, err := c.GraphQL(ctx, shopify.GraphQLRequest{Query: readOrder, Variables: vars})
			if err != nil || len(res.Errors) > 0 || res.Data == nil {
				failures.Add(1)
				t.Errorf("caller %d read: %v %+v", i, err, res)
				return
			}
			vars, _ = json.Marshal(map[string]any{"id": id, "tags": []string{fmt.Sprintf("run-%d", i)}})
			res, err = c.GraphQL(ctx, shopify.GraphQLRequest{Query: tagOrder, Variables: vars})
			if err != nil || len(res.Errors) > 0 {
				failures.Add(1)
				t.Errorf("caller %d write: %v %+v", i, err, res)
				return
			}
			var d struct {
				TagsAdd struct{ UserErrors []any } `json:"tagsAdd"`
			}
			if err := json.Unmarshal(res.Data, &d); err != nil || len(d.TagsAdd.UserErrors) > 0 {
				failures.Add(1)
				t.Errorf("caller %d write: %s", i, res.Data)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	st := sb.Stats()
	cs := c.ThrottleState()
	t.Logf("%d callers × (read + write) in %s: sandbox saw %d GraphQL requests, %d throttled, exceeded bucket %v, lowest level %.0f of 60; client: %d attempts, %d waits, %s waited in all",
		callers, elapsed.Round(time.Millisecond), st.GraphQL, st.Throttled, st.ExceededBucket, st.MinAvailable, cs.Attempts, cs.Waits, cs.WaitTotal.Round(time.Millisecond))
	if failures.Load() != 0 || st.Throttled != 0 || st.ExceededBucket || st.GraphQL != 2*callers || st.MinAvailable < 0 {
		t.Fatalf("failures %d, throttled %d, exceeded %v, requests %d (want %d), min level %.1f", failures.Load(), st.Throttled, st.ExceededBucket, st.GraphQL, 2*callers, st.MinAvailable)
	}
	// Every write landed.
	obj, ok := sb.Object(orders[0])
	if !ok {
		t.Fatalf("order %s gone", orders[0])
	}
	if !containsTag(obj["tags"], "run-0") {
		t.Fatalf("order %s tags %v lack run-0", orders[0], obj["tags"])
	}
}

// TestSandboxFaultsAreRetried: 5xx answers and a hanging answer are
// retried; a query the schema rejects is not retried and its errors come
// back in the response.
func TestSandboxFaultsAreRetried(t *testing.T) {
	sb, srv := newSandbox(t, nil)
	c := newSandboxClient(t, srv, func(c *shopify.Config) {
		c.Timeout = 300 * time.Millisecond
		c.BackoffBase = 10 * time.Millisecond
	})
	ctx := context.Background()
	tests := []struct {
		name     string
		fault    sandbox.Fault
		attempts int64
	}{
		{"two 503s", sandbox.Fault{Status: 503, Count: 2}, 3},
		{"a 500", sandbox.Fault{Status: 500, Count: 1}, 2},
		{"a hang past the timeout", sandbox.Fault{Hang: 5 * time.Second, Count: 1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := sb.InjectFault(tt.fault); err != nil {
				t.Fatal(err)
			}
			before := c.ThrottleState().Attempts
			res, err := c.GraphQL(ctx, shopify.GraphQLRequest{Query: `{ shop { name myshopifyDomain } }`})
			if err != nil || len(res.Errors) > 0 || res.Data == nil {
				t.Fatalf("GraphQL: %v %+v", err, res)
			}
			if n := c.ThrottleState().Attempts - before; n != tt.attempts {
				t.Fatalf("%d attempts, want %d", n, tt.attempts)
			}
		})
	}
	res, err := c.GraphQL(ctx, shopify.GraphQLRequest{Query: `{ shop { nope } }`})
	if err != nil || len(res.Errors) == 0 || res.Data != nil {
		t.Fatalf("invalid query: %v %+v", err, res)
	}
	if res.Errors[0].Locations == nil {
		t.Fatalf("validation error without location: %+v", res.Errors[0])
	}
}

// TestSandboxRESTBucket: concurrent REST callers against a small leaky
// bucket are paced by the client so that the sandbox never answers 429.
// Client and sandbox share a fake clock, so the pacing does not sleep.
func TestSandboxRESTBucket(t *testing.T) {
	clock := &sharedClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	sb, srv := newSandbox(t, func(o *sandbox.Options) {
		o.RESTBucketSize = 10
		o.RESTLeakRate = 0.5 // Shopify's ratio: size/20 per second
		o.Now = clock.Now
	})
	c := newSandboxClient(t, srv, func(c *shopify.Config) { c.Clock = clock })
	const callers = 40
	var wg sync.WaitGroup
	var failures atomic.Int32
	for range callers {
		wg.Go(func() {
			res, err := c.REST(context.Background(), shopify.RESTRequest{Method: "GET", Path: "/admin/orders.json", Query: map[string][]string{"limit": {"2"}}})
			if err != nil || res.Status != 200 {
				failures.Add(1)
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st := sb.Stats()
	t.Logf("%d REST callers: sandbox saw %d requests, %d answered 429, fullest bucket %d of 10", callers, st.REST, st.RESTThrottled, st.MaxRESTUsed)
	if failures.Load() != 0 || st.RESTThrottled != 0 || st.REST != callers || st.MaxRESTUsed > 10 {
		t.Fatalf("failures %d, 429s %d, requests %d, fullest %d", failures.Load(), st.RESTThrottled, st.REST, st.MaxRESTUsed)
	}
	// Pagination through the Link header.
	res, err := c.REST(context.Background(), shopify.RESTRequest{Method: "GET", Path: "orders.json", Query: map[string][]string{"limit": {"1"}}})
	if err != nil || res.NextPageInfo == "" {
		t.Fatalf("first page: %v %+v", err, res)
	}
}

func containsTag(v any, tag string) bool {
	switch l := v.(type) {
	case []string:
		return slices.Contains(l, tag)
	case []any:
		return slices.Contains(l, any(tag))
	}
	return false
}

// sharedClock is a shopify.Clock whose Sleep advances the time at once;
// the sandbox reads the same time.
type sharedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *sharedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *sharedClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
	}
	return nil
}
