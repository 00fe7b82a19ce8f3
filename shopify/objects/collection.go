package objects

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// listPart is one REST list a collection reads: most collections have one;
// a shop's collections are its custom and its smart collections.
type listPart struct {
	path string // e.g. "orders.json" or "customers/1/orders.json"
	root string // the body's member holding the array, e.g. "orders"
}

// scope narrows a collection with one query parameter, as
// shop.orders.paid sets financial_status=paid.
type scope struct{ param, value string }

// collection is a lazy REST collection such as shop.orders or
// customer.orders. It is a value.Lister (loops and filters read its items,
// page by page) and a value.ContextDrop answering scopes (shop.orders.any,
// .paid, …, chainable), size/count, first/last, and member lookups by id
// (shop.customers[123]) or by another key where the resource has one
// (shop.customers["a@example.com"]).
type collection struct {
	s         *Session
	parts     []listPart
	q         url.Values
	item      string // the members' kind ("order"), "" for plain hashes
	idPath    string // fmt pattern of a member's path, "" for no id lookups
	idRoot    string // the member root of an id lookup's body
	countPath string // count endpoint, "" to count the items read
	scopes    map[string]scope
	byKey     func(ctx context.Context, c *collection, key string) (any, bool, error)
}

// Get looks key up with the session's context; a failure is kept for
// Session.Err and reads as no property.
func (c *collection) Get(key string) (any, bool) {
	v, ok, err := c.GetContext(c.s.ctx, key)
	if err != nil {
		c.s.noteErr(err)
		return nil, false
	}
	return v, ok
}

// GetContext answers scopes, size, count, first, last and member lookups.
func (c *collection) GetContext(ctx context.Context, key string) (any, bool, error) {
	if sc, ok := c.scopes[key]; ok {
		n := *c
		n.q = cloneValues(c.q)
		n.q.Set(sc.param, sc.value)
		return &n, true, nil
	}
	switch key {
	case "size", "count":
		if c.countPath != "" {
			n, err := c.s.count(ctx, c.countPath, countQuery(c.q))
			return n, err == nil, err
		}
		items, err := c.List(ctx, -1)
		return int64(len(items)), err == nil, err
	case "first":
		items, err := c.List(ctx, 1)
		if err != nil || len(items) == 0 {
			return nil, err == nil, err
		}
		return items[0], true, nil
	case "last":
		items, err := c.List(ctx, -1)
		if err != nil || len(items) == 0 {
			return nil, err == nil, err
		}
		return items[len(items)-1], true, nil
	}
	if c.idPath != "" && isID(key) {
		m, err := c.s.one(ctx, fmt.Sprintf(c.idPath, key), c.idRoot)
		if err != nil || m == nil {
			return nil, err == nil, err
		}
		return c.s.wrapItem(c.item, m), true, nil
	}
	if c.byKey != nil {
		return c.byKey(ctx, c, key)
	}
	return nil, false, nil
}

// List reads the collection's items, wrapped with their own lazy lookups.
func (c *collection) List(ctx context.Context, limit int64) ([]any, error) {
	var out []any
	for _, p := range c.parts {
		left := int64(-1)
		if limit >= 0 {
			left = limit - int64(len(out))
			if left <= 0 {
				break
			}
		}
		items, err := c.s.list(ctx, p.path, p.root, c.q, left)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, c.s.wrapItem(c.item, it))
		}
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

// LiquidString is the collection's output form: empty, as Mechanic's
// collections are not meant to be printed.
func (c *collection) LiquidString() string { return "" }

// countQuery drops the parameters count endpoints do not take.
func countQuery(q url.Values) url.Values {
	out := cloneValues(q)
	out.Del("fields")
	out.Del("limit")
	return out
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// isID reports whether key is a REST resource id (digits).
func isID(key string) bool {
	return key != "" && len(key) <= 20 && strings.Trim(key, "0123456789") == ""
}

// orderScopes are the documented narrowings of an order collection
// (docs: platform/liquid/objects/shopify/order.md).
var orderScopes = map[string]scope{
	"any": {"status", "any"}, "open": {"status", "open"}, "closed": {"status", "closed"}, "cancelled": {"status", "cancelled"},
	"authorized": {"financial_status", "authorized"}, "pending": {"financial_status", "pending"},
	"paid": {"financial_status", "paid"}, "partially_paid": {"financial_status", "partially_paid"},
	"refunded": {"financial_status", "refunded"}, "voided": {"financial_status", "voided"},
	"partially_refunded": {"financial_status", "partially_refunded"}, "unpaid": {"financial_status", "unpaid"},
	"shipped": {"fulfillment_status", "shipped"}, "partial": {"fulfillment_status", "partial"},
	"unshipped": {"fulfillment_status", "unshipped"}, "unfulfilled": {"fulfillment_status", "unfulfilled"},
}

var draftOrderScopes = map[string]scope{
	"open": {"status", "open"}, "invoice_sent": {"status", "invoice_sent"}, "completed": {"status", "completed"},
}

var productScopes = map[string]scope{
	"any": {"published_status", "any"}, "published": {"published_status", "published"}, "unpublished": {"published_status", "unpublished"},
}

var giftCardScopes = map[string]scope{
	"enabled": {"status", "enabled"}, "disabled": {"status", "disabled"},
}

// ordersOf is an order collection read from path: open orders unless a
// scope says otherwise, as Shopify's REST API and Mechanic's docs have it.
func (s *Session) ordersOf(path, countPath string) *collection {
	return &collection{s: s, parts: []listPart{{path, "orders"}}, q: url.Values{"status": {"open"}},
		item: "order", idPath: "orders/%s.json", idRoot: "order", countPath: countPath, scopes: orderScopes}
}

// plainList is a collection read from one path, members of kind item.
func (s *Session) plainList(path, root, item, idPath, idRoot string) *collection {
	return &collection{s: s, parts: []listPart{{path, root}}, q: url.Values{}, item: item, idPath: idPath, idRoot: idRoot}
}

// customerByEmail answers shop.customers["a@example.com"]: the first
// customer the search finds with that address, or nil.
func customerByEmail(ctx context.Context, c *collection, key string) (any, bool, error) {
	if !strings.Contains(key, "@") {
		return nil, false, nil
	}
	q := url.Values{"query": {"email:" + key}, "limit": {"1"}}
	f, err := c.s.get(ctx, "customers/search.json", q)
	if err != nil || f.body == nil {
		return nil, err == nil, err
	}
	v, _ := f.body.Get("customers")
	arr, _ := v.([]any)
	for _, it := range arr {
		m, _ := it.(*value.Map)
		email, _ := m.Get("email")
		if e, ok := email.(string); ok && strings.EqualFold(e, key) {
			return c.s.wrapItem("customer", m), true, nil
		}
	}
	return nil, true, nil
}

// discountCodeByCode answers shop.discount_codes["CODE"] through Shopify's
// lookup endpoint (which redirects to the code's own path).
func discountCodeByCode(ctx context.Context, c *collection, key string) (any, bool, error) {
	f, err := c.s.get(ctx, "discount_codes/lookup.json", url.Values{"code": {key}})
	if err != nil || f.body == nil {
		return nil, err == nil, err
	}
	v, _ := f.body.Get("discount_code")
	return v, true, nil
}
