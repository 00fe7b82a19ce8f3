package sandbox

import "testing"

func TestSmoke(t *testing.T) {
	f := newFixture(t, nil)
	r := f.gql(t, `{ shop { name myshopifyDomain metafield(namespace:"sandbox", key:"greeting") { value } } orders(first: 3, query: "status:any") { edges { cursor node { id name tags displayFinancialStatus customer { displayName email } lineItems(first: 5) { nodes { title quantity sku variant { id inventoryQuantity } } } } } pageInfo { hasNextPage endCursor } } }`, nil)
	t.Log(r.Raw)
	r = f.gql(t, `mutation { tagsAdd(id: "gid://shopify/Order/1001", tags: ["a","b"]) { node { id ... on Order { tags } } userErrors { field message } } }`, nil)
	t.Log(r.Raw)
	r = f.gql(t, `{ node(id: "gid://shopify/Product/1001") { __typename ... on Product { title totalInventory variants(first: 3) { nodes { title price inventoryItem { id inventoryLevels(first: 3) { nodes { location { name } quantities(names: ["available","on_hand"]) { name quantity } } } } } } } } }`, nil)
	t.Log(r.Raw)
}
