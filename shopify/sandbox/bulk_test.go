package sandbox

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestBulkOperationRunQuery(t *testing.T) {
	f := newFixture(t, nil)
	// The shape of add-all-products-to-a-certain-sales-channel and
	// add-option-names-as-variant-metafields-for-in-stock-variants, with a
	// nested connection.
	inner := `query {
      products(query: "status:active") {
        edges {
          node {
            __typename
            id
            title
            variants {
              edges { node { __typename id sku } }
            }
          }
        }
      }
    }`
	run := `mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status } userErrors { field message code } } }`
	d := f.mustData(t, run, map[string]any{"q": inner})
	if ue := dig(d, "bulkOperationRunQuery", "userErrors").([]any); len(ue) != 0 {
		t.Fatalf("userErrors %v", ue)
	}
	id := dig(d, "bulkOperationRunQuery", "bulkOperation", "id").(string)
	poll := f.mustData(t, `query($id: ID!) { bulkOperation(id: $id) { status type objectCount rootObjectCount url } currentBulkOperation { id } }`, map[string]any{"id": id})
	bo := dig(poll, "bulkOperation").(map[string]any)
	if bo["status"] != "COMPLETED" || bo["type"] != "QUERY" || dig(poll, "currentBulkOperation", "id") != id {
		t.Fatalf("bulk operation %v", poll)
	}
	// The result file needs no access token, like Shopify's signed URLs.
	resp, err := f.srv.Client().Get(bo["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET result: %d %s", resp.StatusCode, body)
	}
	var products, variants int
	lastProduct := ""
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		switch line["__typename"] {
		case "Product":
			products++
			lastProduct = line["id"].(string)
			if _, nested := line["variants"]; nested {
				t.Errorf("nested connection kept inline: %v", line)
			}
		case "ProductVariant":
			variants++
			if line["__parentId"] != lastProduct {
				t.Errorf("variant %v has __parentId %v, want %s", line["id"], line["__parentId"], lastProduct)
			}
		}
	}
	active := len(dig(f.mustData(t, `{ products(first: 250, query: "status:active") { nodes { id } } }`, nil), "products", "nodes").([]any))
	if products != active || variants < products {
		t.Errorf("%d products (want %d), %d variants", products, active, variants)
	}
	if bo["rootObjectCount"] != itoa(products) || bo["objectCount"] != itoa(products+variants) {
		t.Errorf("counts %v %v, want %d %d", bo["rootObjectCount"], bo["objectCount"], products, products+variants)
	}
	// A wrong key is not served.
	u := bo["url"].(string)
	i := strings.LastIndex(u, "-")
	resp, err = f.srv.Client().Get(u[:i+1] + "x" + u[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong key: %d", resp.StatusCode)
	}
	// An invalid inner query is a userError naming the problem.
	bad := f.mustData(t, run, map[string]any{"q": `{ products { edges { node { nope } } } }`})
	ue := dig(bad, "bulkOperationRunQuery", "userErrors").([]any)
	if len(ue) != 1 || !strings.Contains(dig(ue[0], "message").(string), `"nope"`) || dig(ue[0], "code") != "INVALID" {
		t.Errorf("invalid bulk query: %v", bad)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
