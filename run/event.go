package run

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/task"
)

// MaxParentGenerations is how many generations of event.parent a run sees
// (docs: core/events/parent-and-child-events.md).
const MaxParentGenerations = 5

// Event is the event a task run processes.
type Event struct {
	// ID is the event's UUID.
	ID string
	// Topic is "domain/subject/verb", such as "shopify/orders/create".
	Topic string
	// Data is event.data: any JSON as canonical values.
	Data any
	// Source is where the event came from: "shopify", "mechanic", "user"
	// or a custom webhook subscription; empty means derived from the topic.
	Source string
	// ShopifyTopic is the source Shopify topic of a Shopify-sourced event
	// in canonical form ("shopify/products/update"), for user/… topics
	// delivered by custom Shopify webhooks; empty means the topic itself
	// for shopify/… topics and nil for other events.
	ShopifyTopic string
	// CreatedAt is when the event was received.
	CreatedAt time.Time
	// Preview marks a synthetic preview event (event.preview is true).
	Preview bool
	// Parent is the event that caused this one, if any.
	Parent *Event
}

// source returns the event's source, derived from its topic when unset.
func (e *Event) source() string {
	if e.Source != "" {
		return e.Source
	}
	domain, _, _ := strings.Cut(e.Topic, "/")
	switch domain {
	case "shopify", "mechanic", "user":
		return domain
	}
	return domain
}

// shopifyTopic returns the Shopify topic of the event ("shopify/…"), ""
// for events that do not come from Shopify.
func (e *Event) shopifyTopic() string {
	if e.ShopifyTopic != "" {
		return e.ShopifyTopic
	}
	if strings.HasPrefix(e.Topic, "shopify/") {
		return e.Topic
	}
	return ""
}

// Value returns the event as the Liquid variable event sees it: id, topic,
// data, created_at, source, shopify_topic (nil unless from Shopify), preview
// (only when true) and parent (up to MaxParentGenerations) (docs:
// platform/liquid/objects/event.md).
func (e *Event) Value() *value.Map {
	return e.value(MaxParentGenerations)
}

func (e *Event) value(generations int) *value.Map {
	m := value.NewMap(8)
	m.Set("id", e.ID)
	m.Set("topic", e.Topic)
	m.Set("data", e.Data)
	if !e.CreatedAt.IsZero() {
		m.Set("created_at", e.CreatedAt)
	}
	m.Set("source", e.source())
	if st := e.shopifyTopic(); st != "" {
		m.Set("shopify_topic", st)
	} else {
		m.Set("shopify_topic", nil)
	}
	if e.Preview {
		m.Set("preview", true)
	}
	if e.Parent != nil && generations > 0 {
		m.Set("parent", e.Parent.value(generations-1))
	}
	return m
}

// EventFromValue reads an event from its JSON form: an object with
// "topic" (required) and optional "data", "id", "source", "shopify_topic",
// "created_at" (RFC 3339), "preview" and "parent".
func EventFromValue(v any) (*Event, error) {
	m, ok := v.(*value.Map)
	if !ok {
		return nil, fmt.Errorf("event must be a JSON object, got %s", value.TypeName(v))
	}
	e := &Event{}
	for _, k := range m.Keys() {
		f, _ := m.Get(k)
		var err error
		switch k {
		case "topic":
			e.Topic, err = str(k, f)
		case "data":
			e.Data = f
		case "id":
			e.ID, err = str(k, f)
		case "source":
			e.Source, err = str(k, f)
		case "shopify_topic":
			e.ShopifyTopic, err = str(k, f)
		case "created_at":
			var s string
			if s, err = str(k, f); err == nil && s != "" {
				e.CreatedAt, err = time.Parse(time.RFC3339, s)
			}
		case "preview":
			e.Preview = f == true
		case "parent":
			if f != nil {
				e.Parent, err = EventFromValue(f)
			}
		default:
			err = fmt.Errorf("unknown field %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("event: %w", err)
		}
	}
	if e.Topic == "" {
		return nil, fmt.Errorf("event: missing \"topic\"")
	}
	if !task.ValidTopic(e.Topic) {
		return nil, fmt.Errorf("event: invalid topic %q: want domain/subject/verb of lowercase letters, digits and underscores", e.Topic)
	}
	return e, nil
}

func str(field string, v any) (string, error) {
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("field %q must be a string, got %s", field, value.TypeName(v))
	}
	return s, nil
}

// SubjectVariable returns the name of the variable that holds an event's
// subject for topic, and whether the topic has one (docs:
// core/tasks/code/environment-variables.md):
//
//	shopify/orders/create        → order (the singular of the subject)
//	shopify/orders/edited        → order_edit
//	mechanic/user/order(s)       → order / orders
//	mechanic/actions/perform     → action
//	mechanic/shopify/bulk_operation → bulkOperation
//	mechanic/emails/received     → email
//	mechanic/errors/*            → error
//	mechanic/user/form           → input
//	judgeme/review/*             → review (event.data.review)
//
// For a user/… event that came from a custom Shopify webhook, pass its
// Shopify topic ("shopify/…").
func SubjectVariable(topic string) (string, bool) {
	parts := strings.Split(topic, "/")
	if len(parts) != 3 {
		return "", false
	}
	domain, subject, verb := parts[0], parts[1], parts[2]
	switch domain {
	case "shopify":
		if subject == "orders" && verb == "edited" {
			return "order_edit", true
		}
		return singular(subject), true
	case "mechanic":
		switch subject {
		case "actions":
			return "action", verb == "perform"
		case "shopify":
			return "bulkOperation", verb == "bulk_operation"
		case "emails":
			return "email", true
		case "errors":
			return "error", true
		case "user":
			switch verb {
			case "text", "trigger":
				return "", false
			case "form":
				return "input", true
			}
			return verb, true
		}
	case "judgeme":
		return "review", subject == "review"
	}
	return "", false
}

// subjectValue returns the value of the subject variable for an event.
func subjectValue(topic string, data any) any {
	if topic == "mechanic/shopify/bulk_operation" {
		linkBulkParents(data)
		return data
	}
	if topic == "shopify/orders/edited" {
		// order_edit is the payload's root key
		if m, ok := data.(*value.Map); ok {
			if v, ok := m.Get("order_edit"); ok {
				return v
			}
		}
		return data
	}
	if strings.HasPrefix(topic, "judgeme/review/") {
		if m, ok := data.(*value.Map); ok {
			v, _ := m.Get("review")
			return v
		}
		return nil
	}
	return data
}

// singular turns a plural English subject into its singular, enough for
// Shopify's webhook subjects (orders, inventory_levels, companies,
// addresses, …); already-singular subjects are kept.
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "ches"), strings.HasSuffix(s, "shes"), strings.HasSuffix(s, "xes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "ss"), strings.HasSuffix(s, "us"):
		return s
	case strings.HasSuffix(s, "s"):
		return s[:len(s)-1]
	}
	return s
}

// linkBulkParents gives each object of a bulk operation's result that has
// a __parentId the lookup __parent, the object with that id (docs:
// core/shopify/bulk-operations.md). The objects stay flat: iteration,
// size and JSON see only their own keys.
func linkBulkParents(data any) {
	op, _ := data.(*value.Map)
	if op == nil {
		return
	}
	raw, _ := op.Get("objects")
	objects, _ := raw.([]any)
	if len(objects) == 0 {
		return
	}
	byID := make(map[string]*value.Map, len(objects))
	for _, o := range objects {
		if m, ok := o.(*value.Map); ok {
			if id, ok := m.Get("id"); ok {
				if s, ok := id.(string); ok {
					byID[s] = m
				}
			}
		}
	}
	for _, o := range objects {
		m, ok := o.(*value.Map)
		if !ok || m.Fallback() != nil {
			continue
		}
		if pid, ok := m.Get("__parentId"); ok {
			if s, ok := pid.(string); ok {
				m.SetFallback(bulkParent{parent: byID[s]})
			}
		}
	}
}

// bulkParent answers __parent for one bulk operation object.
type bulkParent struct{ parent *value.Map }

// Lookup implements value.Fallback.
func (b bulkParent) Lookup(_ context.Context, key string) (any, bool, error) {
	if key == "__parent" {
		if b.parent == nil {
			return nil, true, nil
		}
		return b.parent, true, nil
	}
	return nil, false, nil
}
