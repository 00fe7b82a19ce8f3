package subscriptions

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/shopify/sandbox"
	"github.com/sprocketrun/sprocket/shopify/schema"
)

var (
	schemaOnce sync.Once
	adminV     *schema.Schema
	adminErr   error
)

// client serves a sandbox shop on loopback and returns the real client for it.
func client(t *testing.T) (*sandbox.Sandbox, *shopify.Client) {
	t.Helper()
	path := shared.For(t, "corpus", "shopify", "admin-schema", "admin_2026-01.json.gz")
	schemaOnce.Do(func() { adminV, adminErr = schema.LoadFile(path) })
	if adminErr != nil {
		t.Fatal(adminErr)
	}
	sb, err := sandbox.New(sandbox.Options{Schema: adminV, AccessToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { ts.Close(); sb.Close() })
	c, err := shopify.New(shopify.Config{Shop: sandbox.DefaultShop, BaseURL: ts.URL, Token: shopify.StaticToken("tok")})
	if err != nil {
		t.Fatal(err)
	}
	return sb, c
}

func topicsOf(sb *sandbox.Sandbox, uri string) []string {
	var out []string
	for _, w := range sb.WebhookSubscriptions() {
		if w.URI == uri {
			out = append(out, w.Topic)
		}
	}
	slices.Sort(out)
	return out
}

// TestReconcile: subscriptions are created for new topics, kept when
// present, deleted when no task needs them, and left alone at other URIs.
func TestReconcile(t *testing.T) {
	sb, c := client(t)
	ctx := context.Background()
	const uri = "http://127.0.0.1:9/shopify/webhooks"
	other := "http://127.0.0.1:9/elsewhere"
	if _, err := Reconcile(ctx, c, other, []string{"orders/create"}); err != nil {
		t.Fatal(err)
	}
	res, err := Reconcile(ctx, c, uri, Topics([]string{"shopify/orders/create", "shopify/inventory_levels/update+1.hour", "mechanic/user/trigger", "shopify/orders/create+2.days"}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Created, []string{"inventory_levels/update", "orders/create"}) || len(res.Deleted) != 0 || len(res.Failed) != 0 {
		t.Fatalf("first reconcile: %+v", res)
	}
	if got := topicsOf(sb, uri); !slices.Equal(got, []string{"inventory_levels/update", "orders/create"}) {
		t.Fatalf("shop has %v", got)
	}
	res, err = Reconcile(ctx, c, uri, []string{"orders/create", "draft_orders/update"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Created, []string{"draft_orders/update"}) || !slices.Equal(res.Deleted, []string{"inventory_levels/update"}) || !slices.Equal(res.Kept, []string{"orders/create"}) {
		t.Fatalf("second reconcile: %+v", res)
	}
	if got := topicsOf(sb, uri); !slices.Equal(got, []string{"draft_orders/update", "orders/create"}) {
		t.Fatalf("shop has %v", got)
	}
	if got := topicsOf(sb, other); !slices.Equal(got, []string{"orders/create"}) {
		t.Fatalf("another URI's subscriptions changed: %v", got)
	}
	res, err = Reconcile(ctx, c, uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(topicsOf(sb, uri)) != 0 || len(res.Deleted) != 2 {
		t.Fatalf("emptying: %+v, shop has %v", res, topicsOf(sb, uri))
	}
	if res, err := Reconcile(ctx, c, uri, []string{"no_such/topic"}); err != nil || len(res.Failed) != 1 {
		t.Errorf("an unknown topic: %+v, %v", res, err)
	}
}
