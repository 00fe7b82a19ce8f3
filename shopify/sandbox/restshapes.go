package sandbox

import (
	"strings"
)

// REST shapes: numeric ids, snake_case keys, amounts as strings, as
// Shopify's REST Admin API answers.

func lower(v any) any {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	return strings.ToLower(s)
}

func idOf(v any) any {
	switch v := v.(type) {
	case ref:
		return legacyID(string(v))
	case string:
		if n := legacyID(v); n > 0 {
			return n
		}
	}
	return nil
}

func tagString(v any) string {
	return strings.Join(tagList(v), ", ")
}

func addressREST(v any) any {
	a, ok := v.(object)
	if !ok {
		return nil
	}
	out := map[string]any{}
	for k, x := range a {
		if k == "__typename" {
			continue
		}
		if k == "countryCodeV2" {
			out["country_code"] = x
			continue
		}
		out[camelToSnake(k)] = x
	}
	return out
}

func (sb *Sandbox) shopREST() map[string]any {
	s := sb.st.get(gidOf("Shop", 1))
	addr, _ := s["shopAddress"].(object)
	return map[string]any{
		"id": legacyID(str(s["id"])), "name": s["name"], "email": s["email"], "customer_email": s["contactEmail"],
		"domain": sb.opts.Shop, "myshopify_domain": sb.opts.Shop, "currency": s["currencyCode"],
		"iana_timezone": s["ianaTimezone"], "timezone": "(GMT+00:00) UTC", "money_format": "${{amount}}",
		"money_with_currency_format": "${{amount}} USD", "plan_name": "partner_test", "plan_display_name": "Developer Preview",
		"shop_owner": s["shopOwnerName"], "created_at": s["createdAt"], "updated_at": s["updatedAt"],
		"address1": addr["address1"], "city": addr["city"], "province": addr["province"], "country": addr["countryCodeV2"],
		"zip": addr["zip"], "weight_unit": "kg", "taxes_included": false, "primary_location_id": idOf(firstID(sb.st.list("Location"))),
	}
}

func firstID(l []object) any {
	if len(l) == 0 {
		return nil
	}
	return l[0]["id"]
}

func (sb *Sandbox) lineItemREST(li object) map[string]any {
	price := bagAmount(li["originalUnitPriceSet"])
	fs := any(nil)
	if q, _ := li["unfulfilledQuantity"].(int); q == 0 {
		fs = "fulfilled"
	}
	var productID any
	if v := sb.st.deref(li["variant"]); v != nil {
		productID = idOf(v["product"])
	}
	return map[string]any{
		"id": legacyID(str(li["id"])), "admin_graphql_api_id": li["id"], "variant_id": idOf(li["variant"]),
		"product_id": productID, "title": li["title"], "name": li["name"], "variant_title": li["variantTitle"],
		"quantity": li["quantity"], "current_quantity": li["currentQuantity"], "sku": li["sku"], "vendor": li["vendor"],
		"price": money(price), "fulfillable_quantity": li["fulfillableQuantity"], "fulfillment_status": fs,
		"requires_shipping": li["requiresShipping"], "taxable": li["taxable"], "gift_card": false,
		"properties": []any{}, "tax_lines": []any{}, "discount_allocations": []any{},
	}
}

func (sb *Sandbox) orderREST(o object) map[string]any {
	var lis []map[string]any
	for _, li := range derefAll(sb.st, refsOf(o, "lineItems")) {
		lis = append(lis, sb.lineItemREST(li))
	}
	var fs any
	switch o["displayFulfillmentStatus"] {
	case "FULFILLED":
		fs = "fulfilled"
	case "PARTIALLY_FULFILLED":
		fs = "partial"
	}
	var cust any
	if c := sb.st.deref(o["customer"]); c != nil {
		cust = sb.customerREST(c)
	}
	var attrs []map[string]any
	if l, ok := o["customAttributes"].([]any); ok {
		for _, x := range l {
			if a, ok := x.(object); ok {
				attrs = append(attrs, map[string]any{"name": a["key"], "value": a["value"]})
			}
		}
	}
	number, _ := o["number"].(int)
	return map[string]any{
		"id": legacyID(str(o["id"])), "admin_graphql_api_id": o["id"], "name": o["name"], "order_number": number,
		"number": number - 1000, "email": o["email"], "contact_email": o["email"], "phone": o["phone"], "note": o["note"],
		"tags": tagString(o["tags"]), "created_at": o["createdAt"], "updated_at": o["updatedAt"], "processed_at": o["processedAt"],
		"closed_at": o["closedAt"], "cancelled_at": o["cancelledAt"], "cancel_reason": lower(o["cancelReason"]),
		"financial_status": lower(o["displayFinancialStatus"]), "fulfillment_status": fs, "currency": o["currencyCode"],
		"presentment_currency": o["currencyCode"],
		"total_price":          money(bagAmount(o["totalPriceSet"])), "subtotal_price": money(bagAmount(o["subtotalPriceSet"])),
		"current_total_price": money(bagAmount(o["currentTotalPriceSet"])), "total_tax": money(bagAmount(o["totalTaxSet"])),
		"total_discounts": money(bagAmount(o["totalDiscountsSet"])), "total_outstanding": money(bagAmount(o["totalOutstandingSet"])),
		"line_items": lis, "customer": cust, "shipping_address": addressREST(o["shippingAddress"]),
		"billing_address": addressREST(o["billingAddress"]), "note_attributes": nonNil(attrs), "test": o["test"],
		"confirmed": o["confirmed"], "source_name": o["sourceName"], "gateway": "bogus", "discount_codes": []any{},
		"fulfillments":   mapAll(derefAll(sb.st, refsOf(o, "fulfillments")), sb.fulfillmentREST),
		"refunds":        mapAll(derefAll(sb.st, refsOf(o, "refunds")), sb.refundREST),
		"shipping_lines": []any{}, "tax_lines": []any{}, "buyer_accepts_marketing": o["customerAcceptsMarketing"],
	}
}

func nonNil(l []map[string]any) []map[string]any {
	if l == nil {
		return []map[string]any{}
	}
	return l
}

func (sb *Sandbox) customerREST(c object) map[string]any {
	spent := 0.0
	var last any
	orders := refsOf(c, "orders")
	for _, r := range orders {
		if o := sb.st.deref(r); o != nil && o["cancelledAt"] == nil {
			spent += bagAmount(o["totalPriceSet"])
		}
	}
	if len(orders) > 0 {
		last = idOf(orders[len(orders)-1])
	}
	return map[string]any{
		"id": legacyID(str(c["id"])), "admin_graphql_api_id": c["id"], "email": c["email"], "first_name": c["firstName"],
		"last_name": c["lastName"], "phone": c["phone"], "note": c["note"], "tags": tagString(c["tags"]),
		"state": lower(c["state"]), "verified_email": c["verifiedEmail"], "tax_exempt": c["taxExempt"],
		"created_at": c["createdAt"], "updated_at": c["updatedAt"], "orders_count": len(orders), "total_spent": money(spent),
		"last_order_id": last, "currency": currency, "default_address": addressREST(c["defaultAddress"]),
	}
}

func (sb *Sandbox) productREST(p object) map[string]any {
	return map[string]any{
		"id": legacyID(str(p["id"])), "admin_graphql_api_id": p["id"], "title": p["title"], "handle": p["handle"],
		"vendor": p["vendor"], "product_type": p["productType"], "tags": tagString(p["tags"]), "status": lower(p["status"]),
		"body_html": p["descriptionHtml"], "created_at": p["createdAt"], "updated_at": p["updatedAt"], "published_at": p["publishedAt"],
		"variants": mapAll(derefAll(sb.st, refsOf(p, "variants")), sb.variantREST), "images": []any{}, "image": nil,
		"options": []any{map[string]any{"name": "Title", "position": 1}},
	}
}

func (sb *Sandbox) variantREST(v object) map[string]any {
	return map[string]any{
		"id": legacyID(str(v["id"])), "admin_graphql_api_id": v["id"], "product_id": idOf(v["product"]), "title": v["title"],
		"sku": v["sku"], "price": v["price"], "compare_at_price": v["compareAtPrice"], "position": v["position"],
		"inventory_item_id": idOf(v["inventoryItem"]), "inventory_quantity": sb.variantAvailable(v),
		"inventory_policy": lower(v["inventoryPolicy"]), "inventory_management": "shopify", "barcode": v["barcode"],
		"taxable": v["taxable"], "option1": v["title"], "created_at": v["createdAt"], "updated_at": v["updatedAt"],
		"requires_shipping": true, "grams": 0, "weight": 0, "weight_unit": "kg",
	}
}

func (sb *Sandbox) locationREST(l object) map[string]any {
	a, _ := l["address"].(object)
	return map[string]any{
		"id": legacyID(str(l["id"])), "admin_graphql_api_id": l["id"], "name": l["name"], "active": l["isActive"],
		"address1": a["address1"], "city": a["city"], "province": a["province"], "province_code": a["provinceCode"],
		"country": a["countryCode"], "country_code": a["countryCode"], "zip": a["zip"], "legacy": false,
		"created_at": l["createdAt"], "updated_at": l["updatedAt"],
	}
}

func (sb *Sandbox) levelREST(l object) map[string]any {
	return map[string]any{
		"inventory_item_id": idOf(l["item"]), "location_id": idOf(l["location"]), "available": quantities(l)["available"],
		"updated_at": l["updatedAt"], "admin_graphql_api_id": l["id"],
	}
}

func (sb *Sandbox) collectionREST(c object) map[string]any {
	return map[string]any{
		"id": legacyID(str(c["id"])), "admin_graphql_api_id": c["id"], "title": c["title"], "handle": c["handle"],
		"body_html": c["descriptionHtml"], "sort_order": strings.ReplaceAll(strings.ToLower(str(c["sortOrder"])), "_", "-"),
		"updated_at": c["updatedAt"], "published_at": c["updatedAt"], "products_count": len(refsOf(c, "products")),
	}
}

func (sb *Sandbox) themeREST(t object) map[string]any {
	return map[string]any{
		"id": legacyID(str(t["id"])), "admin_graphql_api_id": t["id"], "name": t["name"], "role": lower(t["role"]),
		"created_at": t["createdAt"], "updated_at": t["updatedAt"], "previewable": true, "processing": false, "theme_store_id": nil,
	}
}

func (sb *Sandbox) metafieldREST(m object) map[string]any {
	owner := sb.st.deref(m["owner"])
	resource := ""
	if owner != nil {
		resource = camelToSnake(str(owner["__typename"]))
	}
	return map[string]any{
		"id": legacyID(str(m["id"])), "admin_graphql_api_id": m["id"], "namespace": m["namespace"], "key": m["key"],
		"value": m["value"], "type": m["type"], "owner_id": idOf(m["owner"]), "owner_resource": resource,
		"created_at": m["createdAt"], "updated_at": m["updatedAt"],
	}
}

func (sb *Sandbox) draftREST(d object) map[string]any {
	var lis []map[string]any
	for _, li := range derefAll(sb.st, refsOf(d, "lineItems")) {
		lis = append(lis, map[string]any{
			"id": legacyID(str(li["id"])), "variant_id": idOf(li["variant"]), "product_id": idOf(li["product"]),
			"title": li["title"], "quantity": li["quantity"], "sku": li["sku"], "price": money(bagAmount(li["originalUnitPriceSet"])),
			"custom": li["custom"],
		})
	}
	var cust any
	if c := sb.st.deref(d["customer"]); c != nil {
		cust = sb.customerREST(c)
	}
	return map[string]any{
		"id": legacyID(str(d["id"])), "admin_graphql_api_id": d["id"], "name": d["name"], "status": lower(d["status"]),
		"email": d["email"], "note": d["note2"], "tags": tagString(d["tags"]), "customer": cust, "line_items": nonNil(lis),
		"created_at": d["createdAt"], "updated_at": d["updatedAt"], "completed_at": d["completedAt"], "order_id": idOf(d["order"]),
		"total_price": money(bagAmount(d["totalPriceSet"])), "subtotal_price": money(bagAmount(d["subtotalPriceSet"])),
		"currency": currency, "invoice_url": "https://" + sb.opts.Shop + "/invoices/" + str(d["name"]),
	}
}

func (sb *Sandbox) transactionREST(t object) map[string]any {
	return map[string]any{
		"id": legacyID(str(t["id"])), "admin_graphql_api_id": t["id"], "order_id": idOf(t["order"]), "kind": lower(t["kind"]),
		"status": lower(t["status"]), "amount": money(bagAmount(t["amountSet"])), "currency": currency, "gateway": t["gateway"],
		"created_at": t["createdAt"], "processed_at": t["processedAt"], "parent_id": idOf(t["parentTransaction"]), "test": t["test"],
	}
}

func (sb *Sandbox) fulfillmentREST(f object) map[string]any {
	var lis []map[string]any
	for _, fli := range derefAll(sb.st, refsOf(f, "fulfillmentLineItems")) {
		if li := sb.st.deref(fli["lineItem"]); li != nil {
			m := sb.lineItemREST(li)
			m["quantity"] = fli["quantity"]
			lis = append(lis, m)
		}
	}
	var number, url, company any
	var numbers []any
	if ti, ok := f["trackingInfo"].([]any); ok && len(ti) > 0 {
		if t, ok := ti[0].(object); ok {
			number, url, company = t["number"], t["url"], t["company"]
			if number != nil {
				numbers = append(numbers, number)
			}
		}
	}
	return map[string]any{
		"id": legacyID(str(f["id"])), "admin_graphql_api_id": f["id"], "order_id": idOf(f["order"]), "name": f["name"],
		"status": lower(f["status"]), "created_at": f["createdAt"], "updated_at": f["updatedAt"], "location_id": idOf(f["location"]),
		"tracking_number": number, "tracking_numbers": nonNilAny(numbers), "tracking_url": url, "tracking_company": company,
		"tracking_urls": []any{}, "shipment_status": nil, "line_items": nonNil(lis),
	}
}

func nonNilAny(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func (sb *Sandbox) fulfillmentOrderREST(fo object) map[string]any {
	var lis []map[string]any
	for _, li := range derefAll(sb.st, refsOf(fo, "lineItems")) {
		var itemID any
		if v := sb.st.deref(li["variant"]); v != nil {
			itemID = idOf(v["inventoryItem"])
		}
		lis = append(lis, map[string]any{
			"id": legacyID(str(li["id"])), "fulfillment_order_id": legacyID(str(fo["id"])), "line_item_id": idOf(li["lineItem"]),
			"quantity": li["totalQuantity"], "fulfillable_quantity": li["remainingQuantity"], "variant_id": idOf(li["variant"]),
			"inventory_item_id": itemID,
		})
	}
	var loc any
	if al, ok := fo["assignedLocation"].(object); ok {
		loc = idOf(al["location"])
	}
	return map[string]any{
		"id": legacyID(str(fo["id"])), "admin_graphql_api_id": fo["id"], "order_id": idOf(fo["order"]),
		"status": lower(fo["status"]), "request_status": lower(fo["requestStatus"]), "assigned_location_id": loc,
		"line_items": nonNil(lis), "created_at": fo["createdAt"], "updated_at": fo["updatedAt"],
	}
}
