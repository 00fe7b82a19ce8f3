package run

import (
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/task"
)

// SampleRequiredOptions returns a copy of options in which every required
// option that has no value (missing, nil, "", [] or {}) holds a sample
// value of its kind, and the keys it filled. Previews use it so that a
// task whose required options are not configured yet (as library tasks
// ship) can still be previewed; Mechanic would refuse to save such a task,
// and a live run never sees sample values.
//
// Sample values: text "sample" (numeric "1234567890" when the option name
// mentions an id, an address for email options, a user topic for topics,
// "custom.sample_key" for a metafield namespace and key), number 1, keyval
// {"1234567890": "sample"} (or 1 with the number flag), array ["sample"]
// (same rules as text per element), the first choice for select and
// choice, the minimum of a range, and fixed dates, times and colours.
// Global and secret options are left alone. Boolean options without a
// value (required or not) become false, which is what the unchecked
// checkbox of the options form submits.
func SampleRequiredOptions(t *task.Task, options *value.Map) (*value.Map, []string) {
	if options == nil {
		options = t.Options
	}
	out := value.NewMap(options.Len())
	if options != nil {
		out = options.Clone()
	}
	var filled []string
	for _, key := range t.OptionKeys() {
		k, err := task.ParseOptionKey(key)
		if err != nil {
			continue
		}
		cur, _ := out.Get(key)
		if k.Kind() == task.KindBoolean && cur == nil {
			// An unset checkbox submits false from the options form.
			out.Set(key, false)
			continue
		}
		if !k.Required {
			continue
		}
		if !emptyOption(cur) {
			continue
		}
		if v, ok := sampleOption(k); ok {
			out.Set(key, v)
			filled = append(filled, key)
		}
	}
	return out, filled
}

func emptyOption(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case *value.Map:
		return x.Len() == 0
	}
	return false
}

func sampleText(k task.OptionKey) any {
	switch {
	case k.Email, strings.Contains(k.Name, "email") && !strings.Contains(k.Name, "subject") && !strings.Contains(k.Name, "body"):
		return "customer@example.com"
	case k.Number:
		return int64(1)
	}
	name := "_" + k.Name + "_"
	switch {
	case strings.HasSuffix(k.Name, "topic"):
		return "user/sample/event"
	case strings.Contains(k.Name, "namespace_and_key"):
		return "custom.sample_key"
	}
	if strings.Contains(name, "_id_") || strings.Contains(name, "_ids_") || strings.HasSuffix(k.Name, "_id") || strings.HasSuffix(k.Name, "_ids") {
		return "1234567890"
	}
	return "sample"
}

func sampleOption(k task.OptionKey) (any, bool) {
	switch k.Kind() {
	case task.KindGlobal, task.KindSecret:
		return nil, false
	case task.KindPicker:
		gid := "gid://shopify/" + pickerType(k.Picker) + "/1234567890"
		if k.Array {
			return []any{gid}, true
		}
		return gid, true
	case task.KindMultiselect:
		if len(k.Choices) == 0 {
			return nil, false
		}
		return []any{k.Choices[0]}, true
	case task.KindSelect, task.KindChoice:
		if len(k.Choices) == 0 {
			return nil, false
		}
		return k.Choices[0], true
	case task.KindRange:
		return k.Range.Min, true
	case task.KindKeyVal:
		var v any = "sample"
		if k.Number {
			v = int64(1)
		}
		return value.MapOf("1234567890", v), true
	case task.KindArray:
		return []any{sampleText(k)}, true
	case task.KindNumber:
		return int64(1), true
	case task.KindDate:
		if k.FutureOnly { // a fixed date that stays in the future
			return "2099-04-01", true
		}
		return "2024-04-01", true
	case task.KindDateTime:
		if k.FutureOnly {
			return "2099-04-01T09:00", true
		}
		return "2024-04-01T09:00", true
	case task.KindTime:
		return "09:00", true
	case task.KindColor:
		return "#336699", true
	case task.KindBoolean:
		return true, true
	}
	return sampleText(k), true
}

func pickerType(p string) string {
	switch p {
	case "variant":
		return "ProductVariant"
	case "":
		return "Product"
	}
	return strings.ToUpper(p[:1]) + p[1:]
}
