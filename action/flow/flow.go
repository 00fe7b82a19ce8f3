// Package flow implements the flow action: it sends data to Shopify Flow
// as one of four triggers ("Mechanic sent general/customer/order/product
// data") through the Admin API's flowTriggerReceive mutation, on the
// service's shop connection.
//
// Options: at most one of customer_id, order_id and product_id (a numeric
// ID, not a global ID), choosing the trigger (General without one); and
// the user-defined data user_boolean (default false), user_email
// ("hey@mechanic.invalid"), user_number (0), user_string ("") and user_url
// ("https://mechanic.invalid/"), always sent, with their defaults when
// omitted. The payload also carries mechanic_task_id and mechanic_event_id.
// The result is {"trigger", "handle", "payload"}.
package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/shopify"
)

// Type is the action type.
const Type = "flow"

// GraphQL is the part of the shop connection the action uses.
type GraphQL interface {
	GraphQL(ctx context.Context, req shopify.GraphQLRequest) (*shopify.GraphQLResponse, error)
}

// DefaultHandles are the trigger handles of the Flow trigger extensions of
// Sprocket's app (override them when your app names its triggers otherwise).
var DefaultHandles = map[string]string{
	"general":  "mechanic-sent-general-data",
	"customer": "mechanic-sent-customer-data",
	"order":    "mechanic-sent-order-data",
	"product":  "mechanic-sent-product-data",
}

// Config configures the action.
type Config struct {
	// Shop is the shop connection.
	Shop GraphQL
	// Handles maps "general", "customer", "order" and "product" to trigger
	// handles; missing entries use DefaultHandles.
	Handles map[string]string
	// IsTransient reports shop errors worth retrying (shopify.IsTransient).
	IsTransient func(error) bool
}

// Performer performs flow actions.
type Performer struct {
	cfg Config
}

// New returns the flow action's performer.
func New(cfg Config) *Performer {
	if cfg.IsTransient == nil {
		cfg.IsTransient = shopify.IsTransient
	}
	return &Performer{cfg: cfg}
}

var resources = []string{"customer", "order", "product"}

// userFields are the data options and their defaults, in payload order.
var userFields = []struct {
	name string
	def  any
}{
	{"user_boolean", false},
	{"user_email", "hey@mechanic.invalid"},
	{"user_number", int64(0)},
	{"user_string", ""},
	{"user_url", "https://mechanic.invalid/"},
}

type trigger struct {
	kind    string
	payload *value.Map
}

func invalid(field, format string, args ...any) error {
	return action.Invalid(Type, field, format, args...)
}

// Validate implements action.Validator.
func (p *Performer) Validate(raw any) error {
	_, err := parse(raw)
	return err
}

func numericID(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, x > 0
	case float64:
		if x > 0 && x == float64(int64(x)) {
			return int64(x), true
		}
	case *big.Int:
		if x.IsInt64() && x.Sign() > 0 {
			return x.Int64(), true
		}
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil && n > 0
	}
	return 0, false
}

func parse(raw any) (*trigger, error) {
	m, ok := raw.(*value.Map)
	if !ok {
		return nil, invalid("", "must be a hash, got %s", value.TypeName(raw))
	}
	t := &trigger{kind: "general", payload: value.NewMap(8)}
	for _, r := range resources {
		v, ok := m.Get(r + "_id")
		if !ok || v == nil {
			continue
		}
		if t.kind != "general" {
			return nil, invalid(r+"_id", "only one of customer_id, order_id and product_id may be given (%s_id is set too)", t.kind)
		}
		id, ok := numericID(v)
		if !ok {
			return nil, invalid(r+"_id", "must be a fully numeric ID such as 12345 (not a global ID), got %v", v)
		}
		t.kind = r
		t.payload.Set(r+"_id", id)
	}
	for _, f := range userFields {
		v, ok := m.Get(f.name)
		if !ok || v == nil {
			t.payload.Set(f.name, f.def)
			continue
		}
		switch f.name {
		case "user_boolean":
			if _, ok := v.(bool); !ok {
				return nil, invalid(f.name, "must be a boolean, got %s", value.TypeName(v))
			}
		case "user_number":
			switch v.(type) {
			case int64, float64, *big.Int:
			default:
				return nil, invalid(f.name, "must be a number, got %s", value.TypeName(v))
			}
		case "user_email":
			s, ok := v.(string)
			if !ok || !strings.Contains(s, "@") {
				return nil, invalid(f.name, "must be an email address, got %v", v)
			}
		case "user_string":
			if _, ok := v.(string); !ok {
				return nil, invalid(f.name, "must be a string, got %s", value.TypeName(v))
			}
		case "user_url":
			s, _ := v.(string)
			if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Host == "" {
				return nil, invalid(f.name, "must be an absolute URL, got %v", v)
			}
		}
		t.payload.Set(f.name, v)
	}
	return t, nil
}

const mutation = `mutation SprocketFlowTrigger($handle: String!, $payload: JSON!) {
  flowTriggerReceive(handle: $handle, payload: $payload) {
    userErrors { field message }
  }
}`

// Perform implements action.Performer.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	t, err := parse(req.Options)
	if err != nil {
		return action.Result{}, err
	}
	if p.cfg.Shop == nil {
		return action.Result{}, action.Failed(errors.New("flow action: no shop is connected"))
	}
	handle := p.cfg.Handles[t.kind]
	if handle == "" {
		handle = DefaultHandles[t.kind]
	}
	if req.TaskID != "" {
		t.payload.Set("mechanic_task_id", req.TaskID)
	}
	if req.EventID != "" {
		t.payload.Set("mechanic_event_id", req.EventID)
	}
	payload, err := value.ToJSON(t.payload)
	if err != nil {
		return action.Result{}, action.Failed(fmt.Errorf("flow action: payload: %w", err))
	}
	vars, _ := json.Marshal(map[string]any{"handle": handle, "payload": json.RawMessage(payload)})
	resp, err := p.cfg.Shop.GraphQL(ctx, shopify.GraphQLRequest{Query: mutation, Variables: vars, APIVersion: req.APIVersion})
	if err != nil {
		err = fmt.Errorf("flow action: flowTriggerReceive: %w", err)
		if p.cfg.IsTransient(err) {
			return action.Result{}, action.Transient(err)
		}
		return action.Result{}, action.Failed(err)
	}
	if len(resp.Errors) > 0 {
		return action.Result{}, action.Failed(fmt.Errorf("flow action: flowTriggerReceive: %s", resp.Errors[0].Message))
	}
	var data struct {
		FlowTriggerReceive *struct {
			UserErrors []struct {
				Field   []string `json:"field"`
				Message string   `json:"message"`
			} `json:"userErrors"`
		} `json:"flowTriggerReceive"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil || data.FlowTriggerReceive == nil {
		return action.Result{}, action.Failed(fmt.Errorf("flow action: flowTriggerReceive answered no payload: %.200s", resp.Body))
	}
	res := value.NewMap(3)
	res.Set("trigger", t.kind)
	res.Set("handle", handle)
	res.Set("payload", t.payload)
	if ue := data.FlowTriggerReceive.UserErrors; len(ue) > 0 {
		msgs := make([]string, len(ue))
		for i, u := range ue {
			msgs[i] = u.Message
		}
		return action.Result{}, action.WithResult(action.Failed(fmt.Errorf("flow action: Shopify refused the trigger %q: %s", handle, strings.Join(msgs, "; "))), action.Result{Value: res})
	}
	return action.Result{Value: res}, nil
}
