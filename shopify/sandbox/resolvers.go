package sandbox

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// resolver computes a field that is not stored as such.
type resolver func(e *executor, obj object, args map[string]any) (any, error)

// resolverTable maps "Type.field" (or "*.field" for any type) to the
// resolvers of computed fields.
func resolverTable() map[string]resolver {
	return map[string]resolver{
		"*.legacyResourceId": func(e *executor, o object, _ map[string]any) (any, error) {
			id, _ := o["id"].(string)
			return strconv.FormatInt(legacyID(id), 10), nil
		},
		"*.defaultCursor": func(e *executor, o object, _ map[string]any) (any, error) {
			return cursorOf(o, 0), nil
		},
		"*.metafield": func(e *executor, o object, args map[string]any) (any, error) {
			ns, _ := args["namespace"].(string)
			key, _ := args["key"].(string)
			if ns == "" {
				if n, k, ok := strings.Cut(key, "."); ok {
					ns, key = n, k
				} else {
					ns = "$app"
				}
			}
			for _, r := range refsOf(o, "metafields") {
				m := e.sb.st.deref(r)
				if m != nil && m["namespace"] == ns && m["key"] == key {
					return m, nil
				}
			}
			return nil, nil
		},
		"*.metafields": func(e *executor, o object, args map[string]any) (any, error) {
			ns, _ := args["namespace"].(string)
			keys := tagList(args["keys"])
			var out []any
			for _, r := range refsOf(o, "metafields") {
				m := e.sb.st.deref(r)
				if m == nil || (ns != "" && m["namespace"] != ns) {
					continue
				}
				if len(keys) > 0 && !slices.Contains(keys, m["namespace"].(string)+"."+m["key"].(string)) {
					continue
				}
				out = append(out, m)
			}
			return out, nil
		},
		"Metafield.jsonValue": func(e *executor, o object, _ map[string]any) (any, error) {
			return metafieldJSON(o), nil
		},
		"Customer.displayName": func(e *executor, o object, _ map[string]any) (any, error) {
			name := strings.TrimSpace(str(o["firstName"]) + " " + str(o["lastName"]))
			if name == "" {
				name = str(o["email"])
			}
			return name, nil
		},
		"Customer.numberOfOrders": func(e *executor, o object, _ map[string]any) (any, error) {
			return strconv.Itoa(len(refsOf(o, "orders"))), nil
		},
		"Customer.amountSpent": func(e *executor, o object, _ map[string]any) (any, error) {
			total := 0.0
			for _, r := range refsOf(o, "orders") {
				if ord := e.sb.st.deref(r); ord != nil && ord["cancelledAt"] == nil {
					total += bagAmount(ord["totalPriceSet"])
				}
			}
			return moneyV2(total, currency), nil
		},
		"Customer.lastOrder": func(e *executor, o object, _ map[string]any) (any, error) {
			l := refsOf(o, "orders")
			if len(l) == 0 {
				return nil, nil
			}
			return l[len(l)-1], nil
		},
		"Customer.defaultEmailAddress": func(e *executor, o object, _ map[string]any) (any, error) {
			if o["email"] == nil {
				return nil, nil
			}
			return object{"__typename": "CustomerEmailAddress", "emailAddress": o["email"], "marketingState": "NOT_SUBSCRIBED"}, nil
		},
		"Customer.defaultPhoneNumber": func(e *executor, o object, _ map[string]any) (any, error) {
			if o["phone"] == nil {
				return nil, nil
			}
			return object{"__typename": "CustomerPhoneNumber", "phoneNumber": o["phone"], "marketingState": "NOT_SUBSCRIBED"}, nil
		},
		"Customer.canDelete": func(e *executor, o object, _ map[string]any) (any, error) {
			return len(refsOf(o, "orders")) == 0, nil
		},
		"ProductVariant.inventoryQuantity": func(e *executor, o object, _ map[string]any) (any, error) {
			return e.sb.variantAvailable(o), nil
		},
		"ProductVariant.displayName": func(e *executor, o object, _ map[string]any) (any, error) {
			p := e.sb.st.deref(o["product"])
			return str(p["title"]) + " - " + str(o["title"]), nil
		},
		"Product.totalInventory": func(e *executor, o object, _ map[string]any) (any, error) {
			total := 0
			for _, r := range refsOf(o, "variants") {
				if v := e.sb.st.deref(r); v != nil {
					total += e.sb.variantAvailable(v)
				}
			}
			return total, nil
		},
		"Product.hasOnlyDefaultVariant": func(e *executor, o object, _ map[string]any) (any, error) {
			vs := refsOf(o, "variants")
			if len(vs) != 1 {
				return false, nil
			}
			v := e.sb.st.deref(vs[0])
			return v != nil && v["title"] == "Default Title", nil
		},
		"Product.inCollection": func(e *executor, o object, args map[string]any) (any, error) {
			id, _ := args["id"].(string)
			return slices.Contains(refsOf(o, "collections"), any(ref(id))), nil
		},
		"Collection.hasProduct": func(e *executor, o object, args map[string]any) (any, error) {
			id, _ := args["id"].(string)
			return slices.Contains(refsOf(o, "products"), any(ref(id))), nil
		},
		"Product.publishedOnPublication": func(e *executor, o object, args map[string]any) (any, error) {
			id, _ := args["publicationId"].(string)
			return slices.Contains(refsOf(o, "_publications"), any(ref(id))), nil
		},
		"Collection.publishedOnPublication": func(e *executor, o object, args map[string]any) (any, error) {
			id, _ := args["publicationId"].(string)
			return slices.Contains(refsOf(o, "_publications"), any(ref(id))), nil
		},
		"Product.priceRangeV2": func(e *executor, o object, _ map[string]any) (any, error) {
			lo, hi := -1.0, 0.0
			for _, r := range refsOf(o, "variants") {
				if v := e.sb.st.deref(r); v != nil {
					p, _ := parseMoney(v["price"])
					if lo < 0 || p < lo {
						lo = p
					}
					hi = max(hi, p)
				}
			}
			lo = max(lo, 0)
			return object{"__typename": "ProductPriceRangeV2", "minVariantPrice": moneyV2(lo, currency), "maxVariantPrice": moneyV2(hi, currency)}, nil
		},
		"InventoryLevel.quantities": func(e *executor, o object, args map[string]any) (any, error) {
			names := tagList(args["names"])
			q := quantities(o)
			out := make([]any, 0, len(names))
			for _, n := range names {
				out = append(out, object{"__typename": "InventoryQuantity", "id": str(o["id"]) + "?name=" + n, "name": n, "quantity": q[n], "updatedAt": o["updatedAt"]})
			}
			return out, nil
		},
		"InventoryItem.inventoryLevel": func(e *executor, o object, args map[string]any) (any, error) {
			loc, _ := args["locationId"].(string)
			if l := e.sb.level(str(o["id"]), loc); l != nil {
				return l, nil
			}
			return nil, nil
		},
		"Location.inventoryLevel": func(e *executor, o object, args map[string]any) (any, error) {
			item, _ := args["inventoryItemId"].(string)
			if l := e.sb.level(item, str(o["id"])); l != nil {
				return l, nil
			}
			return nil, nil
		},
		"InventoryItem.variants": func(e *executor, o object, _ map[string]any) (any, error) {
			if o["variant"] == nil {
				return []any{}, nil
			}
			return []any{o["variant"]}, nil
		},
		"Shop.customerTags": func(e *executor, _ object, _ map[string]any) (any, error) {
			return e.sb.allTags("Customer"), nil
		},
		"Shop.orderTags": func(e *executor, _ object, _ map[string]any) (any, error) {
			return e.sb.allTags("Order"), nil
		},
		"Shop.draftOrderTags": func(e *executor, _ object, _ map[string]any) (any, error) {
			return e.sb.allTags("DraftOrder"), nil
		},
		"QueryRoot.productTags": func(e *executor, _ object, _ map[string]any) (any, error) {
			return e.sb.allTags("Product"), nil
		},
		"InventoryAdjustmentGroup.changes": func(e *executor, o object, args map[string]any) (any, error) {
			names := tagList(args["quantityNames"])
			l, _ := o["changes"].([]any)
			if len(names) == 0 {
				return l, nil
			}
			var out []any
			for _, x := range l {
				if c, ok := x.(object); ok && slices.Contains(names, str(c["name"])) {
					out = append(out, c)
				}
			}
			return out, nil
		},
		"QueryRoot.currentBulkOperation": func(e *executor, _ object, args map[string]any) (any, error) {
			typ := str(args["type"])
			if typ == "" {
				typ = "QUERY"
			}
			all := e.sb.st.list("BulkOperation")
			for i := len(all) - 1; i >= 0; i-- {
				if all[i]["type"] == typ {
					return all[i], nil
				}
			}
			return nil, nil
		},
		"QueryRoot.paymentTermsTemplates": func(e *executor, _ object, args map[string]any) (any, error) {
			want := str(args["paymentTermsType"])
			var out []any
			for i, t := range []struct {
				name, typ string
				days      any
			}{{"Due on receipt", "RECEIPT", nil}, {"Due on fulfillment", "FULFILLMENT", nil}, {"Net 7", "NET", 7}, {"Net 15", "NET", 15}, {"Net 30", "NET", 30}, {"Net 45", "NET", 45}, {"Net 60", "NET", 60}, {"Net 90", "NET", 90}, {"Fixed", "FIXED", nil}} {
				if want != "" && want != t.typ {
					continue
				}
				out = append(out, object{"__typename": "PaymentTermsTemplate", "id": gidOf("PaymentTermsTemplate", int64(i+1)),
					"name": t.name, "translatedName": t.name, "paymentTermsType": t.typ, "dueInDays": t.days, "description": t.name})
			}
			return out, nil
		},
		"QueryRoot.customerSegmentMembers": func(e *executor, _ object, args map[string]any) (any, error) {
			if args["segmentId"] != nil || args["queryId"] != nil {
				return nil, codedError{"NOT_IMPLEMENTED", "the sandbox answers customerSegmentMembers by query only (not segmentId or queryId)"}
			}
			l, err := e.sb.segmentMembers(str(args["query"]))
			if err != nil {
				return nil, err
			}
			return filtered(l), nil
		},
		"QueryRoot.webhookSubscriptions":         resolveWebhookSubscriptions,
		"ProductVariant.deliveryProfile":         resolveVariantProfile,
		"DeliveryProfile.productVariantsCount":   resolveProfileVariantsCount,
		"DeliveryProfile.productVariantsCountV2": resolveProfileVariantsCountV2,
		"QueryRoot.shop": func(e *executor, _ object, _ map[string]any) (any, error) {
			return nilObject(e.sb.st.get(gidOf("Shop", 1))), nil
		},
		"QueryRoot.codeDiscountNodeByCode": func(e *executor, _ object, args map[string]any) (any, error) {
			code, _ := args["code"].(string)
			for _, rc := range e.sb.st.list("DiscountRedeemCode") {
				if strings.EqualFold(str(rc["code"]), code) {
					return nilObject(e.sb.st.deref(rc["_node"])), nil
				}
			}
			return nil, nil
		},
		"QueryRoot.location": func(e *executor, _ object, args map[string]any) (any, error) {
			id, _ := args["id"].(string)
			if id == "" {
				locs := e.sb.st.list("Location")
				if len(locs) == 0 {
					return nil, nil
				}
				return locs[0], nil
			}
			return e.sb.st.getType(id, "Location"), nil
		},
		"QueryRoot.productVariant": func(e *executor, _ object, args map[string]any) (any, error) {
			id, _ := args["id"].(string)
			return nilObject(e.sb.st.getType(id, "ProductVariant")), nil
		},
		"QueryRoot.inventoryLevel": func(e *executor, _ object, args map[string]any) (any, error) {
			id, _ := args["id"].(string)
			return nilObject(e.sb.st.getType(id, "InventoryLevel")), nil
		},
		"QueryRoot.productByHandle": func(e *executor, _ object, args map[string]any) (any, error) {
			h, _ := args["handle"].(string)
			for _, p := range e.sb.st.list("Product") {
				if p["handle"] == h {
					return p, nil
				}
			}
			return nil, nil
		},
		"QueryRoot.job": func(e *executor, _ object, args map[string]any) (any, error) {
			id, _ := args["id"].(string)
			return object{"__typename": "Job", "id": id, "done": true}, nil
		},
	}
}

// nilObject turns a nil object into an untyped nil.
func nilObject(o object) any {
	if o == nil {
		return nil
	}
	return o
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// variantAvailable sums the available quantity of a variant's inventory.
func (sb *Sandbox) variantAvailable(v object) int {
	item := sb.st.deref(v["inventoryItem"])
	if item == nil {
		return 0
	}
	total := 0
	for _, r := range refsOf(item, "inventoryLevels") {
		if l := sb.st.deref(r); l != nil {
			total += quantities(l)["available"]
		}
	}
	return total
}

// allTags lists the distinct tags of every object of a type.
func (sb *Sandbox) allTags(typ string) []any {
	seen := map[string]bool{}
	var out []string
	for _, o := range sb.st.list(typ) {
		for _, t := range tagList(o["tags"]) {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	l := make([]any, len(out))
	for i, t := range out {
		l[i] = t
	}
	return l
}

// metafieldJSON decodes a metafield's value by its type, as jsonValue does.
func metafieldJSON(m object) any {
	value := str(m["value"])
	typ := str(m["type"])
	switch {
	case strings.HasPrefix(typ, "list.") || typ == "json" || strings.HasPrefix(typ, "dimension") ||
		strings.HasPrefix(typ, "weight") || strings.HasPrefix(typ, "volume") || typ == "rating" || typ == "money" || typ == "rich_text_field":
		var v any
		if json.Unmarshal([]byte(value), &v) == nil {
			return v
		}
	case typ == "number_integer":
		if n, err := strconv.ParseInt(value, 10, 64); err == nil {
			return n
		}
	case typ == "number_decimal":
		return value
	case typ == "boolean":
		return value == "true"
	}
	return value
}
