package scopes

import (
	"slices"
	"testing"
)

func TestForGraphQL(t *testing.T) {
	cases := []struct {
		name, doc, vars string
		want            []string
	}{
		{"order read with customer", `query { order(id: "gid://shopify/Order/1") { name customer { email } lineItems(first: 5) { nodes { sku } } } }`, "",
			[]string{"read_customers", "read_orders"}},
		{"tagsAdd on an order", `mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["a"]) { userErrors { field message } } }`, "",
			[]string{"write_orders"}},
		{"tagsAdd with the id in variables", `mutation TagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } } }`,
			`{"id":"gid://shopify/Customer/7","tags":["vip"]}`, []string{"write_customers"}},
		{"metafieldsSet on a product", `mutation { metafieldsSet(metafields: [{ownerId: "gid://shopify/Product/1", namespace: "a", key: "b", type: "single_line_text_field", value: "c"}]) { metafields { id } } }`, "",
			[]string{"write_products"}},
		{"enum argument is no root field", `mutation { orderCancel(orderId: "gid://shopify/Order/1", reason: CUSTOMER, refund: true, restock: true) { job { id } } }`, "",
			[]string{"write_orders"}},
		{"inventory", `mutation inventoryAdjustQuantities($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input) { userErrors { message } } }`, "",
			[]string{"write_inventory"}},
		{"a write implies the read", `mutation { productUpdate(product: {id: "gid://shopify/Product/1"}) { product { id } } } query { products(first: 1) { nodes { id } } }`, "",
			[]string{"write_products"}},
		{"strings and comments are not fields", `query { shop { name } } # orders
  # customers` + "\n" + `query { shop { description(x: "orders") } }`, "", []string{}},
		{"bulk operation query reads what it selects", `mutation { bulkOperationRunQuery(query: """ { products { edges { node { id } } } } """) { bulkOperation { id } } }`, "",
			[]string{"read_products"}},
		{"bulk operation query in a plain string", `mutation { bulkOperationRunQuery(query: "{ orders { edges { node { id customer { id } } } } }") { bulkOperation { id } } }`, "",
			[]string{"read_customers", "read_orders"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ForGraphQL(c.doc, c.vars).List()
			if !slices.Equal(got, c.want) {
				t.Errorf("ForGraphQL = %v, want %v", got, c.want)
			}
		})
	}
}

func TestForTopicAndREST(t *testing.T) {
	topics := map[string]string{
		"shopify/orders/create":           "read_orders",
		"shopify/orders/paid+1.hour":      "read_orders",
		"shopify/customers/update":        "read_customers",
		"shopify/inventory_levels/update": "read_inventory",
		"shopify/draft_orders/create":     "read_draft_orders",
		"mechanic/user/trigger":           "",
		"shopify/no_such/topic":           "",
	}
	for topic, want := range topics {
		if got := ForTopic(topic); got != want {
			t.Errorf("ForTopic(%q) = %q, want %q", topic, got, want)
		}
	}
	rest := []struct{ method, path, want string }{
		{"post", "/admin/customers/1/send_invite.json", "write_customers"},
		{"get", "/admin/api/2024-01/orders/1/transactions.json", "read_orders"},
		{"put", "variants/5.json", "write_products"},
		{"get", "/admin/shop.json", ""},
	}
	for _, c := range rest {
		if got := ForREST(c.method, c.path); got != c.want {
			t.Errorf("ForREST(%s %s) = %q, want %q", c.method, c.path, got, c.want)
		}
	}
}

func TestMissing(t *testing.T) {
	granted := Parse("read_orders, write_products").List()
	got := Missing(granted, []string{"read_orders", "read_products", "write_orders", "read_customers"})
	if !slices.Equal(got, []string{"write_orders", "read_customers"}) {
		t.Errorf("Missing = %v", got)
	}
}
