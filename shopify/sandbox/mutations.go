package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/sprocketrun/sprocket/shopify/schema"
)

// mutationFunc applies one mutation and returns its payload. Bad input is
// reported in the payload's userErrors, as Shopify does.
type mutationFunc func(e *executor, args map[string]any) (object, error)

// mutation runs the handler of a Mutation field.
func (e *executor) mutation(fd *ast.FieldDefinition, args map[string]any) (any, error) {
	h := e.sb.mutations[fd.Name]
	if h == nil {
		return nil, codedError{"NOT_IMPLEMENTED", fmt.Sprintf("the sandbox does not implement the mutation %s", fd.Name)}
	}
	paid := e.paidBefore(fd.Name, args)
	p, err := h(e, args)
	if err != nil {
		return nil, err
	}
	e.mutationEvents(fd.Name, args, p, paid)
	p["__typename"] = fd.Type.Name()
	if _, ok := p["userErrors"]; !ok {
		p["userErrors"] = []any{}
	}
	e.sb.stats.Mutations++
	return p, nil
}

func userError(field []string, msg string) object {
	f := make([]any, len(field))
	for i, s := range field {
		f[i] = s
	}
	return object{"field": f, "message": msg}
}

func userErrors(ue ...object) []any {
	out := make([]any, len(ue))
	for i, u := range ue {
		out[i] = u
	}
	return out
}

func inputOf(args map[string]any, name string) map[string]any {
	m, _ := args[name].(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// mutationTable lists the implemented mutations.
func mutationTable() map[string]mutationFunc {
	return map[string]mutationFunc{
		"tagsAdd":                                    mTags(true),
		"tagsRemove":                                 mTags(false),
		"metafieldsSet":                              mMetafieldsSet,
		"metafieldsDelete":                           mMetafieldsDelete,
		"inventoryAdjustQuantities":                  mInventoryAdjust,
		"inventorySetQuantities":                     mInventorySet,
		"orderUpdate":                                mOrderUpdate,
		"customerUpdate":                             mCustomerUpdate,
		"customerCreate":                             mCustomerCreate,
		"customerDelete":                             mCustomerDelete,
		"customerSendAccountInviteEmail":             mCustomerInvite,
		"productUpdate":                              mProductUpdate,
		"productCreate":                              mProductCreate,
		"productDelete":                              mProductDelete,
		"productVariantsBulkUpdate":                  mVariantsBulkUpdate,
		"publishablePublish":                         mPublish(true),
		"publishableUnpublish":                       mPublish(false),
		"orderCapture":                               mOrderCapture,
		"orderCancel":                                mOrderCancel,
		"orderClose":                                 mOrderClose(true),
		"orderOpen":                                  mOrderClose(false),
		"orderMarkAsPaid":                            mOrderMarkAsPaid,
		"collectionAddProducts":                      mCollectionAdd,
		"collectionRemoveProducts":                   mCollectionRemove,
		"collectionReorderProducts":                  mCollectionReorder,
		"collectionCreate":                           mCollectionSave(true),
		"collectionUpdate":                           mCollectionSave(false),
		"discountCodeBasicCreate":                    mDiscountCodeBasicCreate,
		"fulfillmentCreate":                          mFulfillmentCreate,
		"fulfillmentCancel":                          mFulfillmentCancel,
		"inventoryItemUpdate":                        mInventoryItemUpdate,
		"draftOrderCreate":                           mDraftOrderCreate,
		"draftOrderComplete":                         mDraftOrderComplete,
		"draftOrderDelete":                           mDraftOrderDelete,
		"bulkOperationRunQuery":                      mBulkRunQuery,
		"bulkOperationCancel":                        mBulkCancel,
		"segmentCreate":                              mSegmentCreate,
		"fulfillmentOrderMove":                       mFulfillmentOrderMove,
		"draftOrderUpdate":                           mDraftOrderUpdate,
		"discountCodeBulkDelete":                     mDiscountCodeBulkDelete,
		"fulfillmentTrackingInfoUpdate":              mTrackingInfoUpdate,
		"fulfillmentTrackingInfoUpdateV2":            mTrackingInfoUpdate,
		"collectionAddProductsV2":                    mCollectionAddProductsV2,
		"productVariantsBulkDelete":                  mVariantsBulkDelete,
		"fulfillmentEventCreate":                     mFulfillmentEventCreate,
		"inventoryBulkToggleActivation":              mInventoryToggle,
		"fulfillmentOrderLineItemsPreparedForPickup": mPreparedForPickup,
		"orderEditBegin":                             mOrderEditBegin,
		"orderEditAddVariant":                        mOrderEditAddVariant,
		"orderEditAddLineItemDiscount":               mOrderEditAddLineItemDiscount,
		"orderEditSetQuantity":                       mOrderEditSetQuantity,
		"orderEditCommit":                            mOrderEditCommit,
		"stagedUploadsCreate":                        mStagedUploadsCreate,
		"bulkOperationRunMutation":                   mBulkRunMutation,
		"fileCreate":                                 mFileCreate,
		"draftOrderInvoiceSend":                      mDraftOrderInvoiceSend,
		"returnRequest":                              mReturnRequest,
		"returnApproveRequest":                       mReturnApproveRequest,
		"deliveryProfileUpdate":                      mDeliveryProfileUpdate,
		"refundCreate":                               mRefundCreate,
		"webhookSubscriptionCreate":                  mWebhookCreate,
		"webhookSubscriptionUpdate":                  mWebhookUpdate,
		"webhookSubscriptionDelete":                  mWebhookDelete,
		"flowTriggerReceive":                         mFlowTriggerReceive,
	}
}

// taggable are the types tagsAdd/tagsRemove accept.
var taggable = []string{"Order", "Customer", "Product", "DraftOrder", "Article", "BlogPost", "Page"}

func mTags(add bool) mutationFunc {
	return func(e *executor, args map[string]any) (object, error) {
		id := str(args["id"])
		o := e.sb.st.get(id)
		if o == nil || !slices.Contains(taggable, str(o["__typename"])) {
			return object{"node": nil, "userErrors": userErrors(userError([]string{"id"}, "Resource does not exist"))}, nil
		}
		tags := tagList(args["tags"])
		if add {
			o["tags"] = mergeTags(tagList(o["tags"]), tags)
		} else {
			o["tags"] = removeTags(tagList(o["tags"]), tags)
		}
		o["updatedAt"] = timestamp(e.sb.now())
		return object{"node": o}, nil
	}
}

// metafieldTypes are Shopify's metafield types (each also as list.<type>
// where Shopify allows lists).
var metafieldTypes = map[string]bool{
	"boolean": true, "color": true, "date": true, "date_time": true, "dimension": true, "id": true, "json": true,
	"link": true, "money": true, "multi_line_text_field": true, "number_decimal": true, "number_integer": true,
	"rating": true, "rich_text_field": true, "single_line_text_field": true, "url": true, "volume": true, "weight": true,
	"collection_reference": true, "company_reference": true, "customer_reference": true, "file_reference": true,
	"metaobject_reference": true, "mixed_reference": true, "order_reference": true, "page_reference": true,
	"product_reference": true, "product_taxonomy_value_reference": true, "variant_reference": true, "article_reference": true,
}

// metafieldValueError checks a value against its metafield type.
func metafieldValueError(typ, value string) string {
	if base := strings.TrimPrefix(typ, "list."); !metafieldTypes[base] || (base != typ && (base == "boolean" || base == "json" || base == "money" || base == "multi_line_text_field" || base == "rich_text_field")) {
		return fmt.Sprintf("Type %q is not a valid metafield type.", typ)
	}
	switch {
	case typ == "number_integer":
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return "Value must be an integer."
		}
	case typ == "number_decimal":
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			return "Value must be a decimal."
		}
	case typ == "boolean":
		if value != "true" && value != "false" {
			return "Value must be true or false."
		}
	case typ == "json" || strings.HasPrefix(typ, "list.") || typ == "money" || typ == "rating" || strings.HasPrefix(typ, "dimension") || strings.HasPrefix(typ, "weight") || strings.HasPrefix(typ, "volume"):
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			return "Value is invalid JSON: " + err.Error() + "."
		}
		if _, isList := v.([]any); strings.HasPrefix(typ, "list.") && !isList {
			return "Value must be an array."
		}
	}
	return ""
}

func mMetafieldsSet(e *executor, args map[string]any) (object, error) {
	in, _ := args["metafields"].([]any)
	if len(in) > 25 {
		return object{"metafields": nil, "userErrors": userErrors(object{"field": []any{"metafields"}, "message": "Exceeded the maximum metafields input limit of 25.", "code": "LESS_THAN_OR_EQUAL_TO"})}, nil
	}
	var errs []any
	type item struct {
		owner               object
		ns, key, typ, value string
	}
	var items []item
	for i, x := range in {
		m, _ := x.(map[string]any)
		idx := strconv.Itoa(i)
		fail := func(field, code, msg string) {
			errs = append(errs, object{"field": []any{"metafields", idx, field}, "message": msg, "code": code, "elementIndex": i})
		}
		owner := e.sb.st.get(str(m["ownerId"]))
		if owner == nil {
			fail("ownerId", "INVALID", "Owner does not exist.")
			continue
		}
		if _, ok := owner["metafields"]; !ok {
			fail("ownerId", "INVALID", "Owner type does not support metafields.")
			continue
		}
		it := item{owner: owner, ns: str(m["namespace"]), key: str(m["key"]), typ: str(m["type"]), value: str(m["value"])}
		if it.ns == "" {
			it.ns = "$app"
		}
		if len(it.key) < 2 {
			fail("key", "TOO_SHORT", "Key is too short (minimum is 2 characters)")
			continue
		}
		var existing object
		for _, r := range refsOf(owner, "metafields") {
			if mf := e.sb.st.deref(r); mf != nil && mf["namespace"] == it.ns && mf["key"] == it.key {
				existing = mf
			}
		}
		if it.typ == "" {
			if existing == nil {
				fail("type", "BLANK", "Type can't be blank.")
				continue
			}
			it.typ = str(existing["type"])
		}
		if d, ok := m["compareDigest"].(string); ok && existing != nil && d != str(existing["compareDigest"]) {
			fail("compareDigest", "STALE_OBJECT", "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.")
			continue
		}
		if msg := metafieldValueError(it.typ, it.value); msg != "" {
			if strings.HasPrefix(msg, "Type ") {
				fail("type", "INVALID_TYPE", msg)
			} else {
				fail("value", "INVALID_VALUE", msg)
			}
			continue
		}
		items = append(items, it)
	}
	if len(errs) > 0 {
		return object{"metafields": nil, "userErrors": errs}, nil
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		out = append(out, e.sb.setMetafield(it.owner, it.ns, it.key, it.typ, it.value))
	}
	return object{"metafields": out}, nil
}

func mMetafieldsDelete(e *executor, args map[string]any) (object, error) {
	in, _ := args["metafields"].([]any)
	out := make([]any, 0, len(in))
	var errs []any
	for i, x := range in {
		m, _ := x.(map[string]any)
		owner := e.sb.st.get(str(m["ownerId"]))
		if owner == nil {
			errs = append(errs, userError([]string{"metafields", strconv.Itoa(i), "ownerId"}, "Owner does not exist."))
			out = append(out, nil)
			continue
		}
		ns, key := str(m["namespace"]), str(m["key"])
		var found object
		for _, r := range refsOf(owner, "metafields") {
			if mf := e.sb.st.deref(r); mf != nil && mf["namespace"] == ns && mf["key"] == key {
				found = mf
			}
		}
		if found == nil {
			out = append(out, nil)
			continue
		}
		removeRef(owner, "metafields", str(found["id"]))
		e.sb.st.delete(str(found["id"]))
		out = append(out, object{"__typename": "MetafieldIdentifier", "ownerId": owner["id"], "namespace": ns, "key": key})
	}
	return object{"deletedMetafields": out, "userErrors": errs}, nil
}

var adjustableNames = []string{"available", "damaged", "incoming", "quality_control", "reserved", "safety_stock"}

func (e *executor) adjustmentGroup(reason, uri string, changes []any) object {
	g := e.sb.st.create("InventoryAdjustmentGroup", object{
		"createdAt": timestamp(e.sb.now()), "reason": reason, "referenceDocumentUri": nilIfEmpty(uri), "changes": changes,
	})
	return g
}

func mInventoryAdjust(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	name := str(in["name"])
	if !slices.Contains(adjustableNames, name) {
		return object{"inventoryAdjustmentGroup": nil, "userErrors": userErrors(userError([]string{"input", "name"}, fmt.Sprintf("The quantity name must be one of %s.", strings.Join(adjustableNames, ", "))))}, nil
	}
	changes, _ := in["changes"].([]any)
	type change struct {
		level object
		delta int
	}
	var todo []change
	var errs []any
	for i, x := range changes {
		c, _ := x.(map[string]any)
		delta, _ := schema.ToInt(c["delta"])
		l := e.sb.level(str(c["inventoryItemId"]), str(c["locationId"]))
		if l == nil {
			field := "inventoryItemId"
			if e.sb.st.getType(str(c["inventoryItemId"]), "InventoryItem") != nil {
				field = "locationId"
			}
			errs = append(errs, userError([]string{"input", "changes", strconv.Itoa(i), field}, "The specified inventory item is not stocked at the location."))
			continue
		}
		if from, ok := schema.ToInt(c["changeFromQuantity"]); ok && c["changeFromQuantity"] != nil && from != quantities(l)[name] {
			errs = append(errs, userError([]string{"input", "changes", strconv.Itoa(i), "changeFromQuantity"}, "The quantity has changed since it was read."))
			continue
		}
		todo = append(todo, change{l, delta})
	}
	if len(errs) > 0 {
		return object{"inventoryAdjustmentGroup": nil, "userErrors": errs}, nil
	}
	var out []any
	now := timestamp(e.sb.now())
	for _, c := range todo {
		q := quantities(c.level)
		q[name] += c.delta
		out = append(out, object{"__typename": "InventoryChange", "name": name, "delta": c.delta, "quantityAfterChange": q[name], "item": c.level["item"], "location": c.level["location"]})
		if name == "available" {
			q["on_hand"] += c.delta
			out = append(out, object{"__typename": "InventoryChange", "name": "on_hand", "delta": c.delta, "quantityAfterChange": q["on_hand"], "item": c.level["item"], "location": c.level["location"]})
		}
		c.level["updatedAt"] = now
	}
	return object{"inventoryAdjustmentGroup": e.adjustmentGroup(str(in["reason"]), str(in["referenceDocumentUri"]), out)}, nil
}

func mInventorySet(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	name := str(in["name"])
	if name != "available" && name != "on_hand" {
		return object{"inventoryAdjustmentGroup": nil, "userErrors": userErrors(userError([]string{"input", "name"}, "The quantity name must be either 'available' or 'on_hand'."))}, nil
	}
	ignore, _ := in["ignoreCompareQuantity"].(bool)
	qs, _ := in["quantities"].([]any)
	var errs []any
	type set struct {
		level object
		to    int
	}
	var todo []set
	for i, x := range qs {
		c, _ := x.(map[string]any)
		to, _ := schema.ToInt(c["quantity"])
		l := e.sb.level(str(c["inventoryItemId"]), str(c["locationId"]))
		if l == nil {
			errs = append(errs, userError([]string{"input", "quantities", strconv.Itoa(i), "locationId"}, "The specified inventory item is not stocked at the location."))
			continue
		}
		for _, k := range []string{"changeFromQuantity", "compareQuantity"} {
			if from, ok := schema.ToInt(c[k]); !ignore && ok && c[k] != nil && from != quantities(l)[name] {
				errs = append(errs, userError([]string{"input", "quantities", strconv.Itoa(i), k}, "The quantity has changed since it was read."))
			}
		}
		todo = append(todo, set{l, to})
	}
	if len(errs) > 0 {
		return object{"inventoryAdjustmentGroup": nil, "userErrors": errs}, nil
	}
	var out []any
	for _, s := range todo {
		q := quantities(s.level)
		delta := s.to - q[name]
		q[name] = s.to
		other := "on_hand"
		if name == "on_hand" {
			other = "available"
		}
		q[other] += delta
		out = append(out, object{"__typename": "InventoryChange", "name": name, "delta": delta, "quantityAfterChange": s.to, "item": s.level["item"], "location": s.level["location"]})
		s.level["updatedAt"] = timestamp(e.sb.now())
	}
	return object{"inventoryAdjustmentGroup": e.adjustmentGroup(str(in["reason"]), str(in["referenceDocumentUri"]), out)}, nil
}

// applyMetafieldInputs stores MetafieldInput values on owner.
func (e *executor) applyMetafieldInputs(owner object, v any) []any {
	in, _ := v.([]any)
	var errs []any
	for i, x := range in {
		m, _ := x.(map[string]any)
		if id := str(m["id"]); id != "" {
			if mf := e.sb.st.getType(id, "Metafield"); mf != nil {
				mf["value"] = str(m["value"])
				continue
			}
		}
		typ, value := str(m["type"]), str(m["value"])
		if msg := metafieldValueError(typ, value); msg != "" {
			errs = append(errs, userError([]string{"metafields", strconv.Itoa(i), "value"}, msg))
			continue
		}
		e.sb.setMetafield(owner, str(m["namespace"]), str(m["key"]), typ, value)
	}
	return errs
}

// copyFields copies the named input fields that are present onto o.
func copyFields(o object, in map[string]any, names ...string) {
	for _, n := range names {
		if v, ok := in[n]; ok {
			o[n] = v
		}
	}
}

func mOrderUpdate(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	o := e.sb.st.getType(str(in["id"]), "Order")
	if o == nil {
		return object{"order": nil, "userErrors": userErrors(userError([]string{"id"}, "Order does not exist"))}, nil
	}
	copyFields(o, in, "email", "note", "phone", "poNumber", "customAttributes")
	if v, ok := in["shippingAddress"].(map[string]any); ok {
		addr := object{"__typename": "MailingAddress"}
		for k, x := range v {
			addr[k] = x
		}
		o["shippingAddress"] = addr
	}
	if v, ok := in["tags"]; ok {
		o["tags"] = mergeTags(nil, tagList(v))
	}
	errs := e.applyMetafieldInputs(o, in["metafields"])
	o["updatedAt"] = timestamp(e.sb.now())
	return object{"order": o, "userErrors": errs}, nil
}

func (e *executor) customerFields(c object, in map[string]any) []any {
	copyFields(c, in, "email", "firstName", "lastName", "note", "phone", "taxExempt", "locale", "taxExemptions")
	if v, ok := in["tags"]; ok {
		c["tags"] = mergeTags(nil, tagList(v))
	}
	c["updatedAt"] = timestamp(e.sb.now())
	return e.applyMetafieldInputs(c, in["metafields"])
}

func (sb *Sandbox) emailTaken(email, except string) bool {
	if email == "" {
		return false
	}
	for _, c := range sb.st.list("Customer") {
		if strings.EqualFold(str(c["email"]), email) && c["id"] != except {
			return true
		}
	}
	return false
}

func mCustomerUpdate(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	c := e.sb.st.getType(str(in["id"]), "Customer")
	if c == nil {
		return object{"customer": nil, "userErrors": userErrors(userError([]string{"id"}, "Customer does not exist"))}, nil
	}
	if email, ok := in["email"].(string); ok && e.sb.emailTaken(email, str(c["id"])) {
		return object{"customer": nil, "userErrors": userErrors(userError([]string{"email"}, "Email has already been taken"))}, nil
	}
	return object{"customer": c, "userErrors": e.customerFields(c, in)}, nil
}

func mCustomerCreate(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	if str(in["email"]) == "" && str(in["phone"]) == "" && str(in["firstName"]) == "" && str(in["lastName"]) == "" {
		return object{"customer": nil, "userErrors": userErrors(userError([]string{"customer"}, "A name, phone number, or email address must be present"))}, nil
	}
	if e.sb.emailTaken(str(in["email"]), "") {
		return object{"customer": nil, "userErrors": userErrors(userError([]string{"email"}, "Email has already been taken"))}, nil
	}
	c := e.sb.addCustomer(CustomerSpec{}, e.sb.now())
	errs := e.customerFields(c, in)
	return object{"customer": c, "userErrors": errs}, nil
}

func mCustomerDelete(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	c := e.sb.st.getType(str(in["id"]), "Customer")
	if c == nil {
		return object{"deletedCustomerId": nil, "userErrors": userErrors(userError([]string{"id"}, "Customer can't be found"))}, nil
	}
	if len(refsOf(c, "orders")) > 0 {
		return object{"deletedCustomerId": nil, "userErrors": userErrors(userError([]string{"id"}, "Customer can’t be deleted because they have associated orders"))}, nil
	}
	e.sb.st.delete(str(c["id"]))
	return object{"deletedCustomerId": c["id"], "shop": ref(gidOf("Shop", 1))}, nil
}

func mCustomerInvite(e *executor, args map[string]any) (object, error) {
	c := e.sb.st.getType(str(args["customerId"]), "Customer")
	if c == nil {
		return object{"customer": nil, "userErrors": userErrors(userError([]string{"customerId"}, "Customer does not exist"))}, nil
	}
	if str(c["email"]) == "" {
		return object{"customer": nil, "userErrors": userErrors(userError([]string{"customerId"}, "Customer must have an email address"))}, nil
	}
	c["state"] = "INVITED"
	e.sb.invites = append(e.sb.invites, str(c["id"]))
	return object{"customer": c}, nil
}

func (e *executor) productFields(p object, in map[string]any) []any {
	copyFields(p, in, "title", "vendor", "productType", "descriptionHtml", "handle", "templateSuffix", "status")
	if v, ok := in["tags"]; ok {
		p["tags"] = mergeTags(nil, tagList(v))
	}
	for _, id := range tagList(in["collectionsToJoin"]) {
		if c := e.sb.st.getType(id, "Collection"); c != nil {
			appendRef(c, "products", str(p["id"]))
			appendRef(p, "collections", id)
		}
	}
	for _, id := range tagList(in["collectionsToLeave"]) {
		if c := e.sb.st.getType(id, "Collection"); c != nil {
			removeRef(c, "products", str(p["id"]))
			removeRef(p, "collections", id)
		}
	}
	p["updatedAt"] = timestamp(e.sb.now())
	return e.applyMetafieldInputs(p, in["metafields"])
}

func mProductUpdate(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "product")
	if _, ok := args["product"]; !ok {
		in = inputOf(args, "input")
	}
	p := e.sb.st.getType(str(in["id"]), "Product")
	if p == nil {
		return object{"product": nil, "userErrors": userErrors(userError([]string{"id"}, "Product does not exist"))}, nil
	}
	if t, ok := in["title"]; ok && strings.TrimSpace(str(t)) == "" {
		return object{"product": nil, "userErrors": userErrors(userError([]string{"title"}, "Title can't be blank"))}, nil
	}
	return object{"product": p, "userErrors": e.productFields(p, in)}, nil
}

func mProductCreate(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "product")
	if _, ok := args["product"]; !ok {
		in = inputOf(args, "input")
	}
	if strings.TrimSpace(str(in["title"])) == "" {
		return object{"product": nil, "userErrors": userErrors(userError([]string{"title"}, "Title can't be blank"))}, nil
	}
	p := e.sb.addProduct(ProductSpec{Title: str(in["title"]), Status: str(in["status"])}, e.sb.now())
	errs := e.productFields(p, in)
	return object{"product": p, "userErrors": errs, "shop": ref(gidOf("Shop", 1))}, nil
}

func mProductDelete(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	p := e.sb.st.getType(str(in["id"]), "Product")
	if p == nil {
		return object{"deletedProductId": nil, "userErrors": userErrors(userError([]string{"id"}, "Product does not exist"))}, nil
	}
	e.sb.deleteProduct(p)
	return object{"deletedProductId": p["id"], "shop": ref(gidOf("Shop", 1))}, nil
}

// deleteProduct removes a product, its variants and its collection entries.
func (sb *Sandbox) deleteProduct(p object) {
	id := str(p["id"])
	for _, r := range refsOf(p, "collections") {
		if c := sb.st.deref(r); c != nil {
			removeRef(c, "products", id)
		}
	}
	for _, r := range refsOf(p, "variants") {
		if v := sb.st.deref(r); v != nil {
			sb.st.delete(str(v["id"]))
		}
	}
	sb.st.delete(id)
}

func mVariantsBulkUpdate(e *executor, args map[string]any) (object, error) {
	p := e.sb.st.getType(str(args["productId"]), "Product")
	if p == nil {
		return object{"product": nil, "productVariants": nil, "userErrors": userErrors(userError([]string{"productId"}, "Product does not exist"))}, nil
	}
	in, _ := args["variants"].([]any)
	var errs []any
	var vs []object
	for i, x := range in {
		m, _ := x.(map[string]any)
		v := e.sb.st.getType(str(m["id"]), "ProductVariant")
		if v == nil || v["product"] != ref(str(p["id"])) {
			errs = append(errs, userError([]string{"variants", strconv.Itoa(i), "id"}, "Product variant does not exist"))
			continue
		}
		if pr, ok := m["price"]; ok {
			f, okp := parseMoney(pr)
			if !okp || f < 0 {
				errs = append(errs, userError([]string{"variants", strconv.Itoa(i), "price"}, "Price must be greater than or equal to 0"))
				continue
			}
		}
		vs = append(vs, v)
	}
	if len(errs) > 0 {
		if ap, _ := args["allowPartialUpdates"].(bool); !ap {
			return object{"product": nil, "productVariants": nil, "userErrors": errs}, nil
		}
	}
	out := make([]any, 0, len(vs))
	for _, x := range in {
		m, _ := x.(map[string]any)
		v := e.sb.st.getType(str(m["id"]), "ProductVariant")
		if v == nil || !slices.ContainsFunc(vs, func(o object) bool { return o["id"] == v["id"] }) {
			continue
		}
		if pr, ok := m["price"]; ok {
			f, _ := parseMoney(pr)
			v["price"] = money(f)
		}
		if cp, ok := m["compareAtPrice"]; ok {
			if f, okc := parseMoney(cp); okc {
				v["compareAtPrice"] = money(f)
			} else {
				v["compareAtPrice"] = nil
			}
		}
		copyFields(v, m, "barcode", "inventoryPolicy", "taxable", "taxCode")
		if ii, ok := m["inventoryItem"].(map[string]any); ok {
			if item := e.sb.st.deref(v["inventoryItem"]); item != nil {
				inventoryItemFields(item, ii)
				if sku, ok := ii["sku"]; ok {
					v["sku"] = sku
				}
			}
		}
		errs = append(errs, e.applyMetafieldInputs(v, m["metafields"])...)
		v["updatedAt"] = timestamp(e.sb.now())
		out = append(out, v)
	}
	return object{"product": p, "productVariants": out, "userErrors": errs}, nil
}

func inventoryItemFields(item object, in map[string]any) {
	copyFields(item, in, "sku", "tracked", "requiresShipping", "countryCodeOfOrigin", "harmonizedSystemCode", "provinceCodeOfOrigin")
	if c, ok := in["cost"]; ok {
		if f, okc := parseMoney(c); okc {
			item["unitCost"] = moneyV2(f, currency)
		} else {
			item["unitCost"] = nil
		}
	}
}

func mInventoryItemUpdate(e *executor, args map[string]any) (object, error) {
	item := e.sb.st.getType(str(args["id"]), "InventoryItem")
	if item == nil {
		return object{"inventoryItem": nil, "userErrors": userErrors(userError([]string{"id"}, "Inventory item does not exist"))}, nil
	}
	in := inputOf(args, "input")
	inventoryItemFields(item, in)
	if sku, ok := in["sku"]; ok {
		if v := e.sb.st.deref(item["variant"]); v != nil {
			v["sku"] = sku
		}
	}
	item["updatedAt"] = timestamp(e.sb.now())
	return object{"inventoryItem": item}, nil
}

func mPublish(publish bool) mutationFunc {
	return func(e *executor, args map[string]any) (object, error) {
		o := e.sb.st.get(str(args["id"]))
		if o == nil || (o["__typename"] != "Product" && o["__typename"] != "Collection") {
			return object{"publishable": nil, "userErrors": userErrors(userError([]string{"id"}, "Publishable does not exist"))}, nil
		}
		in, _ := args["input"].([]any)
		for i, x := range in {
			m, _ := x.(map[string]any)
			pid := str(m["publicationId"])
			if pid == "" {
				pid = str(m["channelId"])
			}
			if e.sb.st.getType(pid, "Publication") == nil {
				return object{"publishable": nil, "userErrors": userErrors(userError([]string{"input", strconv.Itoa(i), "publicationId"}, "Publication does not exist"))}, nil
			}
			if publish {
				appendRef(o, "_publications", pid)
			} else {
				removeRef(o, "_publications", pid)
			}
		}
		return object{"publishable": o, "shop": ref(gidOf("Shop", 1))}, nil
	}
}

func (sb *Sandbox) recomputePayment(order object) {
	var paid, refunded, authorized float64
	for _, r := range refsOf(order, "transactions") {
		t := sb.st.deref(r)
		if t == nil || t["status"] != "SUCCESS" {
			continue
		}
		a := bagAmount(t["amountSet"])
		switch t["kind"] {
		case "SALE", "CAPTURE":
			paid += a
		case "REFUND":
			refunded += a
		case "AUTHORIZATION":
			authorized += a
		}
	}
	total := bagAmount(order["totalPriceSet"])
	outstanding := max(total-paid, 0)
	status := "PENDING"
	switch {
	case refunded > 0 && refunded >= paid:
		status = "REFUNDED"
	case refunded > 0:
		status = "PARTIALLY_REFUNDED"
	case paid >= total:
		status = "PAID"
	case paid > 0:
		status = "PARTIALLY_PAID"
	case authorized > 0:
		status = "AUTHORIZED"
	}
	order["displayFinancialStatus"] = status
	order["totalOutstandingSet"] = moneyBag(outstanding, currency)
	order["fullyPaid"] = outstanding == 0
	order["capturable"] = status == "AUTHORIZED" || status == "PARTIALLY_PAID" && authorized > paid
	order["canMarkAsPaid"] = outstanding > 0
	order["unpaid"] = outstanding > 0
	order["totalRefundedSet"] = moneyBag(refunded, currency)
	order["updatedAt"] = timestamp(sb.now())
}

func mOrderCapture(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	o := e.sb.st.getType(str(in["id"]), "Order")
	if o == nil {
		return object{"transaction": nil, "userErrors": userErrors(userError([]string{"id"}, "Order does not exist"))}, nil
	}
	parent := e.sb.st.getType(str(in["parentTransactionId"]), "OrderTransaction")
	if parent == nil || parent["order"] != ref(str(o["id"])) || parent["kind"] != "AUTHORIZATION" {
		return object{"transaction": nil, "userErrors": userErrors(userError([]string{"parentTransactionId"}, "Parent transaction is not an authorization of this order"))}, nil
	}
	amount, ok := parseMoney(in["amount"])
	if !ok || amount <= 0 || amount > bagAmount(parent["amountSet"])+0.001 {
		return object{"transaction": nil, "userErrors": userErrors(userError([]string{"amount"}, "Amount must be positive and at most the authorized amount"))}, nil
	}
	t := e.sb.addTransaction(o, "CAPTURE", "SUCCESS", amount, e.sb.now())
	t["parentTransaction"] = ref(str(parent["id"]))
	e.sb.recomputePayment(o)
	return object{"transaction": t}, nil
}

func mOrderMarkAsPaid(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	o := e.sb.st.getType(str(in["id"]), "Order")
	if o == nil {
		return object{"order": nil, "userErrors": userErrors(userError([]string{"id"}, "Order does not exist"))}, nil
	}
	out := bagAmount(o["totalOutstandingSet"])
	if out <= 0 || o["cancelledAt"] != nil {
		return object{"order": nil, "userErrors": userErrors(userError([]string{"id"}, "Order cannot be marked as paid."))}, nil
	}
	e.sb.addTransaction(o, "SALE", "SUCCESS", out, e.sb.now())
	e.sb.recomputePayment(o)
	return object{"order": o}, nil
}

func mOrderCancel(e *executor, args map[string]any) (object, error) {
	o := e.sb.st.getType(str(args["orderId"]), "Order")
	if o == nil {
		ue := userErrors(userError([]string{"orderId"}, "Order does not exist"))
		return object{"job": nil, "userErrors": ue, "orderCancelUserErrors": ue}, nil
	}
	if o["cancelledAt"] != nil {
		ue := userErrors(userError([]string{"orderId"}, "Order has already been cancelled"))
		return object{"job": nil, "userErrors": ue, "orderCancelUserErrors": ue}, nil
	}
	now := timestamp(e.sb.now())
	o["cancelledAt"] = now
	o["cancelReason"] = str(args["reason"])
	o["closed"] = true
	o["closedAt"] = now
	if refund, _ := args["refund"].(bool); refund {
		if paid := bagAmount(o["totalPriceSet"]) - bagAmount(o["totalOutstandingSet"]); paid > 0 {
			e.sb.addTransaction(o, "REFUND", "SUCCESS", paid, e.sb.now())
		}
	}
	e.sb.recomputePayment(o)
	if restock, _ := args["restock"].(bool); restock {
		e.sb.restock(o)
	}
	job := object{"__typename": "Job", "id": gidOf("Job", legacyID(str(o["id"]))), "done": true}
	return object{"job": job, "orderCancelUserErrors": []any{}}, nil
}

// restock returns an order's unfulfilled quantities to the first location.
func (sb *Sandbox) restock(o object) {
	locs := sb.st.list("Location")
	if len(locs) == 0 {
		return
	}
	for _, r := range refsOf(o, "lineItems") {
		li := sb.st.deref(r)
		if li == nil {
			continue
		}
		v := sb.st.deref(li["variant"])
		if v == nil {
			continue
		}
		if l := sb.level(str(refOrString(v["inventoryItem"])), str(locs[0]["id"])); l != nil {
			u, _ := li["unfulfilledQuantity"].(int)
			quantities(l)["available"] += u
			quantities(l)["on_hand"] += u
		}
	}
}

func refOrString(v any) any {
	if r, ok := v.(ref); ok {
		return string(r)
	}
	return v
}

func mOrderClose(closeIt bool) mutationFunc {
	return func(e *executor, args map[string]any) (object, error) {
		in := inputOf(args, "input")
		o := e.sb.st.getType(str(in["id"]), "Order")
		if o == nil {
			return object{"order": nil, "userErrors": userErrors(userError([]string{"id"}, "Order does not exist"))}, nil
		}
		e.sb.closeOrder(o, closeIt)
		return object{"order": o}, nil
	}
}

func (sb *Sandbox) closeOrder(o object, closeIt bool) {
	o["closed"] = closeIt
	if closeIt {
		o["closedAt"] = timestamp(sb.now())
	} else {
		o["closedAt"] = nil
	}
	o["updatedAt"] = timestamp(sb.now())
}

func mCollectionAdd(e *executor, args map[string]any) (object, error) {
	c := e.sb.st.getType(str(args["id"]), "Collection")
	if c == nil {
		return object{"collection": nil, "userErrors": userErrors(userError([]string{"id"}, "Collection does not exist"))}, nil
	}
	if c["ruleSet"] != nil {
		return object{"collection": nil, "userErrors": userErrors(userError([]string{"id"}, "Can't manually add products to a smart collection"))}, nil
	}
	ids := tagList(args["productIds"])
	for i, id := range ids {
		if e.sb.st.getType(id, "Product") == nil {
			return object{"collection": nil, "userErrors": userErrors(userError([]string{"productIds", strconv.Itoa(i)}, "Product does not exist"))}, nil
		}
	}
	for _, id := range ids {
		appendRef(c, "products", id)
		appendRef(e.sb.st.get(id), "collections", str(c["id"]))
	}
	return object{"collection": c}, nil
}

func mCollectionRemove(e *executor, args map[string]any) (object, error) {
	c := e.sb.st.getType(str(args["id"]), "Collection")
	if c == nil {
		return object{"job": nil, "userErrors": userErrors(userError([]string{"id"}, "Collection does not exist"))}, nil
	}
	for _, id := range tagList(args["productIds"]) {
		removeRef(c, "products", id)
		if p := e.sb.st.get(id); p != nil {
			removeRef(p, "collections", str(c["id"]))
		}
	}
	return object{"job": object{"__typename": "Job", "id": gidOf("Job", legacyID(str(c["id"]))), "done": true}}, nil
}

func mCollectionReorder(e *executor, args map[string]any) (object, error) {
	c := e.sb.st.getType(str(args["id"]), "Collection")
	if c == nil {
		return object{"job": nil, "userErrors": userErrors(userError([]string{"id"}, "Collection does not exist"))}, nil
	}
	if c["sortOrder"] != "MANUAL" {
		return object{"job": nil, "userErrors": userErrors(userError([]string{"id"}, "Can't reorder products unless collection is manually sorted"))}, nil
	}
	moves, _ := args["moves"].([]any)
	if len(moves) > 250 {
		return object{"job": nil, "userErrors": userErrors(userError([]string{"moves"}, "Too many moves were provided. A maximum of 250 moves can be passed per request."))}, nil
	}
	products := slices.Clone(refsOf(c, "products"))
	for i, x := range moves {
		m, _ := x.(map[string]any)
		id := ref(str(m["id"]))
		at := slices.Index(products, any(id))
		if at < 0 {
			return object{"job": nil, "userErrors": userErrors(userError([]string{"moves", strconv.Itoa(i), "id"}, "Product is not in the collection"))}, nil
		}
		pos, _ := schema.ToInt(m["newPosition"])
		products = slices.Delete(products, at, at+1)
		pos = min(max(pos, 0), len(products))
		products = slices.Insert(products, pos, any(id))
	}
	c["products"] = products
	return object{"job": object{"__typename": "Job", "id": gidOf("Job", legacyID(str(c["id"]))), "done": true}}, nil
}

func mCollectionSave(create bool) mutationFunc {
	return func(e *executor, args map[string]any) (object, error) {
		in := inputOf(args, "input")
		var c object
		if create {
			if strings.TrimSpace(str(in["title"])) == "" {
				return object{"collection": nil, "userErrors": userErrors(userError([]string{"title"}, "Title can't be blank"))}, nil
			}
			c = e.sb.st.create("Collection", object{"handle": handleize(str(in["title"])), "sortOrder": "MANUAL", "products": []any{}, "metafields": []any{}, "_publications": []any{}, "ruleSet": nil})
		} else {
			c = e.sb.st.getType(str(in["id"]), "Collection")
			if c == nil {
				return object{"collection": nil, "userErrors": userErrors(userError([]string{"id"}, "Collection does not exist"))}, nil
			}
		}
		copyFields(c, in, "title", "handle", "descriptionHtml", "sortOrder", "templateSuffix")
		if rs, ok := in["ruleSet"].(map[string]any); ok {
			c["ruleSet"] = object{"__typename": "CollectionRuleSet", "appliedDisjunctively": rs["appliedDisjunctively"], "rules": rs["rules"]}
		}
		for _, id := range tagList(in["products"]) {
			if p := e.sb.st.getType(id, "Product"); p != nil {
				appendRef(c, "products", id)
				appendRef(p, "collections", str(c["id"]))
			}
		}
		c["updatedAt"] = timestamp(e.sb.now())
		return object{"collection": c, "userErrors": e.applyMetafieldInputs(c, in["metafields"])}, nil
	}
}

func mDiscountCodeBasicCreate(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "basicCodeDiscount")
	code := str(in["code"])
	if code == "" {
		return object{"codeDiscountNode": nil, "userErrors": userErrors(userError([]string{"basicCodeDiscount", "code"}, "Code can't be blank"))}, nil
	}
	for _, d := range e.sb.st.list("DiscountRedeemCode") {
		if strings.EqualFold(str(d["code"]), code) {
			return object{"codeDiscountNode": nil, "userErrors": userErrors(userError([]string{"basicCodeDiscount", "code"}, "Code must be unique. Please try a different code."))}, nil
		}
	}
	now := timestamp(e.sb.now())
	rc := e.sb.st.create("DiscountRedeemCode", object{"code": code, "asyncUsageCount": 0})
	starts := str(in["startsAt"])
	if starts == "" {
		starts = now
	}
	basic := object{"__typename": "DiscountCodeBasic", "title": str(in["title"]), "codes": []any{ref(str(rc["id"]))},
		"startsAt": starts, "endsAt": in["endsAt"], "status": "ACTIVE", "usageLimit": in["usageLimit"],
		"appliesOncePerCustomer": in["appliesOncePerCustomer"] == true, "createdAt": now, "updatedAt": now,
		"summary": str(in["title"]), "shortSummary": str(in["title"]), "asyncUsageCount": 0}
	node := e.sb.st.create("DiscountCodeNode", object{"codeDiscount": basic, "metafields": []any{}})
	rc["_node"] = ref(str(node["id"]))
	return object{"codeDiscountNode": node}, nil
}

func mFulfillmentCreate(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "fulfillment")
	groups, _ := in["lineItemsByFulfillmentOrder"].([]any)
	if len(groups) == 0 {
		return object{"fulfillment": nil, "userErrors": userErrors(userError([]string{"fulfillment", "lineItemsByFulfillmentOrder"}, "must contain at least one fulfillment order"))}, nil
	}
	var order, fo object
	type part struct {
		foli object
		qty  int
	}
	var parts []part
	for i, g := range groups {
		m, _ := g.(map[string]any)
		f := e.sb.st.getType(str(m["fulfillmentOrderId"]), "FulfillmentOrder")
		if f == nil {
			return object{"fulfillment": nil, "userErrors": userErrors(userError([]string{"fulfillment", "lineItemsByFulfillmentOrder", strconv.Itoa(i), "fulfillmentOrderId"}, "Fulfillment order does not exist."))}, nil
		}
		if f["status"] != "OPEN" && f["status"] != "IN_PROGRESS" {
			return object{"fulfillment": nil, "userErrors": userErrors(userError([]string{"fulfillment"}, "Fulfillment order "+str(f["id"])+" has an unfulfillable status= "+strings.ToLower(str(f["status"]))+"."))}, nil
		}
		fo = f
		order = e.sb.st.deref(f["order"])
		lis, given := m["fulfillmentOrderLineItems"].([]any)
		if !given {
			for _, r := range refsOf(f, "lineItems") {
				if li := e.sb.st.deref(r); li != nil {
					if q, _ := li["remainingQuantity"].(int); q > 0 {
						parts = append(parts, part{li, q})
					}
				}
			}
			continue
		}
		for j, x := range lis {
			lm, _ := x.(map[string]any)
			li := e.sb.st.getType(str(lm["id"]), "FulfillmentOrderLineItem")
			q, _ := schema.ToInt(lm["quantity"])
			rem, _ := li["remainingQuantity"].(int)
			if li == nil || q <= 0 || q > rem {
				return object{"fulfillment": nil, "userErrors": userErrors(userError([]string{"fulfillment", "lineItemsByFulfillmentOrder", strconv.Itoa(i), "fulfillmentOrderLineItems", strconv.Itoa(j)}, "Invalid fulfillment order line item quantity requested."))}, nil
			}
			parts = append(parts, part{li, q})
		}
	}
	if len(parts) == 0 {
		return object{"fulfillment": nil, "userErrors": userErrors(userError([]string{"fulfillment"}, "No line items to fulfill."))}, nil
	}
	now := e.sb.now()
	f := e.sb.st.create("Fulfillment", object{
		"status": "SUCCESS", "displayStatus": "FULFILLED", "order": ref(str(order["id"])),
		"name":      fmt.Sprintf("%v-F%d", order["name"], len(refsOf(order, "fulfillments"))+1),
		"createdAt": timestamp(now), "updatedAt": timestamp(now), "requiresShipping": true,
		"trackingInfo": []any{}, "fulfillmentLineItems": []any{}, "fulfillmentOrders": []any{ref(str(fo["id"]))},
	})
	if al, ok := fo["assignedLocation"].(object); ok {
		f["location"] = al["location"]
	}
	if ti, ok := in["trackingInfo"].(map[string]any); ok {
		f["trackingInfo"] = []any{object{"__typename": "FulfillmentTrackingInfo", "number": ti["number"], "url": ti["url"], "company": ti["company"]}}
	}
	total := 0
	for _, p := range parts {
		p.foli["remainingQuantity"] = p.foli["remainingQuantity"].(int) - p.qty
		li := e.sb.st.deref(p.foli["lineItem"])
		if li != nil {
			u, _ := li["unfulfilledQuantity"].(int)
			li["unfulfilledQuantity"] = max(u-p.qty, 0)
			li["fulfillableQuantity"] = li["unfulfilledQuantity"]
			fli := e.sb.st.create("FulfillmentLineItem", object{"lineItem": ref(str(li["id"])), "quantity": p.qty})
			appendRef(f, "fulfillmentLineItems", str(fli["id"]))
		}
		total += p.qty
	}
	f["totalQuantity"] = total
	appendRef(order, "fulfillments", str(f["id"]))
	appendRef(fo, "fulfillments", str(f["id"]))
	open := false
	for _, r := range refsOf(fo, "lineItems") {
		if li := e.sb.st.deref(r); li != nil && li["remainingQuantity"].(int) > 0 {
			open = true
		}
	}
	if open {
		fo["status"] = "IN_PROGRESS"
	} else {
		fo["status"] = "CLOSED"
	}
	e.sb.refreshFulfillmentStatus(order)
	return object{"fulfillment": f}, nil
}

func mFulfillmentCancel(e *executor, args map[string]any) (object, error) {
	f := e.sb.st.getType(str(args["id"]), "Fulfillment")
	if f == nil {
		return object{"fulfillment": nil, "userErrors": userErrors(userError([]string{"id"}, "Fulfillment does not exist"))}, nil
	}
	if f["status"] == "CANCELLED" {
		return object{"fulfillment": nil, "userErrors": userErrors(userError([]string{"id"}, "Fulfillment is already cancelled"))}, nil
	}
	f["status"] = "CANCELLED"
	f["displayStatus"] = "CANCELED"
	for _, r := range refsOf(f, "fulfillmentLineItems") {
		fli := e.sb.st.deref(r)
		if fli == nil {
			continue
		}
		li := e.sb.st.deref(fli["lineItem"])
		q, _ := fli["quantity"].(int)
		if li != nil {
			u, _ := li["unfulfilledQuantity"].(int)
			li["unfulfilledQuantity"] = u + q
			li["fulfillableQuantity"] = u + q
		}
		for _, fr := range refsOf(f, "fulfillmentOrders") {
			if fo := e.sb.st.deref(fr); fo != nil {
				fo["status"] = "OPEN"
				for _, lr := range refsOf(fo, "lineItems") {
					if foli := e.sb.st.deref(lr); foli != nil && li != nil && foli["lineItem"] == ref(str(li["id"])) {
						foli["remainingQuantity"] = foli["remainingQuantity"].(int) + q
					}
				}
			}
		}
	}
	if o := e.sb.st.deref(f["order"]); o != nil {
		e.sb.refreshFulfillmentStatus(o)
	}
	return object{"fulfillment": f}, nil
}

func lineItemSpecs(v any) []LineItemSpec {
	in, _ := v.([]any)
	out := make([]LineItemSpec, 0, len(in))
	for _, x := range in {
		m, _ := x.(map[string]any)
		q, _ := schema.ToInt(m["quantity"])
		price, _ := parseMoney(m["originalUnitPrice"])
		if pw, ok := m["originalUnitPriceWithCurrency"].(map[string]any); ok {
			price, _ = parseMoney(pw["amount"])
		}
		out = append(out, LineItemSpec{VariantID: str(m["variantId"]), Quantity: q, Title: str(m["title"]), Price: price})
	}
	return out
}

func mDraftOrderCreate(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	items := lineItemSpecs(in["lineItems"])
	for i, li := range items {
		if li.VariantID == "" && li.Title == "" {
			return object{"draftOrder": nil, "userErrors": userErrors(userError([]string{"lineItems", strconv.Itoa(i), "title"}, "Title can't be blank for a custom line item"))}, nil
		}
	}
	d, err := e.sb.addDraftOrder(str(in["customerId"]), items, tagList(in["tags"]), str(in["note"]), e.sb.now())
	if err != nil {
		field, _, _ := strings.Cut(err.Error(), ":")
		return object{"draftOrder": nil, "userErrors": userErrors(userError(strings.Split(field, "."), err.Error()))}, nil
	}
	if email := str(in["email"]); email != "" {
		d["email"] = email
	}
	errs := e.applyMetafieldInputs(d, in["metafields"])
	return object{"draftOrder": d, "userErrors": errs}, nil
}

func mDraftOrderComplete(e *executor, args map[string]any) (object, error) {
	d := e.sb.st.getType(str(args["id"]), "DraftOrder")
	if d == nil {
		return object{"draftOrder": nil, "userErrors": userErrors(userError([]string{"id"}, "Draft order does not exist"))}, nil
	}
	if d["status"] == "COMPLETED" {
		return object{"draftOrder": nil, "userErrors": userErrors(userError([]string{"id"}, "This order has already been paid"))}, nil
	}
	if _, err := e.sb.completeDraft(d, args["paymentPending"] == true); err != nil {
		return object{"draftOrder": nil, "userErrors": userErrors(userError([]string{"id"}, err.Error()))}, nil
	}
	return object{"draftOrder": d}, nil
}

// completeDraft turns a draft order into an order.
func (sb *Sandbox) completeDraft(d object, pending bool) (object, error) {
	var items []LineItemSpec
	for _, r := range refsOf(d, "lineItems") {
		li := sb.st.deref(r)
		if li == nil {
			continue
		}
		q, _ := li["quantity"].(int)
		p, _ := li["_price"].(float64)
		items = append(items, LineItemSpec{VariantID: str(li["_variantId"]), Quantity: q, Title: str(li["title"]), Price: p})
	}
	fin := "PAID"
	if pending {
		fin = "PENDING"
	}
	cust := ""
	if r, ok := d["customer"].(ref); ok {
		cust = string(r)
	}
	o, err := sb.addOrder(OrderSpec{CustomerID: cust, Email: str(d["email"]), LineItems: items, Tags: tagList(d["tags"]), Note: str(d["note2"]), FinancialStatus: fin})
	if err != nil {
		return nil, err
	}
	now := timestamp(sb.now())
	d["status"] = "COMPLETED"
	d["completedAt"] = now
	d["order"] = ref(str(o["id"]))
	d["updatedAt"] = now
	return o, nil
}

func mDraftOrderDelete(e *executor, args map[string]any) (object, error) {
	in := inputOf(args, "input")
	d := e.sb.st.getType(str(in["id"]), "DraftOrder")
	if d == nil {
		return object{"deletedId": nil, "userErrors": userErrors(userError([]string{"id"}, "Draft order does not exist"))}, nil
	}
	e.sb.st.delete(str(d["id"]))
	return object{"deletedId": d["id"]}, nil
}
