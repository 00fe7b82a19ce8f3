package sandbox

import (
	"fmt"
	"strconv"

	"github.com/sprocketrun/sprocket/shopify/schema"
)

// updateTopics are the update topics of the resources a webhook can
// describe.
var updateTopics = map[string]string{
	"Order": "orders/updated", "Product": "products/update", "Customer": "customers/update",
	"DraftOrder": "draft_orders/update", "Collection": "collections/update", "Fulfillment": "fulfillments/update",
}

// orderCreated sends the topics of a new order. Caller holds mu.
func (sb *Sandbox) orderCreated(o object) {
	sb.emit("orders/create", o)
	if o["displayFinancialStatus"] == "PAID" {
		sb.emit("orders/paid", o)
	}
	if o["displayFulfillmentStatus"] == "FULFILLED" {
		sb.emit("orders/fulfilled", o)
	}
}

// orderPaymentChanged sends orders/updated and, when the order is now
// paid, orders/paid. Caller holds mu.
func (sb *Sandbox) orderPaymentChanged(o object, wasPaid bool) {
	sb.emit("orders/updated", o)
	if !wasPaid && o["displayFinancialStatus"] == "PAID" {
		sb.emit("orders/paid", o)
	}
}

// fulfillmentChanged sends the order topics that follow a fulfillment.
// Caller holds mu.
func (sb *Sandbox) fulfillmentChanged(order object) {
	if order == nil {
		return
	}
	sb.emit("orders/updated", order)
	switch order["displayFulfillmentStatus"] {
	case "FULFILLED":
		sb.emit("orders/fulfilled", order)
	case "PARTIALLY_FULFILLED":
		sb.emit("orders/partially_fulfilled", order)
	}
}

// mutationEvents sends the webhooks a successful mutation causes. Caller
// holds mu; before is the order's financial status before the mutation
// for the payment mutations.
func (e *executor) mutationEvents(name string, args map[string]any, p object, paidBefore bool) {
	if ue, _ := p["userErrors"].([]any); len(ue) > 0 {
		return
	}
	sb := e.sb
	st := sb.st
	get := func(k string) object { o, _ := p[k].(object); return o }
	switch name {
	case "tagsAdd", "tagsRemove":
		if n := get("node"); n != nil {
			if t := updateTopics[str(n["__typename"])]; t != "" {
				sb.emit(t, n)
			}
		}
	case "orderUpdate", "orderClose", "orderOpen", "orderEditCommit":
		sb.emit("orders/updated", get("order"))
	case "orderMarkAsPaid":
		sb.orderPaymentChanged(get("order"), paidBefore)
	case "orderCapture":
		if o := st.getType(str(inputOf(args, "input")["id"]), "Order"); o != nil {
			sb.orderPaymentChanged(o, paidBefore)
		}
	case "orderCancel":
		if o := st.getType(str(args["orderId"]), "Order"); o != nil {
			sb.emit("orders/cancelled", o)
			sb.emit("orders/updated", o)
		}
	case "customerCreate":
		sb.emit("customers/create", get("customer"))
	case "customerUpdate":
		sb.emit("customers/update", get("customer"))
	case "productCreate":
		sb.emit("products/create", get("product"))
	case "productUpdate", "productVariantsBulkUpdate", "productVariantsBulkDelete":
		sb.emit("products/update", get("product"))
	case "collectionCreate":
		sb.emit("collections/create", get("collection"))
	case "collectionUpdate":
		sb.emit("collections/update", get("collection"))
	case "collectionAddProducts", "collectionAddProductsV2", "collectionRemoveProducts", "collectionReorderProducts":
		sb.emit("collections/update", st.getType(str(args["id"]), "Collection"))
	case "inventoryAdjustQuantities", "inventorySetQuantities":
		g := get("inventoryAdjustmentGroup")
		changes, _ := g["changes"].([]any)
		seen := map[string]bool{}
		for _, x := range changes {
			c, _ := x.(object)
			l := sb.level(str(refOrString(c["item"])), str(refOrString(c["location"])))
			if l == nil || seen[str(l["id"])] {
				continue
			}
			seen[str(l["id"])] = true
			sb.emit("inventory_levels/update", l)
		}
	case "fulfillmentCreate":
		f := get("fulfillment")
		sb.emit("fulfillments/create", f)
		sb.fulfillmentChanged(st.deref(f["order"]))
	case "fulfillmentCancel":
		f := get("fulfillment")
		sb.emit("fulfillments/update", f)
		if o := st.deref(f["order"]); o != nil {
			sb.emit("orders/updated", o)
		}
	case "fulfillmentTrackingInfoUpdate", "fulfillmentTrackingInfoUpdateV2":
		sb.emit("fulfillments/update", get("fulfillment"))
	case "fulfillmentEventCreate":
		sb.emit("fulfillments/update", st.getType(str(inputOf(args, "fulfillmentEvent")["fulfillmentId"]), "Fulfillment"))
	case "draftOrderCreate":
		sb.emit("draft_orders/create", get("draftOrder"))
	case "draftOrderUpdate", "draftOrderInvoiceSend":
		sb.emit("draft_orders/update", get("draftOrder"))
	case "draftOrderComplete":
		d := get("draftOrder")
		sb.emit("draft_orders/update", d)
		if o := st.deref(d["order"]); o != nil {
			sb.orderCreated(o)
		}
	case "returnRequest":
		sb.emit("returns/request", get("return"))
	case "returnApproveRequest":
		sb.emit("returns/approve", get("return"))
	case "refundCreate":
		r := get("refund")
		sb.emit("refunds/create", r)
		if o := st.deref(r["order"]); o != nil {
			sb.emit("orders/updated", o)
		}
	}
}

// paidBefore reads whether the order a payment mutation names is paid.
func (e *executor) paidBefore(name string, args map[string]any) bool {
	if name != "orderMarkAsPaid" && name != "orderCapture" {
		return false
	}
	o := e.sb.st.getType(str(inputOf(args, "input")["id"]), "Order")
	return o != nil && o["displayFinancialStatus"] == "PAID"
}

// mRefundCreate refunds line items and an amount of an order: a Refund
// with refund line items and a REFUND transaction; the order's refunded
// total and financial status follow.
func mRefundCreate(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	st := e.sb.st
	o := st.getType(str(in["orderId"]), "Order")
	if o == nil {
		return object{"refund": nil, "order": nil, "userErrors": userErrors(userError([]string{"orderId"}, "Order does not exist"))}, nil
	}
	now := e.sb.now()
	var rlis []any
	subtotal := 0.0
	lis, _ := in["refundLineItems"].([]any)
	for i, x := range lis {
		m, _ := x.(map[string]any)
		li := st.getType(str(m["lineItemId"]), "LineItem")
		q, _ := schema.ToInt(m["quantity"])
		if li == nil || li["_order"] != ref(str(o["id"])) {
			return object{"refund": nil, "userErrors": userErrors(userError([]string{"refundLineItems", strconv.Itoa(i), "lineItemId"}, "Line item does not exist on the order"))}, nil
		}
		refundable, _ := li["refundableQuantity"].(int)
		if q <= 0 || q > refundable {
			return object{"refund": nil, "userErrors": userErrors(userError([]string{"refundLineItems", strconv.Itoa(i), "quantity"}, fmt.Sprintf("Quantity must be between 1 and %d", refundable)))}, nil
		}
		price := bagAmount(li["discountedUnitPriceSet"])
		subtotal += price * float64(q)
		rlis = append(rlis, object{"__typename": "RefundLineItem", "lineItem": ref(str(li["id"])), "quantity": q,
			"restockType": strDefault(m["restockType"], "NO_RESTOCK"), "restocked": false,
			"priceSet": moneyBag(price, currency), "subtotalSet": moneyBag(price*float64(q), currency), "totalTaxSet": moneyBag(0, currency),
			"location": nil})
	}
	amount := subtotal
	txs, _ := in["transactions"].([]any)
	if len(txs) > 0 {
		amount = 0
		for _, x := range txs {
			m, _ := x.(map[string]any)
			a, _ := parseMoney(m["amount"])
			amount += a
		}
	}
	refunded := bagAmount(o["totalRefundedSet"])
	total := bagAmount(o["totalPriceSet"])
	if amount < 0 || refunded+amount > total+0.001 {
		return object{"refund": nil, "userErrors": userErrors(userError([]string{"transactions"}, "Refund amount exceeds the refundable amount"))}, nil
	}
	for _, x := range rlis {
		rl := x.(object)
		li := st.deref(rl["lineItem"])
		q := rl["quantity"].(int)
		li["refundableQuantity"] = li["refundableQuantity"].(int) - q
		cq, _ := li["currentQuantity"].(int)
		li["currentQuantity"] = max(cq-q, 0)
	}
	var txRefs []any
	if amount > 0 {
		t := e.sb.addTransaction(o, "REFUND", "SUCCESS", amount, now)
		txRefs = append(txRefs, ref(str(t["id"])))
	}
	r := st.create("Refund", object{"order": ref(str(o["id"])), "note": in["note"], "createdAt": timestamp(now), "updatedAt": timestamp(now),
		"refundLineItems": rlis, "transactions": txRefs, "totalRefundedSet": moneyBag(amount, currency),
		"duties": []any{}, "refundShippingLines": []any{}, "orderAdjustments": []any{}, "return": nil})
	appendRef(o, "refunds", str(r["id"]))
	o["totalRefundedSet"] = moneyBag(refunded+amount, currency)
	switch {
	case refunded+amount >= total-0.001 && amount > 0:
		o["displayFinancialStatus"] = "REFUNDED"
	case amount > 0:
		o["displayFinancialStatus"] = "PARTIALLY_REFUNDED"
	}
	o["updatedAt"] = timestamp(now)
	return object{"refund": r, "order": o}, nil
}

// refundREST is the REST (and refunds/create webhook) shape of a refund.
func (sb *Sandbox) refundREST(r object) map[string]any {
	var rlis []map[string]any
	lis, _ := r["refundLineItems"].([]any)
	for i, x := range lis {
		rl, _ := x.(object)
		var li map[string]any
		if l := sb.st.deref(rl["lineItem"]); l != nil {
			li = sb.lineItemREST(l)
		}
		sub := bagAmount(rl["subtotalSet"])
		rlis = append(rlis, map[string]any{
			"id": legacyID(str(r["id"]))*100 + int64(i), "line_item_id": idOf(rl["lineItem"]), "quantity": rl["quantity"],
			"restock_type": lower(rl["restockType"]), "location_id": nil, "subtotal": sub, "total_tax": 0,
			"subtotal_set": restMoneyBag(sub), "total_tax_set": restMoneyBag(0), "line_item": li,
		})
	}
	return map[string]any{
		"id": legacyID(str(r["id"])), "admin_graphql_api_id": r["id"], "order_id": idOf(r["order"]), "note": r["note"],
		"created_at": r["createdAt"], "processed_at": r["createdAt"], "restock": false, "user_id": nil,
		"refund_line_items": nonNil(rlis), "transactions": mapAll(derefAll(sb.st, refsOf(r, "transactions")), sb.transactionREST),
		"order_adjustments": []any{}, "duties": []any{}, "refund_shipping_lines": []any{}, "return": nil,
		"total_duties_set": restMoneyBag(0),
	}
}

func restMoneyBag(x float64) map[string]any {
	m := map[string]any{"amount": money2(x), "currency_code": currency}
	return map[string]any{"shop_money": m, "presentment_money": m}
}

// money2 formats an amount with two decimals, as REST money bags do.
func money2(x float64) string {
	return strconv.FormatFloat(x, 'f', 2, 64)
}
