package flow_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/flow"
	"github.com/sprocketrun/sprocket/action/internal/actiontest"
	"github.com/sprocketrun/sprocket/shopify"
)

// recorder answers flowTriggerReceive as Shopify does and keeps the variables.
type recorder struct {
	vars       []map[string]any
	userErrors string
}

func (r *recorder) GraphQL(_ context.Context, req shopify.GraphQLRequest) (*shopify.GraphQLResponse, error) {
	var v map[string]any
	if err := json.Unmarshal(req.Variables, &v); err != nil {
		return nil, err
	}
	if !strings.Contains(req.Query, "flowTriggerReceive(handle: $handle, payload: $payload)") {
		return nil, &shopify.HTTPError{Status: 400}
	}
	r.vars = append(r.vars, v)
	data := `{"flowTriggerReceive":{"userErrors":[` + r.userErrors + `]}}`
	return &shopify.GraphQLResponse{Status: 200, Data: json.RawMessage(data), Body: []byte(`{"data":` + data + `}`)}, nil
}

func TestFlow(t *testing.T) {
	tests := []struct {
		name, options, handle string
		payload               map[string]any
		err                   string
	}{
		{"general with defaults", `{}`, "mechanic-sent-general-data", map[string]any{
			"user_boolean": false, "user_email": "hey@mechanic.invalid", "user_number": 0.0, "user_string": "", "user_url": "https://mechanic.invalid/"}, ""},
		{"customer", `{"customer_id": 123, "user_number": 55, "user_string": "Love!"}`, "mechanic-sent-customer-data", map[string]any{"customer_id": 123.0, "user_number": 55.0, "user_string": "Love!"}, ""},
		{"order id as string", `{"order_id": "456"}`, "mechanic-sent-order-data", map[string]any{"order_id": 456.0}, ""},
		{"product", `{"product_id": 789, "user_boolean": true}`, "mechanic-sent-product-data", map[string]any{"product_id": 789.0, "user_boolean": true}, ""},
		{"two resources", `{"customer_id": 1, "order_id": 2}`, "", nil, `"order_id"`},
		{"global id refused", `{"customer_id": "gid://shopify/Customer/1"}`, "", nil, "fully numeric"},
		{"bad email", `{"user_email": "nope"}`, "", nil, `"user_email"`},
		{"bad url", `{"user_url": "/relative"}`, "", nil, `"user_url"`},
		{"bad number", `{"user_number": "5"}`, "", nil, `"user_number"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			p := flow.New(flow.Config{Shop: rec})
			_, err := p.Perform(context.Background(), actiontest.Request(t, "flow", tt.options))
			if tt.err != "" {
				if action.Classify(err) != action.KindInvalid || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(rec.vars) != 1 {
				t.Fatalf("perform: %v", err)
			}
			if rec.vars[0]["handle"] != tt.handle {
				t.Fatalf("handle %v, want %s", rec.vars[0]["handle"], tt.handle)
			}
			payload := rec.vars[0]["payload"].(map[string]any)
			for k, v := range tt.payload {
				if payload[k] != v {
					t.Errorf("payload[%s] = %v, want %v", k, payload[k], v)
				}
			}
			for _, k := range []string{"user_boolean", "user_email", "user_number", "user_string", "user_url", "mechanic_task_id"} {
				if _, ok := payload[k]; !ok {
					t.Errorf("payload lacks %s", k)
				}
			}
		})
	}
	rec := &recorder{userErrors: `{"field":["handle"],"message":"Invalid handle"}`}
	_, err := flow.New(flow.Config{Shop: rec}).Perform(context.Background(), actiontest.Request(t, "flow", `{}`))
	if action.Classify(err) != action.KindFailed || !strings.Contains(err.Error(), "Invalid handle") {
		t.Fatalf("user errors: %v", err)
	}
}
