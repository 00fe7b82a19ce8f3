package objects_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/shopify/objects"
	"github.com/sprocketrun/sprocket/task"
)

// fixture fills the loopback shop with a small store.
func fixture(s *restShop) {
	s.singles["shop.json"] = record{"shop": record{"id": 690933842, "name": "Snowdevil", "myshopify_domain": "snowdevil.myshopify.com",
		"customer_email": "help@snowdevil.example", "primary_location_id": 11, "currency": "CAD", "address": record{"city": "Ottawa"}}}
	order := func(id int, name string, fin, ful any, closed, cancelled any, customer int) record {
		return record{"id": id, "name": name, "email": fmt.Sprintf("buyer%d@example.com", customer), "financial_status": fin,
			"fulfillment_status": ful, "closed_at": closed, "cancelled_at": cancelled, "note": "note of " + name,
			"customer": record{"id": customer, "email": fmt.Sprintf("buyer%d@example.com", customer), "tags": "vip, repeat"}}
	}
	orders := []record{
		order(1001, "#1001", "paid", nil, nil, nil, 5),
		order(1002, "#1002", "paid", "fulfilled", "2026-01-02T00:00:00Z", nil, 5),
		order(1003, "#1003", "pending", nil, nil, nil, 6),
		order(1004, "#1004", "paid", "partial", nil, nil, 5),
		order(1005, "#1005", "refunded", nil, nil, "2026-01-03T00:00:00Z", 6),
		order(1006, "#1006", "authorized", nil, nil, nil, 6),
		order(1007, "#1007", "paid", nil, nil, nil, 6),
	}
	s.add("orders", "order", orders...)
	s.addList("customers/5/orders.json", "orders", orders[0], orders[1], orders[3])
	s.addList("customers/7/orders.json", "orders")
	s.add("customers", "customer",
		record{"id": 5, "email": "buyer5@example.com", "tags": "vip, repeat", "orders_count": 3},
		record{"id": 6, "email": "buyer6@example.com", "tags": "", "orders_count": 4},
		record{"id": 7, "email": "new@example.com", "tags": "fresh", "orders_count": 0})
	s.add("draft_orders", "draft_order",
		record{"id": 301, "name": "#D1", "status": "open"},
		record{"id": 302, "name": "#D2", "status": "invoice_sent"})
	s.add("locations", "location", record{"id": 11, "name": "Warehouse"}, record{"id": 12, "name": "Shop floor"})
	s.add("themes", "theme", record{"id": 828155753, "name": "Dawn", "role": "main"}, record{"id": 976877075, "name": "Spring", "role": "unpublished"})
	s.addList("custom_collections.json", "custom_collections", record{"id": 841564295, "title": "IPods"})
	s.addList("smart_collections.json", "smart_collections", record{"id": 482865238, "title": "Smart iPods"})
	s.singles["collections/841564295.json"] = record{"collection": record{"id": 841564295, "title": "IPods"}}
	s.addList("metafields.json", "metafields",
		record{"id": 1, "namespace": "donations", "key": "total", "type": "number_decimal", "value": "12.5"},
		record{"id": 2, "namespace": "settings", "key": "legacy", "type": "json_string", "value": `{"a":1}`})
	s.addList("customers/5/metafields.json", "metafields",
		record{"id": 3, "namespace": "judgeme", "key": "reviews", "type": "number_integer", "value": 4},
		record{"id": 4, "namespace": "judgeme", "key": "badges", "type": "list.single_line_text_field", "value": `["gold","early"]`})
	s.addList("orders/1001/metafields.json", "metafields",
		record{"id": 5, "namespace": "mechanic", "key": "known_tracking_numbers", "type": "json", "value": `["1Z1"]`})
	s.addList("products/632910392/metafields.json", "metafields",
		record{"id": 6, "namespace": "specs", "key": "material", "type": "single_line_text_field", "value": "wool"})
	s.addList("orders/1001/transactions.json", "transactions",
		record{"id": 389404469, "kind": "authorization", "status": "success"},
		record{"id": 389404470, "kind": "capture", "status": "success"})
	s.addList("orders/1001/fulfillment_orders.json", "fulfillment_orders",
		record{"id": 1046000778, "status": "open", "order_id": 1001})
	s.singles["orders/1001/fulfillments/255858046.json"] = record{"fulfillment": record{"id": 255858046, "order_id": 1001, "tracking_company": "UPS"}}
}

// liveRenderer renders live runs against s with the objects of this
// package, n calls allowed per run.
func liveRenderer(s *restShop, maxCalls, pageSize int, sessions *[]*objects.Session) *run.Renderer {
	return &run.Renderer{
		Engine: dialect.NewEngine(dialect.Options{}),
		Objects: func(ctx context.Context, apiVersion string) run.LiveObjects {
			se := objects.NewSession(ctx, objects.Config{Client: s.caller(), APIVersion: apiVersion,
				Budget: objects.NewCallBudget(maxCalls), PageSize: pageSize})
			if sessions != nil {
				*sessions = append(*sessions, se)
			}
			return se
		},
	}
}

func render(t *testing.T, r *run.Renderer, script, topic, data string, preview bool) (string, error) {
	t.Helper()
	tk := task.New("objects test")
	tk.Script = script
	var d any
	if data != "" {
		var err error
		if d, err = value.FromJSON([]byte(data)); err != nil {
			t.Fatalf("event data: %v", err)
		}
	}
	res, err := r.Run(context.Background(), run.Input{Task: tk, Event: &run.Event{Topic: topic, Data: d, Preview: preview}})
	if res == nil {
		return "", err
	}
	var re *run.Error
	if errors.As(err, &re) && re.Kind == run.KindOutput {
		err = nil // the scripts print text, not action objects
	}
	return strings.TrimSpace(res.Text), err
}

const (
	orderEvent       = `{"id": 1001, "name": "#1001", "email": "buyer5@example.com", "note": "stale note", "customer": {"id": 5, "email": "buyer5@example.com", "tags": "vip, repeat"}, "line_items": [{"id": 1, "product_id": 632910392, "variant_id": 808950810, "sku": "IPOD"}]}`
	customerEvent    = `{"id": 5, "email": "buyer5@example.com", "tags": "vip, repeat"}`
	newCustomerEvent = `{"id": 7, "email": "new@example.com"}`
)

// TestLookups renders each lazy lookup kind in a live run and checks the
// output and the REST calls made (page size 2, so collections take pages).
func TestLookups(t *testing.T) {
	cases := []struct {
		name, script, topic, data, want string
		calls                           []string
	}{
		{"shop attributes", `{{ shop.name }} {{ shop.admin_url }} {{ shop.address.city }}`, "mechanic/user/trigger", "",
			"Snowdevil https://admin.shopify.com/store/snowdevil/ Ottawa", []string{"GET shop.json"}},
		{"shop.orders loops over open orders page by page", `{% for o in shop.orders %}{{ o.name }} {% endfor %}`, "mechanic/user/trigger", "",
			"#1001 #1003 #1004 #1006 #1007", []string{"GET orders.json?limit=2&status=open", "GET orders.json?limit=2&page_info=*", "GET orders.json?limit=2&page_info=*"}},
		{"chained scopes", `{% for o in shop.orders.any.paid.unshipped %}{{ o.name }} {% endfor %}`, "mechanic/user/trigger", "",
			"#1001 #1007", []string{"GET orders.json?financial_status=paid&fulfillment_status=unshipped&limit=2&status=any"}},
		{"cancelled scope", `{% for o in shop.orders.any.cancelled %}{{ o.name }}{% endfor %}`, "mechanic/user/trigger", "",
			"#1005", []string{"GET orders.json?limit=2&status=cancelled"}},
		{"size through the count endpoint", `{{ shop.orders.size }} {{ shop.orders.any.count }}`, "mechanic/user/trigger", "",
			"5 7", []string{"GET orders/count.json?status=open", "GET orders/count.json?status=any"}},
		{"order by id, missing order is nil", `{{ shop.orders[1003].name }}|{{ shop.orders[999] | json }}`, "mechanic/user/trigger", "",
			"#1003|null", []string{"GET orders/1003.json", "GET orders/999.json"}},
		{"customer by id and by email", `{{ shop.customers[6].email }} {{ shop.customers["new@example.com"].id }}`, "mechanic/user/trigger", "",
			"buyer6@example.com 7", []string{"GET customers/6.json", "GET customers/search.json?limit=1&query=email%3Anew%40example.com"}},
		{"draft orders by a dynamic scope", `{% assign s = "invoice_sent" %}{% for d in shop.draft_orders[s] %}{{ d.name }}{% endfor %}`, "mechanic/user/trigger", "",
			"#D2", []string{"GET draft_orders.json?limit=2&status=invoice_sent"}},
		{"locations", `{{ shop.locations[shop.primary_location_id].name }} {{ shop.locations.size }}`, "mechanic/user/trigger", "",
			"Warehouse 2", []string{"GET shop.json", "GET locations/11.json", "GET locations/count.json"}},
		{"collections: custom then smart, and by id", `{% for c in shop.collections %}{{ c.title }},{% endfor %} {{ shop.collections[841564295].title }}`, "mechanic/user/trigger", "",
			"IPods,Smart iPods, IPods", []string{"GET custom_collections.json?limit=2", "GET smart_collections.json?limit=2", "GET collections/841564295.json"}},
		{"themes", `{% for th in shop.themes %}{% if th.role == "main" %}{{ th.name }}{% endif %}{% endfor %} {{ shop.themes[976877075].role }}`, "mechanic/user/trigger", "",
			"Dawn unpublished", []string{"GET themes.json?limit=2", "GET themes/976877075.json"}},
		{"shop metafields", `{{ shop.metafields.donations.total.value | plus: 1 }} {{ shop.metafields.donations.total.type }} {{ shop.metafields.settings.legacy.a }}`, "mechanic/user/trigger", "",
			"13.5 number_decimal 1", []string{"GET metafields.json?limit=2&namespace=donations", "GET metafields.json?limit=2&namespace=settings"}},
		{"customer.orders: first, open only", `{% if customer.orders.first == nil %}none{% else %}{{ customer.orders.first.name }}{% endif %}`, "shopify/customers/update", customerEvent,
			"#1001", []string{"GET customers/5/orders.json?limit=1&status=open"}},
		{"customer.orders.first of a customer without orders", `{% if customer.orders.first == nil %}none{% endif %}`, "shopify/customers/create", newCustomerEvent,
			"none", []string{"GET customers/7/orders.json?limit=1&status=open"}},
		{"customer.orders concatenated scopes", `{% assign os = customer.orders.any.unshipped | concat: customer.orders.any.partial %}{% for o in os %}{{ o.name }} {% endfor %}`, "shopify/customers/update", customerEvent,
			"#1001 #1004", []string{"GET customers/5/orders.json?fulfillment_status=unshipped&limit=2&status=any", "GET customers/5/orders.json?fulfillment_status=partial&limit=2&status=any"}},
		{"customer.metafields by namespace and key", `{{ customer.metafields.judgeme.reviews.value | plus: 1 }} {{ customer.metafields["judgeme"]["badges"].value | join: "+" }}`, "shopify/customers/update", customerEvent,
			"5 gold+early", []string{"GET customers/5/metafields.json?limit=2&namespace=judgeme"}},
		{"customer.tags fetched when the payload lacks them", `{{ customer.tags }}`, "shopify/customers/create", newCustomerEvent,
			"fresh", []string{"GET customers/7.json"}},
		{"order.transactions", `{% for tx in order.transactions %}{{ tx.kind }} {% endfor %}{{ order.transactions.first.id }}`, "shopify/orders/create", orderEvent,
			"authorization capture 389404469", []string{"GET orders/1001/transactions.json?limit=2", "GET orders/1001/transactions.json?limit=1"}},
		{"order.fulfillment_orders", `{% for fo in order.fulfillment_orders %}{{ fo.id }} {{ fo.order.name }}{% endfor %}`, "shopify/orders/create", orderEvent,
			"1046000778 #1001", []string{"GET orders/1001/fulfillment_orders.json?limit=2", "GET orders/1001.json"}},
		{"order.reload and order.customer.reload", `{{ order.note }}|{{ order.reload.note }}|{{ order.customer.reload.orders_count }}`, "shopify/orders/create", orderEvent,
			"stale note|note of #1001|3", []string{"GET orders/1001.json", "GET customers/5.json"}},
		{"order.customer.orders.any", `{{ order.customer.orders.any | size }}`, "shopify/orders/create", orderEvent,
			"3", []string{"GET customers/5/orders.json?limit=2&status=any", "GET customers/5/orders.json?limit=2&page_info=*"}},
		{"order metafields", `{{ order.metafields.mechanic.known_tracking_numbers.value | first }}`, "shopify/orders/create", orderEvent,
			"1Z1", []string{"GET orders/1001/metafields.json?limit=2&namespace=mechanic"}},
		{"fulfillment.order, fetched once", `{{ fulfillment.order.name }} {{ fulfillment.order.email }} {{ fulfillment.order.metafields.mechanic.known_tracking_numbers.value | size }}`, "shopify/fulfillments/create", `{"id": 255858046, "order_id": 1001}`,
			"#1001 buyer5@example.com 1", []string{"GET orders/1001.json", "GET orders/1001/metafields.json?limit=2&namespace=mechanic"}},
		{"refund.order.customer (nested in the fetched order)", `{{ refund.order.customer.tags }}`, "shopify/refunds/create", `{"id": 509562969, "order_id": 1003}`,
			"vip, repeat", []string{"GET orders/1003.json"}},
		{"order_edit.order", `{{ order_edit.order.name }}`, "shopify/orders/edited", `{"order_edit": {"id": 78, "order_id": 1004}}`,
			"#1004", []string{"GET orders/1004.json"}},
		{"fulfillment_event.order and .fulfillment", `{{ fulfillment_event.order.name }} {{ fulfillment_event.fulfillment.tracking_company }}`, "shopify/fulfillment_events/create", `{"id": 944956395, "order_id": 1001, "fulfillment_id": 255858046, "status": "delivered"}`,
			"#1001 UPS", []string{"GET orders/1001.json", "GET orders/1001/fulfillments/255858046.json"}},
		{"product.metafields loop", `{% for mf in product.metafields %}{{ mf.namespace }}.{{ mf.key }}={{ mf.value }}{% endfor %}`, "shopify/products/update", `{"id": 632910392}`,
			"specs.material=wool", []string{"GET products/632910392/metafields.json?limit=2"}},
		{"the subject keeps its JSON and iteration", `{{ order | json }}|{% for p in order %}{{ p[0] }},{% endfor %}|{{ order.size }}|{{ event.data.reload | json }}`, "shopify/orders/create", orderEvent,
			`{"id":1001,"name":"#1001","email":"buyer5@example.com","note":"stale note","customer":{"id":5,"email":"buyer5@example.com","tags":"vip, repeat"},"line_items":[{"id":1,"product_id":632910392,"variant_id":808950810,"sku":"IPOD"}]}|id,name,email,note,customer,line_items,|6|null`, nil},
		{"pinned API version", `{{ shop.name }}`, "mechanic/user/trigger", "", "Snowdevil", []string{"GET shop.json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newRESTShop(t)
			fixture(s)
			r := liveRenderer(s, 20, 2, nil)
			got, err := render(t, r, tc.script, tc.topic, tc.data, false)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if got != tc.want {
				t.Errorf("output\n got %q\nwant %q", got, tc.want)
			}
			calls := s.callLog()
			if len(calls) != len(tc.calls) {
				t.Fatalf("calls %q, want %q", calls, tc.calls)
			}
			for i, c := range calls {
				want := tc.calls[i]
				if p, ok := strings.CutSuffix(want, "*"); ok {
					if !strings.HasPrefix(c, p) {
						t.Errorf("call %d: %q, want %q…", i, c, p)
					}
				} else if c != want {
					t.Errorf("call %d: %q, want %q", i, c, want)
				}
			}
		})
	}
}

// TestAPIVersion checks that a task's pinned version is used for its
// lookups.
func TestAPIVersion(t *testing.T) {
	s := newRESTShop(t)
	fixture(s)
	r := liveRenderer(s, 5, 2, nil)
	tk := task.New("pinned")
	tk.Script = `{{ shop.name }}{{ shop.orders.size }}`
	tk.ShopifyAPIVersion = "2025-10"
	res, err := r.Run(context.Background(), run.Input{Task: tk, Event: &run.Event{Topic: "mechanic/user/trigger"}})
	if res == nil || res.Text != "Snowdevil5" {
		t.Fatalf("run: %v, %v", res, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.version) != 2 || s.version[0] != "2025-10" || s.version[1] != "2025-10" {
		t.Errorf("API versions of the calls: %v, want 2025-10 for both", s.version)
	}
}

// TestFailures checks that a lookup that cannot be made fails the run,
// naming the lookup and the cause, instead of reading as nil.
func TestFailures(t *testing.T) {
	cases := []struct {
		name, script, topic, data string
		failPath                  string
		maxCalls                  int
		noClient                  bool
		want                      []string
	}{
		{name: "server error on a collection", script: `{% for o in shop.orders %}{{ o.name }}{% endfor %}`, topic: "mechanic/user/trigger",
			failPath: "orders.json", maxCalls: 10, want: []string{"shop.orders: GET orders.json?limit=2&status=open: shopify: GET ", "HTTP 500"}},
		{name: "server error on an association", script: `{{ order.transactions | size }}`, topic: "shopify/orders/create", data: orderEvent,
			failPath: "orders/1001/transactions.json", maxCalls: 10, want: []string{"order.transactions: GET orders/1001/transactions.json", "HTTP 500"}},
		{name: "server error on an id lookup", script: `{% assign id = 1003 %}{{ shop.orders[id].name }}`, topic: "mechanic/user/trigger",
			failPath: "orders/1003.json", maxCalls: 10, want: []string{"shop.orders[1003]: GET orders/1003.json", "HTTP 500"}},
		{name: "server error on reload", script: `{{ order.reload.note }}`, topic: "shopify/orders/create", data: orderEvent,
			failPath: "orders/1001.json", maxCalls: 10, want: []string{"order.reload: GET orders/1001.json", "HTTP 500"}},
		{name: "server error on shop attributes", script: `{{ shop.name }}`, topic: "mechanic/user/trigger",
			failPath: "shop.json", maxCalls: 10, want: []string{"shop.name: GET shop.json", "HTTP 503"}},
		{name: "call budget exhausted while paging", script: `{% for o in shop.orders.any %}{{ o.name }}{% endfor %}`, topic: "mechanic/user/trigger",
			maxCalls: 2, want: []string{"shop.orders.any: GET orders.json?limit=2&page_info=", "Shopify API call limit of the run exceeded (at most 2 calls per run)"}},
		{name: "no shop connected", script: `{{ shop.orders.size }}`, topic: "mechanic/user/trigger",
			noClient: true, maxCalls: 10, want: []string{"shop.orders.size: no Shopify shop is connected"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newRESTShop(t)
			fixture(s)
			if tc.failPath != "" {
				status := 500
				if tc.failPath == "shop.json" {
					status = 503
				}
				s.fail[tc.failPath] = status
			}
			r := liveRenderer(s, tc.maxCalls, 2, nil)
			if tc.noClient {
				r.Objects = func(ctx context.Context, v string) run.LiveObjects {
					return objects.NewSession(ctx, objects.Config{APIVersion: v})
				}
			}
			out, err := render(t, r, tc.script, tc.topic, tc.data, false)
			if err == nil {
				t.Fatalf("run succeeded with %q; want it to fail", out)
			}
			var re *run.Error
			if !errors.As(err, &re) || re.Kind != run.KindRender {
				t.Errorf("error %v is not a render error of the run", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestPreviewUnchanged checks that previews never reach the objects: the
// preview shop and plain payloads, and no call.
func TestPreviewUnchanged(t *testing.T) {
	s := newRESTShop(t)
	fixture(s)
	var sessions []*objects.Session
	r := liveRenderer(s, 10, 2, &sessions)
	got, err := render(t, r, `{{ shop.name }}|{{ shop.orders.size }}|{{ order.reload | json }}|{{ order.transactions | json }}`, "shopify/orders/create", orderEvent, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Example Shop|0|null|null"; got != want {
		t.Errorf("preview output %q, want %q", got, want)
	}
	if len(sessions) != 0 || len(s.callLog()) != 0 {
		t.Errorf("preview opened %d sessions and made calls %q", len(sessions), s.callLog())
	}
}

// TestShopCache checks that the shop's attributes are fetched once for
// several runs within the cache's TTL, each run charged only when it
// fetches.
func TestShopCache(t *testing.T) {
	s := newRESTShop(t)
	fixture(s)
	cache := objects.NewShopCache(0)
	r := &run.Renderer{
		Engine: dialect.NewEngine(dialect.Options{}),
		Objects: func(ctx context.Context, v string) run.LiveObjects {
			return objects.NewSession(ctx, objects.Config{Client: s.caller(), APIVersion: v, Shop: cache})
		},
	}
	for i := 0; i < 3; i++ {
		got, err := render(t, r, `{{ shop.name }}/{{ shop.currency }}`, "mechanic/user/trigger", "", false)
		if err != nil || got != "Snowdevil/CAD" {
			t.Fatalf("run %d: %q, %v", i, got, err)
		}
	}
	if calls := s.callLog(); len(calls) != 1 || calls[0] != "GET shop.json" {
		t.Errorf("calls %q, want one GET shop.json", calls)
	}
}

// TestBudgetCountsCalls checks the call budget's accounting: cached
// lookups are free, each page is charged.
func TestBudgetCountsCalls(t *testing.T) {
	s := newRESTShop(t)
	fixture(s)
	b := objects.NewCallBudget(100)
	se := objects.NewSession(context.Background(), objects.Config{Client: s.caller(), Budget: b, PageSize: 2})
	r := &run.Renderer{Engine: dialect.NewEngine(dialect.Options{}),
		Objects: func(context.Context, string) run.LiveObjects { return se }}
	got, err := render(t, r, `{{ shop.orders.any | size }} {{ shop.orders.any | size }} {{ shop.orders[1001].name }}`, "mechanic/user/trigger", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if got != "7 7 #1001" {
		t.Errorf("output %q", got)
	}
	// 7 orders in pages of 2: 4 calls, read once; then one id lookup
	if b.Used() != 5 || len(s.callLog()) != 5 {
		t.Errorf("budget used %d, calls %d (%q); want 5 each", b.Used(), len(s.callLog()), s.callLog())
	}
}
