package shopify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	shopifyaction "github.com/sprocketrun/sprocket/action/shopify"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/shopify"
)

func opts(t *testing.T, js string) any {
	t.Helper()
	v, err := value.FromJSON([]byte(js))
	if err != nil {
		t.Fatalf("options %s: %v", js, err)
	}
	return v
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := value.ToJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPerform sends every documented form to a loopback shop and checks
// the request Shopify received, the run's result and how it ended.
func TestPerform(t *testing.T) {
	type want struct {
		method, path, query string
		body                string // the JSON body Shopify received, "" for none
		result              string // the run's result as JSON ("" when none)
		kind                action.Kind
		errText             string // part of the error message
	}
	cases := []struct {
		name    string
		options string
		version string
		answer  func(w http.ResponseWriter, s seen)
		want    want
	}{
		{
			name:    "graphql string",
			options: `"mutation {\n  tagsAdd(id: \"gid://shopify/Order/1\", tags: [\"vip\"]) { node { id } userErrors { field message } }\n}"`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"data":{"tagsAdd":{"node":{"id":"gid://shopify/Order/1"},"userErrors":[]}},`+graphQLCost+`}`)
			},
			want: want{method: "POST", path: "/admin/api/2026-01/graphql.json",
				body:   `{"query":"mutation {\n  tagsAdd(id: \"gid://shopify/Order/1\", tags: [\"vip\"]) { node { id } userErrors { field message } }\n}"}`,
				result: `{"data":{"tagsAdd":{"node":{"id":"gid://shopify/Order/1"},"userErrors":[]}},` + graphQLCost + `}`},
		},
		{
			name:    "query and variables, pinned API version",
			options: `{"query": "mutation D($id: ID!) { productDelete(input: {id: $id}) { userErrors { field message } } }", "variables": {"id": "gid://shopify/Product/9"}}`,
			version: "2025-10",
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"data":{"productDelete":{"userErrors":[]}}}`)
			},
			want: want{method: "POST", path: "/admin/api/2025-10/graphql.json",
				body:   `{"query":"mutation D($id: ID!) { productDelete(input: {id: $id}) { userErrors { field message } } }","variables":{"id":"gid://shopify/Product/9"}}`,
				result: `{"data":{"productDelete":{"userErrors":[]}}}`},
		},
		{
			name:    "query without variables (library form)",
			options: `{"query": "mutation { a: orderEditAddVariant(id: \"x\", variantId: \"y\", quantity: 1) { calculatedLineItem { id } } }"}`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"data":{"a":{"calculatedLineItem":{"id":"gid://shopify/CalculatedLineItem/1"}}}}`)
			},
			want: want{method: "POST", path: "/admin/api/2026-01/graphql.json",
				body:   `{"query":"mutation { a: orderEditAddVariant(id: \"x\", variantId: \"y\", quantity: 1) { calculatedLineItem { id } } }"}`,
				result: `{"data":{"a":{"calculatedLineItem":{"id":"gid://shopify/CalculatedLineItem/1"}}}}`},
		},
		{
			name:    "userErrors leave the run successful, in the result",
			options: `"mutation { tagsAdd(id: \"gid://shopify/Order/0\", tags: [\"x\"]) { userErrors { field message } } }"`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"data":{"tagsAdd":{"userErrors":[{"field":["id"],"message":"Order does not exist"}]}}}`)
			},
			want: want{method: "POST", path: "/admin/api/2026-01/graphql.json",
				body:   `{"query":"mutation { tagsAdd(id: \"gid://shopify/Order/0\", tags: [\"x\"]) { userErrors { field message } } }"}`,
				result: `{"data":{"tagsAdd":{"userErrors":[{"field":["id"],"message":"Order does not exist"}]}}}`},
		},
		{
			name:    "top-level errors fail the run, keeping the response",
			options: `"query { shop { nme } }"`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"errors":[{"message":"Field 'nme' doesn't exist on type 'Shop'","locations":[{"line":1,"column":16}],"path":["query","shop","nme"],"extensions":{"code":"undefinedField","typeName":"Shop","fieldName":"nme"}}]}`)
			},
			want: want{method: "POST", path: "/admin/api/2026-01/graphql.json", body: `{"query":"query { shop { nme } }"}`,
				result:  `{"errors":[{"message":"Field 'nme' doesn't exist on type 'Shop'","locations":[{"line":1,"column":16}],"path":["query","shop","nme"],"extensions":{"code":"undefinedField","typeName":"Shop","fieldName":"nme"}}]}`,
				kind:    action.KindFailed,
				errText: "Shopify answered with errors: Field 'nme' doesn't exist on type 'Shop' (line 1, column 16)"},
		},
		{
			name:    "throttled answer is retried",
			options: `"query { shop { name } }"`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],`+graphQLCost+`}`)
			},
			want: want{method: "POST", path: "/admin/api/2026-01/graphql.json", body: `{"query":"query { shop { name } }"}`,
				result: `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],` + graphQLCost + `}`,
				kind:   action.KindTransient, errText: "Throttled"},
		},
		{
			name:    "graphql 5xx is retried",
			options: `"query { shop { name } }"`,
			answer: func(w http.ResponseWriter, s seen) {
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, `{"errors":"Service Unavailable"}`)
			},
			want: want{method: "POST", path: "/admin/api/2026-01/graphql.json", body: `{"query":"query { shop { name } }"}`,
				kind: action.KindTransient, errText: "HTTP 503"},
		},
		{
			name:    "explicit get with a query string in the path",
			options: `["get", "/admin/themes/828155753/assets.json?asset[key]=templates/index.json"]`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"asset":{"key":"templates/index.json","value":"{\"sections\":{}}","theme_id":828155753}}`)
			},
			want: want{method: "GET", path: "/admin/api/2026-01/themes/828155753/assets.json", query: "asset%5Bkey%5D=templates%2Findex.json",
				result: `{"asset":{"key":"templates/index.json","value":"{\"sections\":{}}","theme_id":828155753}}`},
		},
		{
			name:    "explicit post with a versioned path",
			options: `["post", "/admin/api/2020-01/orders/450789469/close.json", {}]`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"order":{"id":450789469,"closed_at":"2026-01-01T00:00:00-05:00"}}`)
			},
			want: want{method: "POST", path: "/admin/api/2026-01/orders/450789469/close.json", body: `{}`,
				result: `{"order":{"id":450789469,"closed_at":"2026-01-01T00:00:00-05:00"}}`},
		},
		{
			name:    "explicit put",
			options: `["put", "/admin/themes/1/assets.json", {"asset": {"key": "templates/index.json", "value": "{}"}}]`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"asset":{"key":"templates/index.json"}}`)
			},
			want: want{method: "PUT", path: "/admin/api/2026-01/themes/1/assets.json", body: `{"asset":{"key":"templates/index.json","value":"{}"}}`,
				result: `{"asset":{"key":"templates/index.json"}}`},
		},
		{
			name:    "explicit delete",
			options: `["delete", "/admin/products/4814813724733.json"]`,
			answer:  func(w http.ResponseWriter, s seen) { io.WriteString(w, `{}`) },
			want:    want{method: "DELETE", path: "/admin/api/2026-01/products/4814813724733.json", result: `{}`},
		},
		{
			name:    "resourceful create wraps the attributes",
			options: `["create", "customer", {"email": "test@example.com"}]`,
			answer: func(w http.ResponseWriter, s seen) {
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, `{"customer":{"id":1073339461,"email":"test@example.com"}}`)
			},
			want: want{method: "POST", path: "/admin/api/2026-01/customers.json", body: `{"customer":{"email":"test@example.com"}}`,
				result: `{"customer":{"id":1073339461,"email":"test@example.com"}}`},
		},
		{
			name:    "resourceful create of a draft order",
			options: `["create", "draft_order", {"line_items": [{"variant_id": 1, "quantity": 1}]}]`,
			answer: func(w http.ResponseWriter, s seen) {
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, `{"draft_order":{"id":994118539}}`)
			},
			want: want{method: "POST", path: "/admin/api/2026-01/draft_orders.json", body: `{"draft_order":{"line_items":[{"variant_id":1,"quantity":1}]}}`,
				result: `{"draft_order":{"id":994118539}}`},
		},
		{
			name:    "resourceful update",
			options: `["update", ["order", 450789469], {"note": "hi"}]`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"order":{"id":450789469,"note":"hi"}}`)
			},
			want: want{method: "PUT", path: "/admin/api/2026-01/orders/450789469.json", body: `{"order":{"note":"hi"}}`,
				result: `{"order":{"id":450789469,"note":"hi"}}`},
		},
		{
			name:    "resourceful update of a nested resource",
			options: `["update", ["order", 450789469, "fulfillment", 255858046], {"tracking_number": "1Z"}]`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"fulfillment":{"id":255858046,"tracking_number":"1Z"}}`)
			},
			want: want{method: "PUT", path: "/admin/api/2026-01/orders/450789469/fulfillments/255858046.json", body: `{"fulfillment":{"tracking_number":"1Z"}}`,
				result: `{"fulfillment":{"id":255858046,"tracking_number":"1Z"}}`},
		},
		{
			name:    "resourceful update with the id as an attribute",
			options: `["update", "theme", {"id": 828155753, "role": "main"}]`,
			answer: func(w http.ResponseWriter, s seen) {
				io.WriteString(w, `{"theme":{"id":828155753,"role":"main"}}`)
			},
			want: want{method: "PUT", path: "/admin/api/2026-01/themes/828155753.json", body: `{"theme":{"id":828155753,"role":"main"}}`,
				result: `{"theme":{"id":828155753,"role":"main"}}`},
		},
		{
			name:    "resourceful delete",
			options: `["delete", ["customer", 207119551]]`,
			answer:  func(w http.ResponseWriter, s seen) { io.WriteString(w, `{}`) },
			want:    want{method: "DELETE", path: "/admin/api/2026-01/customers/207119551.json", result: `{}`},
		},
		{
			name:    "422 fails with Shopify's message",
			options: `["create", "draft_order", {"customer": {"id": 1}, "line_items": []}]`,
			answer: func(w http.ResponseWriter, s seen) {
				w.WriteHeader(http.StatusUnprocessableEntity)
				io.WriteString(w, `{"errors":{"base":["Add at least 1 product"]}}`)
			},
			want: want{method: "POST", path: "/admin/api/2026-01/draft_orders.json", body: `{"draft_order":{"customer":{"id":1},"line_items":[]}}`,
				kind: action.KindFailed, errText: "Received a Shopify error (resource invalid): Add at least 1 product"},
		},
		{
			name:    "404 fails",
			options: `["get", "/admin/themes/1/assets.json?asset[key]=missing.json"]`,
			answer: func(w http.ResponseWriter, s seen) {
				w.WriteHeader(http.StatusNotFound)
				io.WriteString(w, `{"errors":"Not Found"}`)
			},
			want: want{method: "GET", path: "/admin/api/2026-01/themes/1/assets.json", query: "asset%5Bkey%5D=missing.json",
				kind: action.KindFailed, errText: "Received a Shopify error (HTTP 404 Not Found): Not Found"},
		},
		{
			name:    "REST 5xx is retried",
			options: `["delete", ["order", 5]]`,
			answer: func(w http.ResponseWriter, s seen) {
				w.WriteHeader(http.StatusBadGateway)
				io.WriteString(w, `{"errors":"Bad Gateway"}`)
			},
			want: want{method: "DELETE", path: "/admin/api/2026-01/orders/5.json", kind: action.KindTransient, errText: "HTTP 502"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newShop(t, tc.answer)
			var logs bytes.Buffer
			p := shopifyaction.New(shopifyaction.Config{Client: newCaller(s.srv.URL), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			reg := action.NewRegistry()
			if err := reg.Register(shopifyaction.Type, p); err != nil {
				t.Fatal(err)
			}
			o := opts(t, tc.options)
			if err := reg.Validate(shopifyaction.Type, o); err != nil {
				t.Fatalf("validate: %v", err)
			}
			res, err := reg.Perform(context.Background(), action.Request{Type: shopifyaction.Type, Options: o, RunID: "run-1", APIVersion: tc.version})
			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			mustEqual(t, "method", r.Method, tc.want.method)
			mustEqual(t, "path", r.Path, tc.want.path)
			mustEqual(t, "query", r.Query, tc.want.query)
			var body string
			if r.Body != nil {
				body = toJSON(t, r.Body)
			}
			if tc.want.body != "" {
				mustEqual(t, "body", body, toJSON(t, opts(t, tc.want.body)))
			} else if body != "" {
				t.Errorf("body %s, want none", body)
			}
			if got := action.Classify(err); got != tc.want.kind {
				t.Fatalf("error %v: kind %v, want %v", err, got, tc.want.kind)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.want.errText) {
					t.Errorf("error %q does not contain %q", err, tc.want.errText)
				}
				if pr, ok := action.ResultOf(err); ok {
					res = pr
				}
			}
			got := ""
			if res.Value != nil {
				got = toJSON(t, res.Value)
			}
			want := ""
			if tc.want.result != "" {
				want = toJSON(t, opts(t, tc.want.result))
			}
			mustEqual(t, "result", got, want)
			if err == nil {
				meta := toJSON(t, res.Meta)
				for _, k := range []string{"shopify_admin_api_time_ms", "shopify_admin_graphql_api_cost", "shopify_admin_graphql_api_requests_count", "shopify_admin_rest_api_requests_count"} {
					if !strings.Contains(meta, `"`+k+`"`) {
						t.Errorf("result_meta %s lacks %s", meta, k)
					}
				}
			}
			if strings.Contains(tc.name, "userErrors") && !strings.Contains(logs.String(), "Order does not exist") {
				t.Errorf("userErrors were not logged: %s", logs.String())
			}
		})
	}
}

// TestResultMetaCounts checks Mechanic's counters on a GraphQL run.
func TestResultMetaCounts(t *testing.T) {
	s := newShop(t, func(w http.ResponseWriter, _ seen) {
		io.WriteString(w, `{"data":{"shop":{"name":"x"}},`+graphQLCost+`}`)
	})
	p := shopifyaction.New(shopifyaction.Config{Client: newCaller(s.srv.URL)})
	res, err := p.Perform(context.Background(), action.Request{Type: "shopify", Options: "query { shop { name } }"})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"shopify_admin_graphql_api_cost": int64(10), "shopify_admin_graphql_api_requests_count": int64(1), "shopify_admin_rest_api_requests_count": int64(0)} {
		if got, _ := res.Meta.Get(k); got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
}

func TestNotConnected(t *testing.T) {
	cases := []struct {
		name   string
		client shopifyaction.Client
	}{
		{"no client", nil},
		{"client reports no connection", notConnected{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := shopifyaction.New(shopifyaction.Config{Client: tc.client})
			_, err := p.Perform(context.Background(), action.Request{Type: "shopify", Options: "mutation { a { b } }"})
			if !errors.Is(err, shopify.ErrNotConnected) || action.Classify(err) != action.KindFailed {
				t.Fatalf("error %v (%v), want a permanent ErrNotConnected", err, action.Classify(err))
			}
			if !strings.Contains(err.Error(), "no Shopify shop is connected") {
				t.Errorf("message %q does not say no shop is connected", err)
			}
		})
	}
}

type notConnected struct{}

func (notConnected) GraphQL(context.Context, shopify.GraphQLRequest) (*shopify.GraphQLResponse, error) {
	return nil, shopify.ErrNotConnected
}

func (notConnected) REST(context.Context, shopify.RESTRequest) (*shopify.RESTResponse, error) {
	return nil, shopify.ErrNotConnected
}

// TestConnectionRefusedIsTransient points the action at a closed port.
func TestConnectionRefusedIsTransient(t *testing.T) {
	s := newShop(t, func(http.ResponseWriter, seen) {})
	url := s.srv.URL
	s.srv.Close()
	p := shopifyaction.New(shopifyaction.Config{Client: newCaller(url)})
	_, err := p.Perform(context.Background(), action.Request{Type: "shopify", Options: opts(t, `["get", "/admin/shop.json"]`)})
	if action.Classify(err) != action.KindTransient {
		t.Fatalf("error %v: kind %v, want transient", err, action.Classify(err))
	}
}

// TestValidate checks that bad options are refused before anything is
// sent, with the offending option named.
func TestValidate(t *testing.T) {
	cases := []struct{ name, options, field, msg string }{
		{"nil", `null`, "", "are required"},
		{"number", `12`, "", "must be a GraphQL query string"},
		{"empty query", `"   "`, "query", "empty"},
		{"not graphql", `"hello"`, "query", "not a GraphQL document"},
		{"hash without query", `{"variables": {}}`, "query", "is required"},
		{"query not a string", `{"query": 1}`, "query", "must be a string"},
		{"variables not a hash", `{"query": "{ shop { name } }", "variables": [1]}`, "variables", "must be a hash"},
		{"unknown key", `{"query": "{ shop { name } }", "varaibles": {}}`, "varaibles", "is not an option"},
		{"short array", `["get"]`, "", "2 or 3 elements"},
		{"long array", `["get", "/admin/shop.json", {}, 1]`, "", "2 or 3 elements"},
		{"unknown verb", `["patch", "/admin/shop.json", {}]`, "0", "unknown operation"},
		{"verb not a string", `[1, "/admin/shop.json"]`, "0", "must be a string"},
		{"url not a path", `["get", "https://example.com/admin/shop.json"]`, "1", "not a URL"},
		{"not a json path", `["get", "/admin/shop"]`, "1", "not an Admin REST API path"},
		{"path escapes", `["get", "/admin/../shop.json"]`, "1", "not an Admin REST API path"},
		{"post body not a hash", `["post", "/admin/orders/1/close.json", "x"]`, "2", "must be a hash"},
		{"create with an id", `["create", ["customer", 1], {}]`, "1", "without an id"},
		{"update without id", `["update", "customer", {"note": "x"}]`, "1", "give its id"},
		{"update without attributes", `["update", ["customer", 1]]`, "2", "are required"},
		{"bad resource name", `["update", ["Customer!", 1], {}]`, "1.0", "resource name"},
		{"bad id", `["delete", ["customer", "abc"]]`, "1.1", "resource id"},
		{"negative id", `["delete", ["customer", -4]]`, "1.1", "resource id"},
		{"delete with attributes", `["delete", ["customer", 1], {"note": "x"}]`, "2", "no attributes"},
		{"resource not a name", `["create", 5, {}]`, "1", "resource must be"},
	}
	p := shopifyaction.New(shopifyaction.Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Validate(opts(t, tc.options))
			var ve *action.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v, want a *action.ValidationError", err)
			}
			if ve.Field != tc.field || !strings.Contains(ve.Msg, tc.msg) || ve.Type != "shopify" {
				t.Errorf("got field %q msg %q, want field %q and %q", ve.Field, ve.Msg, tc.field, tc.msg)
			}
		})
	}
}
