package sandbox

import (
	"slices"
	"strconv"
	"strings"
)

// More mutations the library uses less often.

func mSegmentCreate(e *executor, args map[string]any) (object, error) {
	name, query := strings.TrimSpace(str(args["name"])), strings.TrimSpace(str(args["query"]))
	if name == "" {
		return object{"segment": nil, "userErrors": userErrors(userError([]string{"name"}, "Name can't be blank"))}, nil
	}
	if query == "" {
		return object{"segment": nil, "userErrors": userErrors(userError([]string{"query"}, "Query can't be blank"))}, nil
	}
	for _, s := range e.sb.st.list("Segment") {
		if strings.EqualFold(str(s["name"]), name) {
			return object{"segment": nil, "userErrors": userErrors(userError([]string{"name"}, "Name has already been taken"))}, nil
		}
	}
	now := timestamp(e.sb.now())
	return object{"segment": e.sb.st.create("Segment", object{"name": name, "query": query, "creationDate": now, "lastEditDate": now})}, nil
}

func mFulfillmentOrderMove(e *executor, args map[string]any) (object, error) {
	fo := e.sb.st.getType(str(args["id"]), "FulfillmentOrder")
	if fo == nil {
		return object{"movedFulfillmentOrder": nil, "userErrors": userErrors(userError([]string{"id"}, "Fulfillment order does not exist."))}, nil
	}
	loc := e.sb.st.getType(str(args["newLocationId"]), "Location")
	if loc == nil {
		return object{"movedFulfillmentOrder": nil, "userErrors": userErrors(userError([]string{"newLocationId"}, "Location does not exist."))}, nil
	}
	if fo["status"] != "OPEN" {
		return object{"movedFulfillmentOrder": nil, "userErrors": userErrors(userError([]string{"id"}, "Cannot move a fulfillment order that is not open."))}, nil
	}
	fo["assignedLocation"] = object{"__typename": "FulfillmentOrderAssignedLocation", "name": loc["name"], "location": ref(str(loc["id"]))}
	fo["updatedAt"] = timestamp(e.sb.now())
	return object{"movedFulfillmentOrder": fo, "originalFulfillmentOrder": fo, "remainingFulfillmentOrder": nil}, nil
}

func mDraftOrderUpdate(e *executor, args map[string]any) (object, error) {
	d := e.sb.st.getType(str(args["id"]), "DraftOrder")
	if d == nil {
		return object{"draftOrder": nil, "userErrors": userErrors(userError([]string{"id"}, "Draft order does not exist"))}, nil
	}
	if d["status"] == "COMPLETED" {
		return object{"draftOrder": nil, "userErrors": userErrors(userError([]string{"id"}, "Draft order has been completed and cannot be updated"))}, nil
	}
	in := inputOf(args, "input")
	copyFields(d, in, "email", "phone", "poNumber", "reserveInventoryUntil", "taxExempt")
	if n, ok := in["note"]; ok {
		d["note2"] = n
	}
	if t, ok := in["tags"]; ok {
		d["tags"] = mergeTags(nil, tagList(t))
	}
	errs := e.applyMetafieldInputs(d, in["metafields"])
	d["updatedAt"] = timestamp(e.sb.now())
	return object{"draftOrder": d, "userErrors": errs}, nil
}

func mDiscountCodeBulkDelete(e *executor, args map[string]any) (object, error) {
	ids := tagList(args["ids"])
	if len(ids) == 0 {
		return object{"job": nil, "userErrors": userErrors(userError([]string{"ids"}, "Only ids are supported by the sandbox; give ids"))}, nil
	}
	for _, id := range ids {
		if n := e.sb.st.getType(id, "DiscountCodeNode"); n != nil {
			for _, rc := range e.sb.st.list("DiscountRedeemCode") {
				if rc["_node"] == ref(id) {
					e.sb.st.delete(str(rc["id"]))
				}
			}
			e.sb.st.delete(id)
		}
	}
	return object{"job": object{"__typename": "Job", "id": gidOf("Job", int64(len(ids))), "done": true}}, nil
}

func mTrackingInfoUpdate(e *executor, args map[string]any) (object, error) {
	f := e.sb.st.getType(str(args["fulfillmentId"]), "Fulfillment")
	if f == nil {
		return object{"fulfillment": nil, "userErrors": userErrors(userError([]string{"fulfillmentId"}, "Fulfillment does not exist."))}, nil
	}
	ti := inputOf(args, "trackingInfoInput")
	numbers := tagList(ti["numbers"])
	if n := str(ti["number"]); n != "" {
		numbers = append([]string{n}, numbers...)
	}
	urls := tagList(ti["urls"])
	if u := str(ti["url"]); u != "" {
		urls = append([]string{u}, urls...)
	}
	var infos []any
	for i, n := range numbers {
		info := object{"__typename": "FulfillmentTrackingInfo", "number": n, "company": ti["company"], "url": nil}
		if i < len(urls) {
			info["url"] = urls[i]
		}
		infos = append(infos, info)
	}
	f["trackingInfo"] = infos
	f["updatedAt"] = timestamp(e.sb.now())
	return object{"fulfillment": f}, nil
}

func mCollectionAddProductsV2(e *executor, args map[string]any) (object, error) {
	p, err := mCollectionAdd(e, args)
	if err != nil {
		return nil, err
	}
	out := object{"userErrors": p["userErrors"], "job": nil}
	if p["collection"] != nil {
		out["job"] = object{"__typename": "Job", "id": gidOf("Job", legacyID(str(args["id"]))), "done": true}
	}
	return out, nil
}

func mVariantsBulkDelete(e *executor, args map[string]any) (object, error) {
	p := e.sb.st.getType(str(args["productId"]), "Product")
	if p == nil {
		return object{"product": nil, "userErrors": userErrors(userError([]string{"productId"}, "Product does not exist"))}, nil
	}
	ids := tagList(args["variantsIds"])
	for i, id := range ids {
		v := e.sb.st.getType(id, "ProductVariant")
		if v == nil || v["product"] != ref(str(p["id"])) {
			return object{"product": nil, "userErrors": userErrors(userError([]string{"variantsIds", strconv.Itoa(i)}, "At least one variant does not belong to the product"))}, nil
		}
	}
	if len(ids) >= len(refsOf(p, "variants")) {
		return object{"product": nil, "userErrors": userErrors(userError([]string{"variantsIds"}, "Cannot delete all variants of a product; delete the product instead"))}, nil
	}
	for _, id := range ids {
		removeRef(p, "variants", id)
		e.sb.st.delete(id)
	}
	return object{"product": p}, nil
}

func mFulfillmentEventCreate(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "fulfillmentEvent")
	f := e.sb.st.getType(str(in["fulfillmentId"]), "Fulfillment")
	if f == nil {
		return object{"fulfillmentEvent": nil, "userErrors": userErrors(userError([]string{"fulfillmentEvent", "fulfillmentId"}, "Fulfillment does not exist."))}, nil
	}
	now := timestamp(e.sb.now())
	happened := str(in["happenedAt"])
	if happened == "" {
		happened = now
	}
	ev := e.sb.st.create("FulfillmentEvent", object{"status": str(in["status"]), "message": in["message"], "happenedAt": happened,
		"createdAt": now, "estimatedDeliveryAt": in["estimatedDeliveryAt"], "city": in["city"], "province": in["province"],
		"country": in["country"], "zip": in["zip"], "address1": in["address1"]})
	appendRef(f, "events", str(ev["id"]))
	f["displayStatus"] = str(in["status"])
	if in["status"] == "DELIVERED" {
		f["deliveredAt"] = happened
	}
	return object{"fulfillmentEvent": ev}, nil
}

func mInventoryToggle(e *executor, args map[string]any) (object, error) {
	item := e.sb.st.getType(str(args["inventoryItemId"]), "InventoryItem")
	if item == nil {
		return object{"inventoryItem": nil, "userErrors": userErrors(userError([]string{"inventoryItemId"}, "Inventory item does not exist"))}, nil
	}
	ups, _ := args["inventoryItemUpdates"].([]any)
	var levels []any
	for i, x := range ups {
		u, _ := x.(map[string]any)
		loc := e.sb.st.getType(str(u["locationId"]), "Location")
		if loc == nil {
			return object{"inventoryItem": nil, "userErrors": userErrors(userError([]string{"inventoryItemUpdates", strconv.Itoa(i), "locationId"}, "Location does not exist"))}, nil
		}
		l := e.sb.level(str(item["id"]), str(loc["id"]))
		activate, _ := u["activate"].(bool)
		switch {
		case activate && l == nil:
			l = e.sb.addLevel(item, loc, map[string]int{}, e.sb.now())
		case !activate && l != nil:
			removeRef(item, "inventoryLevels", str(l["id"]))
			removeRef(loc, "inventoryLevels", str(l["id"]))
			e.sb.st.delete(str(l["id"]))
			l = nil
		}
		if l != nil {
			levels = append(levels, l)
		}
	}
	return object{"inventoryItem": item, "inventoryLevels": levels}, nil
}

func mPreparedForPickup(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	groups, _ := in["lineItemsByFulfillmentOrder"].([]any)
	for i, g := range groups {
		m, _ := g.(map[string]any)
		fo := e.sb.st.getType(str(m["fulfillmentOrderId"]), "FulfillmentOrder")
		if fo == nil {
			return object{"userErrors": userErrors(userError([]string{"input", "lineItemsByFulfillmentOrder", strconv.Itoa(i), "fulfillmentOrderId"}, "Fulfillment order does not exist."))}, nil
		}
		if !slices.Contains([]any{"OPEN", "IN_PROGRESS"}, fo["status"]) {
			return object{"userErrors": userErrors(userError([]string{"input", "lineItemsByFulfillmentOrder", strconv.Itoa(i), "fulfillmentOrderId"}, "Fulfillment order is not open."))}, nil
		}
		fo["_preparedForPickup"] = true
		fo["updatedAt"] = timestamp(e.sb.now())
	}
	return object{}, nil
}
