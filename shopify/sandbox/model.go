package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OrderSpec describes an order to create (control endpoint, REST, tests).
type OrderSpec struct {
	// ID is the order's GID ("" for the next free one).
	ID string `json:"id"`
	// CustomerID is the customer's GID ("" for a guest order).
	CustomerID string `json:"customerId"`
	// Email defaults to the customer's.
	Email string `json:"email"`
	// LineItems are the ordered variants.
	LineItems []LineItemSpec `json:"lineItems"`
	// Tags are the order's tags.
	Tags []string `json:"tags"`
	// Note is the order note.
	Note string `json:"note"`
	// FinancialStatus is a displayFinancialStatus value (default PAID).
	FinancialStatus string `json:"financialStatus"`
	// FulfillmentStatus is a displayFulfillmentStatus value (default UNFULFILLED).
	FulfillmentStatus string `json:"fulfillmentStatus"`
	// CreatedAt defaults to the sandbox clock.
	CreatedAt time.Time `json:"createdAt"`
}

// LineItemSpec is one ordered variant.
type LineItemSpec struct {
	// VariantID is the variant's GID; "" for a custom item.
	VariantID string `json:"variantId"`
	// Quantity defaults to 1.
	Quantity int `json:"quantity"`
	// Title and Price describe a custom item or override the variant's.
	Title string  `json:"title"`
	Price float64 `json:"price"`
}

// CustomerSpec describes a customer to create.
type CustomerSpec struct {
	// ID is the customer's GID ("" for the next free one).
	ID        string   `json:"id"`
	FirstName string   `json:"firstName"`
	LastName  string   `json:"lastName"`
	Email     string   `json:"email"`
	Phone     string   `json:"phone"`
	Tags      []string `json:"tags"`
	Note      string   `json:"note"`
}

// ProductSpec describes a product to create.
type ProductSpec struct {
	// ID is the product's GID ("" for the next free one).
	ID          string        `json:"id"`
	Title       string        `json:"title"`
	Vendor      string        `json:"vendor"`
	ProductType string        `json:"productType"`
	Tags        []string      `json:"tags"`
	Status      string        `json:"status"`
	Variants    []VariantSpec `json:"variants"`
}

// VariantSpec describes one variant of a new product.
type VariantSpec struct {
	// ID is the variant's GID ("" for the next free one).
	ID    string  `json:"id"`
	Title string  `json:"title"`
	SKU   string  `json:"sku"`
	Price float64 `json:"price"`
	// Available is the available quantity at the first location.
	Available int `json:"available"`
}

const currency = "USD"

func handleize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// addCustomer stores a customer.
func (sb *Sandbox) addCustomer(c CustomerSpec, at time.Time) object {
	st := sb.st
	o := st.create("Customer", object{
		"id":            c.ID,
		"firstName":     c.FirstName,
		"lastName":      c.LastName,
		"email":         c.Email,
		"phone":         nilIfEmpty(c.Phone),
		"note":          nilIfEmpty(c.Note),
		"tags":          mergeTags(nil, c.Tags),
		"state":         "ENABLED",
		"verifiedEmail": true,
		"taxExempt":     false,
		"locale":        "en",
		"createdAt":     timestamp(at),
		"updatedAt":     timestamp(at),
		"orders":        []any{},
		"metafields":    []any{},
		"defaultAddress": object{"__typename": "MailingAddress", "firstName": c.FirstName, "lastName": c.LastName,
			"address1": "1 Sandbox Street", "city": "Ottawa", "province": "Ontario", "provinceCode": "ON",
			"country": "Canada", "countryCodeV2": "CA", "zip": "K1A 0A1", "phone": nilIfEmpty(c.Phone)},
	})
	return o
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// addProduct stores a product with its variants, inventory items and levels.
func (sb *Sandbox) addProduct(p ProductSpec, at time.Time) object {
	st := sb.st
	status := strings.ToUpper(p.Status)
	if status == "" {
		status = "ACTIVE"
	}
	prod := st.create("Product", object{
		"id":              p.ID,
		"title":           p.Title,
		"handle":          handleize(p.Title),
		"vendor":          p.Vendor,
		"productType":     p.ProductType,
		"tags":            mergeTags(nil, p.Tags),
		"status":          status,
		"descriptionHtml": "<p>" + p.Title + "</p>",
		"createdAt":       timestamp(at),
		"updatedAt":       timestamp(at),
		"publishedAt":     timestamp(at),
		"variants":        []any{},
		"collections":     []any{},
		"metafields":      []any{},
		"_publications":   []any{},
	})
	vs := p.Variants
	if len(vs) == 0 {
		vs = []VariantSpec{{Title: "Default Title", Price: 10}}
	}
	for i, v := range vs {
		sb.addVariant(prod, v, i+1, at)
	}
	return prod
}

func (sb *Sandbox) addVariant(prod object, v VariantSpec, pos int, at time.Time) object {
	st := sb.st
	title := v.Title
	if title == "" {
		title = "Default Title"
	}
	item := st.create("InventoryItem", object{
		"sku": nilIfEmpty(v.SKU), "tracked": true, "requiresShipping": true,
		"unitCost":  moneyV2(v.Price/2, currency),
		"createdAt": timestamp(at), "updatedAt": timestamp(at),
		"inventoryLevels": []any{},
	})
	variant := st.create("ProductVariant", object{
		"id":                 v.ID,
		"title":              title,
		"sku":                nilIfEmpty(v.SKU),
		"price":              money(v.Price),
		"compareAtPrice":     nil,
		"position":           pos,
		"barcode":            nil,
		"taxable":            true,
		"inventoryPolicy":    "DENY",
		"availableForSale":   true,
		"product":            ref(prod["id"].(string)),
		"inventoryItem":      ref(item["id"].(string)),
		"selectedOptions":    []any{object{"__typename": "SelectedOption", "name": "Title", "value": title}},
		"createdAt":          timestamp(at),
		"updatedAt":          timestamp(at),
		"metafields":         []any{},
		"requiresComponents": false,
	})
	item["variant"] = ref(variant["id"].(string))
	appendRef(prod, "variants", variant["id"].(string))
	for i, loc := range st.list("Location") {
		q := map[string]int{}
		if i == 0 {
			q["available"] = v.Available
			q["on_hand"] = v.Available
		}
		sb.addLevel(item, loc, q, at)
	}
	return variant
}

func (sb *Sandbox) addLevel(item, loc object, q map[string]int, at time.Time) object {
	lvl := sb.st.create("InventoryLevel", object{
		"item":          ref(item["id"].(string)),
		"location":      ref(loc["id"].(string)),
		"createdAt":     timestamp(at),
		"updatedAt":     timestamp(at),
		"canDeactivate": true,
		"_quantities":   q,
	})
	appendRef(item, "inventoryLevels", lvl["id"].(string))
	appendRef(loc, "inventoryLevels", lvl["id"].(string))
	return lvl
}

// level finds the inventory level of an item at a location.
func (sb *Sandbox) level(itemID, locationID string) object {
	item := sb.st.getType(itemID, "InventoryItem")
	if item == nil {
		return nil
	}
	for _, r := range refsOf(item, "inventoryLevels") {
		l := sb.st.deref(r)
		if l != nil && l["location"] == ref(locationID) {
			return l
		}
	}
	return nil
}

func quantities(l object) map[string]int {
	q, _ := l["_quantities"].(map[string]int)
	if q == nil {
		q = map[string]int{}
		l["_quantities"] = q
	}
	return q
}

// addOrder stores an order with its line items, transactions, fulfillment
// orders and (when fulfilled) fulfillments.
func (sb *Sandbox) addOrder(spec OrderSpec) (object, error) {
	st := sb.st
	at := spec.CreatedAt
	if at.IsZero() {
		at = sb.now()
	}
	var cust object
	if spec.CustomerID != "" {
		cust = st.getType(spec.CustomerID, "Customer")
		if cust == nil {
			return nil, fmt.Errorf("customerId: no customer %s", spec.CustomerID)
		}
	}
	email := spec.Email
	if email == "" && cust != nil {
		email, _ = cust["email"].(string)
	}
	fin := strings.ToUpper(spec.FinancialStatus)
	if fin == "" {
		fin = "PAID"
	}
	ful := strings.ToUpper(spec.FulfillmentStatus)
	if ful == "" {
		ful = "UNFULFILLED"
	}
	sb.orderNumber++
	number := sb.orderNumber
	order := st.create("Order", object{
		"id":                       spec.ID,
		"name":                     "#" + strconv.Itoa(number),
		"number":                   number,
		"email":                    nilIfEmpty(email),
		"phone":                    nil,
		"note":                     nilIfEmpty(spec.Note),
		"tags":                     mergeTags(nil, spec.Tags),
		"createdAt":                timestamp(at),
		"updatedAt":                timestamp(at),
		"processedAt":              timestamp(at),
		"currencyCode":             currency,
		"presentmentCurrencyCode":  currency,
		"displayFinancialStatus":   fin,
		"displayFulfillmentStatus": ful,
		"closed":                   false,
		"closedAt":                 nil,
		"cancelledAt":              nil,
		"cancelReason":             nil,
		"confirmed":                true,
		"test":                     false,
		"sourceName":               "web",
		"customAttributes":         []any{},
		"lineItems":                []any{},
		"transactions":             []any{},
		"fulfillments":             []any{},
		"fulfillmentOrders":        []any{},
		"metafields":               []any{},
		"discountCodes":            []any{},
		"customerAcceptsMarketing": false,
	})
	oid := order["id"].(string)
	if cust != nil {
		order["customer"] = ref(cust["id"].(string))
		appendRef(cust, "orders", oid)
		order["shippingAddress"] = cust["defaultAddress"]
		order["billingAddress"] = cust["defaultAddress"]
	}
	total, qty := 0.0, 0
	var items []object
	for i, li := range spec.LineItems {
		q := li.Quantity
		if q <= 0 {
			q = 1
		}
		fields := object{"quantity": q, "currentQuantity": q, "requiresShipping": true, "taxable": true, "isGiftCard": false, "customAttributes": []any{}}
		title, price := li.Title, li.Price
		if li.VariantID != "" {
			v := st.getType(li.VariantID, "ProductVariant")
			if v == nil {
				return nil, fmt.Errorf("lineItems[%d].variantId: no variant %s", i, li.VariantID)
			}
			p := st.deref(v["product"])
			if title == "" && p != nil {
				title, _ = p["title"].(string)
			}
			if price == 0 {
				price, _ = parseMoney(v["price"])
			}
			fields["variant"] = ref(li.VariantID)
			fields["sku"] = v["sku"]
			fields["variantTitle"] = v["title"]
			if p != nil {
				fields["product"] = ref(p["id"].(string))
				fields["vendor"] = p["vendor"]
			}
		}
		if title == "" {
			title = "Custom item"
		}
		fields["title"] = title
		fields["name"] = title
		fields["originalUnitPriceSet"] = moneyBag(price, currency)
		fields["discountedUnitPriceSet"] = moneyBag(price, currency)
		fields["originalTotalSet"] = moneyBag(price*float64(q), currency)
		fields["discountedTotalSet"] = moneyBag(price*float64(q), currency)
		fields["totalDiscountSet"] = moneyBag(0, currency)
		unfulfilled := q
		if ful == "FULFILLED" {
			unfulfilled = 0
		}
		fields["unfulfilledQuantity"] = unfulfilled
		fields["fulfillableQuantity"] = unfulfilled
		fields["refundableQuantity"] = q
		fields["_order"] = ref(oid)
		item := st.create("LineItem", fields)
		appendRef(order, "lineItems", item["id"].(string))
		items = append(items, item)
		total += price * float64(q)
		qty += q
	}
	for _, k := range []string{"totalPriceSet", "currentTotalPriceSet", "subtotalPriceSet", "currentSubtotalPriceSet", "totalLineItemsPriceSet", "originalTotalPriceSet"} {
		order[k] = moneyBag(total, currency)
	}
	for _, k := range []string{"totalTaxSet", "currentTotalTaxSet", "totalDiscountsSet", "currentTotalDiscountsSet", "totalShippingPriceSet", "totalRefundedSet"} {
		order[k] = moneyBag(0, currency)
	}
	order["subtotalLineItemsQuantity"] = qty
	order["currentSubtotalLineItemsQuantity"] = qty
	outstanding := 0.0
	switch fin {
	case "PAID", "PARTIALLY_REFUNDED", "REFUNDED":
		sb.addTransaction(order, "SALE", "SUCCESS", total, at)
	case "AUTHORIZED":
		sb.addTransaction(order, "AUTHORIZATION", "SUCCESS", total, at)
		outstanding = total
	default:
		outstanding = total
	}
	if fin == "REFUNDED" {
		sb.addTransaction(order, "REFUND", "SUCCESS", total, at)
		order["totalRefundedSet"] = moneyBag(total, currency)
	}
	order["totalOutstandingSet"] = moneyBag(outstanding, currency)
	order["fullyPaid"] = outstanding == 0
	order["capturable"] = fin == "AUTHORIZED"
	order["canMarkAsPaid"] = fin == "PENDING" || fin == "AUTHORIZED" || fin == "PARTIALLY_PAID"
	order["unpaid"] = outstanding > 0

	locs := st.list("Location")
	var loc object
	if len(locs) > 0 {
		loc = locs[0]
	}
	foStatus := "OPEN"
	if ful == "FULFILLED" {
		foStatus = "CLOSED"
	}
	fo := st.create("FulfillmentOrder", object{
		"status": foStatus, "requestStatus": "UNSUBMITTED", "order": ref(oid), "orderId": oid,
		"orderName": order["name"], "createdAt": timestamp(at), "updatedAt": timestamp(at),
		"orderProcessedAt": timestamp(at), "lineItems": []any{}, "fulfillments": []any{},
		"fulfillmentHolds": []any{}, "supportedActions": []any{},
	})
	if loc != nil {
		fo["assignedLocation"] = object{"__typename": "FulfillmentOrderAssignedLocation", "name": loc["name"], "location": ref(loc["id"].(string))}
	}
	appendRef(order, "fulfillmentOrders", fo["id"].(string))
	for _, item := range items {
		foli := st.create("FulfillmentOrderLineItem", object{
			"lineItem": ref(item["id"].(string)), "totalQuantity": item["quantity"],
			"remainingQuantity": item["unfulfilledQuantity"], "sku": item["sku"], "variant": item["variant"],
			"productTitle": item["title"], "_fulfillmentOrder": ref(fo["id"].(string)),
		})
		appendRef(fo, "lineItems", foli["id"].(string))
	}
	if ful == "FULFILLED" && len(items) > 0 {
		sb.addFulfillment(order, fo, items, nil, at)
	}
	return order, nil
}

func (sb *Sandbox) addTransaction(order object, kind, status string, amount float64, at time.Time) object {
	t := sb.st.create("OrderTransaction", object{
		"kind": kind, "status": status, "gateway": "bogus", "formattedGateway": "Bogus",
		"amountSet": moneyBag(amount, currency), "createdAt": timestamp(at), "processedAt": timestamp(at),
		"test": true, "order": ref(order["id"].(string)), "manuallyCapturable": kind == "AUTHORIZATION",
		"fees": []any{},
	})
	appendRef(order, "transactions", t["id"].(string))
	return t
}

// addFulfillment fulfills items (all of their remaining quantity) of a
// fulfillment order.
func (sb *Sandbox) addFulfillment(order, fo object, items []object, tracking object, at time.Time) object {
	st := sb.st
	f := st.create("Fulfillment", object{
		"status": "SUCCESS", "displayStatus": "FULFILLED", "order": ref(order["id"].(string)),
		"name":      fmt.Sprintf("%v-F%d", order["name"], len(refsOf(order, "fulfillments"))+1),
		"createdAt": timestamp(at), "updatedAt": timestamp(at), "requiresShipping": true,
		"trackingInfo": []any{}, "fulfillmentLineItems": []any{}, "fulfillmentOrders": []any{ref(fo["id"].(string))},
	})
	if al, ok := fo["assignedLocation"].(object); ok {
		f["location"] = al["location"]
	}
	if tracking != nil {
		f["trackingInfo"] = []any{tracking}
	}
	total := 0
	for _, it := range items {
		q, _ := it["quantity"].(int)
		total += q
		fli := st.create("FulfillmentLineItem", object{"lineItem": ref(it["id"].(string)), "quantity": q})
		appendRef(f, "fulfillmentLineItems", fli["id"].(string))
		it["unfulfilledQuantity"] = 0
		it["fulfillableQuantity"] = 0
	}
	f["totalQuantity"] = total
	appendRef(order, "fulfillments", f["id"].(string))
	appendRef(fo, "fulfillments", f["id"].(string))
	for _, r := range refsOf(fo, "lineItems") {
		if li := st.deref(r); li != nil {
			li["remainingQuantity"] = 0
		}
	}
	fo["status"] = "CLOSED"
	sb.refreshFulfillmentStatus(order)
	return f
}

// refreshFulfillmentStatus recomputes an order's displayFulfillmentStatus
// from its line items.
func (sb *Sandbox) refreshFulfillmentStatus(order object) {
	total, open := 0, 0
	for _, r := range refsOf(order, "lineItems") {
		if li := sb.st.deref(r); li != nil {
			q, _ := li["quantity"].(int)
			u, _ := li["unfulfilledQuantity"].(int)
			total += q
			open += u
		}
	}
	switch {
	case total > 0 && open == 0:
		order["displayFulfillmentStatus"] = "FULFILLED"
	case open < total:
		order["displayFulfillmentStatus"] = "PARTIALLY_FULFILLED"
	default:
		order["displayFulfillmentStatus"] = "UNFULFILLED"
	}
}

// setMetafield creates or updates the metafield namespace.key of owner.
func (sb *Sandbox) setMetafield(owner object, namespace, key, typ, value string) object {
	st := sb.st
	now := timestamp(sb.now())
	if namespace == "" {
		namespace = "$app"
	}
	for _, r := range refsOf(owner, "metafields") {
		m := st.deref(r)
		if m != nil && m["namespace"] == namespace && m["key"] == key {
			m["value"] = value
			if typ != "" {
				m["type"] = typ
			}
			m["updatedAt"] = now
			m["compareDigest"] = digest(value)
			return m
		}
	}
	if typ == "" {
		typ = "single_line_text_field"
	}
	ownerType := strings.ToUpper(handleize(camelToSnake(owner["__typename"].(string))))
	ownerType = strings.ReplaceAll(ownerType, "-", "_")
	m := st.create("Metafield", object{
		"namespace": namespace, "key": key, "type": typ, "value": value,
		"owner": ref(owner["id"].(string)), "ownerType": ownerType,
		"createdAt": now, "updatedAt": now, "compareDigest": digest(value),
	})
	appendRef(owner, "metafields", m["id"].(string))
	return m
}

func digest(s string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return strconv.FormatUint(h, 16)
}

// camelToSnake turns "createdAt" or "ProductVariant" into snake case.
func camelToSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r + ('a' - 'A'))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// snakeToCamel turns "created_at" or "CREATED_AT" into "createdAt".
func snakeToCamel(s string) string {
	parts := strings.Split(strings.ToLower(s), "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
