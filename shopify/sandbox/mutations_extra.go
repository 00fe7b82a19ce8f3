package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/shopify/schema"
)

// seedDeliveryProfiles stores the default "General Profile" (every variant
// not associated elsewhere ships with it) and one custom profile.
func (sb *Sandbox) seedDeliveryProfiles() {
	for i, name := range []string{"General Profile", "Oversized items"} {
		sb.st.create("DeliveryProfile", object{"name": name, "default": i == 0, "legacyMode": false, "version": 1,
			"activeMethodDefinitionsCount": 1, "originLocationCount": 1, "zoneCountryCount": 1, "locationsWithoutRatesCount": 0})
	}
}

// variantProfile is the delivery profile of a variant.
func (sb *Sandbox) variantProfile(v object) object {
	if p := sb.st.deref(v["_deliveryProfile"]); p != nil {
		return p
	}
	for _, p := range sb.st.list("DeliveryProfile") {
		if p["default"] == true {
			return p
		}
	}
	return nil
}

func resolveVariantProfile(e *executor, v object, _ map[string]any) (any, error) {
	return e.sb.variantProfile(v), nil
}

func (sb *Sandbox) profileVariants(p object) int {
	n := 0
	for _, v := range sb.st.list("ProductVariant") {
		if pr := sb.variantProfile(v); pr != nil && pr["id"] == p["id"] {
			n++
		}
	}
	return n
}

func resolveProfileVariantsCount(e *executor, p object, _ map[string]any) (any, error) {
	return object{"__typename": "Count", "count": e.sb.profileVariants(p), "precision": "EXACT"}, nil
}

func resolveProfileVariantsCountV2(e *executor, p object, _ map[string]any) (any, error) {
	return object{"__typename": "DeliveryProductVariantsCount", "count": e.sb.profileVariants(p), "capped": false}, nil
}

// mDeliveryProfileUpdate renames a profile and moves variants into it
// (variantsToAssociate) or back to the default profile
// (variantsToDissociate).
func mDeliveryProfileUpdate(e *executor, args map[string]any) (object, error) {
	p := e.sb.st.getType(str(args["id"]), "DeliveryProfile")
	if p == nil {
		return object{"profile": nil, "userErrors": userErrors(userError([]string{"id"}, "Profile could not be updated: the profile does not exist."))}, nil
	}
	in := inputOf(args, "profile")
	assoc, dissoc := tagList(in["variantsToAssociate"]), tagList(in["variantsToDissociate"])
	for field, ids := range map[string][]string{"variantsToAssociate": assoc, "variantsToDissociate": dissoc} {
		for i, id := range ids {
			if e.sb.st.getType(id, "ProductVariant") == nil {
				return object{"profile": nil, "userErrors": userErrors(userError([]string{"profile", field, strconv.Itoa(i)}, "Product variant "+id+" does not exist."))}, nil
			}
		}
	}
	if name := str(in["name"]); name != "" {
		p["name"] = name
	}
	for _, id := range assoc {
		v := e.sb.st.get(id)
		if p["default"] == true {
			delete(v, "_deliveryProfile")
		} else {
			v["_deliveryProfile"] = ref(str(p["id"]))
		}
	}
	for _, id := range dissoc {
		v := e.sb.st.get(id)
		if v["_deliveryProfile"] == ref(str(p["id"])) {
			delete(v, "_deliveryProfile")
		}
	}
	p["version"] = intOf(p["version"]) + 1
	return object{"profile": p}, nil
}

func intOf(v any) int {
	n, _ := schema.ToInt(v)
	return n
}

// fileTypes maps FileContentType values to the stored File types.
var fileTypes = map[string]string{"IMAGE": "MediaImage", "VIDEO": "Video", "FILE": "GenericFile", "EXTERNAL_VIDEO": "ExternalVideo", "MODEL_3D": "Model3d"}

var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".svg": true}

// mFileCreate stores files by their originalSource URL. The sandbox does
// not fetch the source (it makes no outbound requests but webhooks): the
// file is READY at once and its url is the source.
func mFileCreate(e *executor, args map[string]any) (object, error) {
	in, _ := args["files"].([]any)
	if len(in) == 0 || len(in) > 250 {
		return object{"files": nil, "userErrors": userErrors(object{"field": []any{"files"}, "message": "Provide between 1 and 250 files.", "code": "INVALID"})}, nil
	}
	var errs []any
	for i, x := range in {
		m, _ := x.(map[string]any)
		u, err := url.Parse(str(m["originalSource"]))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, object{"field": []any{"files", strconv.Itoa(i), "originalSource"}, "message": "Image URL is invalid", "code": "INVALID"})
		}
	}
	if len(errs) > 0 {
		return object{"files": nil, "userErrors": errs}, nil
	}
	now := timestamp(e.sb.now())
	var files []any
	for _, x := range in {
		m, _ := x.(map[string]any)
		src := str(m["originalSource"])
		u, _ := url.Parse(src)
		ext := strings.ToLower(path.Ext(u.Path))
		typ := fileTypes[str(m["contentType"])]
		if typ == "" {
			typ = "GenericFile"
			if imageExts[ext] {
				typ = "MediaImage"
			}
		}
		name := str(m["filename"])
		if name == "" {
			name = path.Base(u.Path)
		}
		f := object{"alt": str(m["alt"]), "createdAt": now, "updatedAt": now, "fileStatus": "READY", "fileErrors": []any{},
			"url": src, "originalFileSize": nil, "mimeType": mimeOf(ext), "_filename": name}
		if typ == "MediaImage" {
			f["image"] = object{"__typename": "Image", "url": src, "altText": str(m["alt"])}
			f["mediaContentType"] = "IMAGE"
			f["status"] = "READY"
		}
		files = append(files, e.sb.st.create(typ, f))
	}
	return object{"files": files}, nil
}

func mimeOf(ext string) string {
	switch ext {
	case ".pdf":
		return "application/pdf"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".csv":
		return "text/csv"
	case ".txt":
		return "text/plain"
	}
	return "application/octet-stream"
}

// Invoice is a draft order invoice the sandbox "sent".
type Invoice struct {
	DraftOrderID string   `json:"draftOrderId"`
	To           string   `json:"to"`
	Subject      string   `json:"subject"`
	Bcc          []string `json:"bcc"`
	Message      string   `json:"customMessage"`
}

// Invoices lists the draft order invoices sent since the last reset.
func (sb *Sandbox) Invoices() []Invoice {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return append([]Invoice(nil), sb.invoices...)
}

func mDraftOrderInvoiceSend(e *executor, args map[string]any) (object, error) {
	d := e.sb.st.getType(str(args["id"]), "DraftOrder")
	if d == nil {
		return object{"draftOrder": nil, "userErrors": userErrors(userError([]string{"id"}, "Draft order does not exist"))}, nil
	}
	if d["status"] == "COMPLETED" {
		return object{"draftOrder": nil, "userErrors": userErrors(userError([]string{"id"}, "Draft order has been completed and an invoice cannot be sent"))}, nil
	}
	em := inputOf(args, "email")
	to := str(em["to"])
	if to == "" {
		to = str(d["email"])
	}
	if to == "" {
		return object{"draftOrder": nil, "userErrors": userErrors(userError([]string{"email", "to"}, "To can't be blank"))}, nil
	}
	subject := str(em["subject"])
	if subject == "" {
		subject = "Invoice " + str(d["name"])
	}
	e.sb.invoices = append(e.sb.invoices, Invoice{DraftOrderID: str(d["id"]), To: to, Subject: subject, Bcc: tagList(em["bcc"]), Message: str(em["customMessage"])})
	now := timestamp(e.sb.now())
	d["status"] = "INVOICE_SENT"
	d["invoiceSentAt"] = now
	d["updatedAt"] = now
	return object{"draftOrder": d}, nil
}

// mReturnRequest requests a return of fulfilled line items (status
// REQUESTED), as a customer does from their account.
func mReturnRequest(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	st := e.sb.st
	o := st.getType(str(in["orderId"]), "Order")
	if o == nil {
		return object{"return": nil, "userErrors": userErrors(object{"field": []any{"input", "orderId"}, "message": "Order does not exist.", "code": "NOT_FOUND"})}, nil
	}
	lis, _ := in["returnLineItems"].([]any)
	if len(lis) == 0 {
		return object{"return": nil, "userErrors": userErrors(object{"field": []any{"input", "returnLineItems"}, "message": "Return must have at least one line item.", "code": "BLANK"})}, nil
	}
	var items []any
	total := 0
	for i, x := range lis {
		m, _ := x.(map[string]any)
		fli := st.getType(str(m["fulfillmentLineItemId"]), "FulfillmentLineItem")
		q, _ := schema.ToInt(m["quantity"])
		have, _ := fli["quantity"].(int)
		if fli == nil || q <= 0 || q > have {
			return object{"return": nil, "userErrors": userErrors(object{"field": []any{"input", "returnLineItems", strconv.Itoa(i)}, "message": "Fulfillment line item is not returnable in that quantity.", "code": "INVALID"})}, nil
		}
		rli := st.create("ReturnLineItem", object{"fulfillmentLineItem": ref(str(fli["id"])), "quantity": q,
			"returnReason": strDefault(m["returnReason"], "OTHER"), "customerNote": m["customerNote"], "returnReasonNote": "",
			"processedQuantity": 0, "unprocessedQuantity": q, "processableQuantity": q, "refundableQuantity": q, "refundedQuantity": 0})
		items = append(items, ref(str(rli["id"])))
		total += q
	}
	now := timestamp(e.sb.now())
	r := st.create("Return", object{"order": ref(str(o["id"])), "status": "REQUESTED", "createdAt": now,
		"name": fmt.Sprintf("%v-R%d", o["name"], len(refsOf(o, "returns"))+1), "returnLineItems": items, "totalQuantity": total,
		"closedAt": nil, "requestApprovedAt": nil, "refunds": []any{}, "exchangeLineItems": []any{}, "returnShippingFees": []any{},
		"reverseFulfillmentOrders": []any{}})
	appendRef(o, "returns", str(r["id"]))
	return object{"return": r}, nil
}

func mReturnApproveRequest(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	r := e.sb.st.getType(str(in["id"]), "Return")
	if r == nil {
		return object{"return": nil, "userErrors": userErrors(object{"field": []any{"id"}, "message": "Return does not exist.", "code": "NOT_FOUND"})}, nil
	}
	if r["status"] != "REQUESTED" {
		return object{"return": nil, "userErrors": userErrors(object{"field": []any{"id"}, "message": "Return is not approvable. Only returns with status REQUESTED can be approved.", "code": "INVALID_STATE"})}, nil
	}
	r["status"] = "OPEN"
	r["requestApprovedAt"] = timestamp(e.sb.now())
	return object{"return": r}, nil
}

// returnREST is the returns/* webhook shape of a return.
func (sb *Sandbox) returnREST(r object) map[string]any {
	var lis []map[string]any
	for _, rl := range derefAll(sb.st, refsOf(r, "returnLineItems")) {
		lis = append(lis, map[string]any{"id": legacyID(str(rl["id"])), "admin_graphql_api_id": rl["id"],
			"fulfillment_line_item": map[string]any{"id": idOf(rl["fulfillmentLineItem"]), "admin_graphql_api_id": refOrString(rl["fulfillmentLineItem"])},
			"quantity":              rl["quantity"], "return_reason": lower(rl["returnReason"]), "customer_note": rl["customerNote"]})
	}
	o := sb.st.deref(r["order"])
	var order map[string]any
	if o != nil {
		order = map[string]any{"id": legacyID(str(o["id"])), "admin_graphql_api_id": o["id"]}
	}
	return map[string]any{"id": legacyID(str(r["id"])), "admin_graphql_api_id": r["id"], "status": lower(r["status"]),
		"order": order, "total_return_line_items": len(lis), "name": r["name"], "return_line_items": nonNil(lis),
		"return_shipping_fees": []any{}, "exchange_line_items": []any{}, "total_exchange_line_items": 0}
}

// scriptTagREST is the REST shape of a script tag.
func scriptTagREST(s object) map[string]any {
	return map[string]any{"id": legacyID(str(s["id"])), "src": s["src"], "event": s["event"], "display_scope": s["displayScope"],
		"cache": s["cache"], "created_at": s["createdAt"], "updated_at": s["updatedAt"]}
}

// scriptTagRoutes serves script_tags.json (list with src filter, count,
// create) and script_tags/{id}.json (get, update, delete).
func (c *restCall) scriptTagRoutes(seg []string) {
	sb := c.sb
	m := c.r.Method
	switch {
	case len(seg) == 1 && m == http.MethodGet, len(seg) == 2 && seg[1] == "count" && m == http.MethodGet:
		var items []object
		for _, s := range sb.st.list("ScriptTag") {
			if src := c.params.Get("src"); src != "" && s["src"] != src {
				continue
			}
			items = append(items, s)
		}
		if len(seg) == 2 {
			c.ok(map[string]any{"count": len(items)})
			return
		}
		c.list("script_tags", items, scriptTagREST)
	case len(seg) == 1 && m == http.MethodPost:
		in, _ := c.body["script_tag"].(map[string]any)
		if in == nil {
			c.unprocessable(map[string]any{"script_tag": []string{"Required parameter missing or invalid"}})
			return
		}
		fields, ok := c.scriptTagFields(in, object{"event": "onload", "displayScope": "online_store", "cache": false})
		if !ok {
			return
		}
		now := timestamp(sb.now())
		fields["createdAt"], fields["updatedAt"] = now, now
		s := sb.st.create("ScriptTag", fields)
		c.created(map[string]any{"script_tag": scriptTagREST(s)})
	case len(seg) == 2:
		s := c.find("ScriptTag", seg[1])
		if s == nil {
			c.notFound()
			return
		}
		switch m {
		case http.MethodGet:
			c.ok(map[string]any{"script_tag": scriptTagREST(s)})
		case http.MethodPut:
			in, _ := c.body["script_tag"].(map[string]any)
			fields, ok := c.scriptTagFields(in, s)
			if !ok {
				return
			}
			for k, v := range fields {
				s[k] = v
			}
			s["updatedAt"] = timestamp(sb.now())
			c.ok(map[string]any{"script_tag": scriptTagREST(s)})
		case http.MethodDelete:
			sb.st.delete(str(s["id"]))
			c.ok(map[string]any{})
		default:
			c.notFound()
		}
	default:
		c.notFound()
	}
}

// scriptTagFields validates a script_tag body over base values.
func (c *restCall) scriptTagFields(in map[string]any, base object) (object, bool) {
	out := object{"src": base["src"], "event": base["event"], "displayScope": base["displayScope"], "cache": base["cache"]}
	if v, ok := in["src"]; ok {
		out["src"] = str(v)
	}
	if v, ok := in["event"]; ok {
		out["event"] = str(v)
	}
	if v, ok := in["display_scope"]; ok {
		out["displayScope"] = str(v)
	}
	if v, ok := in["cache"].(bool); ok {
		out["cache"] = v
	}
	u, err := url.Parse(str(out["src"]))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		c.unprocessable(map[string]any{"src": []string{"is invalid"}})
		return nil, false
	}
	if out["event"] != "onload" {
		c.unprocessable(map[string]any{"event": []string{"is not included in the list"}})
		return nil, false
	}
	switch out["displayScope"] {
	case "online_store", "order_status", "all":
	default:
		c.unprocessable(map[string]any{"display_scope": []string{"is not included in the list"}})
		return nil, false
	}
	return out, true
}
