// Package scopes works out which Shopify access scopes a task needs, the
// way Mechanic documents it (core/tasks/permissions.md): from its Shopify
// event subscriptions, from the GraphQL it reads and writes (the shopify
// filter's queries and the shopify actions its preview renders), from the
// REST paths of legacy shopify actions, and from scopes it declares with
// {% permissions %}.
//
// The inference is by resource: a read of orders needs read_orders, a
// mutation of products write_products (which implies the read). Generic
// mutations (tagsAdd, metafieldsSet, …) need the write scope of the
// resources whose ids (gid://shopify/Order/1, …) they are given.
package scopes

import (
	"regexp"
	"slices"
	"strings"

	"github.com/sprocketrun/sprocket/shopify"
)

// Set is a set of access scopes such as "read_orders" and "write_products".
type Set map[string]bool

// Add adds scope to s; a write scope implies its read scope, which is then
// not listed separately.
func (s Set) Add(scope string) {
	scope = strings.TrimSpace(scope)
	if scope == "" {
		return
	}
	s[scope] = true
}

// AddAll adds every scope of o to s.
func (s Set) AddAll(o Set) {
	for k := range o {
		s[k] = true
	}
}

// List returns the scopes sorted, without read scopes implied by a write
// scope of the same resource.
func (s Set) List() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		if res, ok := strings.CutPrefix(k, "read_"); ok && s["write_"+res] {
			continue
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Covers reports whether the granted scopes cover scope (write_x covers
// read_x), by the client's own rule (shopify.Scopes.Has).
func Covers(granted []string, scope string) bool {
	return shopify.Scopes(granted).Has(scope)
}

// Missing returns the scopes of need that granted does not cover.
func Missing(granted, need []string) []string {
	var out []string
	for _, s := range need {
		if !Covers(granted, s) {
			out = append(out, s)
		}
	}
	return out
}

// Parse splits a comma- or space-separated scope list ("read_orders,
// write_products") into a Set.
func Parse(list string) Set {
	s := Set{}
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		s.Add(f)
	}
	return s
}

// WebhookTopics returns every Shopify webhook topic the package knows
// ("orders/create", …), sorted.
func WebhookTopics() []string {
	out := make([]string, 0, len(topicResource))
	for t := range topicResource {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// ForTopic returns the scope a subscription to topic needs: read_<resource>
// for shopify/… webhook topics, nothing for others.
func ForTopic(topic string) string {
	t, ok := strings.CutPrefix(topic, "shopify/")
	if !ok {
		return ""
	}
	if i := strings.IndexByte(t, '+'); i >= 0 { // a delayed subscription
		t = t[:i]
	}
	if res := topicResource[t]; res != "" {
		return "read_" + res
	}
	return ""
}

// fieldResource maps GraphQL field names whose selection reads a resource
// to that resource.
var fieldResource = map[string]string{
	"order": "orders", "orders": "orders", "ordersCount": "orders", "transactions": "orders",
	"refunds": "orders", "orderEdit": "orders", "abandonedCheckouts": "orders",
	"draftOrder": "draft_orders", "draftOrders": "draft_orders",
	"customer": "customers", "customers": "customers", "customersCount": "customers",
	"customerByIdentifier": "customers", "segments": "customers", "segment": "customers",
	"product": "products", "products": "products", "productsCount": "products",
	"productVariant": "products", "productVariants": "products", "productByHandle": "products",
	"productByIdentifier": "products", "collection": "products", "collections": "products",
	"collectionByHandle": "products", "collectionByIdentifier": "products", "sellingPlanGroups": "products",
	"inventoryItem": "inventory", "inventoryItems": "inventory", "inventoryLevel": "inventory",
	"inventoryLevels": "inventory",
	"location":        "locations", "locations": "locations",
	"fulfillmentOrder": "merchant_managed_fulfillment_orders", "fulfillmentOrders": "merchant_managed_fulfillment_orders",
	"fulfillment": "fulfillments", "fulfillments": "fulfillments",
	"themes": "themes", "theme": "themes",
	"metaobject": "metaobjects", "metaobjects": "metaobjects", "metaobjectByHandle": "metaobjects",
	"metaobjectDefinitions": "metaobjects",
	"discountNodes":         "discounts", "discountNode": "discounts", "codeDiscountNodes": "discounts",
	"codeDiscountNodeByCode": "discounts", "automaticDiscountNodes": "discounts", "discountCodes": "discounts",
	"files":        "files",
	"publications": "publications", "publication": "publications",
	"giftCard": "gift_cards", "giftCards": "gift_cards",
	"markets": "markets", "market": "markets",
	"return": "returns", "returns": "returns",
	"shopifyqlQuery": "reports",
	"companies":      "customers", "company": "customers",
	"pages": "content", "blogs": "content", "articles": "content",
	"urlRedirects":     "online_store_navigation",
	"deliveryProfiles": "shipping", "deliveryProfile": "shipping",
	"disputes":              "shopify_payments_disputes",
	"translatableResources": "translations",
}

// mutationPrefix maps mutation name prefixes to the resource they write,
// longest prefixes first where they overlap.
var mutationPrefix = []struct{ prefix, resource string }{
	{"draftOrder", "draft_orders"},
	{"orderEdit", "orders"},
	{"order", "orders"},
	{"refund", "orders"},
	{"return", "returns"},
	{"customer", "customers"},
	{"segment", "customers"},
	{"company", "customers"},
	{"productVariant", "products"},
	{"product", "products"},
	{"collection", "products"},
	{"publishable", "publications"},
	{"inventory", "inventory"},
	{"location", "locations"},
	{"fulfillmentOrder", "merchant_managed_fulfillment_orders"},
	{"fulfillment", "fulfillments"},
	{"discount", "discounts"},
	{"metaobject", "metaobjects"},
	{"file", "files"},
	{"staged", "files"},
	{"giftCard", "gift_cards"},
	{"deliveryProfile", "shipping"},
	{"theme", "themes"},
	{"market", "markets"},
	{"urlRedirect", "online_store_navigation"},
	{"page", "content"},
	{"blog", "content"},
	{"article", "content"},
	{"translations", "translations"},
}

// gidResource maps the object type of a global id to the resource whose
// write scope a generic mutation (tagsAdd, metafieldsSet, …) on it needs.
var gidResource = map[string]string{
	"Order": "orders", "DraftOrder": "draft_orders", "Customer": "customers",
	"Product": "products", "ProductVariant": "products", "Collection": "products",
	"InventoryItem": "inventory", "Location": "locations", "Article": "content",
	"Blog": "content", "Page": "content", "Company": "customers", "CompanyLocation": "customers",
	"Shop": "", "Metaobject": "metaobjects", "GiftCard": "gift_cards",
}

// genericMutations take the object to change by id; the scope follows the id.
var genericMutations = map[string]bool{
	"tagsAdd": true, "tagsRemove": true, "metafieldsSet": true, "metafieldsDelete": true,
	"metafieldDelete": true, "translationsRegister": true, "translationsRemove": true,
}

var gidRE = regexp.MustCompile(`gid://shopify/([A-Za-z]+)/`)

// ForGraphQL returns the scopes a GraphQL document needs; variables is the
// JSON text of its variables ("" for none), searched for global ids.
func ForGraphQL(doc, variables string) Set {
	s := Set{}
	toks, strs := tokens(doc)
	mutation := false
	depth, parens := 0, 0
	var rootFields []string
	for i, t := range toks {
		switch t {
		case "{":
			depth++
			continue
		case "}":
			depth--
			continue
		case "(":
			parens++
			continue
		case ")":
			parens--
			continue
		}
		if parens > 0 {
			continue // arguments: names there are argument names, enums and variables
		}
		if depth == 0 && t == "mutation" {
			mutation = true
			continue
		}
		if depth == 1 && mutation && isName(t) && (i+1 >= len(toks) || toks[i+1] != ":") {
			rootFields = append(rootFields, t)
		}
		if res := fieldResource[t]; res != "" && (i+1 >= len(toks) || toks[i+1] != ":") {
			s.Add("read_" + res)
		}
	}
	ids := gidRE.FindAllStringSubmatch(doc+" "+variables, -1)
	for _, f := range rootFields {
		if f == "bulkOperationRunQuery" { // the query it runs is in a string
			for _, q := range strs {
				s.AddAll(ForGraphQL(q, ""))
			}
			continue
		}
		if genericMutations[f] {
			for _, m := range ids {
				if res := gidResource[m[1]]; res != "" {
					s.Add("write_" + res)
				}
			}
			continue
		}
		for _, p := range mutationPrefix {
			if strings.HasPrefix(f, p.prefix) {
				s.Add("write_" + p.resource)
				break
			}
		}
	}
	return s
}

// restResource maps the first segment of a REST path to its resource.
var restResource = map[string]string{
	"orders": "orders", "draft_orders": "draft_orders", "customers": "customers",
	"products": "products", "variants": "products", "collects": "products",
	"custom_collections": "products", "smart_collections": "products", "collections": "products",
	"inventory_items": "inventory", "inventory_levels": "inventory", "locations": "locations",
	"fulfillment_orders": "merchant_managed_fulfillment_orders", "fulfillments": "fulfillments",
	"themes": "themes", "price_rules": "price_rules", "discount_codes": "discounts",
	"gift_cards": "gift_cards", "blogs": "content", "articles": "content", "pages": "content",
	"redirects": "online_store_navigation", "script_tags": "script_tags",
	"shipping_zones": "shipping", "metafields": "",
}

// ForREST returns the scope a REST call needs: read_ for GET, write_
// otherwise, of the resource its path names ("/admin/customers/1/send_invite.json").
func ForREST(method, path string) string {
	p := strings.TrimPrefix(path, "/")
	p = strings.TrimPrefix(p, "admin/")
	if strings.HasPrefix(p, "api/") {
		if i := strings.IndexByte(p[4:], '/'); i >= 0 {
			p = p[4+i+1:]
		}
	}
	first, _, _ := strings.Cut(p, "/")
	first = strings.TrimSuffix(first, ".json")
	res := restResource[first]
	if res == "" {
		return ""
	}
	if strings.EqualFold(method, "get") {
		return "read_" + res
	}
	return "write_" + res
}

func isName(t string) bool {
	if t == "" {
		return false
	}
	c := t[0]
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// tokens splits a GraphQL document into names and punctuation, dropping
// comments, numbers and white space; the contents of string literals are
// returned apart.
func tokens(doc string) (out, strs []string) {
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '#':
			for i < len(doc) && doc[i] != '\n' {
				i++
			}
		case c == '"':
			if strings.HasPrefix(doc[i:], `"""`) {
				end := strings.Index(doc[i+3:], `"""`)
				if end < 0 {
					return out, strs
				}
				strs = append(strs, doc[i+3:i+3+end])
				i += 3 + end + 3
				continue
			}
			i++
			start := i
			for i < len(doc) && doc[i] != '"' {
				if doc[i] == '\\' {
					i++
				}
				i++
			}
			if i <= len(doc) {
				strs = append(strs, strings.ReplaceAll(doc[start:min(i, len(doc))], `\"`, `"`))
			}
			i++
		case isName(doc[i : i+1]):
			j := i
			for j < len(doc) && (isName(doc[j:j+1]) || doc[j] >= '0' && doc[j] <= '9') {
				j++
			}
			out = append(out, doc[i:j])
			i = j
		case c == '{' || c == '}' || c == ':' || c == '(' || c == ')':
			out = append(out, doc[i:i+1])
			i++
		default:
			i++
		}
	}
	return out, strs
}
