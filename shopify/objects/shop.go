package objects

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// shopDrop is the shop variable: the shop's attributes (shop.json, fetched
// on first use) and its lazy collections (docs:
// platform/liquid/objects/shopify/shop.md).
type shopDrop struct {
	s *Session

	mu    sync.Mutex
	attrs *value.Map
}

// Get looks key up with the session's context; see collection.Get.
func (d *shopDrop) Get(key string) (any, bool) {
	v, ok, err := d.GetContext(d.s.ctx, key)
	if err != nil {
		d.s.noteErr(err)
		return nil, false
	}
	return v, ok
}

// GetContext answers the shop's collections, metafields, admin_url and
// attributes.
func (d *shopDrop) GetContext(ctx context.Context, key string) (any, bool, error) {
	if c := d.collection(key); c != nil {
		return c, true, nil
	}
	switch key {
	case "metafields":
		return &metafields{s: d.s, path: "metafields.json"}, true, nil
	case "articles":
		return &articles{s: d.s}, true, nil
	}
	attrs, err := d.attributes(ctx)
	if err != nil {
		return nil, false, err
	}
	if v, ok := attrs.Get(key); ok {
		return v, true, nil
	}
	if key == "admin_url" {
		return adminURL(attrs), true, nil
	}
	return nil, false, nil
}

// collection returns the shop collection called key, nil for none.
func (d *shopDrop) collection(key string) *collection {
	s := d.s
	switch key {
	case "orders":
		return s.ordersOf("orders.json", "orders/count.json")
	case "customers":
		c := s.plainList("customers.json", "customers", "customer", "customers/%s.json", "customer")
		c.countPath, c.byKey = "customers/count.json", customerByEmail
		return c
	case "products":
		c := s.plainList("products.json", "products", "product", "products/%s.json", "product")
		c.countPath, c.scopes = "products/count.json", productScopes
		return c
	case "variants":
		return s.plainList("variants.json", "variants", "variant", "variants/%s.json", "variant")
	case "draft_orders":
		c := s.plainList("draft_orders.json", "draft_orders", "draft_order", "draft_orders/%s.json", "draft_order")
		c.countPath, c.scopes = "draft_orders/count.json", draftOrderScopes
		return c
	case "collections":
		return &collection{s: s, parts: []listPart{{"custom_collections.json", "custom_collections"}, {"smart_collections.json", "smart_collections"}},
			q: url.Values{}, item: "collection", idPath: "collections/%s.json", idRoot: "collection"}
	case "locations":
		c := s.plainList("locations.json", "locations", "location", "locations/%s.json", "location")
		c.countPath = "locations/count.json"
		return c
	case "themes":
		return s.plainList("themes.json", "themes", "theme", "themes/%s.json", "theme")
	case "price_rules":
		c := s.plainList("price_rules.json", "price_rules", "price_rule", "price_rules/%s.json", "price_rule")
		c.countPath = "price_rules/count.json"
		return c
	case "discount_codes":
		return &collection{s: s, q: url.Values{}, byKey: discountCodeByCode}
	case "blogs":
		c := s.plainList("blogs.json", "blogs", "blog", "blogs/%s.json", "blog")
		c.countPath = "blogs/count.json"
		return c
	case "shipping_zones":
		return s.plainList("shipping_zones.json", "shipping_zones", "", "", "")
	case "gift_cards":
		c := s.plainList("gift_cards.json", "gift_cards", "gift_card", "gift_cards/%s.json", "gift_card")
		c.countPath, c.scopes = "gift_cards/count.json", giftCardScopes
		return c
	case "inventory_items":
		return s.plainList("inventory_items.json", "inventory_items", "inventory_item", "inventory_items/%s.json", "inventory_item")
	}
	return nil
}

// attributes returns the shop's attributes, from the ShopSource or from
// one GET shop.json per run.
func (d *shopDrop) attributes(ctx context.Context) (*value.Map, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.attrs != nil {
		return d.attrs, nil
	}
	fetch := func(ctx context.Context) (*value.Map, error) {
		m, err := d.s.one(ctx, "shop.json", "shop")
		if err == nil && m == nil {
			err = fmt.Errorf("GET shop.json: the shop was not found")
		}
		return m, err
	}
	var attrs *value.Map
	var err error
	if d.s.shopSrc != nil {
		attrs, err = d.s.shopSrc.Attributes(ctx, fetch)
	} else {
		attrs, err = fetch(ctx)
	}
	if err != nil {
		return nil, err
	}
	// a run's own copy: templates may change what they read
	c, err := value.FromJSON(mustJSON(attrs))
	if m, ok := c.(*value.Map); ok && err == nil {
		attrs = m
	}
	d.attrs = attrs
	return attrs, nil
}

func mustJSON(v any) []byte {
	b, _ := value.ToJSON(v)
	return b
}

// LiquidString is the shop's output form: its name.
func (d *shopDrop) LiquidString() string {
	v, _ := d.Get("name")
	s, _ := v.(string)
	return s
}

// adminURL is https://admin.shopify.com/store/<handle>/ for the shop's
// myshopify domain.
func adminURL(attrs *value.Map) any {
	v, _ := attrs.Get("myshopify_domain")
	dom, _ := v.(string)
	handle, ok := strings.CutSuffix(dom, ".myshopify.com")
	if !ok || handle == "" {
		return nil
	}
	return "https://admin.shopify.com/store/" + handle + "/"
}

// articles is shop.articles: the store's article tags and authors.
type articles struct{ s *Session }

// Get looks key up with the session's context; see collection.Get.
func (a *articles) Get(key string) (any, bool) {
	v, ok, err := a.GetContext(a.s.ctx, key)
	if err != nil {
		a.s.noteErr(err)
		return nil, false
	}
	return v, ok
}

// GetContext answers tags and authors.
func (a *articles) GetContext(ctx context.Context, key string) (any, bool, error) {
	if key != "tags" && key != "authors" {
		return nil, false, nil
	}
	f, err := a.s.get(ctx, "articles/"+key+".json", nil)
	if err != nil || f.body == nil {
		return nil, err == nil, err
	}
	v, _ := f.body.Get(key)
	return v, true, nil
}

// ShopCache keeps the shop's attributes for a short while, so that runs
// do not each fetch shop.json; it is a ShopSource safe for concurrent use.
type ShopCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	attrs   *value.Map
	fetched time.Time
}

// DefaultShopTTL is how long a ShopCache keeps the attributes when NewShopCache is given no TTL.
const DefaultShopTTL = time.Minute

// NewShopCache returns a cache keeping the attributes for ttl
// (DefaultShopTTL when zero).
func NewShopCache(ttl time.Duration) *ShopCache {
	if ttl <= 0 {
		ttl = DefaultShopTTL
	}
	return &ShopCache{ttl: ttl, now: time.Now}
}

// Set stores attributes fetched elsewhere (e.g. when the shop connects).
func (c *ShopCache) Set(attrs *value.Map) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attrs, c.fetched = attrs, c.now()
}

// Attributes returns the cached attributes, or fetches and caches them
// when there are none or they are older than the TTL.
func (c *ShopCache) Attributes(ctx context.Context, fetch func(ctx context.Context) (*value.Map, error)) (*value.Map, error) {
	c.mu.Lock()
	if c.attrs != nil && c.now().Sub(c.fetched) < c.ttl {
		a := c.attrs
		c.mu.Unlock()
		return a, nil
	}
	c.mu.Unlock()
	attrs, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	c.Set(attrs)
	return attrs, nil
}
