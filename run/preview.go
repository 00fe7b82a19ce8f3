package run

import (
	"context"
	"crypto/sha1"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/task"
)

//go:embed samples/*.json
var samples embed.FS

// PreviewTime is the created_at of synthesized preview events, so that
// previews are reproducible.
var previewTime = time.Date(2024, 3, 14, 14, 21, 7, 0, time.UTC)

// StableUUID returns a version-5-style UUID derived from name, for ids
// that must be stable across previews (task.id, preview event ids).
func StableUUID(name string) string {
	h := sha1.Sum([]byte(name))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// PreviewShop returns the stand-in shop variable of previews: the fields
// library tasks read (name, domain, myshopify_domain, customer_email,
// currency, iana_timezone, admin_url, …). The lazy REST collections
// (orders, customers, …) are empty, as Shopify data is unavailable in
// preview.
func PreviewShop() *value.Map {
	return addPreviewCollections(value.MapOf(
		"id", int64(55512345678),
		"admin_graphql_api_id", "gid://shopify/Shop/55512345678",
		"name", "Example Shop",
		"email", "owner@example.com",
		"customer_email", "support@example.com",
		"contactEmail", "support@example.com",
		"shop_owner", "Alex Owner",
		"domain", "shop.example.com",
		"myshopify_domain", "example.myshopify.com",
		"admin_url", "https://admin.shopify.com/store/example/",
		"currency", "USD",
		"enabled_presentment_currencies", []any{"USD"},
		"money_format", "${{amount}}",
		"money_with_currency_format", "${{amount}} USD",
		"iana_timezone", "America/New_York",
		"timezone", "(GMT-05:00) America/New_York",
		"primary_locale", "en",
		"primary_location_id", int64(65412345678),
		"plan_name", "basic",
		"plan_display_name", "Basic",
		"address1", "1 Market Square",
		"address2", "",
		"city", "Springfield",
		"province", "Illinois",
		"province_code", "IL",
		"zip", "62701",
		"country", "US",
		"country_code", "US",
		"country_name", "United States",
		"phone", "+13125550100",
		"weight_unit", "kg",
		"taxes_included", false,
		"created_at", "2023-01-01T00:00:00-05:00",
	))
}

// sample reads an embedded sample payload, fresh on every call.
func sample(name string) (any, bool) {
	b, err := samples.ReadFile("samples/" + name + ".json")
	if err != nil {
		return nil, false
	}
	v, err := value.FromJSON(b)
	if err != nil {
		return nil, false
	}
	return v, true
}

func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "y"):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(s, "s"):
		return s
	}
	return s + "s"
}

// SampleData returns illustrative event data for topic, shaped like that
// topic's payload: Shopify REST webhook bodies for the common shopify/…
// topics, the action object for mechanic/actions/perform, a bulk operation
// with no objects, a text for mechanic/user/text, an error report for
// mechanic/errors/*, and an empty hash for topics without a sample.
func SampleData(topic string) any {
	parts := strings.Split(topic, "/")
	if len(parts) != 3 {
		return value.NewMap(0)
	}
	domain, subject, verb := parts[0], parts[1], parts[2]
	switch domain {
	case "shopify":
		if subject == "customer" {
			subject = "customers"
		}
		if subject == "orders" && verb == "edited" {
			// the payload's root is order_edit; Mechanic adds a lazy
			// order_edit.order, stood in for by its ids
			subject = "orders_edited"
		}
		if v, ok := sample("shopify_" + subject); ok {
			return v
		}
	case "mechanic":
		switch subject {
		case "actions", "emails":
			if v, ok := sample("mechanic_" + subject + "_" + verb); ok {
				return v
			}
		case "shopify":
			if v, ok := sample("mechanic_shopify_bulk_operation"); ok && verb == "bulk_operation" {
				return v
			}
		case "errors":
			if v, ok := sample("mechanic_errors"); ok {
				return v
			}
		case "scheduler":
			return nil
		case "user":
			switch verb {
			case "text":
				return "First line of sample text\nSecond line of sample text"
			case "trigger":
				return nil
			case "form":
				return value.NewMap(0)
			}
			single := singular(verb)
			v, ok := sample("shopify_" + plural(single))
			if !ok {
				break
			}
			if single == "product" || single == "variant" {
				// admin action links send only ids for these since 2025-02
				m := v.(*value.Map)
				id, _ := m.Get("id")
				gid, _ := m.Get("admin_graphql_api_id")
				v = value.MapOf("id", id, "admin_graphql_api_id", gid)
			}
			if single != verb {
				return []any{v}
			}
			return v
		}
	}
	return value.NewMap(0)
}

// PreviewEvent is one event a preview renders the task for.
type PreviewEvent struct {
	// Description labels a developer-defined preview event; empty for
	// synthesized ones.
	Description string
	Event       *Event
}

// PreviewEvents returns the events a preview renders, in order: for each
// subscribed topic (offsets stripped, each topic once) the task's preview
// event definitions for that topic, or else one synthesized event with
// SampleData. As in Mechanic, definitions for topics the task does not
// subscribe to are not previewed (docs: core/tasks/previews/events.md).
// Every event has event.preview = true.
func PreviewEvents(t *task.Task, subs []task.Subscription) []PreviewEvent {
	var out []PreviewEvent
	seen := map[string]bool{}
	defined := func(i int, d task.PreviewEventDefinition) PreviewEvent {
		return PreviewEvent{Description: d.Description, Event: &Event{
			ID:        StableUUID(fmt.Sprintf("preview:%s:%d", t.Name, i)),
			Topic:     d.EventAttributes.Topic,
			Data:      deepCopy(d.EventAttributes.Data),
			CreatedAt: previewTime,
			Preview:   true,
		}}
	}
	for _, s := range subs {
		if seen[s.Topic] {
			continue
		}
		seen[s.Topic] = true
		found := false
		for i, d := range t.PreviewEventDefinitions {
			if d.EventAttributes.Topic == s.Topic {
				out = append(out, defined(i, d))
				found = true
			}
		}
		if !found {
			out = append(out, PreviewEvent{Event: &Event{
				ID:        StableUUID("preview:" + t.Name + ":" + s.Topic),
				Topic:     s.Topic,
				Data:      SampleData(s.Topic),
				CreatedAt: previewTime,
				Preview:   true,
			}})
		}
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case *value.Map:
		m := value.NewMap(x.Len())
		x.Each(func(k string, e any) bool {
			m.Set(k, deepCopy(e))
			return true
		})
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// PreviewInput is what to preview.
type PreviewInput struct {
	Task *task.Task
	// Event, when set, is the only event previewed (with event.preview
	// set to true).
	Event *Event
	// Options override stored option values, as in Input.
	Options *value.Map
	// NoSampleOptions keeps unfilled required options empty instead of
	// filling them with SampleRequiredOptions.
	NoSampleOptions bool
}

// PreviewRun is the result of previewing one event.
type PreviewRun struct {
	Description string
	Event       *Event
	Result      *Result
	// Err is the engine failure of this run (an *Error), if any.
	Err error
}

// Preview is a task's preview: its rendered subscriptions and one run per
// preview event.
type Preview struct {
	Subscriptions []string
	// SampledOptions are the required options that had no value and were
	// given a sample value for the preview.
	SampledOptions []string
	Runs           []PreviewRun
}

// Failed returns the runs whose render failed in the engine.
func (p *Preview) Failed() []PreviewRun {
	var out []PreviewRun
	for _, r := range p.Runs {
		if r.Err != nil {
			out = append(out, r)
		}
	}
	return out
}

// Preview renders the task's subscriptions and then the task for each
// preview event, with no Shopify API, cache or side effects. The error is
// non-nil when the task cannot be previewed at all (its script or
// subscriptions template does not parse or render); failures of single
// runs are in PreviewRun.Err.
func (r *Renderer) Preview(ctx context.Context, in PreviewInput) (*Preview, error) {
	eng := r.engine()
	t := in.Task
	stored := value.NewMap(0)
	if t.Options != nil {
		stored = t.Options.Clone()
	}
	if in.Options != nil {
		in.Options.Each(func(k string, v any) bool {
			stored.Set(k, v)
			return true
		})
	}
	var sampled []string
	if !in.NoSampleOptions {
		stored, sampled = SampleRequiredOptions(t, stored)
	}
	subs, err := RenderSubscriptions(ctx, eng, t, stored)
	if err != nil {
		return nil, err
	}
	p := &Preview{Subscriptions: make([]string, len(subs)), SampledOptions: sampled}
	for i, s := range subs {
		p.Subscriptions[i] = s.String()
	}
	tmpl, err := parseScript(eng, t.Script)
	if err != nil {
		return p, err
	}
	var events []PreviewEvent
	if in.Event != nil {
		ev := *in.Event
		ev.Preview = true
		if ev.ID == "" {
			ev.ID = StableUUID("preview:" + t.Name + ":" + ev.Topic)
		}
		if ev.CreatedAt.IsZero() {
			ev.CreatedAt = previewTime
		}
		events = []PreviewEvent{{Event: &ev}}
	} else {
		events = PreviewEvents(t, subs)
	}
	pr := *r
	pr.Cache, pr.GraphQL = nil, nil
	for _, pe := range events {
		res, err := pr.runParsed(ctx, eng, tmpl, Input{Task: t, Event: pe.Event, Options: stored})
		p.Runs = append(p.Runs, PreviewRun{Description: pe.Description, Event: pe.Event, Result: res, Err: err})
	}
	return p, nil
}

// RenderSubscriptions renders the task's subscriptions template with the
// given option values (nil: the stored ones) using eng, failing on any
// Liquid error; a task without a template has its stored subscriptions.
func RenderSubscriptions(ctx context.Context, eng *liquid.Engine, t *task.Task, options *value.Map) ([]task.Subscription, error) {
	if options == nil {
		options = t.Options
	}
	if t.SubscriptionsTemplate == nil {
		subs, err := t.ParsedSubscriptions()
		if err != nil {
			return nil, &Error{Kind: KindSyntax, Where: "subscriptions", Err: err}
		}
		return subs, nil
	}
	render := func(ctx context.Context, src string, vars map[string]any) (string, error) {
		tmpl, err := eng.Parse(src)
		if err != nil {
			return "", &Error{Kind: KindSyntax, Where: "subscriptions_template", Err: err}
		}
		var errs []error
		out, err := tmpl.Render(ctx, vars, &liquid.RenderOptions{Errors: &errs})
		if err != nil {
			return "", classify("subscriptions_template", err)
		}
		if len(errs) > 0 {
			return "", &Error{Kind: KindRender, Where: "subscriptions_template", Err: errors.Join(errs...)}
		}
		return out, nil
	}
	subs, err := task.SubscriptionsFromTemplate(ctx, *t.SubscriptionsTemplate, render, options)
	if err != nil {
		var re *Error
		if errors.As(err, &re) {
			return nil, err
		}
		return nil, &Error{Kind: KindSyntax, Where: "subscriptions", Err: err}
	}
	return subs, nil
}
