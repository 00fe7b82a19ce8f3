package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/shopify/schema"
)

func TestNewRequiresSchemaAndToken(t *testing.T) {
	s := testSchema(t)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no schema", Options{AccessToken: "x"}, "Schema is required"},
		{"no token", Options{Schema: s}, "AccessToken is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	f := newFixture(t, nil)
	for _, token := range []string{"", "wrong"} {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/api/2026-01/graphql.json", strings.NewReader(`{"query":"{ shop { id } }"}`))
		if token != "" {
			req.Header.Set("X-Shopify-Access-Token", token)
		}
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token %q: HTTP %d, want 401", token, resp.StatusCode)
		}
	}
	if got := f.sb.Stats().Unauthorized; got != 2 {
		t.Errorf("Unauthorized = %d, want 2", got)
	}
}

func TestValidationRejections(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name, query  string
		line, column int
		code, inMsg  string
	}{
		{"unknown field", "{\n  shop {\n    nmae\n  }\n}", 3, 5, "undefinedField", "Field 'nmae' doesn't exist on type 'Shop'"},
		{"unknown argument", "mutation {\n  tagsAdd(id: \"gid://shopify/Order/1001\", tags: [\"x\"], colour: 1) { userErrors { message } }\n}", 2, 56, "argumentNotAccepted", "Field 'tagsAdd' doesn't accept argument 'colour'"},
		{"missing argument", "mutation { tagsAdd(id: \"gid://shopify/Order/1001\") { userErrors { message } } }", 1, 12, "missingRequiredArguments", "Field 'tagsAdd' is missing required arguments: tags"},
		{"syntax", "{ shop { name }", 1, 16, "parseError", "Expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.gql(t, tt.query, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 as Shopify answers validation errors", r.Status)
			}
			if r.Data != nil {
				t.Errorf("data present for an invalid document: %s", r.Raw)
			}
			if len(r.Errors) == 0 {
				t.Fatalf("no errors: %s", r.Raw)
			}
			e := r.Errors[0]
			if len(e.Locations) == 0 || e.Locations[0].Line != tt.line || e.Locations[0].Column != tt.column {
				t.Errorf("locations %v, want %d:%d", e.Locations, tt.line, tt.column)
			}
			if e.Extensions["code"] != tt.code {
				t.Errorf("code %v, want %s", e.Extensions["code"], tt.code)
			}
			if !strings.Contains(e.Message, tt.inMsg) {
				t.Errorf("message %q lacks %q", e.Message, tt.inMsg)
			}
		})
	}
	// Nothing was executed: the order keeps its tags.
	if got := f.sb.Stats().InvalidQueries; got != len(tests) {
		t.Errorf("InvalidQueries = %d, want %d", got, len(tests))
	}
	if f.sb.Stats().Mutations != 0 {
		t.Error("an invalid mutation was executed")
	}
}

// Library task mutations and reads, rendered as the tasks render them.
const (
	// auto-tag-orders-with-product-vendors
	libTagsAdd = `mutation {
      tagsAdd(
        id: "gid://shopify/Order/1001"
        tags: ["Apple","Nike"]
      ) {
        userErrors {
          field
          message
        }
      }
    }`
	// advanced-scheduled-price-changes (the shop metafield write)
	libMetafieldsSet = `mutation {
          metafieldsSet(
            metafields: [
              {
                ownerId: "gid://shopify/Shop/1"
                namespace: "mechanic"
                key: "price_change_events"
                value: "{\"123\":{\"status\":\"ongoing\"}}"
                type: "json"
              }
            ]
          ) {
            metafields {
              id
              namespace
              key
              type
              jsonValue
              owner {
                ... on Shop {
                  id
                  name
                  myshopifyDomain
                }
              }
            }
            userErrors {
              code
              field
              message
            }
          }
        }`
	// alert-when-daily-order-limit-is-reached
	libOrdersPage = `query($cursor: String, $q: String) {
        orders(
          first: 250
          after: $cursor
          query: $q
        ) {
          pageInfo {
            hasNextPage
            endCursor
          }
          nodes {
            id
            name
            email
            totalPriceSet {
              shopMoney {
                amount
                currencyCode
              }
            }
            createdAt
          }
        }
      }`
	// accept-a-maximum-number-of-orders-per-day
	libInventoryAdjust = `mutation {
        inventoryAdjustQuantities(
          input: {
            reason: "correction"
            name: "available"
            changes: [{delta: -2, inventoryItemId: "gid://shopify/InventoryItem/1001", locationId: "gid://shopify/Location/1001"}]
          }
        ) @idempotent(key: "0123456789abcdef") {
          inventoryAdjustmentGroup {
            reason
            changes(quantityNames: "available") {
              name
              delta
              item {
                id
                sku
              }
              location {
                name
              }
            }
          }
          userErrors {
            code
            field
            message
          }
        }
      }`
)

func TestTagsAddThenRemove(t *testing.T) {
	f := newFixture(t, nil)
	d := f.mustData(t, libTagsAdd, nil)
	if ue := dig(d, "tagsAdd", "userErrors"); len(ue.([]any)) != 0 {
		t.Fatalf("userErrors %v", ue)
	}
	read := `{ order(id: "gid://shopify/Order/1001") { id tags } }`
	tags := dig(f.mustData(t, read, nil), "order", "tags").([]any)
	if !slices.Contains(tags, any("Apple")) || !slices.Contains(tags, any("Nike")) {
		t.Fatalf("tags after tagsAdd = %v", tags)
	}
	// Adding again does not duplicate; case-insensitive like Shopify.
	f.mustData(t, `mutation { tagsAdd(id: "gid://shopify/Order/1001", tags: "apple, Extra") { node { id } userErrors { message } } }`, nil)
	tags = dig(f.mustData(t, read, nil), "order", "tags").([]any)
	if n := countFold(tags, "apple"); n != 1 || !slices.Contains(tags, any("Extra")) {
		t.Fatalf("tags after second tagsAdd = %v", tags)
	}
	f.mustData(t, `mutation { tagsRemove(id: "gid://shopify/Order/1001", tags: ["Nike"]) { node { ... on Order { tags } } userErrors { message } } }`, nil)
	tags = dig(f.mustData(t, read, nil), "order", "tags").([]any)
	if slices.Contains(tags, any("Nike")) {
		t.Fatalf("Nike still there after tagsRemove: %v", tags)
	}
	o, _ := f.sb.Object("gid://shopify/Order/1001")
	if !slices.Contains(o["tags"].([]any), any("Apple")) {
		t.Errorf("stored tags %v", o["tags"])
	}
}

func countFold(l []any, s string) int {
	n := 0
	for _, x := range l {
		if strings.EqualFold(x.(string), s) {
			n++
		}
	}
	return n
}

func TestMutationUserErrors(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name, query string
		payload     string
		field       string
	}{
		{"tagsAdd unknown id", `mutation { tagsAdd(id: "gid://shopify/Order/999999", tags: ["x"]) { node { id } userErrors { field message } } }`, "tagsAdd", "id"},
		{"orderUpdate unknown id", `mutation { orderUpdate(input: {id: "gid://shopify/Order/999999", note: "x"}) { order { id } userErrors { field message } } }`, "orderUpdate", "id"},
		{"metafieldsSet bad integer", `mutation { metafieldsSet(metafields: [{ownerId: "gid://shopify/Product/1001", namespace: "custom", key: "n", type: "number_integer", value: "abc"}]) { metafields { id } userErrors { field message code } } }`, "metafieldsSet", "metafields"},
		{"metafieldsSet unknown type", `mutation { metafieldsSet(metafields: [{ownerId: "gid://shopify/Product/1001", namespace: "custom", key: "k", type: "sample", value: "1"}]) { metafields { id } userErrors { field message code } } }`, "metafieldsSet", "metafields"},
		{"metafieldsSet no type", `mutation { metafieldsSet(metafields: [{ownerId: "gid://shopify/Product/1001", namespace: "custom", key: "fresh", value: "abc"}]) { metafields { id } userErrors { field message code } } }`, "metafieldsSet", "metafields"},
		{"inventory not stocked", `mutation { inventoryAdjustQuantities(input: {reason: "correction", name: "available", changes: [{delta: 1, inventoryItemId: "gid://shopify/InventoryItem/1", locationId: "gid://shopify/Location/1001"}]}) { userErrors { field message } } }`, "inventoryAdjustQuantities", "input"},
		{"variant not of product", `mutation { productVariantsBulkUpdate(productId: "gid://shopify/Product/1001", variants: [{id: "gid://shopify/ProductVariant/1030", price: "1.00"}]) { userErrors { field message } } }`, "productVariantsBulkUpdate", "variants"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := f.mustData(t, tt.query, nil)
			ue, _ := dig(d, tt.payload, "userErrors").([]any)
			if len(ue) == 0 {
				t.Fatalf("no userErrors: %v", d)
			}
			if got := dig(ue[0], "field", 0); got != tt.field {
				t.Errorf("field %v, want %s first", dig(ue[0], "field"), tt.field)
			}
			if msg, _ := dig(ue[0], "message").(string); msg == "" {
				t.Error("empty message")
			}
		})
	}
	if _, ok := f.sb.Object("gid://shopify/Metafield/9999"); ok {
		t.Error("unexpected metafield")
	}
}

func TestMetafieldsSetThenRead(t *testing.T) {
	f := newFixture(t, nil)
	d := f.mustData(t, libMetafieldsSet, nil)
	mfs := dig(d, "metafieldsSet", "metafields").([]any)
	if len(mfs) != 1 || dig(mfs[0], "owner", "myshopifyDomain") != DefaultShop {
		t.Fatalf("metafields %v", mfs)
	}
	if got := dig(mfs[0], "jsonValue", "123", "status"); got != "ongoing" {
		t.Errorf("jsonValue = %v", dig(mfs[0], "jsonValue"))
	}
	r := f.mustData(t, `{ shop { metafield(namespace: "mechanic", key: "price_change_events") { value type } } }`, nil)
	if v := dig(r, "shop", "metafield", "value"); v != `{"123":{"status":"ongoing"}}` {
		t.Errorf("read back %v", v)
	}
	// Update in place, then list the product's metafields and delete one.
	set := `mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { id value } userErrors { message } } }`
	vars := map[string]any{"m": []any{map[string]any{"ownerId": "gid://shopify/Product/1002", "namespace": "custom", "key": "size", "type": "number_integer", "value": "4"}}}
	first := dig(f.mustData(t, set, vars), "metafieldsSet", "metafields", 0, "id")
	vars["m"].([]any)[0].(map[string]any)["value"] = "5"
	second := dig(f.mustData(t, set, vars), "metafieldsSet", "metafields", 0, "id")
	if first != second {
		t.Errorf("metafieldsSet created a second metafield %v for the same key (first %v)", second, first)
	}
	list := f.mustData(t, `{ product(id: "gid://shopify/Product/1002") { metafields(first: 10, namespace: "custom") { nodes { key value } } } }`, nil)
	nodes := dig(list, "product", "metafields", "nodes").([]any)
	if len(nodes) != 1 || dig(nodes[0], "value") != "5" {
		t.Fatalf("metafields %v", nodes)
	}
	del := f.mustData(t, `mutation { metafieldsDelete(metafields: [{ownerId: "gid://shopify/Product/1002", namespace: "custom", key: "size"}, {ownerId: "gid://shopify/Product/1002", namespace: "custom", key: "none"}]) { deletedMetafields { key } userErrors { message } } }`, nil)
	deleted := dig(del, "metafieldsDelete", "deletedMetafields").([]any)
	if len(deleted) != 2 || dig(deleted[0], "key") != "size" || deleted[1] != nil {
		t.Errorf("deletedMetafields %v", deleted)
	}
	after := f.mustData(t, `{ product(id: "gid://shopify/Product/1002") { metafield(namespace: "custom", key: "size") { id } } }`, nil)
	if dig(after, "product", "metafield") != nil {
		t.Error("metafield still readable after delete")
	}
}

func TestInventoryAdjustAndSet(t *testing.T) {
	f := newFixture(t, nil)
	read := `{ inventoryItem(id: "gid://shopify/InventoryItem/1001") { sku inventoryLevel(locationId: "gid://shopify/Location/1001") { quantities(names: ["available", "on_hand"]) { name quantity } } } }`
	qty := func() (int, int) {
		d := f.mustData(t, read, nil)
		q := dig(d, "inventoryItem", "inventoryLevel", "quantities").([]any)
		return int(dig(q[0], "quantity").(float64)), int(dig(q[1], "quantity").(float64))
	}
	a0, h0 := qty()
	d := f.mustData(t, libInventoryAdjust, nil)
	changes := dig(d, "inventoryAdjustQuantities", "inventoryAdjustmentGroup", "changes").([]any)
	if len(changes) != 1 || dig(changes[0], "delta") != float64(-2) || dig(changes[0], "location", "name") != "Main Warehouse" {
		t.Fatalf("changes %v", changes)
	}
	a1, h1 := qty()
	if a1 != a0-2 || h1 != h0-2 {
		t.Fatalf("after adjust available %d on_hand %d, want %d %d", a1, h1, a0-2, h0-2)
	}
	f.mustData(t, `mutation { inventorySetQuantities(input: {reason: "correction", name: "available", ignoreCompareQuantity: true, quantities: [{inventoryItemId: "gid://shopify/InventoryItem/1001", locationId: "gid://shopify/Location/1001", quantity: 50}]}) { userErrors { message } } }`, nil)
	if a, _ := qty(); a != 50 {
		t.Fatalf("after set available = %d, want 50", a)
	}
	v := f.mustData(t, `{ productVariant(id: "gid://shopify/ProductVariant/1001") { inventoryQuantity } }`, nil)
	if got := dig(v, "productVariant", "inventoryQuantity"); got != float64(50) {
		t.Errorf("variant inventoryQuantity = %v, want 50", got)
	}
}

func TestPaginationAndSearch(t *testing.T) {
	f := newFixture(t, nil)
	f.mustData(t, `mutation { tagsAdd(id: "gid://shopify/Order/1003", tags: ["vip"]) { userErrors { message } } }`, nil)
	q := `query($cursor: String) { orders(first: 7, after: $cursor, query: "status:any") { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	seen := map[string]bool{}
	var cursor any
	pages := 0
	for {
		d := f.mustData(t, q, map[string]any{"cursor": cursor})
		pages++
		for _, e := range dig(d, "orders", "edges").([]any) {
			id := dig(e, "node", "id").(string)
			if seen[id] {
				t.Fatalf("order %s on two pages", id)
			}
			seen[id] = true
		}
		if dig(d, "orders", "pageInfo", "hasNextPage") != true {
			break
		}
		cursor = dig(d, "orders", "pageInfo", "endCursor")
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
	}
	if want := len(f.sb.IDs("Order")); len(seen) != want || pages != (want+6)/7 {
		t.Fatalf("saw %d orders in %d pages, want %d", len(seen), pages, want)
	}

	tests := []struct {
		name, query string
		check       func(node map[string]any) bool
	}{
		{"tag", `{ orders(first: 250, query: "tag:vip") { nodes { tags } } }`, func(n map[string]any) bool { return slices.Contains(n["tags"].([]any), any("vip")) }},
		{"financial status", `{ orders(first: 250, query: "financial_status:paid") { nodes { displayFinancialStatus } } }`, func(n map[string]any) bool { return n["displayFinancialStatus"] == "PAID" }},
		{"product status", `{ products(first: 250, query: "status:draft") { nodes { status } } }`, func(n map[string]any) bool { return n["status"] == "DRAFT" }},
		{"id range", `{ customers(first: 250, query: "id:>1010") { nodes { legacyResourceId } } }`, func(n map[string]any) bool { return n["legacyResourceId"].(string) > "1010" }},
		{"created after", `{ orders(first: 250, query: "created_at:>=2026-02-15") { nodes { createdAt } } }`, func(n map[string]any) bool { return n["createdAt"].(string) >= "2026-02-15" }},
		{"free text", `{ products(first: 250, query: "mug") { nodes { title } } }`, func(n map[string]any) bool { return strings.Contains(strings.ToLower(n["title"].(string)), "mug") }},
		{"negated tag", `{ orders(first: 250, query: "status:any -tag:vip") { nodes { tags } } }`, func(n map[string]any) bool { return !slices.Contains(n["tags"].([]any), any("vip")) }},
		{"sku of variants", `{ productVariants(first: 5, query: "sku:SKU-001-1") { nodes { sku } } }`, func(n map[string]any) bool { return n["sku"] == "SKU-001-1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := f.mustData(t, tt.query, nil)
			var nodes []any
			for _, v := range d {
				nodes = dig(v, "nodes").([]any)
			}
			if len(nodes) == 0 {
				t.Fatalf("no matches")
			}
			for _, n := range nodes {
				if !tt.check(n.(map[string]any)) {
					t.Errorf("node %v does not match", n)
				}
			}
		})
	}

	// sortKey/reverse and last.
	d := f.mustData(t, `{ a: orders(first: 3, sortKey: CREATED_AT, reverse: true, query: "status:any") { nodes { createdAt } } b: orders(last: 2, query: "status:any") { nodes { id } pageInfo { hasPreviousPage hasNextPage } } }`, nil)
	created := dig(d, "a", "nodes").([]any)
	if dig(created[0], "createdAt").(string) < dig(created[1], "createdAt").(string) {
		t.Errorf("reverse CREATED_AT not descending: %v", created)
	}
	if dig(d, "b", "pageInfo", "hasPreviousPage") != true || len(dig(d, "b", "nodes").([]any)) != 2 {
		t.Errorf("last: 2 = %v", dig(d, "b"))
	}
	// A connection without first/last is an error, not empty data.
	r := f.gql(t, `{ orders(query: "x") { nodes { id } } }`, nil)
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "first or last") {
		t.Errorf("missing first/last: %s", r.Raw)
	}
}

func TestNodesFragmentsDirectives(t *testing.T) {
	f := newFixture(t, nil)
	q := `query($withEmail: Boolean!, $ids: [ID!]!) {
	  nodes(ids: $ids) {
	    __typename
	    ... on Customer { id email @include(if: $withEmail) displayName }
	    ...P
	  }
	  missing: node(id: "gid://shopify/Order/424242") { id }
	}
	fragment P on Product { id productTitle: title hidden: vendor @skip(if: true) }`
	d := f.mustData(t, q, map[string]any{"withEmail": false, "ids": []any{"gid://shopify/Customer/1001", "gid://shopify/Product/1001", "gid://shopify/Nope/1"}})
	nodes := dig(d, "nodes").([]any)
	if len(nodes) != 3 || nodes[2] != nil {
		t.Fatalf("nodes %v", nodes)
	}
	c := nodes[0].(map[string]any)
	if c["__typename"] != "Customer" || c["displayName"] == "" {
		t.Errorf("customer %v", c)
	}
	if _, ok := c["email"]; ok {
		t.Error("@include(if: false) field present")
	}
	p := nodes[1].(map[string]any)
	if p["__typename"] != "Product" || p["productTitle"] == nil {
		t.Errorf("product %v", p)
	}
	if _, ok := p["hidden"]; ok {
		t.Error("@skip(if: true) field present")
	}
	if d["missing"] != nil {
		t.Errorf("unknown node = %v, want null", d["missing"])
	}
	// Non-null fields without stored values get zero values.
	z := f.mustData(t, `{ product(id: "gid://shopify/Product/1001") { requiresSellingPlan tracksInventory seo { title } mediaCount { count } } }`, nil)
	if dig(z, "product", "requiresSellingPlan") != false || dig(z, "product", "seo") == nil {
		t.Errorf("zero values %v", z)
	}
	// Variables are checked.
	r := f.gql(t, `query($n: Int!) { orders(first: $n) { nodes { id } } }`, map[string]any{})
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "INVALID_VARIABLE" {
		t.Errorf("missing variable: %s", r.Raw)
	}
}

func TestCostAndThrottling(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.BucketSize = 50; o.RestoreRate = 10 })
	q := `{ products(first: 10) { nodes { id } } }` // cost 12
	for i := range 4 {
		r := f.gql(t, q, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("call %d: %s", i, r.Raw)
		}
		if r.Extensions.Cost.RequestedQueryCost != 12 {
			t.Fatalf("requested cost %d, want 12", r.Extensions.Cost.RequestedQueryCost)
		}
	}
	// 50 - 4*12 = 2 points left (the actual cost equals the requested one
	// here: 10 products exist).
	r := f.gql(t, q, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "THROTTLED" || r.Data != nil {
		t.Fatalf("5th call not throttled: %s", r.Raw)
	}
	if ts := r.Extensions.Cost.ThrottleStatus; ts.MaximumAvailable != 50 || ts.CurrentlyAvailable != 2 || ts.RestoreRate != 10 {
		t.Errorf("throttleStatus %+v", ts)
	}
	st := f.sb.Stats()
	if st.Throttled != 1 || !st.ExceededBucket || st.MinAvailable != 2 {
		t.Errorf("stats %+v", st)
	}
	// One second restores 10 points: 12 are now available.
	f.clock.Advance(time.Second)
	r = f.gql(t, q, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("after restore: %s", r.Raw)
	}
	if got := r.Extensions.Cost.ThrottleStatus.CurrentlyAvailable; got != 0 {
		t.Errorf("currentlyAvailable = %v, want 0", got)
	}
	// The bucket never exceeds its size.
	f.clock.Advance(time.Hour)
	r = f.gql(t, `{ shop { id } }`, nil)
	if got := r.Extensions.Cost.ThrottleStatus.CurrentlyAvailable; got != 49 {
		t.Errorf("after an hour currentlyAvailable = %v, want 49", got)
	}
	// Actual cost below requested is refunded.
	f2 := newFixture(t, nil)
	r = f2.gql(t, `{ orders(first: 100, query: "tag:nothing-matches") { nodes { id } } }`, nil)
	if r.Extensions.Cost.RequestedQueryCost != 102 || r.Extensions.Cost.ActualQueryCost == nil || *r.Extensions.Cost.ActualQueryCost != 2 {
		t.Errorf("cost %+v", r.Extensions.Cost)
	}
	if got := r.Extensions.Cost.ThrottleStatus.CurrentlyAvailable; got != DefaultBucketSize-2 {
		t.Errorf("currentlyAvailable = %v, want %d", got, DefaultBucketSize-2)
	}
	// Over the single-query limit.
	r = f2.gql(t, `{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "MAX_COST_EXCEEDED" {
		t.Errorf("max cost: %s", r.Raw)
	}
	// The limit is configurable.
	f3 := newFixture(t, func(o *Options) { o.MaxQueryCost = -1; o.BucketSize = 1e6 })
	if r := f3.gql(t, `{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }`, nil); len(r.Errors) > 0 {
		t.Errorf("MaxQueryCost -1: %s", r.Raw)
	}
}

func TestOrderLifecycleMutations(t *testing.T) {
	f := newFixture(t, nil)
	var authorized string
	for _, id := range f.sb.IDs("Order") {
		o, _ := f.sb.Object(id)
		if o["displayFinancialStatus"] == "AUTHORIZED" && o["cancelledAt"] == nil {
			authorized = id
			break
		}
	}
	if authorized == "" {
		t.Fatal("seed has no authorized order")
	}
	d := f.mustData(t, `query($id: ID!) { order(id: $id) { transactions(first: 5) { id kind amountSet { shopMoney { amount } } } } }`, map[string]any{"id": authorized})
	tx := dig(d, "order", "transactions", 0).(map[string]any)
	capture := `mutation($in: OrderCaptureInput!) { orderCapture(input: $in) { transaction { kind status order { displayFinancialStatus } } userErrors { field message } } }`
	c := f.mustData(t, capture, map[string]any{"in": map[string]any{"id": authorized, "parentTransactionId": tx["id"], "amount": dig(tx, "amountSet", "shopMoney", "amount")}})
	if dig(c, "orderCapture", "transaction", "order", "displayFinancialStatus") != "PAID" {
		t.Fatalf("capture: %v", c)
	}
	cl := f.mustData(t, `mutation($id: ID!) { orderClose(input: {id: $id}) { order { closed closedAt } userErrors { message } } }`, map[string]any{"id": authorized})
	if dig(cl, "orderClose", "order", "closed") != true {
		t.Errorf("close: %v", cl)
	}
	cancel := `mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true, refund: false) { job { id done } orderCancelUserErrors { message } userErrors { message } } }`
	f.mustData(t, cancel, map[string]any{"id": authorized})
	again := f.mustData(t, cancel, map[string]any{"id": authorized})
	if ue := dig(again, "orderCancel", "userErrors").([]any); len(ue) != 1 {
		t.Errorf("second cancel userErrors %v", ue)
	}
	o, _ := f.sb.Object(authorized)
	if o["cancelledAt"] == nil || o["cancelReason"] != "CUSTOMER" {
		t.Errorf("stored order %v %v", o["cancelledAt"], o["cancelReason"])
	}

	// Fulfil an open order through its fulfillment order.
	var open string
	for _, id := range f.sb.IDs("Order") {
		o, _ := f.sb.Object(id)
		if o["displayFulfillmentStatus"] == "UNFULFILLED" && o["cancelledAt"] == nil {
			open = id
			break
		}
	}
	fo := f.mustData(t, `query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 10) { nodes { id remainingQuantity } } } } } }`, map[string]any{"id": open})
	foID := dig(fo, "order", "fulfillmentOrders", "nodes", 0, "id")
	fc := f.mustData(t, `mutation($fo: ID!) { fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder: [{fulfillmentOrderId: $fo}], trackingInfo: {number: "1Z999", company: "UPS"}, notifyCustomer: false}) { fulfillment { id status trackingInfo { number company } order { displayFulfillmentStatus } } userErrors { field message } } }`, map[string]any{"fo": foID})
	if dig(fc, "fulfillmentCreate", "fulfillment", "order", "displayFulfillmentStatus") != "FULFILLED" ||
		dig(fc, "fulfillmentCreate", "fulfillment", "trackingInfo", 0, "number") != "1Z999" {
		t.Fatalf("fulfillmentCreate: %v", fc)
	}
	fid := dig(fc, "fulfillmentCreate", "fulfillment", "id")
	f.mustData(t, `mutation($id: ID!) { fulfillmentCancel(id: $id) { fulfillment { status } userErrors { message } } }`, map[string]any{"id": fid})
	back, _ := f.sb.Object(open)
	if back["displayFulfillmentStatus"] != "UNFULFILLED" {
		t.Errorf("after fulfillmentCancel status %v", back["displayFulfillmentStatus"])
	}

	// Draft order create and complete makes an order.
	dc := f.mustData(t, `mutation { draftOrderCreate(input: {customerId: "gid://shopify/Customer/1001", lineItems: [{variantId: "gid://shopify/ProductVariant/1001", quantity: 2}, {title: "Gift wrap", originalUnitPrice: "5.00", quantity: 1}], tags: ["wholesale"]}) { draftOrder { id status totalPriceSet { shopMoney { amount } } } userErrors { message } } }`, nil)
	did := dig(dc, "draftOrderCreate", "draftOrder", "id")
	comp := f.mustData(t, `mutation($id: ID!) { draftOrderComplete(id: $id) { draftOrder { status order { id tags customer { id } lineItems(first: 5) { nodes { title quantity } } } } userErrors { message } } }`, map[string]any{"id": did})
	if dig(comp, "draftOrderComplete", "draftOrder", "status") != "COMPLETED" || dig(comp, "draftOrderComplete", "draftOrder", "order", "customer", "id") != "gid://shopify/Customer/1001" {
		t.Fatalf("draftOrderComplete: %v", comp)
	}
	if n := len(dig(comp, "draftOrderComplete", "draftOrder", "order", "lineItems", "nodes").([]any)); n != 2 {
		t.Errorf("completed order has %d line items", n)
	}
}

func TestProductCustomerCollectionMutations(t *testing.T) {
	f := newFixture(t, nil)
	f.mustData(t, `mutation { productUpdate(product: {id: "gid://shopify/Product/1001", title: "Renamed", tags: ["x", "y"]}) { product { id } userErrors { message } } }`, nil)
	p, _ := f.sb.Object("gid://shopify/Product/1001")
	if p["title"] != "Renamed" || len(p["tags"].([]any)) != 2 {
		t.Errorf("product %v %v", p["title"], p["tags"])
	}
	vb := f.mustData(t, `mutation { productVariantsBulkUpdate(productId: "gid://shopify/Product/1001", variants: [{id: "gid://shopify/ProductVariant/1001", price: "19.50", compareAtPrice: "25"}]) { productVariants { price compareAtPrice } userErrors { message } } }`, nil)
	if dig(vb, "productVariantsBulkUpdate", "productVariants", 0, "price") != "19.5" {
		t.Errorf("variant price %v", dig(vb, "productVariantsBulkUpdate", "productVariants"))
	}
	cu := f.mustData(t, `mutation { customerUpdate(input: {id: "gid://shopify/Customer/1001", note: "hello", tags: ["vip"]}) { customer { note tags } userErrors { message } } }`, nil)
	if dig(cu, "customerUpdate", "customer", "note") != "hello" {
		t.Errorf("customerUpdate %v", cu)
	}
	dup := f.mustData(t, `mutation { customerCreate(input: {email: "ada.lovelace1@example.com"}) { customer { id } userErrors { field message } } }`, nil)
	if ue := dig(dup, "customerCreate", "userErrors").([]any); len(ue) != 1 {
		t.Errorf("duplicate email accepted: %v", dup)
	}
	col := "gid://shopify/Collection/1002"
	f.mustData(t, `mutation($id: ID!) { collectionAddProducts(id: $id, productIds: ["gid://shopify/Product/1002"]) { collection { id } userErrors { message } } }`, map[string]any{"id": col})
	in := f.mustData(t, `{ product(id: "gid://shopify/Product/1002") { inCollection(id: "gid://shopify/Collection/1002") } collection(id: "gid://shopify/Collection/1002") { hasProduct(id: "gid://shopify/Product/1002") productsCount { count } } }`, nil)
	if dig(in, "product", "inCollection") != true || dig(in, "collection", "hasProduct") != true {
		t.Errorf("membership %v", in)
	}
	f.mustData(t, `mutation($id: ID!) { collectionRemoveProducts(id: $id, productIds: ["gid://shopify/Product/1002"]) { job { id } userErrors { message } } }`, map[string]any{"id": col})
	in = f.mustData(t, `{ product(id: "gid://shopify/Product/1002") { inCollection(id: "gid://shopify/Collection/1002") } }`, nil)
	if dig(in, "product", "inCollection") != false {
		t.Errorf("still in collection after remove")
	}
	pubs := f.mustData(t, `{ publications(first: 5) { nodes { id name } } }`, nil)
	pub := dig(pubs, "publications", "nodes", 0, "id")
	f.mustData(t, `mutation($p: ID!) { publishablePublish(id: "gid://shopify/Product/1003", input: [{publicationId: $p}]) { userErrors { message } } }`, map[string]any{"p": pub})
	pp := f.mustData(t, `query($p: ID!) { product(id: "gid://shopify/Product/1003") { publishedOnPublication(publicationId: $p) } }`, map[string]any{"p": pub})
	if dig(pp, "product", "publishedOnPublication") != true {
		t.Error("not published")
	}
	r := f.gql(t, `mutation { discountAutomaticBulkDelete(ids: ["gid://shopify/DiscountAutomaticNode/1"]) { userErrors { message } } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "NOT_IMPLEMENTED" {
		t.Errorf("unimplemented mutation: %s", r.Raw)
	}
}

func TestConcurrentClients(t *testing.T) {
	f := newFixture(t, nil)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.gql(t, `mutation($t: [String!]!) { tagsAdd(id: "gid://shopify/Customer/1001", tags: $t) { userErrors { message } } }`, map[string]any{"t": []any{"c" + strconv.Itoa(i)}})
			if len(r.Errors) > 0 {
				errs <- r.Raw
			}
			f.gql(t, `{ customer(id: "gid://shopify/Customer/1001") { tags } }`, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	c, _ := f.sb.Object("gid://shopify/Customer/1001")
	for i := range n {
		if !slices.Contains(c["tags"].([]any), any("c"+strconv.Itoa(i))) {
			t.Errorf("tag c%d lost", i)
		}
	}
	if st := f.sb.Stats(); st.GraphQL != 2*n || st.Mutations != n {
		t.Errorf("stats %+v", st)
	}
}

func TestSchemaPerVersion(t *testing.T) {
	older, err := schema.LoadFile(shared.For(t, "corpus", "shopify", "admin-schema", "admin_2025-10.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(o *Options) { o.Schemas = map[string]*schema.Schema{"2025-10": older} })
	// @idempotent exists in 2026-01 only.
	q := `mutation { tagsAdd(id: "gid://shopify/Order/1001", tags: ["x"]) @idempotent(key: "k1") { userErrors { message } } }`
	if r := f.gql(t, q, nil); len(r.Errors) > 0 {
		t.Fatalf("2026-01: %s", r.Raw)
	}
	body, _ := json.Marshal(map[string]any{"query": q})
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/admin/api/2025-10/graphql.json", bytes.NewReader(body))
	req.Header.Set("X-Shopify-Access-Token", testToken)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), "idempotent") || !strings.Contains(string(raw), "undefinedDirective") {
		t.Errorf("2025-10 accepted @idempotent: %s", raw)
	}
}

func TestLessCommonMutations(t *testing.T) {
	f := newFixture(t, nil)
	var fulfilled string
	for _, id := range f.sb.IDs("Fulfillment") {
		fulfilled = id
		break
	}
	tests := []struct {
		name, query string
		vars        map[string]any
		check       func(d map[string]any) bool
	}{
		{"segmentCreate", `mutation { segmentCreate(name: "Big spenders", query: "amount_spent >= 100") { segment { id name query } userErrors { message } } }`, nil,
			func(d map[string]any) bool { return dig(d, "segmentCreate", "segment", "name") == "Big spenders" }},
		{"segmentCreate duplicate", `mutation { a: segmentCreate(name: "Dup", query: "x") { segment { id } } b: segmentCreate(name: "Dup", query: "x") { segment { id } userErrors { field } } }`, nil,
			func(d map[string]any) bool {
				return dig(d, "b", "segment") == nil && dig(d, "b", "userErrors", 0, "field", 0) == "name"
			}},
		{"fulfillmentTrackingInfoUpdate", `mutation($id: ID!) { fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput: {number: "TRK1", company: "DHL"}) { fulfillment { trackingInfo { number company } } userErrors { message } } }`, map[string]any{"id": fulfilled},
			func(d map[string]any) bool {
				return dig(d, "fulfillmentTrackingInfoUpdate", "fulfillment", "trackingInfo", 0, "number") == "TRK1"
			}},
		{"fulfillmentEventCreate", `mutation($id: ID!) { fulfillmentEventCreate(fulfillmentEvent: {fulfillmentId: $id, status: DELIVERED}) { fulfillmentEvent { status } userErrors { message } } }`, map[string]any{"id": fulfilled},
			func(d map[string]any) bool {
				return dig(d, "fulfillmentEventCreate", "fulfillmentEvent", "status") == "DELIVERED"
			}},
		{"inventoryBulkToggleActivation off", `mutation { inventoryBulkToggleActivation(inventoryItemId: "gid://shopify/InventoryItem/1001", inventoryItemUpdates: [{locationId: "gid://shopify/Location/1003", activate: false}]) { inventoryItem { inventoryLevels(first: 5) { nodes { location { id } } } } userErrors { message } } }`, nil,
			func(d map[string]any) bool {
				return len(dig(d, "inventoryBulkToggleActivation", "inventoryItem", "inventoryLevels", "nodes").([]any)) == 2
			}},
		{"draftOrderUpdate", `mutation { draftOrderUpdate(id: "gid://shopify/DraftOrder/1001", input: {note: "rush", tags: ["b2b"]}) { draftOrder { note2 tags } userErrors { message } } }`, nil,
			func(d map[string]any) bool { return dig(d, "draftOrderUpdate", "draftOrder", "note2") == "rush" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := f.mustData(t, tt.query, tt.vars)
			if !tt.check(d) {
				t.Errorf("unexpected result %v", d)
			}
		})
	}
}

// TestEveryFieldOfStoredTypes selects every field (without required
// arguments) of every seeded type: each must resolve without an error and
// non-null fields must not come back null.
func TestEveryFieldOfStoredTypes(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.BucketSize = 1e9; o.RestoreRate = 1e9; o.MaxQueryCost = -1 })
	s := f.sb.schema.AST()
	for _, typ := range []string{"Order", "LineItem", "Customer", "Product", "ProductVariant", "InventoryItem", "InventoryLevel", "Location",
		"Collection", "Metafield", "DraftOrder", "Fulfillment", "FulfillmentOrder", "OrderTransaction", "Shop", "Publication"} {
		t.Run(typ, func(t *testing.T) {
			ids := f.sb.IDs(typ)
			if len(ids) == 0 {
				t.Fatalf("no %s in the seed", typ)
			}
			def := s.Types[typ]
			var sel []string
			for _, fd := range def.Fields {
				required := false
				for _, a := range fd.Arguments {
					if a.Type.NonNull && a.DefaultValue == nil {
						required = true
					}
				}
				if required || strings.HasPrefix(fd.Name, "__") {
					continue
				}
				ft := s.Types[fd.Type.Name()]
				switch {
				case ft.IsLeafType():
					sel = append(sel, fd.Name)
				case schema.IsConnection(ft, fd):
					sel = append(sel, fd.Name+"(first: 2) { nodes { __typename } pageInfo { hasNextPage } }")
				default:
					sel = append(sel, fd.Name+" { __typename }")
				}
			}
			q := `query($id: ID!) { node(id: $id) { ... on ` + typ + ` { ` + strings.Join(sel, "\n") + ` } } }`
			if typ == "Shop" {
				q = `query($id: ID!) { n: node(id: $id) { id } shop { ` + strings.Join(sel, "\n") + ` } }`
			}
			t.Logf("%d fields", len(sel))
			r := f.gql(t, q, map[string]any{"id": ids[0]})
			if r.Status != 200 {
				t.Fatalf("HTTP %d %s", r.Status, r.Raw)
			}
			for _, e := range r.Errors {
				if e.Extensions["code"] != "NOT_IMPLEMENTED" {
					t.Errorf("%s (%v)", e.Message, e.Path)
				}
			}
			obj, _ := r.Data["node"].(map[string]any)
			if typ == "Shop" {
				obj, _ = r.Data["shop"].(map[string]any)
			}
			if obj == nil {
				t.Fatalf("no object: %.500s", r.Raw)
			}
			for _, fd := range def.Fields {
				if v, ok := obj[fd.Name]; ok && v == nil && fd.Type.NonNull {
					t.Errorf("non-null field %s.%s is null", typ, fd.Name)
				}
			}
		})
	}
}

func TestOrderEdit(t *testing.T) {
	f := newFixture(t, nil)
	order := "gid://shopify/Order/1002"
	before := f.mustData(t, `query($id: ID!) { order(id: $id) { totalPriceSet { shopMoney { amount } } lineItems(first: 10) { nodes { id } } } }`, map[string]any{"id": order})
	total0, _ := strconv.ParseFloat(dig(before, "order", "totalPriceSet", "shopMoney", "amount").(string), 64)
	n0 := len(dig(before, "order", "lineItems", "nodes").([]any))

	begin := f.mustData(t, `mutation($id: ID!) { orderEditBegin(id: $id) { calculatedOrder { id originalOrder { name } lineItems(first: 10) { nodes { id quantity } } } userErrors { message } } }`, map[string]any{"id": order})
	calc := dig(begin, "orderEditBegin", "calculatedOrder", "id").(string)
	if n := len(dig(begin, "orderEditBegin", "calculatedOrder", "lineItems", "nodes").([]any)); n != n0 {
		t.Fatalf("calculated order has %d line items, want %d", n, n0)
	}
	add := f.mustData(t, `mutation($id: ID!) { orderEditAddVariant(id: $id, variantId: "gid://shopify/ProductVariant/1001", quantity: 2, allowDuplicates: true) { calculatedLineItem { id sku variant { id } } userErrors { message } } }`, map[string]any{"id": calc})
	cli := dig(add, "orderEditAddVariant", "calculatedLineItem", "id").(string)
	disc := f.mustData(t, `mutation($id: ID!, $li: ID!) { orderEditAddLineItemDiscount(id: $id, lineItemId: $li, discount: {percentValue: 50, description: "bundle"}) { calculatedLineItem { discountedUnitPriceSet { shopMoney { amount } } } userErrors { message } } }`, map[string]any{"id": calc, "li": cli})
	if ue := dig(disc, "orderEditAddLineItemDiscount", "userErrors").([]any); len(ue) != 0 {
		t.Fatalf("discount: %v", ue)
	}
	commit := f.mustData(t, `mutation($id: ID!) { orderEditCommit(id: $id, notifyCustomer: false) { order { edited totalPriceSet { shopMoney { amount } } lineItems(first: 10) { nodes { sku quantity } } } userErrors { message } } }`, map[string]any{"id": calc})
	o := dig(commit, "orderEditCommit", "order")
	if n := len(dig(o, "lineItems", "nodes").([]any)); n != n0+1 || dig(o, "edited") != true {
		t.Fatalf("after commit %v", o)
	}
	v, _ := f.sb.Object("gid://shopify/ProductVariant/1001")
	price, _ := strconv.ParseFloat(v["price"].(string), 64)
	total1, _ := strconv.ParseFloat(dig(o, "totalPriceSet", "shopMoney", "amount").(string), 64)
	if want := total0 + price; math.Abs(total1-want) > 0.011 {
		t.Errorf("total %v, want %v (two at half price)", total1, want)
	}
	again := f.mustData(t, `mutation($id: ID!) { orderEditCommit(id: $id) { order { id } userErrors { message } } }`, map[string]any{"id": calc})
	if len(dig(again, "orderEditCommit", "userErrors").([]any)) != 1 {
		t.Error("a committed edit committed twice")
	}
}

func TestCustomerSegmentMembers(t *testing.T) {
	// first: 1000 as the library pages segment members: 2002 points by the
	// documented default costs, above the single-query limit and the
	// standard bucket (see Options.MaxQueryCost).
	f := newFixture(t, func(o *Options) { o.MaxQueryCost = -1; o.BucketSize = 1e6; o.RestoreRate = 1e6 })
	f.mustData(t, `mutation { tagsAdd(id: "gid://shopify/Customer/1002", tags: ["approved"]) { userErrors { message } } }`, nil)
	q := `query($q: String) { customerSegmentMembers(first: 1000, query: $q) { edges { node { id numberOfOrders defaultEmailAddress { emailAddress } } } } }`
	count := func(query string) int {
		d := f.mustData(t, q, map[string]any{"q": query})
		return len(dig(d, "customerSegmentMembers", "edges").([]any))
	}
	all := len(f.sb.IDs("Customer"))
	withOrders := 0
	for _, id := range f.sb.IDs("Customer") {
		c, _ := f.sb.Object(id)
		if len(c["orders"].([]any)) > 0 {
			withOrders++
		}
	}
	tests := []struct {
		query string
		want  int
	}{
		{"", all},
		{"number_of_orders > 0", withOrders},
		{"number_of_orders = 0", all - withOrders},
		{"customer_tags CONTAINS 'approved'", 1},
		{"customer_tags NOT CONTAINS 'approved' AND number_of_orders > 0", withOrders - boolInt(f, "gid://shopify/Customer/1002")},
		{"customer_email_domain = 'example.com'", all},
		{"customer_email_domain = 'nowhere.test' OR (customer_tags CONTAINS 'approved')", 1},
		{"customer_account_status = 'ENABLED' AND customer_tags CONTAINS 'approved'", 1},
		{"last_order_date > -10000d", withOrders},
	}
	for _, tt := range tests {
		if got := count(tt.query); got != tt.want {
			t.Errorf("%q: %d members, want %d", tt.query, got, tt.want)
		}
	}
	r := f.gql(t, q, map[string]any{"q": "rfm_group = 'champions'"})
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "NOT_IMPLEMENTED" || !strings.Contains(r.Errors[0].Message, "rfm_group") {
		t.Errorf("unknown attribute: %s", r.Raw)
	}
	r = f.gql(t, q, map[string]any{"q": "number_of_orders >"})
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "BAD_REQUEST" {
		t.Errorf("bad query: %s", r.Raw)
	}
	// Search syntax: comma alternatives and * for "has a value".
	d := f.mustData(t, `{ a: draftOrders(first: 50, query: "status:open,invoice_sent") { nodes { status } } b: draftOrders(first: 50, query: "customer_id:*") { nodes { id } } }`, nil)
	for _, n := range dig(d, "a", "nodes").([]any) {
		if s := dig(n, "status"); s != "OPEN" && s != "INVOICE_SENT" {
			t.Errorf("status %v", s)
		}
	}
	if len(dig(d, "a", "nodes").([]any)) == 0 || len(dig(d, "b", "nodes").([]any)) != len(f.sb.IDs("DraftOrder")) {
		t.Errorf("search alternatives %v", d)
	}
}

// boolInt is 1 when the customer has orders.
func boolInt(f *fixture, id string) int {
	c, _ := f.sb.Object(id)
	if len(c["orders"].([]any)) > 0 {
		return 1
	}
	return 0
}
