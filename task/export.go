package task

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// document returns the task as an ordered JSON object: fields in
// alphabetical order (the task library's order), option keys in their stored
// order, and each preview event as description, event_attributes {topic,
// data} (or data, topic when the parsed document had that order). Core fields are always written; other fields when Has reports them.
func (t *Task) document() *value.Map {
	m := value.NewMap(len(fieldOrder))
	for _, f := range fieldOrder {
		if !t.Has(f) {
			continue
		}
		m.Set(f, t.fieldValue(f))
	}
	return m
}

func strOrNull(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func stringsValue(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (t *Task) fieldValue(f string) any {
	switch f {
	case FieldName:
		return t.Name
	case FieldScript:
		return t.Script
	case FieldSubscriptions:
		return stringsValue(t.Subscriptions)
	case FieldSubscriptionsTemplate:
		return strOrNull(t.SubscriptionsTemplate)
	case FieldOptions:
		if t.Options == nil {
			return value.NewMap(0)
		}
		return t.Options
	case FieldDocs:
		return strOrNull(t.Docs)
	case FieldTags:
		return stringsValue(t.Tags)
	case FieldPreviewEventDefinitions:
		out := make([]any, len(t.PreviewEventDefinitions))
		for i, p := range t.PreviewEventDefinitions {
			ea := value.MapOf("topic", p.EventAttributes.Topic, "data", p.EventAttributes.Data)
			if p.EventAttributes.dataFirst {
				ea = value.MapOf("data", p.EventAttributes.Data, "topic", p.EventAttributes.Topic)
			}
			out[i] = value.MapOf("description", p.Description, "event_attributes", ea)
		}
		return out
	case FieldOnlineStoreJavaScript:
		return strOrNull(t.OnlineStoreJavaScript)
	case FieldOrderStatusJavaScript:
		return strOrNull(t.OrderStatusJavaScript)
	case FieldPerformActionRunsInSequence:
		return t.PerformActionRunsInSequence
	case FieldHaltActionRunSequenceOnError:
		return t.HaltActionRunSequenceOnError
	case FieldShopifyAPIVersion:
		return t.ShopifyAPIVersion
	case FieldLiquidProfiling:
		return t.LiquidProfiling
	}
	return nil
}

// MarshalJSON encodes the task as compact JSON, with the fields and order
// that Export uses.
func (t *Task) MarshalJSON() ([]byte, error) {
	data, err := value.ToJSON(t.document())
	if err != nil {
		return nil, fmt.Errorf("task %q: encode: %w", t.Name, err)
	}
	return data, nil
}

// UnmarshalJSON decodes the task strictly, as Parse does.
func (t *Task) UnmarshalJSON(data []byte) error {
	p, err := Parse(data)
	if err != nil {
		return err
	}
	*t = *p
	return nil
}

// Export encodes the task as a task export: JSON indented by two spaces with
// a trailing newline, fields in alphabetical order (as the Mechanic task
// library stores tasks), option keys and JSON object keys in their stored
// order, preview event attributes as topic then data unless parsed in the
// other order, non-ASCII text unescaped. The core fields name, script, options,
// subscriptions, subscriptions_template and docs are always written; the
// others when the parsed document had them or they hold a non-zero value,
// so that exporting a parsed task loses and adds nothing.
func (t *Task) Export() ([]byte, error) {
	compact, err := t.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("task %q: indent: %w", t.Name, err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
