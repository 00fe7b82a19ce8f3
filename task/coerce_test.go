package task

import (
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

var coerceNow = time.Date(2025, 5, 6, 12, 0, 0, 0, time.UTC)

// Value formats come from docs: core/tasks/options/README.md (flag table
// and quick reference); stored shapes from the task library.
func TestCoerce(t *testing.T) {
	big20, _ := new(big.Int).SetString("100000000000000000000", 10)
	tests := []struct {
		key  string
		raw  any
		want any
	}{
		{"subject", "Welcome!", "Welcome!"},
		{"subject", nil, nil},
		{"subject", "", nil},
		{"subject", int64(5), "5"},
		{"subject__required", "x", "x"},
		{"body__multiline", "a\nb", "a\nb"},
		{"newsletter__boolean", false, false},
		{"newsletter__boolean", "true", true},
		{"newsletter__boolean", "0", false},
		{"newsletter__boolean", nil, nil},
		{"count__number", int64(7), int64(7)},
		{"count__number", "7", int64(7)},
		{"count__number", " -3 ", int64(-3)},
		{"count__number", "0.8", 0.8},
		{"count__number", 0.8, 0.8},
		{"count__number", "100000000000000000000", big20},
		{"count__number", "", nil},
		{"headers__keyval", value.MapOf("X-Env", "staging"), value.MapOf("X-Env", "staging")},
		{"headers__keyval", map[string]any{"a": 1}, value.MapOf("a", "1")},
		{"qty__keyval_number", value.MapOf("Burn", "365", "Churn", int64(180)), value.MapOf("Burn", int64(365), "Churn", int64(180))},
		{"to__keyval_email", value.MapOf("Jenny", "jenny@example.com"), value.MapOf("Jenny", "jenny@example.com")},
		{"tags__array", []any{"vip", "wholesale"}, []any{"vip", "wholesale"}},
		{"tags__array", []any{"a", int64(2)}, []any{"a", "2"}},
		{"tags__array", "vip\n\n wholesale \n", []any{"vip", "wholesale"}},
		{"tags__array", "", []any{}},
		{"ids__array_number", []any{"1234567890"}, []any{int64(1234567890)}},
		{"to__email_array", []any{"a@example.com"}, []any{"a@example.com"}},
		{"reply_to__email_required", "person@example.com", "person@example.com"},
		{"reply_to__email", "{{ shop.customer_email }}", "{{ shop.customer_email }}"},
		{"go_live__date_required", "2025-05-06", "2025-05-06"},
		{"party__datetime", "2031-04-22T15:13:00", "2031-04-22T15:13:00"},
		{"party__datetime", "2031-04-22T15:13", "2031-04-22T15:13"},
		{"quiet_at__time", "00:25", "00:25"},
		{"bg__color", "#336699", "#336699"},
		{"score__range_min0_max100", int64(42), int64(42)},
		{"score__range_min0_max100", "100", int64(100)},
		{"temp__range_min-20_max20", int64(-20), int64(-20)},
		{"plan__select_o1_basic_o2_pro", "basic", "basic"},
		{"tier__choice_o1_total_sales_o2_net_sales", "net_sales", "net_sales"},
		{"channels__multiselect_o1_email_o2_sms", []any{"email", "sms"}, []any{"email", "sms"}},
		{"channels__multiselect_o1_email_o2_sms", []any{}, []any{}},
		{"promo__picker_product", "gid://shopify/Product/123", "gid://shopify/Product/123"},
		{"v__picker_variant", "gid://shopify/ProductVariant/9", "gid://shopify/ProductVariant/9"},
		{"products__picker_product_array", []any{"gid://shopify/Product/1", "gid://shopify/Product/2"}, []any{"gid://shopify/Product/1", "gid://shopify/Product/2"}},
		{"user__global_required", value.MapOf("a", int64(1)), value.MapOf("a", int64(1))},
		{"api_token__secret_required", "secret-ref", "secret-ref"},
		{"launch__date_futureonly", "2025-05-06", "2025-05-06"},
		{"start__datetime_futureonly", "2025-05-06T12:00", "2025-05-06T12:00"},
	}
	for _, tc := range tests {
		got, err := CoerceAt(tc.key, tc.raw, coerceNow)
		if err != nil {
			t.Errorf("Coerce(%q, %#v): %v", tc.key, tc.raw, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Coerce(%q, %#v) = %#v, want %#v", tc.key, tc.raw, got, tc.want)
		}
	}
}

func TestCoerceErrors(t *testing.T) {
	tests := []struct {
		key  string
		raw  any
		want string
	}{
		{"subject__required", nil, `option "subject__required": is required`},
		{"subject__required", "   ", "is required"},
		{"tags__array_required", []any{}, "is required"},
		{"tags__array_required", "\n\n", "is required"},
		{"h__keyval_required", value.NewMap(0), "is required"},
		{"count__number_required", "", "is required"},
		{"subject", []any{"x"}, "must be text, got array"},
		{"count__number", "abc", `must be a number, got "abc"`},
		{"count__number", "NaN", "must be a number"},
		{"count__number", "0x10", "must be a number"},
		{"count__number", true, "must be a number, got boolean"},
		{"on__boolean", "yes", "must be true or false"},
		{"on__boolean", int64(1), "must be true or false"},
		{"h__keyval", "a=b", "must be a hash"},
		{"h__keyval_number", value.MapOf("a", "x"), `value of "a" must be a number`},
		{"h__keyval_email", value.MapOf("a", "nope"), `value of "a" must be an email address`},
		{"tags__array", int64(3), "must be an array"},
		{"tags__array", []any{[]any{}}, "element 1 must be text"},
		{"ids__array_number", []any{"1", "x"}, "element 2 must be a number"},
		{"to__email_array", []any{"a@example.com", "b"}, `element 2 must be an email address, got "b"`},
		{"to__email", "not an email", "must be an email address"},
		{"to__email", "a@b", "must be an email address"},
		{"d__date", "05/06/2025", "must be formatted YYYY-MM-DD"},
		{"d__date", "2025-02-30", "must be formatted YYYY-MM-DD"},
		{"d__datetime", "2025-05-06", "must be formatted YYYY-MM-DDTHH:MM"},
		{"d__time", "25:00", "must be formatted HH:MM"},
		{"c__color", "blue", "must be a colour"},
		{"c__color", "#12345", "must be a colour"},
		{"s__range_min0_max100", int64(101), "must be between 0 and 100, got 101"},
		{"s__range_min7_max90_required", "3", "must be between 7 and 90, got 3"},
		{"p__select_o1_basic_o2_pro", "gold", `must be one of "basic", "pro", got "gold"`},
		{"p__choice_o1_a_o2_b", int64(1), "must be one of"},
		{"m__multiselect_o1_email_o2_sms", []any{"email", "fax"}, `element 2 must be one of "email", "sms", got "fax"`},
		{"p__picker_product", "gid://shopify/Collection/1", "must be a product ID"},
		{"p__picker_collection", "123", "must be a collection ID"},
		{"p__picker_product_array", []any{"gid://shopify/Product/1", "x"}, "element 2 must be a product ID"},
		{"s__secret", int64(1), "must be a secret reference"},
		{"d__date_futureonly", "2025-05-05", "must not be in the past"},
		{"d__datetime_futureonly", "2025-05-06T11:59", "must not be in the past"},
		{"x__bogus", "x", `option "x__bogus": unknown flag "bogus"`},
	}
	for _, tc := range tests {
		_, err := CoerceAt(tc.key, tc.raw, coerceNow)
		if err == nil {
			t.Errorf("Coerce(%q, %#v): no error, want %q", tc.key, tc.raw, tc.want)
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Key != tc.key {
			t.Errorf("Coerce(%q): error %v is not a FieldError for the key", tc.key, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Coerce(%q, %#v) = %q, want %q", tc.key, tc.raw, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	opts := value.MapOf(
		"subject__required", "Hi",
		"count__number_required", "",
		"to__email", "bad",
		"on__boolean", true,
		"x__nope", nil,
	)
	got := ValidateAt(opts, coerceNow)
	want := []FieldError{
		{Key: "count__number_required", Message: "is required"},
		{Key: "to__email", Message: `must be an email address, got "bad"`},
		{Key: "x__nope", Message: `unknown flag "nope"`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate = %+v\nwant %+v", got, want)
	}
	if errs := Validate(value.MapOf("a", "b")); errs != nil {
		t.Errorf("valid options gave %v", errs)
	}
	if errs := Validate(nil); errs != nil {
		t.Errorf("nil options gave %v", errs)
	}
}

func TestCoercedOptions(t *testing.T) {
	tk := New("x")
	tk.Script = "{{ options.days__number }} {{ options.extra__boolean }} {{ options.Bad__ }}"
	tk.Options.Set("days__number", "7")
	tk.Options.Set("tags__array_required", nil)
	tk.Options.Set("ids__keyval_number", value.MapOf("a", "2"))
	got, errs := tk.CoercedOptions()
	want := value.MapOf(
		"days__number", int64(7),
		"tags__array_required", nil,
		"ids__keyval_number", value.MapOf("a", int64(2)),
		"extra__boolean", nil,
		"Bad__", nil,
	)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CoercedOptions = %s, want %s", value.Inspect(got), value.Inspect(want))
	}
	if len(errs) != 1 || errs[0].Key != "Bad__" {
		t.Errorf("errors %+v", errs)
	}
}
