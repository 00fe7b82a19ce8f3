package objects

import (
	"context"
	"fmt"
	"net/url"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// kind describes the REST resource behind a Liquid object: where to reload
// it from, its lazy associations, and the payload keys that hold resources
// of other kinds (order.customer, order.line_items, …), which are wrapped
// in turn.
type kind struct {
	// self is the fmt pattern of the resource's own path, filled with the
	// fields named in selfFields ("orders/%s.json" with "id"); "" when it
	// cannot be reloaded.
	self       string
	selfFields []string
	// root is the member of the self path's body holding the resource.
	root string
	// assoc are the lazy lookups, answered only for keys the payload lacks.
	assoc map[string]func(ctx context.Context, r *resource) (any, bool, error)
	// nested maps payload keys to the kind of the resources they hold.
	nested map[string]string
}

// kinds are the resource kinds by Liquid object name; see init.
var kinds map[string]*kind

// resource is the value.Fallback of a wrapped resource hash.
type resource struct {
	s    *Session
	kind *kind
	m    *value.Map
}

// Lookup answers reload and the kind's associations.
func (r *resource) Lookup(ctx context.Context, key string) (any, bool, error) {
	if key == "reload" && r.kind.self != "" {
		path, ok := r.path(r.kind.self, r.kind.selfFields...)
		if !ok {
			return nil, true, nil
		}
		m, err := r.s.one(ctx, path, r.kind.root)
		if err != nil || m == nil {
			return nil, err == nil, err
		}
		return r.s.wrap(r.kind, m), true, nil
	}
	if f := r.kind.assoc[key]; f != nil {
		return f(ctx, r)
	}
	return nil, false, nil
}

// field returns the resource's field as an id string, "" when absent.
func (r *resource) field(name string) string {
	v, _ := r.m.Get(name)
	switch v.(type) {
	case nil, bool, *value.Map, []any:
		return ""
	}
	s := value.ToS(v)
	if !isID(s) {
		return ""
	}
	return s
}

// path fills pattern with the named fields; false when one is missing.
func (r *resource) path(pattern string, fields ...string) (string, bool) {
	args := make([]any, len(fields))
	for i, f := range fields {
		v := r.field(f)
		if v == "" {
			return "", false
		}
		args[i] = v
	}
	return fmt.Sprintf(pattern, args...), true
}

// wrap returns a copy of data whose lookups of missing keys go to k's
// associations, with nested resources wrapped too; data itself is left
// as it is.
func (s *Session) wrap(k *kind, data any) any {
	m, ok := data.(*value.Map)
	if !ok {
		return data
	}
	c := m.Clone()
	for key, nk := range k.nested {
		v, ok := c.Get(key)
		if !ok {
			continue
		}
		switch x := v.(type) {
		case *value.Map:
			c.Set(key, s.wrap(kinds[nk], x))
		case []any:
			c.Set(key, s.wrapAll(kinds[nk], x))
		}
	}
	c.SetFallback(&resource{s: s, kind: k, m: c})
	return c
}

func (s *Session) wrapAll(k *kind, arr []any) []any {
	out := make([]any, len(arr))
	for i, e := range arr {
		out[i] = s.wrap(k, e)
	}
	return out
}

// wrapItem wraps a collection member of kind name ("" for none).
func (s *Session) wrapItem(name string, v any) any {
	if k := kinds[name]; k != nil {
		return s.wrap(k, v)
	}
	return v
}

// belongsTo is the lookup of a single related resource whose id is the
// field idField ("order_id"), at pattern ("orders/%s.json"), of kind
// item; nil when the field is empty or the resource is gone.
func belongsTo(idField, pattern, item string) func(ctx context.Context, r *resource) (any, bool, error) {
	return func(ctx context.Context, r *resource) (any, bool, error) {
		path, ok := r.path(pattern, idField)
		if !ok {
			return nil, true, nil
		}
		m, err := r.s.one(ctx, path, item)
		if err != nil || m == nil {
			return nil, err == nil, err
		}
		return r.s.wrapItem(item, m), true, nil
	}
}

// hasMany is a related collection read from pattern filled with the
// resource's id fields; build fills in the rest of the collection.
func hasMany(pattern string, fields []string, build func(s *Session, path string) *collection) func(ctx context.Context, r *resource) (any, bool, error) {
	return func(_ context.Context, r *resource) (any, bool, error) {
		path, ok := r.path(pattern, fields...)
		if !ok {
			return nil, true, nil
		}
		return build(r.s, path), true, nil
	}
}

// metafieldsAt is the resource's metafield collection at pattern
// ("orders/%s/metafields.json").
func metafieldsAt(pattern string) func(ctx context.Context, r *resource) (any, bool, error) {
	return func(_ context.Context, r *resource) (any, bool, error) {
		path, ok := r.path(pattern, "id")
		if !ok {
			return nil, true, nil
		}
		return &metafields{s: r.s, path: path}, true, nil
	}
}

// fromSelf answers a field the payload lacks (customer.tags, which
// webhooks stopped carrying in 2025-01) from the resource as the API has
// it.
func fromSelf(field string) func(ctx context.Context, r *resource) (any, bool, error) {
	return func(ctx context.Context, r *resource) (any, bool, error) {
		path, ok := r.path(r.kind.self, r.kind.selfFields...)
		if !ok {
			return nil, false, nil
		}
		m, err := r.s.one(ctx, path, r.kind.root)
		if err != nil || m == nil {
			return nil, err == nil, err
		}
		v, ok := m.Get(field)
		return v, ok, nil
	}
}

func init() {
	id := []string{"id"}
	list := func(root, item, idPattern, idRoot string) func(s *Session, path string) *collection {
		return func(s *Session, path string) *collection { return s.plainList(path, root, item, idPattern, idRoot) }
	}
	orders := func(s *Session, path string) *collection { return s.ordersOf(path, "") }
	kinds = map[string]*kind{
		"order": {
			self: "orders/%s.json", selfFields: id, root: "order",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"customer":           belongsTo("customer_id", "customers/%s.json", "customer"),
				"transactions":       hasMany("orders/%s/transactions.json", id, list("transactions", "transaction", "", "")),
				"fulfillment_orders": hasMany("orders/%s/fulfillment_orders.json", id, list("fulfillment_orders", "fulfillment_order", "fulfillment_orders/%s.json", "fulfillment_order")),
				"fulfillments":       hasMany("orders/%s/fulfillments.json", id, list("fulfillments", "fulfillment", "", "")),
				"refunds":            hasMany("orders/%s/refunds.json", id, list("refunds", "refund", "", "")),
				"risks":              hasMany("orders/%s/risks.json", id, list("risks", "", "", "")),
				"metafields":         metafieldsAt("orders/%s/metafields.json"),
				"location":           belongsTo("location_id", "locations/%s.json", "location"),
			},
			nested: map[string]string{"customer": "customer", "line_items": "line_item", "fulfillments": "fulfillment", "refunds": "refund"},
		},
		"customer": {
			self: "customers/%s.json", selfFields: id, root: "customer",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"orders":     hasMany("customers/%s/orders.json", id, orders),
				"metafields": metafieldsAt("customers/%s/metafields.json"),
				"tags":       fromSelf("tags"),
			},
		},
		"draft_order": {
			self: "draft_orders/%s.json", selfFields: id, root: "draft_order",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"order":    belongsTo("order_id", "orders/%s.json", "order"),
				"customer": belongsTo("customer_id", "customers/%s.json", "customer"),
			},
			nested: map[string]string{"customer": "customer", "line_items": "line_item"},
		},
		"product": {
			self: "products/%s.json", selfFields: id, root: "product",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"metafields": metafieldsAt("products/%s/metafields.json"),
				"variants":   hasMany("products/%s/variants.json", id, list("variants", "variant", "variants/%s.json", "variant")),
				"images":     hasMany("products/%s/images.json", id, list("images", "", "", "")),
				"collections": func(_ context.Context, r *resource) (any, bool, error) {
					pid := r.field("id")
					if pid == "" {
						return nil, true, nil
					}
					q := url.Values{"product_id": {pid}}
					return &collection{s: r.s, parts: []listPart{{"custom_collections.json", "custom_collections"}, {"smart_collections.json", "smart_collections"}},
						q: q, item: "collection"}, true, nil
				},
			},
			nested: map[string]string{"variants": "variant"},
		},
		"variant": {
			self: "variants/%s.json", selfFields: id, root: "variant",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"product":        belongsTo("product_id", "products/%s.json", "product"),
				"inventory_item": belongsTo("inventory_item_id", "inventory_items/%s.json", "inventory_item"),
				"inventory_levels": func(_ context.Context, r *resource) (any, bool, error) {
					iid := r.field("inventory_item_id")
					if iid == "" {
						return nil, true, nil
					}
					return &collection{s: r.s, parts: []listPart{{"inventory_levels.json", "inventory_levels"}},
						q: url.Values{"inventory_item_ids": {iid}}, item: "inventory_level"}, true, nil
				},
				"metafields": metafieldsAt("variants/%s/metafields.json"),
			},
		},
		"line_item": {
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"product": belongsTo("product_id", "products/%s.json", "product"),
				"variant": belongsTo("variant_id", "variants/%s.json", "variant"),
			},
		},
		"fulfillment": {
			self: "orders/%s/fulfillments/%s.json", selfFields: []string{"order_id", "id"}, root: "fulfillment",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"order":    belongsTo("order_id", "orders/%s.json", "order"),
				"location": belongsTo("location_id", "locations/%s.json", "location"),
			},
			nested: map[string]string{"line_items": "line_item"},
		},
		"fulfillment_event": {
			self: "orders/%s/fulfillments/%s/events/%s.json", selfFields: []string{"order_id", "fulfillment_id", "id"}, root: "fulfillment_event",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"order": belongsTo("order_id", "orders/%s.json", "order"),
				"fulfillment": func(ctx context.Context, r *resource) (any, bool, error) {
					path, ok := r.path("orders/%s/fulfillments/%s.json", "order_id", "fulfillment_id")
					if !ok {
						return nil, true, nil
					}
					m, err := r.s.one(ctx, path, "fulfillment")
					if err != nil || m == nil {
						return nil, err == nil, err
					}
					return r.s.wrapItem("fulfillment", m), true, nil
				},
			},
		},
		"fulfillment_order": {
			self: "fulfillment_orders/%s.json", selfFields: id, root: "fulfillment_order",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"order": belongsTo("order_id", "orders/%s.json", "order"),
			},
		},
		"refund": {
			self: "orders/%s/refunds/%s.json", selfFields: []string{"order_id", "id"}, root: "refund",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"order": belongsTo("order_id", "orders/%s.json", "order"),
			},
		},
		"order_edit": {
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"order": belongsTo("order_id", "orders/%s.json", "order"),
			},
		},
		"dispute": {
			self: "shopify_payments/disputes/%s.json", selfFields: id, root: "dispute",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"order": belongsTo("order_id", "orders/%s.json", "order"),
			},
		},
		"transaction": {
			self: "orders/%s/transactions/%s.json", selfFields: []string{"order_id", "id"}, root: "transaction",
		},
		"inventory_level": {
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"location":       belongsTo("location_id", "locations/%s.json", "location"),
				"inventory_item": belongsTo("inventory_item_id", "inventory_items/%s.json", "inventory_item"),
			},
		},
		"inventory_item": {self: "inventory_items/%s.json", selfFields: id, root: "inventory_item"},
		"location": {
			self: "locations/%s.json", selfFields: id, root: "location",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"inventory_levels": hasMany("locations/%s/inventory_levels.json", id, list("inventory_levels", "inventory_level", "", "")),
			},
		},
		"theme": {
			self: "themes/%s.json", selfFields: id, root: "theme",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"assets": hasMany("themes/%s/assets.json", id, list("assets", "", "", "")),
			},
		},
		"collection": {
			self: "collections/%s.json", selfFields: id, root: "collection",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"products":   hasMany("collections/%s/products.json", id, list("products", "product", "", "")),
				"metafields": metafieldsAt("collections/%s/metafields.json"),
			},
		},
		"price_rule": {
			self: "price_rules/%s.json", selfFields: id, root: "price_rule",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"discount_codes": func(_ context.Context, r *resource) (any, bool, error) {
					pid := r.field("id")
					if pid == "" {
						return nil, true, nil
					}
					return r.s.plainList("price_rules/"+pid+"/discount_codes.json", "discount_codes", "",
						"price_rules/"+pid+"/discount_codes/%s.json", "discount_code"), true, nil
				},
			},
		},
		"blog": {
			self: "blogs/%s.json", selfFields: id, root: "blog",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"articles": func(_ context.Context, r *resource) (any, bool, error) {
					bid := r.field("id")
					if bid == "" {
						return nil, true, nil
					}
					return r.s.plainList("blogs/"+bid+"/articles.json", "articles", "article",
						"blogs/"+bid+"/articles/%s.json", "article"), true, nil
				},
				"metafields": metafieldsAt("blogs/%s/metafields.json"),
			},
		},
		"article": {
			self: "articles/%s.json", selfFields: id, root: "article",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"blog":       belongsTo("blog_id", "blogs/%s.json", "blog"),
				"metafields": metafieldsAt("articles/%s/metafields.json"),
			},
		},
		"gift_card": {
			self: "gift_cards/%s.json", selfFields: id, root: "gift_card",
			assoc: map[string]func(context.Context, *resource) (any, bool, error){
				"order":    belongsTo("order_id", "orders/%s.json", "order"),
				"customer": belongsTo("customer_id", "customers/%s.json", "customer"),
			},
		},
	}
}
