package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// restError answers Shopify's REST error shape.
func restError(w http.ResponseWriter, status int, msg any) {
	writeJSON(w, status, map[string]any{"errors": msg})
}

// rest serves /admin/api/{version}/<path>.json (and /admin/<path>.json).
func (sb *Sandbox) rest(w http.ResponseWriter, r *http.Request, version, path string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.stats.Requests++
	sb.stats.REST++
	now := sb.now()
	if dt := now.Sub(sb.restAt).Seconds(); dt > 0 {
		sb.restUsed = math.Max(0, sb.restUsed-dt*sb.opts.RESTLeakRate)
	}
	sb.restAt = now
	size := float64(sb.opts.RESTBucketSize)
	if sb.restUsed+1 > size {
		sb.stats.RESTThrottled++
		sb.stats.ExceededBucket = true
		wait := (sb.restUsed + 1 - size) / sb.opts.RESTLeakRate
		w.Header().Set("Retry-After", strconv.FormatFloat(math.Max(1, math.Ceil(wait)), 'f', 1, 64))
		w.Header().Set("X-Shopify-Shop-Api-Call-Limit", fmt.Sprintf("%d/%d", sb.opts.RESTBucketSize, sb.opts.RESTBucketSize))
		restError(w, http.StatusTooManyRequests, "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.")
		return
	}
	sb.restUsed++
	used := int(math.Ceil(sb.restUsed))
	sb.stats.MaxRESTUsed = max(sb.stats.MaxRESTUsed, used)
	w.Header().Set("X-Shopify-Shop-Api-Call-Limit", fmt.Sprintf("%d/%d", used, sb.opts.RESTBucketSize))
	if version == "" {
		version = "2026-01"
	}
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && err.Error() != "EOF" {
			restError(w, http.StatusBadRequest, "Invalid JSON in request body: "+err.Error())
			return
		}
	}
	rc := &restCall{sb: sb, w: w, r: r, version: version, body: body, params: r.URL.Query()}
	if pi := rc.params.Get("page_info"); pi != "" {
		raw, err := base64.RawURLEncoding.DecodeString(pi)
		var ps pageState
		if err == nil {
			err = json.Unmarshal(raw, &ps)
		}
		var filters url.Values
		if err == nil {
			filters, err = url.ParseQuery(ps.Query)
		}
		if err != nil || ps.Offset < 0 {
			restError(w, http.StatusBadRequest, map[string]any{"page_info": "Invalid value."})
			return
		}
		for _, k := range []string{"limit", "page_info", "fields"} {
			if v, ok := rc.params[k]; ok {
				filters[k] = v
			}
		}
		rc.params, rc.offset = filters, ps.Offset
	}
	rc.route(strings.Split(path, "/"))
}

type restCall struct {
	// params are the request's filters: its query string, or for a
	// page_info request the filters of the first page.
	params  url.Values
	offset  int
	sb      *Sandbox
	w       http.ResponseWriter
	r       *http.Request
	version string
	body    map[string]any
}

func (c *restCall) ok(v any)              { writeJSON(c.w, http.StatusOK, v) }
func (c *restCall) created(v any)         { writeJSON(c.w, http.StatusCreated, v) }
func (c *restCall) notFound()             { restError(c.w, http.StatusNotFound, "Not Found") }
func (c *restCall) unprocessable(msg any) { restError(c.w, http.StatusUnprocessableEntity, msg) }

// find returns the stored object typ/id (numeric id).
func (c *restCall) find(typ, id string) object {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	return c.sb.st.getType(gidOf(typ, n), typ)
}

func (c *restCall) route(seg []string) {
	m := c.r.Method
	st := c.sb.st
	n := len(seg)
	res := seg[0]
	switch {
	case n == 1 && res == "shop" && m == http.MethodGet:
		c.ok(map[string]any{"shop": c.sb.shopREST()})

	// orders
	case n == 1 && res == "orders" && m == http.MethodGet:
		c.list("orders", c.filterOrders(st.list("Order")), c.sb.orderREST)
	case n == 1 && res == "orders" && m == http.MethodPost:
		c.createOrder()
	case n == 2 && res == "orders" && seg[1] == "count" && m == http.MethodGet:
		c.ok(map[string]any{"count": len(c.filterOrders(st.list("Order")))})
	case n >= 2 && res == "orders":
		o := c.find("Order", seg[1])
		if o == nil {
			c.notFound()
			return
		}
		c.orderRoutes(o, seg[2:])

	// customers
	case n == 1 && res == "customers" && m == http.MethodGet:
		c.list("customers", filterUpdated(st.list("Customer"), c.params), c.sb.customerREST)
	case n == 2 && res == "customers" && seg[1] == "search" && m == http.MethodGet:
		items := toObjects(filterQuery(c.sb, toAny(st.list("Customer")), c.params.Get("query")))
		c.list("customers", items, c.sb.customerREST)
	case n == 2 && res == "customers" && seg[1] == "count" && m == http.MethodGet:
		c.ok(map[string]any{"count": len(st.list("Customer"))})
	case n == 1 && res == "customers" && m == http.MethodPost:
		c.createCustomer()
	case n >= 2 && res == "customers":
		cu := c.find("Customer", seg[1])
		if cu == nil {
			c.notFound()
			return
		}
		c.customerRoutes(cu, seg[2:])

	// products and variants
	case n == 1 && res == "products" && m == http.MethodGet:
		c.list("products", filterUpdated(st.list("Product"), c.params), c.sb.productREST)
	case n == 2 && res == "products" && seg[1] == "count" && m == http.MethodGet:
		c.ok(map[string]any{"count": len(st.list("Product"))})
	case n >= 2 && res == "products":
		p := c.find("Product", seg[1])
		if p == nil {
			c.notFound()
			return
		}
		c.productRoutes(p, seg[2:])
	case n == 2 && res == "variants":
		v := c.find("ProductVariant", seg[1])
		if v == nil {
			c.notFound()
			return
		}
		if m == http.MethodPut {
			c.updateVariant(v)
			return
		}
		c.ok(map[string]any{"variant": c.sb.variantREST(v)})

	// locations
	case n == 1 && res == "locations" && m == http.MethodGet:
		c.list("locations", st.list("Location"), c.sb.locationREST)
	case n == 2 && res == "locations" && m == http.MethodGet:
		l := c.find("Location", seg[1])
		if l == nil {
			c.notFound()
			return
		}
		c.ok(map[string]any{"location": c.sb.locationREST(l)})
	case n == 3 && res == "locations" && seg[2] == "inventory_levels" && m == http.MethodGet:
		l := c.find("Location", seg[1])
		if l == nil {
			c.notFound()
			return
		}
		c.list("inventory_levels", derefAll(st, refsOf(l, "inventoryLevels")), c.sb.levelREST)
	case n == 1 && res == "inventory_levels" && m == http.MethodGet:
		c.inventoryLevels()

	// collections
	case n == 1 && (res == "custom_collections" || res == "smart_collections") && m == http.MethodGet:
		smart := res == "smart_collections"
		var items []object
		for _, col := range st.list("Collection") {
			if (col["ruleSet"] != nil) == smart {
				items = append(items, col)
			}
		}
		c.list(res, items, c.sb.collectionREST)
	case n == 2 && (res == "collections" || res == "custom_collections" || res == "smart_collections") && m == http.MethodGet:
		col := c.find("Collection", seg[1])
		if col == nil {
			c.notFound()
			return
		}
		key := strings.TrimSuffix(res, "s")
		c.ok(map[string]any{key: c.sb.collectionREST(col)})
	case n == 3 && res == "collections" && seg[2] == "products" && m == http.MethodGet:
		col := c.find("Collection", seg[1])
		if col == nil {
			c.notFound()
			return
		}
		c.list("products", derefAll(st, refsOf(col, "products")), c.sb.productREST)

	// themes
	case n == 1 && res == "themes" && m == http.MethodGet:
		c.list("themes", st.list("OnlineStoreTheme"), c.sb.themeREST)
	case n >= 2 && res == "themes":
		t := c.find("OnlineStoreTheme", seg[1])
		if t == nil {
			c.notFound()
			return
		}
		c.themeRoutes(t, seg[2:])

	// shop metafields
	case n == 1 && res == "metafields":
		c.metafields(st.get(gidOf("Shop", 1)))
	case n == 2 && res == "metafields" && (m == http.MethodGet || m == http.MethodDelete):
		mf := c.find("Metafield", seg[1])
		if mf == nil {
			c.notFound()
			return
		}
		if m == http.MethodDelete {
			c.deleteMetafield(mf)
			return
		}
		c.ok(map[string]any{"metafield": c.sb.metafieldREST(mf)})

	// draft orders
	case n == 1 && res == "draft_orders" && m == http.MethodGet:
		items := st.list("DraftOrder")
		if s := c.params.Get("status"); s != "" {
			items = slices.DeleteFunc(slices.Clone(items), func(d object) bool { return !strings.EqualFold(str(d["status"]), s) })
		}
		c.list("draft_orders", items, c.sb.draftREST)
	case n == 2 && res == "draft_orders" && seg[1] == "count" && m == http.MethodGet:
		items := st.list("DraftOrder")
		if s := c.params.Get("status"); s != "" {
			items = slices.DeleteFunc(slices.Clone(items), func(d object) bool { return !strings.EqualFold(str(d["status"]), s) })
		}
		c.ok(map[string]any{"count": len(items)})
	case n == 1 && res == "draft_orders" && m == http.MethodPost:
		c.createDraft()
	case n >= 2 && res == "draft_orders":
		d := c.find("DraftOrder", seg[1])
		if d == nil {
			c.notFound()
			return
		}
		c.draftRoutes(d, seg[2:])

	case res == "webhooks":
		c.webhookRoutes(seg)
	case res == "script_tags":
		c.scriptTagRoutes(seg)

	default:
		c.notFound()
	}
}

func toAny(l []object) []any {
	out := make([]any, len(l))
	for i, o := range l {
		out[i] = o
	}
	return out
}

func toObjects(l []any) []object {
	out := make([]object, 0, len(l))
	for _, x := range l {
		if o, ok := x.(object); ok {
			out = append(out, o)
		}
	}
	return out
}

func derefAll(st *store, refs []any) []object {
	var out []object
	for _, r := range refs {
		if o := st.deref(r); o != nil {
			out = append(out, o)
		}
	}
	return out
}

// pageState is what a page_info cursor carries: the filters of the first
// request and the offset of the page.
type pageState struct {
	Query  string `json:"q"`
	Offset int    `json:"o"`
}

// list answers a paginated list: limit (default 50, at most 250), page_info
// cursors and a Link header, as Shopify's REST API paginates.
func (c *restCall) list(key string, items []object, conv func(object) map[string]any) {
	q := c.params
	limit := 50
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 250 {
			restError(c.w, http.StatusBadRequest, map[string]any{"limit": "must be between 1 and 250"})
			return
		}
		limit = n
	}
	offset := c.offset
	if offset > len(items) {
		offset = len(items)
	}
	end := min(offset+limit, len(items))
	out := make([]map[string]any, 0, end-offset)
	for _, o := range items[offset:end] {
		out = append(out, conv(o))
	}
	var links []string
	link := func(off int, rel string) {
		filters := url.Values{}
		for k, v := range c.params {
			if k != "limit" && k != "page_info" {
				filters[k] = v
			}
		}
		raw, _ := json.Marshal(pageState{Query: filters.Encode(), Offset: off})
		u := url.URL{Scheme: "http", Host: c.r.Host, Path: c.r.URL.Path}
		v := url.Values{}
		v.Set("limit", strconv.Itoa(limit))
		v.Set("page_info", base64.RawURLEncoding.EncodeToString(raw))
		u.RawQuery = v.Encode()
		links = append(links, fmt.Sprintf("<%s>; rel=%q", u.String(), rel))
	}
	if offset > 0 {
		link(max(offset-limit, 0), "previous")
	}
	if end < len(items) {
		link(end, "next")
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	c.ok(map[string]any{key: out})
}

// filterOrders applies the orders.json filters (status defaults to open).
func (c *restCall) filterOrders(all []object) []object {
	q := c.params
	status := q.Get("status")
	if status == "" {
		status = "open"
	}
	var ids []string
	if s := q.Get("ids"); s != "" {
		ids = strings.Split(s, ",")
	}
	sinceID, _ := strconv.ParseInt(q.Get("since_id"), 10, 64)
	var out []object
	for _, o := range filterUpdated(all, q) {
		closed, _ := o["closed"].(bool)
		cancelled := o["cancelledAt"] != nil
		switch status {
		case "open":
			if closed || cancelled {
				continue
			}
		case "closed":
			if !closed {
				continue
			}
		case "cancelled":
			if !cancelled {
				continue
			}
		}
		if fs := q.Get("financial_status"); fs != "" && fs != "any" && !strings.EqualFold(str(o["displayFinancialStatus"]), fs) {
			continue
		}
		if fs := q.Get("fulfillment_status"); fs != "" && fs != "any" {
			s := str(o["displayFulfillmentStatus"])
			switch fs {
			case "shipped":
				if s != "FULFILLED" {
					continue
				}
			case "partial":
				if s != "PARTIALLY_FULFILLED" {
					continue
				}
			case "unshipped", "unfulfilled":
				if s == "FULFILLED" {
					continue
				}
			}
		}
		id := legacyID(str(o["id"]))
		if len(ids) > 0 && !slices.Contains(ids, strconv.FormatInt(id, 10)) {
			continue
		}
		if sinceID > 0 && id <= sinceID {
			continue
		}
		out = append(out, o)
	}
	return out
}

// filterUpdated applies created_at_min/max and updated_at_min/max.
func filterUpdated(all []object, q url.Values) []object {
	var out []object
	for _, o := range all {
		keep := true
		for param, field := range map[string]string{"created_at": "createdAt", "updated_at": "updatedAt"} {
			have, err := time.Parse(time.RFC3339, str(o[field]))
			if err != nil {
				continue
			}
			if s := q.Get(param + "_min"); s != "" {
				if t, err := parseSearchTime(s, time.Time{}); err == nil && have.Before(t) {
					keep = false
				}
			}
			if s := q.Get(param + "_max"); s != "" {
				if t, err := parseSearchTime(s, time.Time{}); err == nil && have.After(t) {
					keep = false
				}
			}
		}
		if keep {
			out = append(out, o)
		}
	}
	return out
}

func (c *restCall) orderRoutes(o object, rest []string) {
	m := c.r.Method
	st := c.sb.st
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		c.ok(map[string]any{"order": c.sb.orderREST(o)})
	case len(rest) == 0 && m == http.MethodPut:
		in, _ := c.body["order"].(map[string]any)
		if in == nil {
			c.unprocessable(map[string]any{"order": []string{"Required parameter missing or invalid"}})
			return
		}
		copyFields(o, renameKeys(in, map[string]string{"note": "note", "email": "email", "phone": "phone"}), "note", "email", "phone")
		if t, ok := in["tags"]; ok {
			o["tags"] = mergeTags(nil, tagList(t))
		}
		if sa, ok := in["shipping_address"].(map[string]any); ok {
			o["shippingAddress"] = addressFromREST(sa)
		}
		if na, ok := in["note_attributes"].([]any); ok {
			var attrs []any
			for _, x := range na {
				if a, ok := x.(map[string]any); ok {
					attrs = append(attrs, object{"__typename": "Attribute", "key": str(a["name"]), "value": fmt.Sprint(a["value"])})
				}
			}
			o["customAttributes"] = attrs
		}
		c.restMetafields(o, in["metafields"])
		o["updatedAt"] = timestamp(c.sb.now())
		c.sb.emit("orders/updated", o)
		c.ok(map[string]any{"order": c.sb.orderREST(o)})
	case len(rest) == 0 && m == http.MethodDelete:
		if o["closed"] != true && o["cancelledAt"] == nil {
			c.unprocessable(map[string]any{"base": []string{"An open order cannot be deleted. Cancel or archive it first."}})
			return
		}
		if cu := st.deref(o["customer"]); cu != nil {
			removeRef(cu, "orders", str(o["id"]))
		}
		st.delete(str(o["id"]))
		c.ok(map[string]any{})
	case len(rest) == 1 && rest[0] == "close" && m == http.MethodPost:
		c.sb.closeOrder(o, true)
		c.sb.emit("orders/updated", o)
		c.ok(map[string]any{"order": c.sb.orderREST(o)})
	case len(rest) == 1 && rest[0] == "open" && m == http.MethodPost:
		c.sb.closeOrder(o, false)
		c.sb.emit("orders/updated", o)
		c.ok(map[string]any{"order": c.sb.orderREST(o)})
	case len(rest) == 1 && rest[0] == "cancel" && m == http.MethodPost:
		if o["cancelledAt"] != nil {
			c.unprocessable(map[string]any{"base": []string{"Order has already been cancelled"}})
			return
		}
		o["cancelledAt"] = timestamp(c.sb.now())
		o["cancelReason"] = strings.ToUpper(strDefault(c.body["reason"], "other"))
		c.sb.closeOrder(o, true)
		c.sb.emit("orders/cancelled", o)
		c.sb.emit("orders/updated", o)
		c.ok(map[string]any{"order": c.sb.orderREST(o)})
	case len(rest) == 1 && rest[0] == "transactions" && m == http.MethodGet:
		c.ok(map[string]any{"transactions": mapAll(derefAll(st, refsOf(o, "transactions")), c.sb.transactionREST)})
	case len(rest) == 1 && rest[0] == "transactions" && m == http.MethodPost:
		c.createTransaction(o)
	case len(rest) == 1 && rest[0] == "fulfillments" && m == http.MethodGet:
		c.list("fulfillments", derefAll(st, refsOf(o, "fulfillments")), c.sb.fulfillmentREST)
	case len(rest) == 1 && rest[0] == "fulfillment_orders" && m == http.MethodGet:
		c.ok(map[string]any{"fulfillment_orders": mapAll(derefAll(st, refsOf(o, "fulfillmentOrders")), c.sb.fulfillmentOrderREST)})
	case len(rest) == 1 && rest[0] == "refunds" && m == http.MethodGet:
		c.ok(map[string]any{"refunds": mapAll(derefAll(st, refsOf(o, "refunds")), c.sb.refundREST)})
	case len(rest) == 1 && rest[0] == "metafields":
		c.metafields(o)
	case len(rest) == 2 && rest[0] == "fulfillments" && m == http.MethodGet:
		f := c.find("Fulfillment", rest[1])
		if f == nil || f["order"] != ref(str(o["id"])) {
			c.notFound()
			return
		}
		c.ok(map[string]any{"fulfillment": c.sb.fulfillmentREST(f)})
	case len(rest) == 2 && rest[0] == "fulfillments" && m == http.MethodPut:
		// The legacy fulfillment update: tracking number, URL and company.
		f := c.find("Fulfillment", rest[1])
		if f == nil || f["order"] != ref(str(o["id"])) {
			c.notFound()
			return
		}
		in, _ := c.body["fulfillment"].(map[string]any)
		t := object{}
		if ti, ok := f["trackingInfo"].([]any); ok && len(ti) > 0 {
			if old, ok := ti[0].(object); ok {
				for k, v := range old {
					t[k] = v
				}
			}
		}
		for rk, gk := range map[string]string{"tracking_number": "number", "tracking_url": "url", "tracking_company": "company"} {
			if v, ok := in[rk]; ok {
				t[gk] = v
			}
		}
		f["trackingInfo"] = []any{t}
		c.sb.emit("fulfillments/update", f)
		c.ok(map[string]any{"fulfillment": c.sb.fulfillmentREST(f)})
	default:
		c.notFound()
	}
}

func strDefault(v any, d string) string {
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	return d
}

func renameKeys(in map[string]any, names map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range in {
		if n, ok := names[k]; ok {
			out[n] = v
		}
	}
	return out
}

func mapAll(l []object, conv func(object) map[string]any) []map[string]any {
	out := make([]map[string]any, 0, len(l))
	for _, o := range l {
		out = append(out, conv(o))
	}
	return out
}

func addressFromREST(a map[string]any) object {
	addr := object{"__typename": "MailingAddress"}
	for k, v := range a {
		addr[snakeToCamel(k)] = v
	}
	return addr
}

func (c *restCall) restMetafields(owner object, v any) {
	l, _ := v.([]any)
	for _, x := range l {
		m, _ := x.(map[string]any)
		if m == nil {
			continue
		}
		typ := str(m["type"])
		if typ == "" {
			typ = str(m["value_type"])
			if typ == "string" || typ == "" {
				typ = "single_line_text_field"
			} else if typ == "integer" {
				typ = "number_integer"
			}
		}
		c.sb.setMetafield(owner, str(m["namespace"]), str(m["key"]), typ, fmt.Sprint(m["value"]))
	}
}

func (c *restCall) createTransaction(o object) {
	in, _ := c.body["transaction"].(map[string]any)
	kind := strings.ToLower(str(in["kind"]))
	switch kind {
	case "capture":
		var auth object
		for _, r := range refsOf(o, "transactions") {
			if t := c.sb.st.deref(r); t != nil && t["kind"] == "AUTHORIZATION" && t["status"] == "SUCCESS" {
				if pid, ok := in["parent_id"]; !ok || fmt.Sprint(pid) == strconv.FormatInt(legacyID(str(t["id"])), 10) {
					auth = t
				}
			}
		}
		if auth == nil {
			c.unprocessable(map[string]any{"base": []string{"No authorized transaction to capture"}})
			return
		}
		amount := bagAmount(auth["amountSet"])
		if a, ok := parseMoney(in["amount"]); ok {
			amount = a
		}
		t := c.sb.addTransaction(o, "CAPTURE", "SUCCESS", amount, c.sb.now())
		t["parentTransaction"] = ref(str(auth["id"]))
		paid := o["displayFinancialStatus"] == "PAID"
		c.sb.recomputePayment(o)
		c.sb.orderPaymentChanged(o, paid)
		c.created(map[string]any{"transaction": c.sb.transactionREST(t)})
	case "sale", "refund", "void", "authorization":
		amount, ok := parseMoney(in["amount"])
		if !ok {
			amount = bagAmount(o["totalOutstandingSet"])
		}
		t := c.sb.addTransaction(o, strings.ToUpper(kind), "SUCCESS", amount, c.sb.now())
		paid := o["displayFinancialStatus"] == "PAID"
		c.sb.recomputePayment(o)
		c.sb.orderPaymentChanged(o, paid)
		c.created(map[string]any{"transaction": c.sb.transactionREST(t)})
	default:
		c.unprocessable(map[string]any{"kind": []string{"is not included in the list"}})
	}
}

func (c *restCall) createOrder() {
	in, _ := c.body["order"].(map[string]any)
	if in == nil {
		c.unprocessable(map[string]any{"order": []string{"Required parameter missing or invalid"}})
		return
	}
	spec := OrderSpec{Email: str(in["email"]), Note: str(in["note"]), Tags: tagList(in["tags"]), FinancialStatus: str(in["financial_status"])}
	if cu, ok := in["customer"].(map[string]any); ok {
		if id, ok := cu["id"]; ok {
			spec.CustomerID = gidOf("Customer", int64(numberOf(id)))
		}
	}
	lis, _ := in["line_items"].([]any)
	if len(lis) == 0 {
		c.unprocessable(map[string]any{"line_items": []string{"must have at least one line item"}})
		return
	}
	for _, x := range lis {
		m, _ := x.(map[string]any)
		li := LineItemSpec{Quantity: int(numberOf(m["quantity"])), Title: str(m["title"])}
		if vid, ok := m["variant_id"]; ok && vid != nil {
			li.VariantID = gidOf("ProductVariant", int64(numberOf(vid)))
		}
		li.Price, _ = parseMoney(m["price"])
		spec.LineItems = append(spec.LineItems, li)
	}
	o, err := c.sb.addOrder(spec)
	if err != nil {
		c.unprocessable(map[string]any{"order": []string{err.Error()}})
		return
	}
	c.sb.orderCreated(o)
	c.created(map[string]any{"order": c.sb.orderREST(o)})
}

func numberOf(v any) float64 {
	f, _ := parseMoney(v)
	return f
}

func (c *restCall) customerRoutes(cu object, rest []string) {
	m := c.r.Method
	st := c.sb.st
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		c.ok(map[string]any{"customer": c.sb.customerREST(cu)})
	case len(rest) == 0 && m == http.MethodPut:
		in, _ := c.body["customer"].(map[string]any)
		if in == nil {
			c.unprocessable(map[string]any{"customer": []string{"Required parameter missing or invalid"}})
			return
		}
		if email, ok := in["email"].(string); ok && c.sb.emailTaken(email, str(cu["id"])) {
			c.unprocessable(map[string]any{"email": []string{"has already been taken"}})
			return
		}
		for k, v := range in {
			switch k {
			case "email", "first_name", "last_name", "note", "phone", "tax_exempt":
				cu[snakeToCamel(k)] = v
			case "tags":
				cu["tags"] = mergeTags(nil, tagList(v))
			}
		}
		c.restMetafields(cu, in["metafields"])
		cu["updatedAt"] = timestamp(c.sb.now())
		c.sb.emit("customers/update", cu)
		c.ok(map[string]any{"customer": c.sb.customerREST(cu)})
	case len(rest) == 0 && m == http.MethodDelete:
		if len(refsOf(cu, "orders")) > 0 {
			c.unprocessable(map[string]any{"base": []string{"Error deleting customer as they have orders"}})
			return
		}
		st.delete(str(cu["id"]))
		c.ok(map[string]any{})
	case len(rest) == 1 && rest[0] == "orders" && m == http.MethodGet:
		c.list("orders", c.filterOrders(derefAll(st, refsOf(cu, "orders"))), c.sb.orderREST)
	case len(rest) == 1 && rest[0] == "metafields":
		c.metafields(cu)
	case len(rest) == 1 && rest[0] == "send_invite" && m == http.MethodPost:
		if str(cu["email"]) == "" {
			c.unprocessable(map[string]any{"customer": []string{"must have an email address"}})
			return
		}
		cu["state"] = "INVITED"
		c.sb.invites = append(c.sb.invites, str(cu["id"]))
		c.created(map[string]any{"customer_invite": map[string]any{"to": cu["email"], "from": "owner@" + c.sb.opts.Shop, "subject": "Customer account activation"}})
	default:
		c.notFound()
	}
}

func (c *restCall) createCustomer() {
	in, _ := c.body["customer"].(map[string]any)
	if in == nil {
		c.unprocessable(map[string]any{"customer": []string{"Required parameter missing or invalid"}})
		return
	}
	if c.sb.emailTaken(str(in["email"]), "") {
		c.unprocessable(map[string]any{"email": []string{"has already been taken"}})
		return
	}
	cu := c.sb.addCustomer(CustomerSpec{FirstName: str(in["first_name"]), LastName: str(in["last_name"]), Email: str(in["email"]),
		Phone: str(in["phone"]), Tags: tagList(in["tags"]), Note: str(in["note"])}, c.sb.now())
	c.sb.emit("customers/create", cu)
	c.created(map[string]any{"customer": c.sb.customerREST(cu)})
}

func (c *restCall) productRoutes(p object, rest []string) {
	m := c.r.Method
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		c.ok(map[string]any{"product": c.sb.productREST(p)})
	case len(rest) == 0 && m == http.MethodPut:
		in, _ := c.body["product"].(map[string]any)
		if in == nil {
			c.unprocessable(map[string]any{"product": []string{"Required parameter missing or invalid"}})
			return
		}
		for k, v := range in {
			switch k {
			case "title", "vendor", "product_type", "handle":
				p[snakeToCamel(k)] = v
			case "body_html":
				p["descriptionHtml"] = v
			case "status":
				p["status"] = strings.ToUpper(str(v))
			case "tags":
				p["tags"] = mergeTags(nil, tagList(v))
			}
		}
		c.restMetafields(p, in["metafields"])
		p["updatedAt"] = timestamp(c.sb.now())
		c.sb.emit("products/update", p)
		c.ok(map[string]any{"product": c.sb.productREST(p)})
	case len(rest) == 0 && m == http.MethodDelete:
		c.sb.deleteProduct(p)
		c.ok(map[string]any{})
	case len(rest) == 1 && rest[0] == "variants" && m == http.MethodGet:
		c.list("variants", derefAll(c.sb.st, refsOf(p, "variants")), c.sb.variantREST)
	case len(rest) == 1 && rest[0] == "metafields":
		c.metafields(p)
	default:
		c.notFound()
	}
}

func (c *restCall) updateVariant(v object) {
	in, _ := c.body["variant"].(map[string]any)
	if in == nil {
		c.unprocessable(map[string]any{"variant": []string{"Required parameter missing or invalid"}})
		return
	}
	for k, x := range in {
		switch k {
		case "price", "compare_at_price":
			if f, ok := parseMoney(x); ok {
				v[snakeToCamel(k)] = money(f)
			} else {
				v[snakeToCamel(k)] = nil
			}
		case "sku", "barcode", "title", "taxable":
			v[k] = x
		case "inventory_policy":
			v["inventoryPolicy"] = strings.ToUpper(str(x))
		}
	}
	v["updatedAt"] = timestamp(c.sb.now())
	if p := c.sb.st.deref(v["product"]); p != nil {
		c.sb.emit("products/update", p)
	}
	c.ok(map[string]any{"variant": c.sb.variantREST(v)})
}

func (c *restCall) inventoryLevels() {
	q := c.params
	items := strings.Split(q.Get("inventory_item_ids"), ",")
	locs := strings.Split(q.Get("location_ids"), ",")
	if q.Get("inventory_item_ids") == "" && q.Get("location_ids") == "" {
		restError(c.w, http.StatusUnprocessableEntity, "inventory_item_ids or location_ids is required")
		return
	}
	var out []object
	for _, l := range c.sb.st.list("InventoryLevel") {
		iid := strconv.FormatInt(legacyID(string(l["item"].(ref))), 10)
		lid := strconv.FormatInt(legacyID(string(l["location"].(ref))), 10)
		if (q.Get("inventory_item_ids") == "" || slices.Contains(items, iid)) && (q.Get("location_ids") == "" || slices.Contains(locs, lid)) {
			out = append(out, l)
		}
	}
	c.list("inventory_levels", out, c.sb.levelREST)
}

func (c *restCall) themeRoutes(t object, rest []string) {
	m := c.r.Method
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		c.ok(map[string]any{"theme": c.sb.themeREST(t)})
	case len(rest) == 0 && m == http.MethodPut:
		in, _ := c.body["theme"].(map[string]any)
		if role, ok := in["role"].(string); ok {
			if strings.EqualFold(role, "main") {
				for _, other := range c.sb.st.list("OnlineStoreTheme") {
					if other["role"] == "MAIN" {
						other["role"] = "UNPUBLISHED"
					}
				}
			}
			t["role"] = strings.ToUpper(role)
		}
		if name, ok := in["name"].(string); ok {
			t["name"] = name
		}
		t["updatedAt"] = timestamp(c.sb.now())
		c.ok(map[string]any{"theme": c.sb.themeREST(t)})
	case len(rest) == 1 && rest[0] == "assets":
		assets, _ := t["_assets"].(map[string]string)
		if assets == nil {
			assets = map[string]string{}
			t["_assets"] = assets
		}
		switch m {
		case http.MethodGet:
			key := c.r.URL.Query().Get("asset[key]")
			if key == "" {
				var list []map[string]any
				for k := range assets {
					list = append(list, map[string]any{"key": k, "theme_id": legacyID(str(t["id"]))})
				}
				slices.SortFunc(list, func(a, b map[string]any) int { return strings.Compare(a["key"].(string), b["key"].(string)) })
				c.ok(map[string]any{"assets": list})
				return
			}
			v, ok := assets[key]
			if !ok {
				c.notFound()
				return
			}
			c.ok(map[string]any{"asset": map[string]any{"key": key, "value": v, "theme_id": legacyID(str(t["id"])), "content_type": "text/plain"}})
		case http.MethodPut:
			a, _ := c.body["asset"].(map[string]any)
			key := str(a["key"])
			if key == "" {
				c.unprocessable(map[string]any{"key": []string{"can't be blank"}})
				return
			}
			assets[key] = str(a["value"])
			c.ok(map[string]any{"asset": map[string]any{"key": key, "theme_id": legacyID(str(t["id"])), "updated_at": timestamp(c.sb.now())}})
		default:
			c.notFound()
		}
	default:
		c.notFound()
	}
}

// metafields serves GET/POST <owner>/metafields.json.
func (c *restCall) metafields(owner object) {
	switch c.r.Method {
	case http.MethodGet:
		items := derefAll(c.sb.st, refsOf(owner, "metafields"))
		if ns := c.params.Get("namespace"); ns != "" {
			items = slices.DeleteFunc(items, func(m object) bool { return m["namespace"] != ns })
		}
		if k := c.params.Get("key"); k != "" {
			items = slices.DeleteFunc(items, func(m object) bool { return m["key"] != k })
		}
		c.list("metafields", items, c.sb.metafieldREST)
	case http.MethodPost:
		in, _ := c.body["metafield"].(map[string]any)
		if in == nil || str(in["key"]) == "" || str(in["namespace"]) == "" {
			c.unprocessable(map[string]any{"metafield": []string{"namespace, key, value and type are required"}})
			return
		}
		typ := str(in["type"])
		if typ == "" {
			typ = "single_line_text_field"
		}
		value := fmt.Sprint(in["value"])
		if msg := metafieldValueError(typ, value); msg != "" {
			c.unprocessable(map[string]any{"value": []string{msg}})
			return
		}
		mf := c.sb.setMetafield(owner, str(in["namespace"]), str(in["key"]), typ, value)
		c.created(map[string]any{"metafield": c.sb.metafieldREST(mf)})
	default:
		c.notFound()
	}
}

func (c *restCall) deleteMetafield(mf object) {
	if owner := c.sb.st.deref(mf["owner"]); owner != nil {
		removeRef(owner, "metafields", str(mf["id"]))
	}
	c.sb.st.delete(str(mf["id"]))
	c.ok(map[string]any{})
}

func (c *restCall) createDraft() {
	in, _ := c.body["draft_order"].(map[string]any)
	if in == nil {
		c.unprocessable(map[string]any{"draft_order": []string{"Required parameter missing or invalid"}})
		return
	}
	cust := ""
	if cu, ok := in["customer"].(map[string]any); ok && cu["id"] != nil {
		cust = gidOf("Customer", int64(numberOf(cu["id"])))
	}
	var items []LineItemSpec
	lis, _ := in["line_items"].([]any)
	for _, x := range lis {
		m, _ := x.(map[string]any)
		li := LineItemSpec{Quantity: int(numberOf(m["quantity"])), Title: str(m["title"])}
		if vid, ok := m["variant_id"]; ok && vid != nil {
			li.VariantID = gidOf("ProductVariant", int64(numberOf(vid)))
		}
		li.Price, _ = parseMoney(m["price"])
		items = append(items, li)
	}
	if len(items) == 0 {
		c.unprocessable(map[string]any{"line_items": []string{"must have at least one line item"}})
		return
	}
	d, err := c.sb.addDraftOrder(cust, items, tagList(in["tags"]), str(in["note"]), c.sb.now())
	if err != nil {
		c.unprocessable(map[string]any{"draft_order": []string{err.Error()}})
		return
	}
	if e := str(in["email"]); e != "" {
		d["email"] = e
	}
	c.sb.emit("draft_orders/create", d)
	c.created(map[string]any{"draft_order": c.sb.draftREST(d)})
}

func (c *restCall) draftRoutes(d object, rest []string) {
	m := c.r.Method
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		c.ok(map[string]any{"draft_order": c.sb.draftREST(d)})
	case len(rest) == 0 && m == http.MethodPut:
		in, _ := c.body["draft_order"].(map[string]any)
		if n, ok := in["note"]; ok {
			d["note2"] = n
		}
		if t, ok := in["tags"]; ok {
			d["tags"] = mergeTags(nil, tagList(t))
		}
		if e, ok := in["email"]; ok {
			d["email"] = e
		}
		d["updatedAt"] = timestamp(c.sb.now())
		c.sb.emit("draft_orders/update", d)
		c.ok(map[string]any{"draft_order": c.sb.draftREST(d)})
	case len(rest) == 0 && m == http.MethodDelete:
		c.sb.st.delete(str(d["id"]))
		c.ok(map[string]any{})
	case len(rest) == 1 && rest[0] == "complete" && m == http.MethodPut:
		if d["status"] == "COMPLETED" {
			c.unprocessable(map[string]any{"base": []string{"This order has already been paid"}})
			return
		}
		o, err := c.sb.completeDraft(d, c.r.URL.Query().Get("payment_pending") == "true")
		if err != nil {
			c.unprocessable(map[string]any{"base": []string{err.Error()}})
			return
		}
		c.sb.emit("draft_orders/update", d)
		c.sb.orderCreated(o)
		c.ok(map[string]any{"draft_order": c.sb.draftREST(d)})
	default:
		c.notFound()
	}
}
