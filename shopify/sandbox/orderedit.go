package sandbox

// Order editing: orderEditBegin stores a CalculatedOrder holding one
// CalculatedLineItem per line item of the order; added variants, quantity
// changes and line item discounts are staged on it; orderEditCommit applies
// them to the order.

func (sb *Sandbox) calcTotals(calc object) {
	total, qty := 0.0, 0
	for _, r := range refsOf(calc, "lineItems") {
		li := sb.st.deref(r)
		if li == nil {
			continue
		}
		q, _ := li["quantity"].(int)
		unit := bagAmount(li["discountedUnitPriceSet"])
		total += unit * float64(q)
		qty += q
		li["editableSubtotalSet"] = moneyBag(unit*float64(q), currency)
	}
	calc["subtotalPriceSet"] = moneyBag(total, currency)
	calc["totalPriceSet"] = moneyBag(total, currency)
	calc["subtotalLineItemsQuantity"] = qty
	if o := sb.st.deref(calc["originalOrder"]); o != nil {
		paid := bagAmount(o["totalPriceSet"]) - bagAmount(o["totalOutstandingSet"])
		calc["totalOutstandingSet"] = moneyBag(max(total-paid, 0), currency)
	}
}

func (e *executor) openCalc(id string) (object, object) {
	calc := e.sb.st.getType(id, "CalculatedOrder")
	if calc == nil || calc["committed"] == true {
		return nil, object{"userErrors": userErrors(userError([]string{"id"}, "The calculated order does not exist or has been committed"))}
	}
	return calc, nil
}

func mOrderEditBegin(e *executor, args map[string]any) (object, error) {
	o := e.sb.st.getType(str(args["id"]), "Order")
	if o == nil {
		return object{"calculatedOrder": nil, "userErrors": userErrors(userError([]string{"id"}, "The order does not exist"))}, nil
	}
	if o["cancelledAt"] != nil {
		return object{"calculatedOrder": nil, "userErrors": userErrors(userError([]string{"id"}, "A cancelled order cannot be edited"))}, nil
	}
	calc := e.sb.st.create("CalculatedOrder", object{"originalOrder": ref(str(o["id"])), "committed": false, "lineItems": []any{},
		"addedLineItems": []any{}, "shippingLines": []any{}, "taxLines": []any{}, "notificationPreviewTitle": "Order updated"})
	for _, r := range refsOf(o, "lineItems") {
		li := e.sb.st.deref(r)
		if li == nil {
			continue
		}
		q, _ := li["quantity"].(int)
		cli := e.sb.st.create("CalculatedLineItem", object{"_lineItem": ref(str(li["id"])), "title": li["title"], "sku": li["sku"],
			"variant": li["variant"], "variantTitle": li["variantTitle"], "quantity": q, "editableQuantity": q,
			"editableQuantityBeforeChanges": q, "originalUnitPriceSet": li["originalUnitPriceSet"],
			"discountedUnitPriceSet": li["discountedUnitPriceSet"], "restockable": true, "hasStagedLineItemDiscount": false})
		appendRef(calc, "lineItems", str(cli["id"]))
	}
	e.sb.calcTotals(calc)
	session := object{"__typename": "OrderEditSession", "id": gidOf("OrderEditSession", legacyID(str(calc["id"])))}
	return object{"calculatedOrder": calc, "orderEditSession": session}, nil
}

func mOrderEditAddVariant(e *executor, args map[string]any) (object, error) {
	calc, fail := e.openCalc(str(args["id"]))
	if calc == nil {
		return fail, nil
	}
	v := e.sb.st.getType(str(args["variantId"]), "ProductVariant")
	if v == nil {
		return object{"calculatedLineItem": nil, "userErrors": userErrors(userError([]string{"variantId"}, "The variant does not exist"))}, nil
	}
	q, _ := intArg(args, "quantity")
	if q <= 0 {
		return object{"calculatedLineItem": nil, "userErrors": userErrors(userError([]string{"quantity"}, "Quantity must be greater than 0"))}, nil
	}
	if dup, _ := args["allowDuplicates"].(bool); !dup {
		for _, r := range refsOf(calc, "lineItems") {
			if li := e.sb.st.deref(r); li != nil && li["variant"] == ref(str(v["id"])) {
				return object{"calculatedLineItem": nil, "userErrors": userErrors(userError([]string{"variantId"}, "The variant is already on the order; pass allowDuplicates: true"))}, nil
			}
		}
	}
	price, _ := parseMoney(v["price"])
	title := str(v["title"])
	if p := e.sb.st.deref(v["product"]); p != nil {
		title = str(p["title"])
	}
	cli := e.sb.st.create("CalculatedLineItem", object{"title": title, "sku": v["sku"], "variant": ref(str(v["id"])),
		"variantTitle": v["title"], "quantity": q, "editableQuantity": q, "editableQuantityBeforeChanges": 0,
		"originalUnitPriceSet": moneyBag(price, currency), "discountedUnitPriceSet": moneyBag(price, currency),
		"restockable": false, "hasStagedLineItemDiscount": false, "_added": true})
	appendRef(calc, "lineItems", str(cli["id"]))
	appendRef(calc, "addedLineItems", str(cli["id"]))
	e.sb.calcTotals(calc)
	return object{"calculatedLineItem": cli, "calculatedOrder": calc}, nil
}

func (e *executor) calcLineItem(calc object, id string) object {
	li := e.sb.st.getType(id, "CalculatedLineItem")
	if li == nil {
		return nil
	}
	for _, r := range refsOf(calc, "lineItems") {
		if r == ref(id) {
			return li
		}
	}
	return nil
}

func mOrderEditAddLineItemDiscount(e *executor, args map[string]any) (object, error) {
	calc, fail := e.openCalc(str(args["id"]))
	if calc == nil {
		return fail, nil
	}
	li := e.calcLineItem(calc, str(args["lineItemId"]))
	if li == nil || li["_added"] != true {
		return object{"calculatedLineItem": nil, "userErrors": userErrors(userError([]string{"lineItemId"}, "Discounts can only be added to line items added in this edit"))}, nil
	}
	d := inputOf(args, "discount")
	unit := bagAmount(li["originalUnitPriceSet"])
	off := 0.0
	if pct, ok := parseMoney(d["percentValue"]); ok && d["percentValue"] != nil {
		if pct < 0 || pct > 100 {
			return object{"calculatedLineItem": nil, "userErrors": userErrors(userError([]string{"discount", "percentValue"}, "Percent value must be between 0 and 100"))}, nil
		}
		off = unit * pct / 100
	} else if fv, ok := d["fixedValue"].(map[string]any); ok {
		amount, _ := parseMoney(fv["amount"])
		off = min(amount, unit)
	} else {
		return object{"calculatedLineItem": nil, "userErrors": userErrors(userError([]string{"discount"}, "Give percentValue or fixedValue"))}, nil
	}
	li["discountedUnitPriceSet"] = moneyBag(unit-off, currency)
	li["hasStagedLineItemDiscount"] = true
	e.sb.calcTotals(calc)
	change := object{"__typename": "OrderStagedChangeAddLineItemDiscount", "id": gidOf("OrderStagedChange", legacyID(str(li["id"]))),
		"description": d["description"], "value": object{"__typename": "MoneyV2", "amount": money(off), "currencyCode": currency}}
	return object{"calculatedLineItem": li, "calculatedOrder": calc, "addedDiscountStagedChange": change}, nil
}

func mOrderEditSetQuantity(e *executor, args map[string]any) (object, error) {
	calc, fail := e.openCalc(str(args["id"]))
	if calc == nil {
		return fail, nil
	}
	li := e.calcLineItem(calc, str(args["lineItemId"]))
	if li == nil {
		return object{"calculatedLineItem": nil, "userErrors": userErrors(userError([]string{"lineItemId"}, "The line item is not on the calculated order"))}, nil
	}
	q, _ := intArg(args, "quantity")
	if q < 0 {
		return object{"calculatedLineItem": nil, "userErrors": userErrors(userError([]string{"quantity"}, "Quantity must be 0 or more"))}, nil
	}
	li["quantity"] = q
	li["editableQuantity"] = q
	e.sb.calcTotals(calc)
	return object{"calculatedLineItem": li, "calculatedOrder": calc}, nil
}

func mOrderEditCommit(e *executor, args map[string]any) (object, error) {
	calc, fail := e.openCalc(str(args["id"]))
	if calc == nil {
		return fail, nil
	}
	o := e.sb.st.deref(calc["originalOrder"])
	if o == nil {
		return object{"order": nil, "userErrors": userErrors(userError([]string{"id"}, "The order no longer exists"))}, nil
	}
	for _, r := range refsOf(calc, "lineItems") {
		cli := e.sb.st.deref(r)
		if cli == nil {
			continue
		}
		q, _ := cli["quantity"].(int)
		if cli["_added"] == true {
			if q == 0 {
				continue
			}
			unit := bagAmount(cli["discountedUnitPriceSet"])
			li := e.sb.st.create("LineItem", object{"title": cli["title"], "name": cli["title"], "sku": cli["sku"], "variant": cli["variant"],
				"variantTitle": cli["variantTitle"], "quantity": q, "currentQuantity": q, "unfulfilledQuantity": q, "fulfillableQuantity": q,
				"refundableQuantity": q, "requiresShipping": true, "taxable": true, "isGiftCard": false, "customAttributes": []any{},
				"originalUnitPriceSet": cli["originalUnitPriceSet"], "discountedUnitPriceSet": cli["discountedUnitPriceSet"],
				"originalTotalSet":   moneyBag(bagAmount(cli["originalUnitPriceSet"])*float64(q), currency),
				"discountedTotalSet": moneyBag(unit*float64(q), currency), "totalDiscountSet": moneyBag((bagAmount(cli["originalUnitPriceSet"])-unit)*float64(q), currency),
				"_order": ref(str(o["id"]))})
			if v := e.sb.st.deref(cli["variant"]); v != nil {
				li["product"] = v["product"]
			}
			appendRef(o, "lineItems", str(li["id"]))
			continue
		}
		if li := e.sb.st.deref(cli["_lineItem"]); li != nil {
			li["currentQuantity"] = q
			u, _ := li["unfulfilledQuantity"].(int)
			orig, _ := li["quantity"].(int)
			li["unfulfilledQuantity"] = max(0, u-(orig-q))
		}
	}
	total := bagAmount(calc["totalPriceSet"])
	paid := bagAmount(o["totalPriceSet"]) - bagAmount(o["totalOutstandingSet"])
	for _, k := range []string{"totalPriceSet", "currentTotalPriceSet", "subtotalPriceSet", "currentSubtotalPriceSet"} {
		o[k] = moneyBag(total, currency)
	}
	o["totalOutstandingSet"] = moneyBag(max(total-paid, 0), currency)
	o["edited"] = true
	o["updatedAt"] = timestamp(e.sb.now())
	e.sb.refreshFulfillmentStatus(o)
	calc["committed"] = true
	return object{"order": o, "successMessages": []any{"Order updated"}}, nil
}
