package run

import "github.com/sprocketrun/sprocket/liquid/value"

// restCollection stands in, in previews, for one of the shop's lazy REST
// collections (shop.orders, shop.customers, …): it has no members.
// Status scopes that narrow the collection (any, open, closed, cancelled,
// published, unpublished) return the collection again, so that chains like
// shop.orders.any work; the other documented scopes (paid, unpaid,
// unshipped, …) return an empty array, so that the result can be looped
// over or concatenated.
type restCollection struct{}

// Get returns the collection, an empty array or nil for each property.
func (c restCollection) Get(key string) (any, bool) {
	switch key {
	case "any", "open", "closed", "cancelled", "published", "unpublished", "invoice_sent":
		return c, true
	case "authorized", "pending", "paid", "partially_paid", "refunded", "voided",
		"partially_refunded", "unpaid", "shipped", "partial", "unshipped", "tags", "authors":
		return []any{}, true
	case "size", "count":
		return int64(0), true
	}
	return nil, true
}

// MarshalJSON writes the empty collection as an empty array.
func (restCollection) MarshalJSON() ([]byte, error) { return []byte("[]"), nil }

// LiquidString is the collection's output form: empty.
func (restCollection) LiquidString() string { return "" }

// previewRESTCollections are the lazy shop collections of Mechanic's REST
// objects (docs: platform/liquid/objects/shopify/shop.md).
var previewRESTCollections = []string{
	"orders", "customers", "products", "variants", "collections", "draft_orders",
	"price_rules", "discount_codes", "blogs", "articles", "shipping_zones",
	"metafields", "locations", "themes", "gift_cards", "inventory_items",
}

func addPreviewCollections(m *value.Map) *value.Map {
	for _, k := range previewRESTCollections {
		m.Set(k, restCollection{})
	}
	return m
}
