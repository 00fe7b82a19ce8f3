package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/task"
)

// optionField is one input of a task's options form, generated from its
// option key (docs: core/tasks/options/README.md).
type optionField struct {
	Key, Name, ID, Label, Kind string
	Required, Email            bool
	UserForm, FutureOnly       bool
	Number                     bool
	// Value is the text of text-like inputs (lines for arrays, "key: value"
	// lines for keyval).
	Value string
	// Checked is the state of a boolean.
	Checked bool
	// Choices and Selected serve select, choice and multiselect.
	Choices  []string
	Selected map[string]bool
	// Min, Max and Step serve ranges.
	Min, Max, Step int64
	// Picker is the Shopify resource of a picker.
	Picker string
	// Array marks lists (arrays, picker arrays).
	Array bool
	// Names lists the globals or secrets to choose from.
	Names []string
	// Error is the validation error shown inline.
	Error string
	// Invalid is a key that cannot be parsed.
	Invalid string
}

// optionFormPrefix prefixes option inputs' names in forms.
const optionFormPrefix = "opt:"

// optionFields builds the form fields of t's option keys with their values.
func optionFields(t *task.Task, errs map[string]string, globals, secrets []string) []optionField {
	var out []optionField
	for i, key := range t.OptionKeys() {
		raw, _ := t.Options.Get(key)
		f := optionField{Key: key, ID: fmt.Sprintf("opt-%d", i), Error: errs[key]}
		k, err := task.ParseOptionKey(key)
		if err != nil {
			f.Label, f.Kind, f.Invalid, f.Value = key, "text", err.Error(), textOf(raw)
			out = append(out, f)
			continue
		}
		f.Name, f.Label, f.Kind = k.Name, k.Label(), string(k.Kind())
		f.Required, f.Email, f.UserForm, f.FutureOnly, f.Number = k.Required, k.Email, k.UserForm, k.FutureOnly, k.Number
		f.Picker, f.Array = k.Picker, k.Array
		switch k.Kind() {
		case task.KindBoolean:
			b, _ := raw.(bool)
			f.Checked = b || raw == "true"
		case task.KindSelect, task.KindChoice, task.KindMultiselect:
			f.Choices = k.Choices
			f.Selected = map[string]bool{}
			switch x := raw.(type) {
			case []any:
				for _, e := range x {
					f.Selected[value.ToS(e)] = true
				}
			case nil:
			default:
				f.Selected[value.ToS(x)] = true
			}
		case task.KindRange:
			f.Min, f.Max, f.Step = k.Range.Min, k.Range.Max, max(k.Range.Step, 1)
			f.Value = textOf(raw)
			if f.Value == "" {
				f.Value = strconv.FormatInt(f.Min, 10)
			}
		case task.KindGlobal:
			f.Names, f.Value = globals, textOf(raw)
		case task.KindSecret:
			f.Names, f.Value = secrets, textOf(raw)
		case task.KindKeyVal:
			f.Value = keyvalText(raw)
		default:
			f.Value = textOf(raw)
		}
		out = append(out, f)
	}
	return out
}

// textOf renders a stored option value as input text.
func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		lines := make([]string, len(x))
		for i, e := range x {
			lines[i] = value.ToS(e)
		}
		return strings.Join(lines, "\n")
	case *value.Map:
		return keyvalText(x)
	}
	return value.ToS(v)
}

func keyvalText(v any) string {
	m, ok := v.(*value.Map)
	if !ok {
		return textOf(v)
	}
	var b strings.Builder
	m.Each(func(k string, v any) bool {
		fmt.Fprintf(&b, "%s: %s\n", k, value.ToS(v))
		return true
	})
	return strings.TrimSuffix(b.String(), "\n")
}

// readOptions reads the options form of t's keys into a new options map
// with values coerced by their flags; errs maps keys to inline messages.
// Keys absent from the form keep their stored values, and a form without
// the options form (no options_form field) keeps them all.
func readOptions(t *task.Task, form url.Values, now time.Time) (*value.Map, map[string]string) {
	out := value.NewMap(8)
	errs := map[string]string{}
	if form.Get("options_form") == "" {
		if t.Options != nil {
			t.Options.Each(func(k string, v any) bool {
				out.Set(k, v)
				return true
			})
		}
		return out, errs
	}
	keys := t.OptionKeys()
	for _, key := range keys {
		name := optionFormPrefix + key
		stored, _ := t.Options.Get(key)
		k, err := task.ParseOptionKey(key)
		if err != nil {
			errs[key] = err.Error()
			out.Set(key, stored)
			continue
		}
		if _, ok := form[name]; !ok && !k.Boolean && !k.Multiselect {
			out.Set(key, stored)
			continue
		}
		var raw any
		switch k.Kind() {
		case task.KindBoolean:
			raw = slices.Contains(form[name], "true")
		case task.KindMultiselect:
			vals := []any{}
			for _, v := range form[name] {
				vals = append(vals, v)
			}
			raw = vals
		case task.KindKeyVal:
			m, err := parseKeyval(form.Get(name))
			if err != nil {
				errs[key] = err.Error()
				out.Set(key, form.Get(name))
				continue
			}
			raw = m
		default:
			raw = strings.ReplaceAll(form.Get(name), "\r\n", "\n")
		}
		v, err := k.Coerce(raw, now)
		if err != nil {
			msg := err.Error()
			if fe, ok := err.(*task.FieldError); ok {
				msg = fe.Message
			}
			errs[key] = msg
			out.Set(key, raw)
			continue
		}
		out.Set(key, v)
	}
	// Keep stored options that are no longer referenced, as Mechanic keeps
	// them until the task is saved without them.
	if t.Options != nil {
		t.Options.Each(func(k string, v any) bool {
			if !out.Has(k) {
				out.Set(k, v)
			}
			return true
		})
	}
	return out, errs
}

// parseKeyval reads "key: value" lines.
func parseKeyval(s string) (*value.Map, error) {
	m := value.NewMap(4)
	for i, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("line %d must be \"key: value\"", i+1)
		}
		m.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return m, nil
}
