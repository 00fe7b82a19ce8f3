package sandbox

import (
	"net/http"
	"testing"
)

func TestFileCreate(t *testing.T) {
	f := newFixture(t, nil)
	const q = `mutation($files: [FileCreateInput!]!) { fileCreate(files: $files) {
  files { __typename id fileStatus alt ... on GenericFile { url mimeType } ... on MediaImage { image { url } } }
  userErrors { code field message } } }`
	for _, tc := range []struct {
		name, source, typename, code string
	}{
		{"pdf", "https://files.example/invoice.pdf", "GenericFile", ""},
		{"image", "https://files.example/a.png", "MediaImage", ""},
		{"not a url", "invoice.pdf", "", "INVALID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := f.mustData(t, q, map[string]any{"files": []any{map[string]any{"originalSource": tc.source, "alt": "x"}}})
			if tc.code != "" {
				if dig(d, "fileCreate", "userErrors", 0, "code") != tc.code || dig(d, "fileCreate", "files") != nil {
					t.Errorf("answer %v", d)
				}
				return
			}
			file := dig(d, "fileCreate", "files", 0)
			if dig(file, "__typename") != tc.typename || dig(file, "fileStatus") != "READY" {
				t.Fatalf("file %v", file)
			}
			if _, ok := f.sb.Object(dig(file, "id").(string)); !ok {
				t.Error("file not stored")
			}
		})
	}
}

func TestDraftOrderInvoiceSend(t *testing.T) {
	f := newFixture(t, nil)
	const q = `mutation($id: ID!, $email: EmailInput) { draftOrderInvoiceSend(id: $id, email: $email) { draftOrder { status } userErrors { field message } } }`
	for _, tc := range []struct {
		name, id, wantErr string
	}{
		{"open draft", "gid://shopify/DraftOrder/1001", ""},
		{"completed draft", "gid://shopify/DraftOrder/1004", "Draft order has been completed and an invoice cannot be sent"},
		{"missing draft", "gid://shopify/DraftOrder/9999", "Draft order does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := f.mustData(t, q, map[string]any{"id": tc.id, "email": map[string]any{"subject": "Your invoice", "bcc": []string{"b@example.com"}, "customMessage": "Thanks"}})
			if tc.wantErr != "" {
				if msg := dig(d, "draftOrderInvoiceSend", "userErrors", 0, "message"); msg != tc.wantErr {
					t.Errorf("message %v, want %q", msg, tc.wantErr)
				}
				return
			}
			if dig(d, "draftOrderInvoiceSend", "draftOrder", "status") != "INVOICE_SENT" {
				t.Errorf("answer %v", d)
			}
		})
	}
	inv := f.sb.Invoices()
	if len(inv) != 1 || inv[0].Subject != "Your invoice" || inv[0].To == "" || len(inv[0].Bcc) != 1 {
		t.Errorf("invoices %+v", inv)
	}
}

func TestReturnRequestAndApprove(t *testing.T) {
	f := newFixture(t, fastRetries)
	rc := newReceiver(t, nil)
	f.subscribe(t, "returns/request", rc.srv.URL)
	f.subscribe(t, "returns/approve", rc.srv.URL)
	id, err := f.sb.CreateOrder(OrderSpec{FulfillmentStatus: "FULFILLED", LineItems: []LineItemSpec{{VariantID: "gid://shopify/ProductVariant/1001", Quantity: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	d := f.mustData(t, `query($id: ID!) { order(id: $id) { fulfillments { fulfillmentLineItems(first: 5) { nodes { id } } } } }`, map[string]any{"id": id})
	fli := dig(d, "order", "fulfillments", 0, "fulfillmentLineItems", "nodes", 0, "id")
	d = f.mustData(t, `mutation($o: ID!, $fli: ID!) { returnRequest(input: {orderId: $o, returnLineItems: [{fulfillmentLineItemId: $fli, quantity: 1, returnReason: SIZE_TOO_SMALL}]}) { return { id status } userErrors { message } } }`,
		map[string]any{"o": id, "fli": fli})
	ret, _ := dig(d, "returnRequest", "return", "id").(string)
	if ret == "" || dig(d, "returnRequest", "return", "status") != "REQUESTED" {
		t.Fatalf("returnRequest: %v", d)
	}
	const approve = `mutation($id: ID!) { returnApproveRequest(input: {id: $id}) { return { id status order { legacyResourceId } returnLineItems(first: 5) { nodes { ... on ReturnLineItem { quantity fulfillmentLineItem { lineItem { product { id } } } } } } } userErrors { code field message } } }`
	for _, tc := range []struct{ name, id, status, code string }{
		{"approve", ret, "OPEN", ""},
		{"approve again", ret, "", "INVALID_STATE"},
		{"missing", "gid://shopify/Return/9999", "", "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := f.mustData(t, approve, map[string]any{"id": tc.id})
			if tc.code != "" {
				if dig(d, "returnApproveRequest", "userErrors", 0, "code") != tc.code {
					t.Errorf("answer %v", d)
				}
				return
			}
			r := dig(d, "returnApproveRequest", "return")
			if dig(r, "status") != tc.status || dig(r, "returnLineItems", "nodes", 0, "fulfillmentLineItem", "lineItem", "product", "id") != "gid://shopify/Product/1001" {
				t.Errorf("return %v", r)
			}
		})
	}
	f.wait(t)
	if got := rc.topics(); len(got) != 2 || got[0] != "returns/approve" || got[1] != "returns/request" {
		t.Errorf("topics %v", got)
	}
}

func TestDeliveryProfileUpdate(t *testing.T) {
	f := newFixture(t, nil)
	const variant = `{ productVariant(id: "gid://shopify/ProductVariant/1002") { deliveryProfile { id name } } }`
	if got := dig(f.mustData(t, variant, nil), "productVariant", "deliveryProfile", "name"); got != "General Profile" {
		t.Fatalf("default profile %v", got)
	}
	const q = `mutation($id: ID!, $p: DeliveryProfileInput!) { deliveryProfileUpdate(id: $id, profile: $p) { profile { id productVariantsCountV2 { count } } userErrors { field message } } }`
	for _, tc := range []struct {
		name, profile string
		input         map[string]any
		wantProfile   string
		wantErr       bool
	}{
		{"associate", "gid://shopify/DeliveryProfile/1002", map[string]any{"variantsToAssociate": []string{"gid://shopify/ProductVariant/1002"}}, "gid://shopify/DeliveryProfile/1002", false},
		{"unknown variant", "gid://shopify/DeliveryProfile/1002", map[string]any{"variantsToAssociate": []string{"gid://shopify/ProductVariant/99999"}}, "gid://shopify/DeliveryProfile/1002", true},
		{"unknown profile", "gid://shopify/DeliveryProfile/9", map[string]any{}, "gid://shopify/DeliveryProfile/1002", true},
		{"dissociate", "gid://shopify/DeliveryProfile/1002", map[string]any{"variantsToDissociate": []string{"gid://shopify/ProductVariant/1002"}}, "gid://shopify/DeliveryProfile/1001", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := f.mustData(t, q, map[string]any{"id": tc.profile, "p": tc.input})
			if ue, _ := dig(d, "deliveryProfileUpdate", "userErrors").([]any); (len(ue) > 0) != tc.wantErr {
				t.Errorf("userErrors %v, want error %v", ue, tc.wantErr)
			}
			if got := dig(f.mustData(t, variant, nil), "productVariant", "deliveryProfile", "id"); got != tc.wantProfile {
				t.Errorf("variant profile %v, want %s", got, tc.wantProfile)
			}
		})
	}
}

func TestScriptTagsREST(t *testing.T) {
	f := newFixture(t, nil)
	const base = "/admin/api/2026-01/"
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"create", map[string]any{"script_tag": map[string]any{"event": "onload", "src": "https://sprocket.example/js/a.js", "display_scope": "online_store"}}, 201},
		{"create order status", map[string]any{"script_tag": map[string]any{"event": "onload", "src": "https://sprocket.example/js/b.js", "display_scope": "order_status"}}, 201},
		{"bad src", map[string]any{"script_tag": map[string]any{"event": "onload", "src": "/js/a.js"}}, 422},
		{"bad scope", map[string]any{"script_tag": map[string]any{"event": "onload", "src": "https://sprocket.example/c.js", "display_scope": "checkout"}}, 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.rest(t, http.MethodPost, base+"script_tags.json", tc.body)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %v", resp.StatusCode, tc.status, body)
			}
		})
	}
	_, body := f.rest(t, http.MethodGet, base+"script_tags.json?src=https://sprocket.example/js/b.js", nil)
	tags := body["script_tags"].([]any)
	if len(tags) != 1 || dig(tags, 0, "display_scope") != "order_status" {
		t.Fatalf("list by src: %v", body)
	}
	id := int(dig(tags, 0, "id").(float64))
	if resp, _ := f.rest(t, http.MethodDelete, base+"script_tags/"+itoa(id)+".json", nil); resp.StatusCode != 200 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	if resp, _ := f.rest(t, http.MethodDelete, base+"script_tags/"+itoa(id)+".json", nil); resp.StatusCode != 404 {
		t.Errorf("second delete: %d", resp.StatusCode)
	}
	_, body = f.rest(t, http.MethodGet, base+"script_tags/count.json", nil)
	if body["count"] != 1.0 {
		t.Errorf("count %v", body)
	}
}

func TestDraftOrdersCountREST(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		query string
		want  float64
	}{
		{"", 6}, {"?status=open", 4}, {"?status=completed", 1}, {"?status=invoice_sent", 1},
	} {
		_, body := f.rest(t, http.MethodGet, "/admin/api/2026-01/draft_orders/count.json"+tc.query, nil)
		if body["count"] != tc.want {
			t.Errorf("count%s = %v, want %v", tc.query, body["count"], tc.want)
		}
	}
}

func TestRefundCreate(t *testing.T) {
	f := newFixture(t, nil)
	id, err := f.sb.CreateOrder(OrderSpec{LineItems: []LineItemSpec{{Title: "Mug", Price: 10, Quantity: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	d := f.mustData(t, `query($id: ID!) { order(id: $id) { lineItems(first: 1) { nodes { id } } } }`, map[string]any{"id": id})
	li := dig(d, "order", "lineItems", "nodes", 0, "id")
	const q = `mutation($in: RefundInput!) { refundCreate(input: $in) { refund { id totalRefundedSet { shopMoney { amount } } } order { displayFinancialStatus } userErrors { field message } } }`
	for _, tc := range []struct {
		name      string
		qty       int
		wantErr   bool
		wantState string
	}{
		{"too many", 3, true, ""},
		{"one of two", 1, false, "PARTIALLY_REFUNDED"},
		{"the other", 1, false, "REFUNDED"},
		{"nothing left", 1, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := f.mustData(t, q, map[string]any{"in": map[string]any{"orderId": id, "note": "damaged",
				"refundLineItems": []any{map[string]any{"lineItemId": li, "quantity": tc.qty}}}})
			if ue, _ := dig(d, "refundCreate", "userErrors").([]any); (len(ue) > 0) != tc.wantErr {
				t.Fatalf("answer %v", d)
			}
			if !tc.wantErr {
				if dig(d, "refundCreate", "order", "displayFinancialStatus") != tc.wantState || dig(d, "refundCreate", "refund", "totalRefundedSet", "shopMoney", "amount") != "10.0" {
					t.Errorf("answer %v", d)
				}
			}
		})
	}
	_, body := f.rest(t, http.MethodGet, "/admin/api/2026-01/orders/"+itoa(int(legacyID(id)))+"/refunds.json", nil)
	refunds, _ := body["refunds"].([]any)
	if len(refunds) != 2 || dig(refunds, 0, "refund_line_items", 0, "quantity") != 1.0 || dig(refunds, 0, "note") != "damaged" {
		t.Errorf("refunds.json %v", body)
	}
}
