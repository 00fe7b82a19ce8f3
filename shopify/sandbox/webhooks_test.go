package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/shopify"
)

// received is one webhook POST a receiver got.
type received struct {
	Header http.Header
	Body   []byte
}

// receiver is a loopback webhook endpoint; fail decides the status of
// each attempt (by its 1-based number).
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []received
	fail func(n int) int
}

func newReceiver(t *testing.T, fail func(n int) int) *receiver {
	t.Helper()
	rc := &receiver{fail: fail}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Header: r.Header.Clone(), Body: body})
		n := len(rc.got)
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.fail != nil {
			status = rc.fail(n)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// topics lists the topics received, sorted: deliveries run in parallel,
// and Shopify does not promise an order either.
func (rc *receiver) topics() []string {
	var out []string
	for _, g := range rc.all() {
		out = append(out, g.Header.Get("X-Shopify-Topic"))
	}
	slices.Sort(out)
	return out
}

func (f *fixture) subscribe(t *testing.T, topic, uri string) string {
	t.Helper()
	d := f.mustData(t, `mutation($t: WebhookSubscriptionTopic!, $s: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $t, webhookSubscription: $s) { webhookSubscription { id topic uri } userErrors { field message } }
}`, map[string]any{"t": EnumOfTopic(topic), "s": map[string]any{"uri": uri, "format": "JSON"}})
	if ue := dig(d, "webhookSubscriptionCreate", "userErrors").([]any); len(ue) > 0 {
		t.Fatalf("subscribe %s: %v", topic, ue)
	}
	return dig(d, "webhookSubscriptionCreate", "webhookSubscription", "id").(string)
}

func (f *fixture) wait(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.sb.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
}

func fastRetries(o *Options) {
	o.WebhookRetry = 5 * time.Millisecond
	o.WebhookTimeout = 2 * time.Second
}

func TestTopicOfEnum(t *testing.T) {
	for _, tc := range []struct{ enum, topic string }{
		{"ORDERS_CREATE", "orders/create"},
		{"ORDERS_PARTIALLY_FULFILLED", "orders/partially_fulfilled"},
		{"INVENTORY_LEVELS_UPDATE", "inventory_levels/update"},
		{"DRAFT_ORDERS_UPDATE", "draft_orders/update"},
		{"BULK_OPERATIONS_FINISH", "bulk_operations/finish"},
		{"REFUNDS_CREATE", "refunds/create"},
	} {
		if got := TopicOfEnum(tc.enum); got != tc.topic {
			t.Errorf("TopicOfEnum(%s) = %s, want %s", tc.enum, got, tc.topic)
		}
		if got := EnumOfTopic(tc.topic); got != tc.enum {
			t.Errorf("EnumOfTopic(%s) = %s, want %s", tc.topic, got, tc.enum)
		}
	}
}

func TestWebhookSubscriptionsGraphQL(t *testing.T) {
	f := newFixture(t, nil)
	const create = `mutation($t: WebhookSubscriptionTopic!, $s: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $t, webhookSubscription: $s) { webhookSubscription { id topic uri format apiVersion { handle } } userErrors { field message } }
}`
	for _, tc := range []struct {
		name, topic, uri, wantErr string
	}{
		{"first", "ORDERS_CREATE", "https://hooks.example/a", ""},
		{"same uri other topic", "ORDERS_UPDATED", "https://hooks.example/a", ""},
		{"other uri", "ORDERS_CREATE", "https://hooks.example/b", ""},
		{"duplicate", "ORDERS_CREATE", "https://hooks.example/a", "Address for this topic has already been taken"},
		{"blank", "ORDERS_CREATE", "", "Address can't be blank"},
		{"not http", "ORDERS_CREATE", "pubsub://project:topic", "Address protocol pubsub:// is not supported (the sandbox delivers to http and https addresses)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := f.mustData(t, create, map[string]any{"t": tc.topic, "s": map[string]any{"uri": tc.uri}})
			ue := dig(d, "webhookSubscriptionCreate", "userErrors").([]any)
			if tc.wantErr == "" {
				if len(ue) > 0 {
					t.Fatalf("userErrors %v", ue)
				}
				if got := dig(d, "webhookSubscriptionCreate", "webhookSubscription", "uri"); got != tc.uri {
					t.Errorf("uri %v", got)
				}
				if got := dig(d, "webhookSubscriptionCreate", "webhookSubscription", "apiVersion", "handle"); got != "2026-01" {
					t.Errorf("apiVersion %v", got)
				}
				return
			}
			if len(ue) != 1 || dig(ue, 0, "message") != tc.wantErr {
				t.Fatalf("userErrors %v, want %q", ue, tc.wantErr)
			}
		})
	}

	const list = `query($uri: String, $topics: [WebhookSubscriptionTopic!], $after: String) {
  webhookSubscriptions(first: 1, uri: $uri, topics: $topics, after: $after) { nodes { id topic uri } pageInfo { hasNextPage endCursor } }
}`
	var seen []string
	var after any
	for range 5 {
		d := f.mustData(t, list, map[string]any{"uri": "https://hooks.example/a", "after": after})
		for _, n := range dig(d, "webhookSubscriptions", "nodes").([]any) {
			seen = append(seen, dig(n, "topic").(string))
		}
		if dig(d, "webhookSubscriptions", "pageInfo", "hasNextPage") != true {
			break
		}
		after = dig(d, "webhookSubscriptions", "pageInfo", "endCursor")
	}
	if !slices.Equal(seen, []string{"ORDERS_CREATE", "ORDERS_UPDATED"}) {
		t.Errorf("paged by uri: %v", seen)
	}
	d := f.mustData(t, list, map[string]any{"topics": []string{"ORDERS_CREATE"}})
	if n := dig(d, "webhookSubscriptions", "nodes", 0, "uri"); n != "https://hooks.example/a" || dig(d, "webhookSubscriptions", "pageInfo", "hasNextPage") != true {
		t.Errorf("by topic: %v", d)
	}

	subs := f.sb.WebhookSubscriptions()
	if len(subs) != 3 || subs[1].Topic != "orders/updated" {
		t.Fatalf("WebhookSubscriptions = %+v", subs)
	}
	d = f.mustData(t, `mutation($id: ID!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: {uri: "https://hooks.example/b"}) { webhookSubscription { uri } userErrors { message } } }`, map[string]any{"id": subs[0].ID})
	if msg := dig(d, "webhookSubscriptionUpdate", "userErrors", 0, "message"); msg != "Address for this topic has already been taken" {
		t.Errorf("update onto a taken address: %v", d)
	}
	d = f.mustData(t, `mutation($id: ID!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: {uri: "https://hooks.example/c"}) { webhookSubscription { uri } userErrors { message } } }`, map[string]any{"id": subs[0].ID})
	if got := dig(d, "webhookSubscriptionUpdate", "webhookSubscription", "uri"); got != "https://hooks.example/c" {
		t.Errorf("update: %v", d)
	}
	const del = `mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { message } } }`
	d = f.mustData(t, del, map[string]any{"id": subs[0].ID})
	if dig(d, "webhookSubscriptionDelete", "deletedWebhookSubscriptionId") != subs[0].ID {
		t.Errorf("delete: %v", d)
	}
	d = f.mustData(t, del, map[string]any{"id": subs[0].ID})
	if dig(d, "webhookSubscriptionDelete", "userErrors", 0, "message") != "Webhook subscription does not exist" {
		t.Errorf("second delete: %v", d)
	}
	if n := len(f.sb.WebhookSubscriptions()); n != 2 {
		t.Errorf("%d subscriptions left, want 2", n)
	}
}

func TestWebhooksREST(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"create", map[string]any{"webhook": map[string]any{"topic": "orders/create", "address": "https://h.example/x", "format": "json"}}, 201},
		{"duplicate", map[string]any{"webhook": map[string]any{"topic": "orders/create", "address": "https://h.example/x"}}, 422},
		{"bad topic", map[string]any{"webhook": map[string]any{"topic": "orders/eaten", "address": "https://h.example/x"}}, 422},
		{"inventory", map[string]any{"webhook": map[string]any{"topic": "inventory_levels/update", "address": "https://h.example/x"}}, 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.rest(t, http.MethodPost, "/admin/api/2025-10/webhooks.json", tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, body %v", resp.StatusCode, body)
			}
		})
	}
	_, body := f.rest(t, http.MethodGet, "/admin/api/2025-10/webhooks.json?topic=inventory_levels/update", nil)
	hooks := body["webhooks"].([]any)
	if len(hooks) != 1 || dig(hooks, 0, "address") != "https://h.example/x" || dig(hooks, 0, "api_version") != "2025-10" {
		t.Fatalf("list: %v", body)
	}
	_, body = f.rest(t, http.MethodGet, "/admin/api/2025-10/webhooks/count.json", nil)
	if body["count"] != 2.0 {
		t.Errorf("count: %v", body)
	}
	id := int64(dig(hooks, 0, "id").(float64))
	resp, _ := f.rest(t, http.MethodDelete, "/admin/api/2025-10/webhooks/"+itoa(int(id))+".json", nil)
	if resp.StatusCode != 200 || len(f.sb.WebhookSubscriptions()) != 1 {
		t.Errorf("delete: %d, %d left", resp.StatusCode, len(f.sb.WebhookSubscriptions()))
	}
}

func verifyHMAC(t *testing.T, secret string, g received) {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(g.Body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if got := g.Header.Get("X-Shopify-Hmac-Sha256"); !hmac.Equal([]byte(got), []byte(want)) {
		t.Fatalf("X-Shopify-Hmac-Sha256 %q, want %q", got, want)
	}
	// The service's own check accepts it, and rejects another secret.
	if !shopify.VerifyWebhook(g.Body, g.Header.Get("X-Shopify-Hmac-Sha256"), secret) {
		t.Error("shopify.VerifyWebhook rejects the delivery")
	}
	if shopify.VerifyWebhook(g.Body, g.Header.Get("X-Shopify-Hmac-Sha256"), secret+"x") {
		t.Error("shopify.VerifyWebhook accepts the delivery under another secret")
	}
}

func TestSignedDeliveryOnOrderCreate(t *testing.T) {
	const secret = "shpss_test_secret"
	f := newFixture(t, func(o *Options) { o.APISecret = secret })
	rc := newReceiver(t, nil)
	f.subscribe(t, "orders/create", rc.srv.URL+"/shopify/webhooks")
	resp, body := f.rest(t, http.MethodPost, "/sandbox/orders", map[string]any{
		"customerId": "gid://shopify/Customer/1001", "lineItems": []any{map[string]any{"variantId": "gid://shopify/ProductVariant/1001", "quantity": 2}},
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create order: %d %v", resp.StatusCode, body)
	}
	f.wait(t)
	got := rc.all()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	g := got[0]
	verifyHMAC(t, secret, g)
	for h, want := range map[string]string{
		"X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": DefaultShop, "X-Shopify-API-Version": "2026-01",
		"Content-Type": "application/json",
	} {
		if v := g.Header.Get(h); v != want {
			t.Errorf("%s = %q, want %q", h, v, want)
		}
	}
	for _, h := range []string{"X-Shopify-Event-Id", "X-Shopify-Webhook-Id", "X-Shopify-Triggered-At"} {
		if g.Header.Get(h) == "" {
			t.Errorf("%s missing", h)
		}
	}
	var payload map[string]any
	if err := json.Unmarshal(g.Body, &payload); err != nil {
		t.Fatal(err)
	}
	id := dig(body, "order", "id").(string)
	if payload["admin_graphql_api_id"] != id || payload["id"] != float64(legacyID(id)) {
		t.Errorf("payload id %v / %v, want %s", payload["id"], payload["admin_graphql_api_id"], id)
	}
	if n := len(dig(payload, "line_items").([]any)); n != 1 || dig(payload, "line_items", 0, "quantity") != 2.0 {
		t.Errorf("line_items %v", payload["line_items"])
	}
	if dig(payload, "customer", "id") != 1001.0 {
		t.Errorf("customer %v", payload["customer"])
	}
	st := f.sb.Stats().Webhooks
	if st.Delivered != 1 || st.Failed != 0 || st.Pending != 0 || st.Attempts != 1 || st.Events != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDeliveryRetries(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		fail                        func(n int) int
		attempts, delivered, failed int
	}{
		{"500 then 200", func(n int) int {
			if n == 1 {
				return 500
			}
			return 200
		}, 2, 1, 0},
		{"always 503", func(int) int { return 503 }, 3, 0, 1},
		{"redirect is not success", func(int) int { return 302 }, 3, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { fastRetries(o); o.WebhookAttempts = 3 })
			rc := newReceiver(t, tc.fail)
			f.subscribe(t, "customers/create", rc.srv.URL)
			if _, err := f.sb.CreateCustomer(CustomerSpec{FirstName: "Ada", Email: "ada@example.com"}); err != nil {
				t.Fatal(err)
			}
			f.wait(t)
			got := rc.all()
			if len(got) != tc.attempts {
				t.Fatalf("%d attempts, want %d", len(got), tc.attempts)
			}
			for _, g := range got[1:] {
				for _, h := range []string{"X-Shopify-Event-Id", "X-Shopify-Webhook-Id", "X-Shopify-Hmac-Sha256"} {
					if g.Header.Get(h) != got[0].Header.Get(h) {
						t.Errorf("redelivery changed %s: %q → %q", h, got[0].Header.Get(h), g.Header.Get(h))
					}
				}
				verifyHMAC(t, DefaultAPISecret, g)
			}
			st := f.sb.Stats().Webhooks
			if st.Delivered != tc.delivered || st.Failed != tc.failed || st.Pending != 0 || st.Attempts != tc.attempts {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestEventsHaveFreshIDs(t *testing.T) {
	f := newFixture(t, fastRetries)
	rc := newReceiver(t, nil)
	f.subscribe(t, "orders/updated", rc.srv.URL)
	f.subscribe(t, "orders/updated", rc.srv.URL+"/second")
	for range 2 {
		f.mustData(t, `mutation { tagsAdd(id: "gid://shopify/Order/1001", tags: ["x"]) { userErrors { message } } }`, nil)
	}
	f.wait(t)
	got := rc.all()
	if len(got) != 4 {
		t.Fatalf("%d deliveries, want 4 (2 events × 2 subscriptions)", len(got))
	}
	events := map[string]int{}
	webhooks := map[string]bool{}
	for _, g := range got {
		events[g.Header.Get("X-Shopify-Event-Id")]++
		webhooks[g.Header.Get("X-Shopify-Webhook-Id")] = true
	}
	if len(events) != 2 || len(webhooks) != 4 {
		t.Errorf("%d event ids (want 2, each to both subscriptions), %d webhook ids (want 4)", len(events), len(webhooks))
	}
}

func TestMutationsTriggerTopics(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"tagsAdd order", `mutation { tagsAdd(id: "gid://shopify/Order/1001", tags: ["vip"]) { userErrors { message } } }`, []string{"orders/updated"}},
		{"tagsAdd product", `mutation { tagsAdd(id: "gid://shopify/Product/1001", tags: ["vip"]) { userErrors { message } } }`, []string{"products/update"}},
		{"tagsRemove customer", `mutation { tagsRemove(id: "gid://shopify/Customer/1001", tags: ["vip"]) { userErrors { message } } }`, []string{"customers/update"}},
		{"failed tagsAdd sends nothing", `mutation { tagsAdd(id: "gid://shopify/Order/999999", tags: ["vip"]) { userErrors { message } } }`, nil},
		{"inventoryAdjustQuantities", `mutation { inventoryAdjustQuantities(input: {name: "available", reason: "correction", changes: [{delta: 3, inventoryItemId: "gid://shopify/InventoryItem/1001", locationId: "gid://shopify/Location/1001"}]}) { userErrors { message } } }`, []string{"inventory_levels/update"}},
		{"customerCreate", `mutation { customerCreate(input: {email: "new@example.com"}) { userErrors { message } } }`, []string{"customers/create"}},
		{"productCreate", `mutation { productCreate(product: {title: "Hat"}) { userErrors { message } } }`, []string{"products/create"}},
		{"collectionUpdate", `mutation { collectionUpdate(input: {id: "gid://shopify/Collection/1001", title: "New"}) { userErrors { message } } }`, []string{"collections/update"}},
		{"orderCancel", `mutation { orderCancel(orderId: "gid://shopify/Order/1002", reason: CUSTOMER, refund: false, restock: false) { orderCancelUserErrors { message } } }`, []string{"orders/cancelled", "orders/updated"}},
		{"draftOrderCreate", `mutation { draftOrderCreate(input: {lineItems: [{title: "Thing", quantity: 1, originalUnitPrice: "5.00"}]}) { userErrors { message } } }`, []string{"draft_orders/create"}},
		{"draftOrderComplete", `mutation { draftOrderComplete(id: "gid://shopify/DraftOrder/1001") { userErrors { message } } }`, []string{"draft_orders/update", "orders/create", "orders/paid"}},
		{"refundCreate", `mutation { refundCreate(input: {orderId: "gid://shopify/Order/1001", refundLineItems: [{lineItemId: "gid://shopify/LineItem/1001", quantity: 1}]}) { refund { id } userErrors { message } } }`, []string{"refunds/create", "orders/updated"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fastRetries)
			rc := newReceiver(t, nil)
			for _, topic := range CoveredTopics {
				f.subscribe(t, topic, rc.srv.URL)
			}
			r := f.gql(t, tc.query, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %s", r.Raw)
			}
			f.wait(t)
			want := slices.Sorted(slices.Values(tc.want))
			if got := rc.topics(); !slices.Equal(got, want) {
				t.Errorf("topics %v, want %v (response %s)", got, tc.want, r.Raw)
			}
		})
	}
}

func TestFulfillmentTopics(t *testing.T) {
	f := newFixture(t, fastRetries)
	rc := newReceiver(t, nil)
	for _, topic := range CoveredTopics {
		f.subscribe(t, topic, rc.srv.URL)
	}
	id, err := f.sb.CreateOrder(OrderSpec{LineItems: []LineItemSpec{{VariantID: "gid://shopify/ProductVariant/1001", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	d := f.mustData(t, `query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { id } } } }`, map[string]any{"id": id})
	fo := dig(d, "order", "fulfillmentOrders", "nodes", 0, "id")
	f.mustData(t, `mutation($fo: ID!) { fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder: [{fulfillmentOrderId: $fo}]}) { fulfillment { id } userErrors { message } } }`, map[string]any{"fo": fo})
	f.wait(t)
	want := []string{"fulfillments/create", "orders/create", "orders/fulfilled", "orders/paid", "orders/updated"}
	if got := rc.topics(); !slices.Equal(got, want) {
		t.Errorf("topics %v, want %v", got, want)
	}
	var fpayload map[string]any
	for _, g := range rc.all() {
		if g.Header.Get("X-Shopify-Topic") == "fulfillments/create" {
			json.Unmarshal(g.Body, &fpayload)
		}
	}
	if fpayload["order_id"] != float64(legacyID(id)) || fpayload["status"] != "success" {
		t.Errorf("fulfillments/create payload %v", fpayload)
	}
}

func TestDeliverControl(t *testing.T) {
	f := newFixture(t, fastRetries)
	rc := newReceiver(t, nil)
	f.subscribe(t, "orders/paid", rc.srv.URL)
	f.subscribe(t, "inventory_levels/update", rc.srv.URL)
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"order by GID", map[string]any{"topic": "orders/paid", "id": "gid://shopify/Order/1003"}, http.StatusAccepted},
		{"order by number", map[string]any{"topic": "orders/paid", "id": "1004"}, http.StatusAccepted},
		{"inventory level", map[string]any{"topic": "inventory_levels/update", "id": "gid://shopify/InventoryLevel/1001"}, http.StatusAccepted},
		{"wrong type", map[string]any{"topic": "orders/paid", "id": "gid://shopify/Product/1001"}, http.StatusUnprocessableEntity},
		{"missing object", map[string]any{"topic": "orders/paid", "id": "gid://shopify/Order/99999"}, http.StatusUnprocessableEntity},
		{"not covered", map[string]any{"topic": "carts/create", "id": "1"}, http.StatusUnprocessableEntity},
		{"not subscribed", map[string]any{"topic": "orders/create", "id": "1001"}, http.StatusConflict},
		{"missing topic", map[string]any{"id": "1001"}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.rest(t, http.MethodPost, "/sandbox/deliver", tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tc.status, body)
			}
			if tc.status == http.StatusAccepted && (body["eventId"] == "" || body["subscriptions"] != 1.0) {
				t.Errorf("answer %v", body)
			}
		})
	}
	f.wait(t)
	got := rc.all()
	if len(got) != 3 {
		t.Fatalf("%d deliveries, want 3", len(got))
	}
	var lvl map[string]any
	for _, g := range got {
		if g.Header.Get("X-Shopify-Topic") == "inventory_levels/update" {
			json.Unmarshal(g.Body, &lvl)
		}
	}
	if lvl["inventory_item_id"] == nil || lvl["location_id"] == nil || lvl["available"] == nil {
		t.Errorf("inventory_levels/update payload %v", lvl)
	}
}

func TestCloseFailsPendingRetries(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.WebhookRetry = time.Hour })
	rc := newReceiver(t, func(int) int { return 500 })
	f.subscribe(t, "products/create", rc.srv.URL)
	if _, err := f.sb.CreateProduct(ProductSpec{Title: "Lamp"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.sb.Stats().Webhooks.Attempts == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := f.sb.WaitDeliveries(ctx); err == nil {
		t.Fatal("WaitDeliveries returned nil while a retry is an hour away")
	}
	f.sb.Close()
	st := f.sb.Stats().Webhooks
	if st.Pending != 0 || st.Failed != 1 || st.Delivered != 0 {
		t.Errorf("after Close: %+v", st)
	}
}

// BenchmarkWebhookDelivery measures signed deliveries of customers/update
// to a loopback receiver, from the mutation to the receiver's 200.
func BenchmarkWebhookDelivery(b *testing.B) {
	sb, err := New(Options{Schema: testSchema(b), AccessToken: testToken, WebhookQueueSize: 100000})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer srv.Close()
	sb.Execute(`mutation($u: String!) { webhookSubscriptionCreate(topic: CUSTOMERS_UPDATE, webhookSubscription: {uri: $u}) { userErrors { message } } }`, map[string]any{"u": srv.URL}, "")
	b.ResetTimer()
	for range b.N {
		sb.Deliver("customers/update", "gid://shopify/Customer/1001")
	}
	if err := sb.WaitDeliveries(context.Background()); err != nil {
		b.Fatal(err)
	}
	if st := sb.Stats().Webhooks; st.Delivered != b.N {
		b.Fatalf("delivered %d of %d", st.Delivered, b.N)
	}
}

func TestIncludeFields(t *testing.T) {
	f := newFixture(t, fastRetries)
	rc := newReceiver(t, nil)
	d := f.mustData(t, `mutation($u: String!) { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {uri: $u, includeFields: ["id", "admin_graphql_api_id", "line_items.sku"]}) { userErrors { message } } }`,
		map[string]any{"u": rc.srv.URL})
	if ue := dig(d, "webhookSubscriptionCreate", "userErrors").([]any); len(ue) > 0 {
		t.Fatal(ue)
	}
	if _, err := f.sb.CreateOrder(OrderSpec{LineItems: []LineItemSpec{{VariantID: "gid://shopify/ProductVariant/1001"}}}); err != nil {
		t.Fatal(err)
	}
	f.wait(t)
	got := rc.all()
	if len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
	verifyHMAC(t, DefaultAPISecret, got[0])
	var p map[string]any
	json.Unmarshal(got[0].Body, &p)
	if len(p) != 3 || p["id"] == nil || p["admin_graphql_api_id"] == nil {
		t.Errorf("payload keys %v", p)
	}
	if li := dig(p, "line_items", 0).(map[string]any); len(li) != 1 || li["sku"] == nil {
		t.Errorf("line item %v", li)
	}
}
