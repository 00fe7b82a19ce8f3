package sandbox

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Seed sizes: moderate, so that pagination is exercised and a reset is fast.
const (
	seedCustomers   = 24
	seedProducts    = 18
	seedOrders      = 40
	seedCollections = 5
	seedDrafts      = 6
)

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger", "Radia"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Dijkstra", "Perlman"}
	adjectives = []string{"Classic", "Organic", "Vintage", "Deluxe", "Everyday", "Limited"}
	nouns      = []string{"Mug", "T-Shirt", "Hoodie", "Notebook", "Candle", "Backpack", "Water Bottle", "Poster", "Socks"}
	vendors    = []string{"Acme", "Globex", "Initech", "Umbrella"}
	tagPool    = []string{"vip", "wholesale", "sale", "new", "gift", "local", "repeat", "newsletter"}
)

// seed fills an empty store with a deterministic shop.
func (sb *Sandbox) seed() {
	st := sb.st
	now := sb.now().UTC()
	rnd := rand.New(rand.NewPCG(uint64(sb.opts.Seed), uint64(sb.opts.Seed)^0x5eed))
	pick := func(l []string) string { return l[rnd.IntN(len(l))] }
	ago := func(maxDays int) time.Time {
		return now.Add(-time.Duration(rnd.IntN(maxDays*24*60)) * time.Minute).Truncate(time.Second)
	}
	created := now.AddDate(-2, 0, 0).Truncate(24 * time.Hour)
	sb.orderNumber = 1000

	host := sb.opts.Shop
	shop := st.create("Shop", object{
		"id":                           gidOf("Shop", 1),
		"name":                         "Sandbox Shop",
		"email":                        "owner@" + host,
		"contactEmail":                 "owner@" + host,
		"shopOwnerName":                "Sandbox Owner",
		"myshopifyDomain":              host,
		"url":                          "https://" + host,
		"primaryDomain":                object{"__typename": "Domain", "id": gidOf("Domain", 1), "host": host, "url": "https://" + host, "sslEnabled": true},
		"currencyCode":                 currency,
		"enabledPresentmentCurrencies": []any{currency},
		"ianaTimezone":                 "UTC",
		"timezoneAbbreviation":         "UTC",
		"timezoneOffset":               "+0000",
		"timezoneOffsetMinutes":        0,
		"weightUnit":                   "KILOGRAMS",
		"unitSystem":                   "METRIC_SYSTEM",
		"taxesIncluded":                false,
		"taxShipping":                  false,
		"createdAt":                    timestamp(created),
		"updatedAt":                    timestamp(created),
		"plan":                         object{"__typename": "ShopPlan", "displayName": "Developer Preview", "partnerDevelopment": true, "shopifyPlus": false},
		"currencyFormats":              object{"__typename": "CurrencyFormats", "moneyFormat": "${{amount}}", "moneyWithCurrencyFormat": "${{amount}} USD", "moneyInEmailsFormat": "${{amount}}", "moneyWithCurrencyInEmailsFormat": "${{amount}} USD"},
		"shopAddress":                  object{"__typename": "ShopAddress", "address1": "1 Sandbox Street", "city": "Ottawa", "province": "Ontario", "provinceCode": "ON", "country": "Canada", "countryCodeV2": "CA", "zip": "K1A 0A1"},
		"orderNumberFormatPrefix":      "#",
		"orderNumberFormatSuffix":      "",
		"metafields":                   []any{},
	})
	sb.setMetafield(shop, "sandbox", "greeting", "single_line_text_field", "hello from the sandbox")

	for i, name := range []string{"Main Warehouse", "Retail Store", "Overflow Storage"} {
		st.create("Location", object{
			"name": name, "isActive": true, "fulfillsOnlineOrders": i == 0, "shipsInventory": true,
			"hasActiveInventory": true, "createdAt": timestamp(created), "updatedAt": timestamp(created),
			"address": object{"__typename": "LocationAddress", "address1": fmt.Sprintf("%d Depot Road", i+1), "city": "Ottawa",
				"province": "Ontario", "provinceCode": "ON", "country": "Canada", "countryCode": "CA", "zip": "K1A 0A1"},
			"inventoryLevels": []any{}, "metafields": []any{},
		})
	}
	for _, name := range []string{"Online Store", "Point of Sale"} {
		st.create("Publication", object{"name": name, "autoPublish": false, "supportsFuturePublishing": true})
	}

	for i, name := range []string{"Dawn", "Sandbox Sale Theme"} {
		role := "MAIN"
		if i > 0 {
			role = "UNPUBLISHED"
		}
		st.create("OnlineStoreTheme", object{"name": name, "role": role, "createdAt": timestamp(created), "updatedAt": timestamp(created),
			"processing": false, "_assets": map[string]string{"layout/theme.liquid": "<html>{{ content_for_layout }}</html>", "templates/index.json": "{}"}})
	}

	var variants []object
	var products []object
	for i := range seedProducts {
		title := fmt.Sprintf("%s %s", adjectives[i%len(adjectives)], nouns[i%len(nouns)])
		if i >= len(nouns) {
			title += fmt.Sprintf(" %d", i/len(nouns)+1)
		}
		n := 1 + rnd.IntN(3)
		var vs []VariantSpec
		for j := range n {
			vt := "Default Title"
			if n > 1 {
				vt = []string{"Small", "Medium", "Large"}[j]
			}
			vs = append(vs, VariantSpec{
				Title:     vt,
				SKU:       fmt.Sprintf("SKU-%03d-%d", i+1, j+1),
				Price:     float64(5+rnd.IntN(60)) + 0.99,
				Available: rnd.IntN(40),
			})
		}
		status := "ACTIVE"
		if i%7 == 6 {
			status = "DRAFT"
		}
		tags := []string{pick(tagPool)}
		if rnd.IntN(2) == 0 {
			tags = append(tags, pick(tagPool))
		}
		p := sb.addProduct(ProductSpec{Title: title, Vendor: pick(vendors), ProductType: nouns[i%len(nouns)],
			Tags: tags, Status: status, Variants: vs}, ago(400))
		products = append(products, p)
		for _, r := range refsOf(p, "variants") {
			variants = append(variants, st.deref(r))
		}
		if i%4 == 0 {
			sb.setMetafield(p, "custom", "care_instructions", "multi_line_text_field", "Wash cold.\nDry flat.")
		}
	}
	for i := range seedCollections {
		title := []string{"Featured", "Sale", "New Arrivals", "Gifts", "Wholesale"}[i]
		c := st.create("Collection", object{
			"title": title, "handle": handleize(title), "descriptionHtml": "<p>" + title + "</p>",
			"sortOrder": "MANUAL", "updatedAt": timestamp(created), "products": []any{}, "metafields": []any{},
			"ruleSet": nil, "_publications": []any{},
		})
		for j, p := range products {
			if (j+i)%3 == 0 {
				appendRef(c, "products", p["id"].(string))
				appendRef(p, "collections", c["id"].(string))
			}
		}
	}

	var customers []object
	for i := range seedCustomers {
		fn, ln := firstNames[i%len(firstNames)], lastNames[(i*5)%len(lastNames)]
		var tags []string
		if i%3 == 0 {
			tags = append(tags, pick(tagPool))
		}
		c := sb.addCustomer(CustomerSpec{FirstName: fn, LastName: ln,
			Email: strings.ToLower(fmt.Sprintf("%s.%s%d@example.com", fn, ln, i+1)),
			Phone: fmt.Sprintf("+1613555%04d", i+1), Tags: tags}, ago(500))
		if i%5 == 0 {
			sb.setMetafield(c, "custom", "loyalty_points", "number_integer", fmt.Sprint(rnd.IntN(500)))
		}
		customers = append(customers, c)
	}

	financial := []string{"PAID", "PAID", "PAID", "PENDING", "AUTHORIZED", "PARTIALLY_REFUNDED", "REFUNDED"}
	times := make([]time.Time, seedOrders)
	for i := range times {
		times[i] = ago(90)
	}
	sortTimes(times)
	for i := range seedOrders {
		var items []LineItemSpec
		for range 1 + rnd.IntN(3) {
			v := variants[rnd.IntN(len(variants))]
			items = append(items, LineItemSpec{VariantID: v["id"].(string), Quantity: 1 + rnd.IntN(3)})
		}
		spec := OrderSpec{LineItems: items, FinancialStatus: financial[rnd.IntN(len(financial))], CreatedAt: times[i]}
		if i%8 != 7 {
			spec.CustomerID = customers[rnd.IntN(len(customers))]["id"].(string)
		} else {
			spec.Email = fmt.Sprintf("guest%d@example.com", i+1)
		}
		if rnd.IntN(3) == 0 {
			spec.FulfillmentStatus = "FULFILLED"
		}
		if rnd.IntN(4) == 0 {
			spec.Tags = []string{pick(tagPool)}
		}
		if rnd.IntN(5) == 0 {
			spec.Note = "Please gift wrap."
		}
		o, err := sb.addOrder(spec)
		if err != nil {
			panic("sandbox seed: " + err.Error()) // the seed only references objects it created
		}
		if i%6 == 0 {
			sb.setMetafield(o, "custom", "gift_message", "single_line_text_field", "Happy birthday!")
		}
		if i%13 == 12 {
			o["cancelledAt"] = timestamp(times[i].Add(time.Hour))
			o["cancelReason"] = "CUSTOMER"
			o["closed"] = true
			o["closedAt"] = o["cancelledAt"]
		}
	}
	for i := range seedDrafts {
		v := variants[rnd.IntN(len(variants))]
		status := []string{"OPEN", "OPEN", "INVOICE_SENT", "COMPLETED"}[i%4]
		d, err := sb.addDraftOrder(customers[i]["id"].(string), []LineItemSpec{{VariantID: v["id"].(string), Quantity: 1 + rnd.IntN(2)}}, nil, "", ago(30))
		if err != nil {
			panic("sandbox seed: " + err.Error())
		}
		d["status"] = status
	}
	sb.seedDeliveryProfiles()
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// addDraftOrder stores a draft order.
func (sb *Sandbox) addDraftOrder(customerID string, items []LineItemSpec, tags []string, note string, at time.Time) (object, error) {
	st := sb.st
	sb.draftNumber++
	d := st.create("DraftOrder", object{
		"name": fmt.Sprintf("#D%d", sb.draftNumber), "status": "OPEN", "tags": mergeTags(nil, tags),
		"note2": nilIfEmpty(note), "createdAt": timestamp(at), "updatedAt": timestamp(at),
		"currencyCode": currency, "presentmentCurrencyCode": currency, "lineItems": []any{},
		"metafields": []any{}, "customAttributes": []any{}, "taxExempt": false, "ready": true,
		"visibleToCustomer": true, "completedAt": nil, "order": nil,
	})
	if customerID != "" {
		c := st.getType(customerID, "Customer")
		if c == nil {
			return nil, fmt.Errorf("customerId: no customer %s", customerID)
		}
		d["customer"] = ref(customerID)
		d["email"] = c["email"]
	}
	total := 0.0
	qty := 0
	for i, li := range items {
		q := li.Quantity
		if q <= 0 {
			q = 1
		}
		title, price := li.Title, li.Price
		fields := object{"quantity": q, "custom": li.VariantID == "", "requiresShipping": true, "taxable": true}
		if li.VariantID != "" {
			v := st.getType(li.VariantID, "ProductVariant")
			if v == nil {
				return nil, fmt.Errorf("lineItems[%d].variantId: no variant %s", i, li.VariantID)
			}
			if p := st.deref(v["product"]); p != nil && title == "" {
				title, _ = p["title"].(string)
				fields["product"] = v["product"]
			}
			if price == 0 {
				price, _ = parseMoney(v["price"])
			}
			fields["variant"] = ref(li.VariantID)
			fields["sku"] = v["sku"]
		}
		if title == "" {
			title = "Custom item"
		}
		fields["title"] = title
		fields["name"] = title
		fields["originalUnitPriceSet"] = moneyBag(price, currency)
		fields["originalTotalSet"] = moneyBag(price*float64(q), currency)
		fields["discountedTotalSet"] = moneyBag(price*float64(q), currency)
		fields["_price"] = price
		fields["_variantId"] = li.VariantID
		it := st.create("DraftOrderLineItem", fields)
		appendRef(d, "lineItems", it["id"].(string))
		total += price * float64(q)
		qty += q
	}
	for _, k := range []string{"totalPriceSet", "subtotalPriceSet", "totalLineItemsPriceSet", "lineItemsSubtotalPrice"} {
		d[k] = moneyBag(total, currency)
	}
	for _, k := range []string{"totalTaxSet", "totalDiscountsSet", "totalShippingPriceSet"} {
		d[k] = moneyBag(0, currency)
	}
	d["totalQuantityOfLineItems"] = qty
	return d, nil
}
