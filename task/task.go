// Package task models a Mechanic task as it is imported and exported: the
// task JSON document (the same shape as the public task library and the
// Mechanic CLI), its options with their key-suffix flags, and its event
// subscriptions with optional offsets.
//
// Parse decodes a task strictly, naming the field and the line of any
// problem; Export writes it back so that no field or value is lost. Option
// keys are read by ParseOptionKey and option values checked and converted by
// Coerce and Validate. Subscriptions are read by ParseSubscription, and a
// subscriptions template is rendered into subscriptions by
// SubscriptionsFromTemplate with an injected Liquid renderer.
package task

import (
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Field names of the task JSON document, as Mechanic exports them.
const (
	FieldName                         = "name"
	FieldScript                       = "script"
	FieldSubscriptions                = "subscriptions"
	FieldSubscriptionsTemplate        = "subscriptions_template"
	FieldOptions                      = "options"
	FieldDocs                         = "docs"
	FieldTags                         = "tags"
	FieldPreviewEventDefinitions      = "preview_event_definitions"
	FieldOnlineStoreJavaScript        = "online_store_javascript"
	FieldOrderStatusJavaScript        = "order_status_javascript"
	FieldPerformActionRunsInSequence  = "perform_action_runs_in_sequence"
	FieldHaltActionRunSequenceOnError = "halt_action_run_sequence_on_error"
	FieldShopifyAPIVersion            = "shopify_api_version"
	FieldLiquidProfiling              = "liquid_profiling"
)

// fieldOrder lists every field of the task JSON document in the order
// Export writes them: alphabetical, which is how the Mechanic task library stores
// its tasks.
var fieldOrder = [...]string{
	FieldDocs,
	FieldHaltActionRunSequenceOnError,
	FieldLiquidProfiling,
	FieldName,
	FieldOnlineStoreJavaScript,
	FieldOptions,
	FieldOrderStatusJavaScript,
	FieldPerformActionRunsInSequence,
	FieldPreviewEventDefinitions,
	FieldScript,
	FieldShopifyAPIVersion,
	FieldSubscriptions,
	FieldSubscriptionsTemplate,
	FieldTags,
}

// Fields returns the names of all fields of the task JSON document, in the
// order Export writes them.
func Fields() []string {
	out := make([]string, len(fieldOrder))
	copy(out, fieldOrder[:])
	return out
}

// coreFields are always written by Export, whether or not the parsed
// document had them: they are required by the task library's schema.
var coreFields = map[string]bool{
	FieldName:                  true,
	FieldScript:                true,
	FieldOptions:               true,
	FieldSubscriptions:         true,
	FieldSubscriptionsTemplate: true,
	FieldDocs:                  true,
}

// Task is one Mechanic task, as found in a task export or the task library.
//
// Fields that JSON allows to be null are pointers (nil means null). Option
// values and preview event data are arbitrary JSON kept as canonical values
// of package value, so objects keep their key order.
type Task struct {
	// Name is the display name; on import, a task with the same name may be
	// overwritten.
	Name string
	// Script is the Liquid task code.
	Script string
	// Subscriptions are the rendered subscriptions, one topic (with an
	// optional offset) per element.
	Subscriptions []string
	// SubscriptionsTemplate is the Liquid template rendered with the options
	// into Subscriptions when the task is saved; null in some old exports.
	SubscriptionsTemplate *string
	// Options maps option keys (with their flags) to stored values.
	Options *value.Map
	// Docs is the Markdown documentation, or nil.
	Docs *string
	// Tags are organisational tags (not Liquid tags).
	Tags []string
	// PreviewEventDefinitions are the developer-defined preview events.
	PreviewEventDefinitions []PreviewEventDefinition
	// OnlineStoreJavaScript is Liquid-rendered JavaScript for the
	// storefront, or nil.
	OnlineStoreJavaScript *string
	// OrderStatusJavaScript is Liquid-rendered JavaScript for the order
	// status page, or nil.
	OrderStatusJavaScript *string
	// PerformActionRunsInSequence performs the actions of a run one at a
	// time, in the order generated.
	PerformActionRunsInSequence bool
	// HaltActionRunSequenceOnError fails the rest of a sequence once one of
	// its actions fails.
	HaltActionRunSequenceOnError bool
	// ShopifyAPIVersion is the Shopify Admin API version ("2024-01",
	// "unstable"); empty when the document has none.
	ShopifyAPIVersion string
	// LiquidProfiling asks for a Liquid performance profile in run results.
	LiquidProfiling bool

	// present records which non-core fields the parsed document had, so
	// that Export writes back exactly those.
	present map[string]bool
}

// PreviewEventDefinition is a preview event defined with the task.
type PreviewEventDefinition struct {
	// Description labels the scenario in the preview pane.
	Description string
	// EventAttributes are the topic and data of the synthetic event.
	EventAttributes EventAttributes
}

// EventAttributes are the attributes of a defined preview event.
type EventAttributes struct {
	// Topic is the event topic, such as "shopify/orders/create".
	Topic string
	// Data becomes event.data: arbitrary JSON as canonical values.
	Data any

	// dataFirst records that the parsed document wrote data before topic,
	// so that Export keeps that order.
	dataFirst bool
}

// New returns an empty task with the given name, with an empty options map
// and no subscriptions.
func New(name string) *Task {
	return &Task{Name: name, Options: value.NewMap(0), Subscriptions: []string{}}
}

// Has reports whether the task has the named field: core fields (name,
// script, options, subscriptions, subscriptions_template, docs) always,
// others when the parsed document had them or they hold a non-zero value.
func (t *Task) Has(field string) bool {
	if coreFields[field] || t.present[field] {
		return true
	}
	switch field {
	case FieldTags:
		return t.Tags != nil
	case FieldPreviewEventDefinitions:
		return t.PreviewEventDefinitions != nil
	case FieldOnlineStoreJavaScript:
		return t.OnlineStoreJavaScript != nil
	case FieldOrderStatusJavaScript:
		return t.OrderStatusJavaScript != nil
	case FieldPerformActionRunsInSequence:
		return t.PerformActionRunsInSequence
	case FieldHaltActionRunSequenceOnError:
		return t.HaltActionRunSequenceOnError
	case FieldShopifyAPIVersion:
		return t.ShopifyAPIVersion != ""
	case FieldLiquidProfiling:
		return t.LiquidProfiling
	}
	return false
}

// SetPresent marks a non-core field as present or absent, controlling
// whether Export writes it when it holds its zero value.
func (t *Task) SetPresent(field string, present bool) {
	if coreFields[field] {
		return
	}
	if t.present == nil {
		t.present = make(map[string]bool)
	}
	if present {
		t.present[field] = true
	} else {
		delete(t.present, field)
	}
}

// OptionValue returns the stored value of the option with the given key, or
// nil when the task stores none.
func (t *Task) OptionValue(key string) any {
	v, _ := t.Options.Get(key)
	return v
}
