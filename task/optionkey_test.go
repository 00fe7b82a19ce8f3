package task

import (
	"reflect"
	"strings"
	"testing"
)

// Keys below come from docs: core/tasks/options/README.md (quick start,
// flag tables, choice/range/picker grammar, quick reference) and from the
// task library.
func TestParseOptionKey(t *testing.T) {
	tests := []struct {
		key     string
		name    string
		kind    Kind
		flags   []string
		choices []string
		rng     *Range
		picker  string
		check   func(k OptionKey) bool
	}{
		{key: "note", name: "note", kind: KindText},
		{key: "subject__required", name: "subject", kind: KindText, flags: []string{"required"}, check: func(k OptionKey) bool { return k.Required }},
		{key: "body__multiline", name: "body", kind: KindMultiline, flags: []string{"multiline"}},
		{key: "reply_to__email_required", name: "reply_to", kind: KindText, flags: []string{"email", "required"}, check: func(k OptionKey) bool { return k.Email && k.Required }},
		{key: "enabled__boolean", name: "enabled", kind: KindBoolean, flags: []string{"boolean"}},
		{key: "count__number", name: "count", kind: KindNumber, flags: []string{"number"}},
		{key: "tags__array", name: "tags", kind: KindArray, flags: []string{"array"}},
		{key: "headers__keyval", name: "headers", kind: KindKeyVal, flags: []string{"keyval"}},
		{key: "snippet__code_multiline", name: "snippet", kind: KindCode, flags: []string{"code", "multiline"}},
		{key: "launch_date__date", name: "launch_date", kind: KindDate, flags: []string{"date"}},
		{key: "send_at__datetime", name: "send_at", kind: KindDateTime, flags: []string{"datetime"}},
		{key: "quiet_time__time", name: "quiet_time", kind: KindTime, flags: []string{"time"}},
		{key: "theme_color__color", name: "theme_color", kind: KindColor, flags: []string{"color"}},
		{key: "shared_username__global_required", name: "shared_username", kind: KindGlobal, flags: []string{"global", "required"}},
		{key: "api_token__secret_required", name: "api_token", kind: KindSecret, flags: []string{"secret", "required"}},
		// Flag order is free (library has both orders).
		{key: "days__number_required", name: "days", kind: KindNumber, flags: []string{"number", "required"}},
		{key: "days__required_number", name: "days", kind: KindNumber, flags: []string{"required", "number"}},
		// Extra "__" segments.
		{key: "products_must_be_x_number_of_days_old__number__required", name: "products_must_be_x_number_of_days_old", kind: KindNumber, flags: []string{"number", "required"}},
		// Element-typed containers.
		{key: "skus__keyval_number_required", name: "skus", kind: KindKeyVal, flags: []string{"keyval", "number", "required"}, check: func(k OptionKey) bool { return k.KeyVal && k.Number }},
		{key: "recipients__email_array_required", name: "recipients", kind: KindArray, flags: []string{"email", "array", "required"}},
		{key: "ids__array_number", name: "ids", kind: KindArray, flags: []string{"array", "number"}},
		// Choice lists.
		{key: "mode__select_o1_test_o2_live", name: "mode", kind: KindSelect, flags: []string{"select"}, choices: []string{"test", "live"}},
		{key: "tier__choice_o1_gold_o2_silver", name: "tier", kind: KindChoice, flags: []string{"choice"}, choices: []string{"gold", "silver"}},
		{key: "channels__multiselect_o1_email_o2_sms", name: "channels", kind: KindMultiselect, flags: []string{"multiselect"}, choices: []string{"email", "sms"}, check: func(k OptionKey) bool { return !k.Email }},
		{key: "run_mode__select_o1_test_o2_live__userform__required", name: "run_mode", kind: KindSelect, flags: []string{"select", "userform", "required"}, choices: []string{"test", "live"}},
		{key: "aggregate__select_o1_first_o2_last_o3_sum_userform_required", name: "aggregate", kind: KindSelect, flags: []string{"select", "userform", "required"}, choices: []string{"first", "last", "sum"}},
		{key: "sales__choice_o1_total_sales_o2_net_sales_required", name: "sales", kind: KindChoice, flags: []string{"choice", "required"}, choices: []string{"total_sales", "net_sales"}},
		{key: "freq__select_o1_10min_o2_15min_o5_hourly_o6_daily_required", name: "freq", kind: KindSelect, flags: []string{"select", "required"}, choices: []string{"10min", "15min", "hourly", "daily"}},
		{key: "days__multiselect__o1_monday_o2_tuesday", name: "days", kind: KindMultiselect, flags: []string{"multiselect"}, choices: []string{"monday", "tuesday"}},
		{key: "order__select_o2_b_o1_a", name: "order", kind: KindSelect, flags: []string{"select"}, choices: []string{"a", "b"}},
		{key: "mode__select_o1_global_o2_secret_o3_local", name: "mode", kind: KindSelect, flags: []string{"select"}, choices: []string{"global", "secret", "local"}},
		// Ranges.
		{key: "qty__range_min0_max100_step5", name: "qty", kind: KindRange, flags: []string{"range"}, rng: &Range{Min: 0, Max: 100, Step: 5}},
		{key: "score__range_min0_max100", name: "score", kind: KindRange, flags: []string{"range"}, rng: &Range{Min: 0, Max: 100, Step: 1}},
		{key: "hours__range_min0_max23_required", name: "hours", kind: KindRange, flags: []string{"range", "required"}, rng: &Range{Min: 0, Max: 23, Step: 1}},
		{key: "temp__range_min-20_max20", name: "temp", kind: KindRange, flags: []string{"range"}, rng: &Range{Min: -20, Max: 20, Step: 1}},
		// Pickers.
		{key: "promo__picker_product", name: "promo", kind: KindPicker, flags: []string{"picker_product"}, picker: "product"},
		{key: "products__picker_product_array", name: "products", kind: KindPicker, flags: []string{"picker_product", "array"}, picker: "product", check: func(k OptionKey) bool { return k.Array }},
		{key: "variant__picker_variant_required", name: "variant", kind: KindPicker, flags: []string{"picker_variant", "required"}, picker: "variant"},
		// User form and future-only dates.
		{key: "the_big_event__date_userform", name: "the_big_event", kind: KindDate, flags: []string{"date", "userform"}, check: func(k OptionKey) bool { return k.UserForm }},
		{key: "event_start__datetime_futureonly_required", name: "event_start", kind: KindDateTime, flags: []string{"datetime", "futureonly", "required"}, check: func(k OptionKey) bool { return k.FutureOnly }},
		{key: "color_for_big_event__color_required_userform", name: "color_for_big_event", kind: KindColor, flags: []string{"color", "required", "userform"}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			k, err := ParseOptionKey(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if k.Key != tc.key || k.Name != tc.name || k.Kind() != tc.kind {
				t.Errorf("got key %q name %q kind %q", k.Key, k.Name, k.Kind())
			}
			if !reflect.DeepEqual(k.Flags, tc.flags) {
				t.Errorf("flags %q, want %q", k.Flags, tc.flags)
			}
			if !reflect.DeepEqual(k.Choices, tc.choices) {
				t.Errorf("choices %q, want %q", k.Choices, tc.choices)
			}
			if !reflect.DeepEqual(k.Range, tc.rng) {
				t.Errorf("range %+v, want %+v", k.Range, tc.rng)
			}
			if k.Picker != tc.picker {
				t.Errorf("picker %q, want %q", k.Picker, tc.picker)
			}
			if tc.check != nil && !tc.check(k) {
				t.Errorf("flag fields wrong: %+v", k)
			}
			for _, f := range tc.flags {
				if !k.Has(f) {
					t.Errorf("Has(%q) = false", f)
				}
			}
		})
	}
}

func TestParseOptionKeyEquivalentOrders(t *testing.T) {
	a, err1 := ParseOptionKey("x__number_required")
	b, err2 := ParseOptionKey("x__required_number")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	a.Key, b.Key, a.Flags, b.Flags = "", "", nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%+v != %+v", a, b)
	}
}

func TestParseOptionKeyErrors(t *testing.T) {
	tests := []struct{ key, want string }{
		{"", "empty option key"},
		{"Foo", "lowercase"},
		{"9lives", "lowercase"},
		{"foo-bar", "invalid character"},
		{"foo__", "empty flags"},
		{"foo__bogus", `unknown flag "bogus"`},
		{"foo__number_requird", `unknown flag "requird"`},
		{"foo___number", "stray underscore"},
		{"foo__picker", "picker needs a resource"},
		{"foo__picker_order", `unsupported picker resource "order"`},
		{"foo__range_min0", "range needs both"},
		{"foo__range_max5", "range needs both"},
		{"foo__range_min9_max5", "above max"},
		{"foo__range_min0_max5_step0", "step 0 must be positive"},
		{"foo__max5", "outside a range"},
		{"foo__select", "no choices"},
		{"foo__select_a_o1_b", "expected o<N>"},
		{"foo__select_o1_o2_b", "o1 has no value"},
		{"foo__select_o1_a_o1_b", "duplicate ordinal"},
		{"foo__userform_select_o1_a_o2_b", `modifier "userform" must follow the "select" input type`},
		{"foo__required_select_o1_a_o2_b", `modifier "required" must follow`},
		{"foo__o1_a", "outside a select"},
		{"foo__number_boolean", "conflicting input types boolean and number"},
		{"foo__date_picker_product", "conflicting input types"},
		{"foo__keyval_array", "conflicting input types keyval and array"},
		{"foo__secret_userform", "secret options cannot be combined with userform"},
		{"foo__futureonly", "futureonly needs date or datetime"},
		{"foo__number_email", "email cannot be combined with number"},
		{"foo__boolean_array", "boolean cannot be combined"},
	}
	for _, tc := range tests {
		_, err := ParseOptionKey(tc.key)
		if err == nil {
			t.Errorf("ParseOptionKey(%q): no error, want %q", tc.key, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseOptionKey(%q) = %q, want %q", tc.key, err, tc.want)
		}
	}
}

func TestLabel(t *testing.T) {
	tests := map[string]string{
		"email_subject__required": "Email subject",
		"note":                    "Note",
		"days_to_wait__number":    "Days to wait",
	}
	for key, want := range tests {
		k, err := ParseOptionKey(key)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Label(); got != want {
			t.Errorf("Label(%q) = %q, want %q", key, got, want)
		}
	}
}
