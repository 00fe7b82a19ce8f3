package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/shared"
)

func TestRESTPagination(t *testing.T) {
	f := newFixture(t, nil)
	seen := map[float64]bool{}
	next := "/admin/api/2026-01/orders.json?status=any&limit=15"
	pages := 0
	for next != "" {
		resp, body := f.rest(t, http.MethodGet, next, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", next, resp.StatusCode, body)
		}
		pages++
		for _, o := range body["orders"].([]any) {
			id := o.(map[string]any)["id"].(float64)
			if seen[id] {
				t.Fatalf("order %v twice", id)
			}
			seen[id] = true
		}
		next = ""
		for _, part := range strings.Split(resp.Header.Get("Link"), ",") {
			if strings.Contains(part, `rel="next"`) {
				u := strings.TrimSpace(part)
				u = u[1:strings.Index(u, ">")]
				parsed, err := url.Parse(u)
				if err != nil {
					t.Fatal(err)
				}
				if parsed.Query().Get("page_info") == "" {
					t.Fatalf("next link without page_info: %s", u)
				}
				next = parsed.RequestURI()
			}
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if want := len(f.sb.IDs("Order")); len(seen) != want || pages != 3 {
		t.Errorf("%d orders in %d pages, want %d in 3", len(seen), pages, want)
	}
	// page_info carries the first request's filters.
	paid := 0
	next = "/admin/api/2026-01/orders.json?status=any&financial_status=paid&limit=5"
	for pages = 0; next != "" && pages < 20; pages++ {
		resp, body := f.rest(t, http.MethodGet, next, nil)
		for _, o := range body["orders"].([]any) {
			if s := o.(map[string]any)["financial_status"]; s != "paid" {
				t.Errorf("financial_status %v on page %d", s, pages+1)
			}
			paid++
		}
		next = ""
		for _, part := range strings.Split(resp.Header.Get("Link"), ",") {
			if strings.Contains(part, `rel="next"`) {
				u, _ := url.Parse(strings.Trim(strings.TrimSpace(part)[:strings.Index(strings.TrimSpace(part), ">")], "<"))
				next = u.RequestURI()
			}
		}
	}
	_, all := f.rest(t, http.MethodGet, "/admin/api/2026-01/orders/count.json?status=any&financial_status=paid", nil)
	if float64(paid) != all["count"].(float64) || paid <= 5 {
		t.Errorf("paged %d paid orders, count says %v", paid, all["count"])
	}
	// Default status=open excludes cancelled/closed orders.
	_, open := f.rest(t, http.MethodGet, "/admin/api/2026-01/orders.json?limit=250", nil)
	for _, o := range open["orders"].([]any) {
		if o.(map[string]any)["cancelled_at"] != nil {
			t.Errorf("cancelled order %v listed as open", o.(map[string]any)["id"])
		}
	}
	resp, _ := f.rest(t, http.MethodGet, "/admin/api/2026-01/orders.json?limit=500", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("limit=500: %d, want 400", resp.StatusCode)
	}
}

func TestRESTResources(t *testing.T) {
	f := newFixture(t, nil)
	// customer.orders and a customer's metafields, the way the REST-backed
	// Liquid lookups read them.
	var custID int64
	for _, id := range f.sb.IDs("Customer") {
		o, _ := f.sb.Object(id)
		if len(o["orders"].([]any)) > 0 {
			custID = legacyID(id)
			break
		}
	}
	c := strconv.FormatInt(custID, 10)
	_, cust := f.rest(t, http.MethodGet, "/admin/api/2026-01/customers/"+c+".json", nil)
	if cust["customer"].(map[string]any)["id"].(float64) != float64(custID) {
		t.Fatalf("customer %v", cust)
	}
	_, orders := f.rest(t, http.MethodGet, "/admin/api/2026-01/customers/"+c+"/orders.json?status=any", nil)
	if n := len(orders["orders"].([]any)); n == 0 || float64(n) != cust["customer"].(map[string]any)["orders_count"].(float64) {
		t.Errorf("customer orders %d vs orders_count %v", n, cust["customer"].(map[string]any)["orders_count"])
	}
	first := orders["orders"].([]any)[0].(map[string]any)
	oid := strconv.FormatFloat(first["id"].(float64), 'f', 0, 64)
	if first["admin_graphql_api_id"] != "gid://shopify/Order/"+oid || len(first["line_items"].([]any)) == 0 {
		t.Errorf("order shape %v", first)
	}
	tests := []struct {
		method, path string
		body         any
		status       int
		key          string
	}{
		{"GET", "/admin/api/2026-01/shop.json", nil, 200, "shop"},
		{"GET", "/admin/api/2026-01/orders/" + oid + "/transactions.json", nil, 200, "transactions"},
		{"GET", "/admin/api/2026-01/orders/" + oid + "/fulfillment_orders.json", nil, 200, "fulfillment_orders"},
		{"GET", "/admin/api/2026-01/orders/" + oid + "/fulfillments.json", nil, 200, "fulfillments"},
		{"GET", "/admin/api/2026-01/locations.json", nil, 200, "locations"},
		{"GET", "/admin/api/2026-01/custom_collections.json", nil, 200, "custom_collections"},
		{"GET", "/admin/api/2026-01/themes.json", nil, 200, "themes"},
		{"GET", "/admin/api/2026-01/metafields.json", nil, 200, "metafields"},
		{"GET", "/admin/api/2026-01/draft_orders.json", nil, 200, "draft_orders"},
		{"GET", "/admin/api/2026-01/products/1001.json", nil, 200, "product"},
		{"GET", "/admin/api/2026-01/customers/" + c + "/metafields.json", nil, 200, "metafields"},
		{"GET", "/admin/api/2026-01/orders/99999999.json", nil, 404, "errors"},
		{"POST", "/admin/orders/" + oid + "/close.json", map[string]any{}, 200, "order"},
		{"PUT", "/admin/api/2026-01/orders/" + oid + ".json", map[string]any{"order": map[string]any{"note": "via REST", "tags": "a, b"}}, 200, "order"},
		{"POST", "/admin/customers/" + c + "/send_invite.json", map[string]any{}, 201, "customer_invite"},
		{"PUT", "/admin/themes/1001/assets.json", map[string]any{"asset": map[string]any{"key": "sections/x.liquid", "value": "hi"}}, 200, "asset"},
		{"GET", "/admin/themes/1001/assets.json?asset[key]=sections/x.liquid", nil, 200, "asset"},
		{"POST", "/admin/api/2026-01/draft_orders.json", map[string]any{"draft_order": map[string]any{"line_items": []any{map[string]any{"title": "Custom", "price": "3.00", "quantity": 2}}}}, 201, "draft_order"},
		{"POST", "/admin/api/2026-01/orders.json", map[string]any{"order": map[string]any{"line_items": []any{map[string]any{"variant_id": 1001, "quantity": 1}}, "email": "x@example.com", "financial_status": "pending"}}, 201, "order"},
		{"DELETE", "/admin/api/2026-01/customers/" + c + ".json", nil, 422, "errors"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := f.rest(t, tt.method, tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d, want %d: %v", resp.StatusCode, tt.status, body)
			}
			if _, ok := body[tt.key]; !ok {
				t.Errorf("no %q in %v", tt.key, body)
			}
			if lim := resp.Header.Get("X-Shopify-Shop-Api-Call-Limit"); !strings.HasSuffix(lim, "/40") {
				t.Errorf("call limit header %q", lim)
			}
		})
	}
	o, _ := f.sb.Object("gid://shopify/Order/" + oid)
	if o["closed"] != true || o["note"] != "via REST" {
		t.Errorf("REST writes not stored: closed=%v note=%v", o["closed"], o["note"])
	}
	// The REST write is visible through GraphQL.
	d := f.mustData(t, `query($id: ID!) { order(id: $id) { note tags closed } }`, map[string]any{"id": "gid://shopify/Order/" + oid})
	if dig(d, "order", "note") != "via REST" || len(dig(d, "order", "tags").([]any)) != 2 {
		t.Errorf("GraphQL view %v", d)
	}
}

func TestRESTLeakyBucket(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.RESTBucketSize = 5; o.RESTLeakRate = 1 })
	for i := 1; i <= 5; i++ {
		resp, _ := f.rest(t, http.MethodGet, "/admin/api/2026-01/shop.json", nil)
		if resp.StatusCode != 200 || resp.Header.Get("X-Shopify-Shop-Api-Call-Limit") != strconv.Itoa(i)+"/5" {
			t.Fatalf("call %d: %d %q", i, resp.StatusCode, resp.Header.Get("X-Shopify-Shop-Api-Call-Limit"))
		}
	}
	resp, body := f.rest(t, http.MethodGet, "/admin/api/2026-01/shop.json", nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || body["errors"] == nil {
		t.Fatalf("6th call: %d Retry-After %q %v", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	f.clock.Advance(2 * time.Second)
	resp, _ = f.rest(t, http.MethodGet, "/admin/api/2026-01/shop.json", nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Shopify-Shop-Api-Call-Limit") != "4/5" {
		t.Errorf("after leaking: %d %q", resp.StatusCode, resp.Header.Get("X-Shopify-Shop-Api-Call-Limit"))
	}
	st := f.sb.Stats()
	if st.RESTThrottled != 1 || !st.ExceededBucket || st.MaxRESTUsed != 5 || st.REST != 7 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaults(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.sb.InjectFault(Fault{Status: 503, Count: 2}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{503, 503, 200} {
		r := f.gql(t, `{ shop { id } }`, nil)
		if r.Status != want {
			t.Fatalf("request %d: HTTP %d, want %d", i, r.Status, want)
		}
	}
	if err := f.sb.InjectFault(Fault{Status: 404, Count: 1}); err == nil {
		t.Error("non-5xx fault accepted")
	}
	// A hang longer than the client's timeout makes the client give up.
	if err := f.sb.InjectFault(Fault{Hang: 5 * time.Second, Count: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/admin/api/2026-01/graphql.json", strings.NewReader(`{"query":"{ shop { id } }"}`))
	req.Header.Set("X-Shopify-Access-Token", testToken)
	if resp, err := f.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("hung request answered before the client timeout")
	}
	if got := f.sb.Stats().Faults; got != 3 {
		t.Errorf("Faults = %d, want 3", got)
	}
}

func TestControlEndpoints(t *testing.T) {
	f := newFixture(t, nil)
	resp, body := f.rest(t, http.MethodPost, "/sandbox/customers", map[string]any{"firstName": "New", "email": "new@example.com", "tags": []string{"fresh"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create customer: %d %v", resp.StatusCode, body)
	}
	cid := body["customer"].(map[string]any)["id"].(string)
	resp, body = f.rest(t, http.MethodPost, "/sandbox/orders", map[string]any{"customerId": cid, "lineItems": []any{map[string]any{"variantId": "gid://shopify/ProductVariant/1001", "quantity": 2}}, "tags": []string{"control"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create order: %d %v", resp.StatusCode, body)
	}
	oid := body["order"].(map[string]any)["id"].(string)
	resp, body = f.rest(t, http.MethodPost, "/sandbox/orders", map[string]any{"lineItems": []any{map[string]any{"variantId": "gid://shopify/ProductVariant/424242"}}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body["error"].(string), "variantId") {
		t.Errorf("bad variant: %d %v", resp.StatusCode, body)
	}
	resp, body = f.rest(t, http.MethodPost, "/sandbox/products", map[string]any{"title": "Thing", "variants": []any{map[string]any{"sku": "T-1", "price": 3, "available": 7}}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create product: %d %v", resp.StatusCode, body)
	}
	d := f.mustData(t, `query($id: ID!) { order(id: $id) { tags customer { email } lineItems(first: 5) { nodes { quantity } } } products(first: 1, query: "sku:T-1") { nodes { totalInventory } } }`, map[string]any{"id": oid})
	if dig(d, "order", "customer", "email") != "new@example.com" || dig(d, "products", "nodes", 0, "totalInventory") != float64(7) {
		t.Errorf("created objects read back as %v", d)
	}
	resp, body = f.rest(t, http.MethodGet, "/sandbox/objects?id="+url.QueryEscape(oid), nil)
	if resp.StatusCode != 200 || body["__typename"] != "Order" {
		t.Errorf("object: %d %v", resp.StatusCode, body)
	}
	resp, body = f.rest(t, http.MethodPost, "/sandbox/faults", map[string]any{"status": 502, "count": 1})
	if resp.StatusCode != 200 {
		t.Fatalf("faults: %d %v", resp.StatusCode, body)
	}
	if r := f.gql(t, `{ shop { id } }`, nil); r.Status != 502 {
		t.Errorf("fault not applied: %d", r.Status)
	}
	resp, body = f.rest(t, http.MethodGet, "/sandbox/stats", nil)
	raw, _ := json.Marshal(body)
	var st Stats
	json.Unmarshal(raw, &st)
	if resp.StatusCode != 200 || st.GraphQL != 1 || st.Faults != 1 {
		t.Errorf("stats %d %+v", resp.StatusCode, st)
	}
	f.rest(t, http.MethodPost, "/sandbox/reset", nil)
	if _, ok := f.sb.Object(oid); ok {
		t.Error("order survived reset")
	}
	if f.sb.Stats().Requests != 0 {
		t.Error("stats survived reset")
	}
	resp, _ = f.rest(t, http.MethodGet, "/sandbox/nope", nil)
	if resp.StatusCode != 404 {
		t.Errorf("unknown control endpoint: %d", resp.StatusCode)
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	a := newFixture(t, nil)
	b := newFixture(t, nil)
	c := newFixture(t, func(o *Options) { o.Seed = 7 })
	q := `{ orders(first: 250, query: "status:any") { nodes { id name email tags totalPriceSet { shopMoney { amount } } } } }`
	ra, rb, rc := a.gql(t, q, nil), b.gql(t, q, nil), c.gql(t, q, nil)
	if ra.Raw != rb.Raw {
		t.Error("two sandboxes with the same seed differ")
	}
	if ra.Raw == rc.Raw {
		t.Error("a different seed gives the same shop")
	}
	for _, typ := range []string{"Order", "Customer", "Product", "ProductVariant", "InventoryLevel", "Location", "Collection", "Metafield", "DraftOrder", "Fulfillment", "FulfillmentOrder", "OrderTransaction"} {
		if len(a.sb.IDs(typ)) == 0 {
			t.Errorf("seed has no %s", typ)
		}
	}
}

func BenchmarkGraphQLOrdersPage(b *testing.B) {
	sb, err := New(Options{Schema: testSchema(b), AccessToken: testToken, BucketSize: 1e12, RestoreRate: 1e12})
	if err != nil {
		b.Fatal(err)
	}
	q := `{ orders(first: 50, query: "status:any") { nodes { id name tags customer { email } lineItems(first: 5) { nodes { sku quantity } } } } }`
	b.ReportAllocs()
	for b.Loop() {
		if status, resp := sb.Execute(q, nil, ""); status != 200 || resp["errors"] != nil {
			b.Fatal(resp)
		}
	}
}

func TestImportWebhookPayload(t *testing.T) {
	f := newFixture(t, nil)
	raw, err := os.ReadFile(shared.For(t, "corpus", "shopify", "webhooks", "2025-10", "orders", "create.json"))
	if err != nil {
		t.Fatal(err)
	}
	var hook struct {
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(raw, &hook); err != nil {
		t.Fatal(err)
	}
	resp, body := f.rest(t, http.MethodPost, "/sandbox/import/orders", hook.Response)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("import: %d %v", resp.StatusCode, body)
	}
	gid := body["id"].(string)
	if gid != hook.Response["admin_graphql_api_id"] {
		t.Errorf("imported as %s, want %v", gid, hook.Response["admin_graphql_api_id"])
	}
	d := f.mustData(t, `query($id: ID!) { order(id: $id) { name email customer { id email } lineItems(first: 10) { nodes { title quantity } } } }`, map[string]any{"id": gid})
	if dig(d, "order", "name") != hook.Response["name"] || dig(d, "order", "customer", "email") != "john@example.com" {
		t.Errorf("imported order reads %v", d)
	}
	if n := len(dig(d, "order", "lineItems", "nodes").([]any)); n != len(hook.Response["line_items"].([]any)) {
		t.Errorf("%d line items", n)
	}
	// Tasks reacting to the event can now write to it.
	f.mustData(t, `mutation($id: ID!) { tagsAdd(id: $id, tags: ["imported"]) { userErrors { message } } }`, map[string]any{"id": gid})
	o, _ := f.sb.Object(gid)
	if !slices.Contains(o["tags"].([]any), any("imported")) {
		t.Errorf("tags %v", o["tags"])
	}
	// Importing again leaves it as it is.
	resp, body = f.rest(t, http.MethodPost, "/sandbox/import/orders", map[string]any{"order": hook.Response})
	if resp.StatusCode != http.StatusOK || body["created"] != false {
		t.Errorf("second import: %d %v", resp.StatusCode, body)
	}
	if _, _, err := f.sb.ImportREST("widgets", map[string]any{}); err == nil {
		t.Error("unknown resource accepted")
	}
	if _, _, err := f.sb.ImportREST("order", map[string]any{"name": "#1"}); err == nil || !strings.Contains(err.Error(), "id") {
		t.Errorf("order without id: %v", err)
	}
	if _, err := f.sb.CreateCustomer(CustomerSpec{ID: "gid://shopify/Customer/1001"}); err == nil {
		t.Error("duplicate customer id accepted")
	}
}
