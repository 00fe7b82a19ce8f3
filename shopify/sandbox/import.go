package sandbox

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ImportREST stores an object given in Shopify's REST/webhook JSON shape
// (an orders/create webhook payload, a customer, a product) under its own
// id, so that tasks run with that event data find it in the sandbox. The
// resource is "order", "customer" or "product" (plural accepted). An
// object that already exists is left as it is; created reports whether it
// was new.
func (sb *Sandbox) ImportREST(resource string, payload map[string]any) (gid string, created bool, err error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	switch strings.TrimSuffix(resource, "s") {
	case "order":
		return sb.importOrder(payload)
	case "customer":
		return sb.importCustomer(payload)
	case "product":
		return sb.importProduct(payload)
	}
	return "", false, fmt.Errorf("sandbox: import: unknown resource %q (want order, customer or product)", resource)
}

// restGID reads a REST object's GID: admin_graphql_api_id (exact), else
// the numeric id.
func restGID(typ string, m map[string]any) (string, error) {
	if g, ok := m["admin_graphql_api_id"].(string); ok && g != "" {
		t, _, ok := parseGID(g)
		if !ok || t != typ {
			return "", fmt.Errorf("admin_graphql_api_id %q is not a %s GID", g, typ)
		}
		return g, nil
	}
	switch id := m["id"].(type) {
	case float64:
		if id > 0 && id < 1<<53 {
			return gidOf(typ, int64(id)), nil
		}
	case string:
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
			return gidOf(typ, n), nil
		}
	}
	return "", fmt.Errorf("%s: no usable id or admin_graphql_api_id", strings.ToLower(typ))
}

func restTime(v any, def time.Time) time.Time {
	if s, ok := v.(string); ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
	}
	return def
}

func (sb *Sandbox) importCustomer(m map[string]any) (string, bool, error) {
	gid, err := restGID("Customer", m)
	if err != nil {
		return "", false, fmt.Errorf("sandbox: import customer: %w", err)
	}
	if sb.st.get(gid) != nil {
		return gid, false, nil
	}
	c := sb.addCustomer(CustomerSpec{ID: gid, FirstName: str(m["first_name"]), LastName: str(m["last_name"]),
		Email: str(m["email"]), Phone: str(m["phone"]), Tags: tagList(m["tags"]), Note: str(m["note"])}, restTime(m["created_at"], sb.now()))
	if s, ok := m["state"].(string); ok && s != "" {
		c["state"] = strings.ToUpper(s)
	}
	if a, ok := m["default_address"].(map[string]any); ok {
		c["defaultAddress"] = addressFromREST(a)
	}
	return gid, true, nil
}

func (sb *Sandbox) importProduct(m map[string]any) (string, bool, error) {
	gid, err := restGID("Product", m)
	if err != nil {
		return "", false, fmt.Errorf("sandbox: import product: %w", err)
	}
	if sb.st.get(gid) != nil {
		return gid, false, nil
	}
	spec := ProductSpec{ID: gid, Title: str(m["title"]), Vendor: str(m["vendor"]), ProductType: str(m["product_type"]),
		Tags: tagList(m["tags"]), Status: str(m["status"])}
	if spec.Title == "" {
		return "", false, errors.New("sandbox: import product: title is required")
	}
	vs, _ := m["variants"].([]any)
	for i, x := range vs {
		v, _ := x.(map[string]any)
		vid, err := restGID("ProductVariant", v)
		if err != nil {
			return "", false, fmt.Errorf("sandbox: import product: variants[%d]: %w", i, err)
		}
		if sb.st.get(vid) != nil {
			return "", false, fmt.Errorf("sandbox: import product: variants[%d]: %s already exists", i, vid)
		}
		price, _ := parseMoney(v["price"])
		qty, _ := parseMoney(v["inventory_quantity"])
		spec.Variants = append(spec.Variants, VariantSpec{ID: vid, Title: str(v["title"]), SKU: str(v["sku"]), Price: price, Available: int(qty)})
	}
	sb.addProduct(spec, restTime(m["created_at"], sb.now()))
	return gid, true, nil
}

func (sb *Sandbox) importOrder(m map[string]any) (string, bool, error) {
	gid, err := restGID("Order", m)
	if err != nil {
		return "", false, fmt.Errorf("sandbox: import order: %w", err)
	}
	if sb.st.get(gid) != nil {
		return gid, false, nil
	}
	spec := OrderSpec{ID: gid, Email: str(m["email"]), Tags: tagList(m["tags"]), Note: str(m["note"]),
		FinancialStatus: str(m["financial_status"]), CreatedAt: restTime(m["created_at"], sb.now())}
	switch str(m["fulfillment_status"]) {
	case "fulfilled":
		spec.FulfillmentStatus = "FULFILLED"
	case "partial":
		spec.FulfillmentStatus = "PARTIALLY_FULFILLED"
	}
	if c, ok := m["customer"].(map[string]any); ok {
		cid, _, err := sb.importCustomer(c)
		if err != nil {
			return "", false, fmt.Errorf("sandbox: import order: %w", err)
		}
		spec.CustomerID = cid
	}
	lis, _ := m["line_items"].([]any)
	for _, x := range lis {
		li, _ := x.(map[string]any)
		q, _ := parseMoney(li["quantity"])
		price, _ := parseMoney(li["price"])
		item := LineItemSpec{Quantity: int(q), Title: str(li["title"]), Price: price}
		if vid, err := restGID("ProductVariant", map[string]any{"id": li["variant_id"]}); err == nil && sb.st.getType(vid, "ProductVariant") != nil {
			item.VariantID = vid
		}
		spec.LineItems = append(spec.LineItems, item)
	}
	o, err := sb.addOrder(spec)
	if err != nil {
		return "", false, fmt.Errorf("sandbox: import order: %w", err)
	}
	if name := str(m["name"]); name != "" {
		o["name"] = name
	}
	if n, ok := parseMoney(m["order_number"]); ok && n > 0 {
		o["number"] = int(n)
	}
	if t := str(m["cancelled_at"]); t != "" {
		o["cancelledAt"] = t
		o["cancelReason"] = strings.ToUpper(str(m["cancel_reason"]))
	}
	if t := str(m["closed_at"]); t != "" {
		o["closed"] = true
		o["closedAt"] = t
	}
	if p := str(m["phone"]); p != "" {
		o["phone"] = p
	}
	if a, ok := m["shipping_address"].(map[string]any); ok {
		o["shippingAddress"] = addressFromREST(a)
	}
	if a, ok := m["billing_address"].(map[string]any); ok {
		o["billingAddress"] = addressFromREST(a)
	}
	return gid, true, nil
}
