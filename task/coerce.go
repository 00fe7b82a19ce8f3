package task

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// FieldError is a problem with one option: its key and what is wrong.
type FieldError struct {
	Key     string
	Message string
}

// Error formats the problem as `option "key": message`.
func (e *FieldError) Error() string {
	return fmt.Sprintf("option %q: %s", e.Key, e.Message)
}

// coerceMode tunes coercion. stored is the check Parse makes of values in an
// export: required options may be empty and futureonly is not enforced.
type coerceMode struct {
	stored bool
	now    time.Time
}

// emailPattern is a basic email check: something@something.tld, no spaces.
var emailPattern = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)

// colorPattern matches "#RRGGBB".
var colorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// gidPattern matches a Shopify GID and captures its type.
var gidPattern = regexp.MustCompile(`^gid://shopify/([A-Za-z]+)/[0-9]+$`)

// hasLiquid reports whether s holds Liquid markup; such option values are
// rendered when a task runs, so their format cannot be checked beforehand
// (docs: core/tasks/options/README.md, "Liquid").
func hasLiquid(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// Coerce checks the value of the option with the given key against the
// key's flags and converts it to the value tasks see: numbers from numeric
// strings, booleans from "true"/"false", arrays from lines of text, keyval
// hashes with typed values. Empty values (nil, "", [], {}) are errors only
// for required options. Errors are *FieldError naming the option and why.
// futureonly is checked against the current time; use CoerceAt to fix it.
func Coerce(key string, raw any) (any, error) {
	return CoerceAt(key, raw, time.Now())
}

// CoerceAt is Coerce with the current time given, for futureonly dates.
func CoerceAt(key string, raw any, now time.Time) (any, error) {
	k, err := ParseOptionKey(key)
	if err != nil {
		return nil, &FieldError{Key: key, Message: err.Error()}
	}
	return k.coerce(raw, coerceMode{now: now})
}

// Coerce checks and converts a value for this option, as the package
// function Coerce does, with futureonly checked against now.
func (k OptionKey) Coerce(raw any, now time.Time) (any, error) {
	return k.coerce(raw, coerceMode{now: now})
}

// Validate checks every option of a task's option map, returning one
// FieldError per invalid option, in key order; nil when all are valid.
func Validate(options *value.Map) []FieldError {
	return ValidateAt(options, time.Now())
}

// ValidateAt is Validate with the current time given, for futureonly dates.
func ValidateAt(options *value.Map, now time.Time) []FieldError {
	var out []FieldError
	options.Each(func(key string, v any) bool {
		if _, err := CoerceAt(key, v, now); err != nil {
			if fe, ok := err.(*FieldError); ok {
				out = append(out, *fe)
			} else {
				out = append(out, FieldError{Key: key, Message: err.Error()})
			}
		}
		return true
	})
	return out
}

// isEmpty reports whether v counts as unfilled.
func isEmpty(v any) bool {
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

func (k OptionKey) fail(format string, args ...any) error {
	return &FieldError{Key: k.Key, Message: fmt.Sprintf(format, args...)}
}

func (k OptionKey) coerce(raw any, mode coerceMode) (any, error) {
	raw = value.Normalize(raw)
	if isEmpty(raw) {
		if k.Required && !mode.stored {
			return nil, k.fail("is required")
		}
		return k.emptyValue(raw), nil
	}
	var (
		out any
		err error
	)
	switch {
	case k.Multiselect:
		out, err = k.list(raw, func(i int, e any) (any, error) { return k.choiceValue(e, i) })
	case k.Picker != "" && k.Array:
		out, err = k.list(raw, func(i int, e any) (any, error) { return k.gid(e, i) })
	case k.Picker != "":
		out, err = k.gid(raw, -1)
	case k.KeyVal:
		out, err = k.keyval(raw, mode)
	case k.Array:
		out, err = k.list(raw, func(i int, e any) (any, error) { return k.element(e, i, mode) })
	default:
		out, err = k.element(raw, -1, mode)
	}
	if err != nil {
		return nil, err
	}
	if k.Required && !mode.stored && isEmpty(out) {
		return nil, k.fail("is required")
	}
	return out, nil
}

// emptyValue keeps an empty value in the shape the option expects. An empty
// text option reads as nil, as an unfilled field does in Mechanic (library
// tasks guard with {% if options.x %}).
func (k OptionKey) emptyValue(raw any) any {
	if _, ok := raw.(string); ok {
		switch {
		case k.Number, k.Boolean, k.Range != nil:
			return nil
		case k.Array, k.Multiselect:
			return []any{}
		case k.KeyVal:
			return value.NewMap(0)
		}
		return nil
	}
	return raw
}

func where(i int) string {
	if i < 0 {
		return ""
	}
	return fmt.Sprintf("element %d ", i+1)
}

// list coerces an array (or a string of lines) element by element.
func (k OptionKey) list(raw any, each func(i int, e any) (any, error)) (any, error) {
	var elems []any
	switch x := raw.(type) {
	case []any:
		elems = x
	case string:
		for _, line := range strings.Split(x, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				elems = append(elems, line)
			}
		}
	default:
		return nil, k.fail("must be an array, got %s", jsonType(raw))
	}
	out := make([]any, 0, len(elems))
	for i, e := range elems {
		v, err := each(i, e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// keyval coerces a hash, typing each value by the other flags.
func (k OptionKey) keyval(raw any, mode coerceMode) (any, error) {
	m, ok := raw.(*value.Map)
	if !ok {
		return nil, k.fail("must be a hash of keys to values, got %s", jsonType(raw))
	}
	out := value.NewMap(m.Len())
	var err error
	m.Each(func(key string, v any) bool {
		var cv any
		cv, err = k.element(v, -1, mode)
		if err != nil {
			if fe, ok := err.(*FieldError); ok {
				fe.Message = fmt.Sprintf("value of %q %s", key, fe.Message)
			}
			return false
		}
		out.Set(key, cv)
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// element coerces one scalar value by the scalar flags.
func (k OptionKey) element(v any, i int, mode coerceMode) (any, error) {
	at := where(i)
	switch {
	case k.Boolean:
		return k.boolean(v, at)
	case k.Range != nil:
		n, err := k.number(v, at)
		if err != nil || n == nil {
			return n, err
		}
		f, _ := value.ToFloat(n)
		if f < float64(k.Range.Min) || f > float64(k.Range.Max) {
			return nil, k.fail("%smust be between %d and %d, got %s", at, k.Range.Min, k.Range.Max, value.ToS(n))
		}
		return n, nil
	case k.Number:
		return k.number(v, at)
	case k.Select, k.Choice:
		return k.choiceValue(v, i)
	case k.Date, k.DateTime, k.Time:
		return k.temporal(v, at, mode)
	case k.Color:
		s, err := k.text(v, at)
		if err != nil {
			return nil, err
		}
		if s != "" && !colorPattern.MatchString(s) && !hasLiquid(s) {
			return nil, k.fail("%smust be a colour like #336699, got %q", at, s)
		}
		return s, nil
	case k.Global:
		return v, nil
	case k.Secret:
		if _, ok := v.(string); !ok {
			return nil, k.fail("%smust be a secret reference (string), got %s", at, jsonType(v))
		}
		return v, nil
	}
	s, err := k.text(v, at)
	if err != nil {
		return nil, err
	}
	if k.Email && s != "" && !hasLiquid(s) && !emailPattern.MatchString(strings.TrimSpace(s)) {
		return nil, k.fail("%smust be an email address, got %q", at, s)
	}
	return s, nil
}

// text accepts strings, and numbers or booleans in their string form.
func (k OptionKey) text(v any, at string) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64, float64, *big.Int, bool:
		return value.ToS(x), nil
	case nil:
		return "", nil
	}
	return "", k.fail("%smust be text, got %s", at, jsonType(v))
}

func (k OptionKey) boolean(v any, at string) (any, error) {
	switch x := v.(type) {
	case bool, nil:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		case "":
			return nil, nil
		}
		return nil, k.fail("%smust be true or false, got %q", at, x)
	}
	return nil, k.fail("%smust be true or false, got %s", at, jsonType(v))
}

// number accepts Integers and Floats, and strings holding one.
func (k OptionKey) number(v any, at string) (any, error) {
	switch x := v.(type) {
	case int64, *big.Int, nil:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, k.fail("%smust be a finite number", at)
		}
		return x, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return nil, nil
		}
		if n, ok := parseNumber(s); ok {
			return n, nil
		}
		return nil, k.fail("%smust be a number, got %q", at, x)
	}
	return nil, k.fail("%smust be a number, got %s", at, jsonType(v))
}

// parseNumber reads a decimal integer or float ("12", "-3", "0.8", "1e3").
func parseNumber(s string) (any, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if b, ok := new(big.Int).SetString(s, 10); ok {
		return value.Int(b), true
	}
	if strings.ContainsAny(s, "xXpP_") || strings.EqualFold(s, "nan") || strings.Contains(strings.ToLower(s), "inf") {
		return nil, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, false
	}
	return f, true
}

func (k OptionKey) choiceValue(v any, i int) (any, error) {
	at := where(i)
	s, ok := v.(string)
	if !ok {
		return nil, k.fail("%smust be one of %s, got %s", at, quoteList(k.Choices), jsonType(v))
	}
	for _, c := range k.Choices {
		if c == s {
			return s, nil
		}
	}
	return nil, k.fail("%smust be one of %s, got %q", at, quoteList(k.Choices), s)
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// gid checks a Shopify GID of the picker's resource.
func (k OptionKey) gid(v any, i int) (any, error) {
	at := where(i)
	want := pickerResources[k.Picker]
	s, ok := v.(string)
	if !ok {
		return nil, k.fail("%smust be a %s ID (gid://shopify/%s/…), got %s", at, k.Picker, want, jsonType(v))
	}
	m := gidPattern.FindStringSubmatch(s)
	if m == nil || m[1] != want {
		return nil, k.fail("%smust be a %s ID (gid://shopify/%s/…), got %q", at, k.Picker, want, s)
	}
	return s, nil
}

// Layouts accepted for date, datetime and time options.
var (
	dateLayouts     = []string{"2006-01-02"}
	dateTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339, "2006-01-02T15:04Z07:00"}
	timeLayouts     = []string{"15:04", "15:04:05"}
)

func (k OptionKey) temporal(v any, at string, mode coerceMode) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, k.fail("%smust be a string, got %s", at, jsonType(v))
	}
	layouts, format := timeLayouts, "HH:MM"
	switch {
	case k.Date:
		layouts, format = dateLayouts, "YYYY-MM-DD"
	case k.DateTime:
		layouts, format = dateTimeLayouts, "YYYY-MM-DDTHH:MM"
	}
	var (
		t   time.Time
		err error
	)
	for _, l := range layouts {
		if t, err = time.Parse(l, strings.TrimSpace(s)); err == nil {
			break
		}
	}
	if err != nil {
		return nil, k.fail("%smust be formatted %s, got %q", at, format, s)
	}
	if k.FutureOnly && !mode.stored && !mode.now.IsZero() {
		now := mode.now
		if k.Date {
			y, m, d := now.Date()
			now = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		if t.Before(now) {
			return nil, k.fail("%smust not be in the past, got %q", at, s)
		}
	}
	return s, nil
}

// jsonType names the JSON type of a canonical value for messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int64, float64, *big.Int:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case *value.Map:
		return "object"
	}
	return value.TypeName(v)
}

// CoercedOptions returns the options a task run sees: every key of
// OptionKeys (declared, then referenced but not stored, which read as nil),
// each value converted by its flags as Coerce does (numeric strings become
// numbers, and so on). Unfilled required options stay empty rather than
// failing; values that cannot be converted are kept as stored and reported
// as FieldErrors.
func (t *Task) CoercedOptions() (*value.Map, []FieldError) {
	keys := t.OptionKeys()
	out := value.NewMap(len(keys))
	var errs []FieldError
	for _, key := range keys {
		raw, _ := t.Options.Get(key)
		k, err := ParseOptionKey(key)
		if err != nil {
			errs = append(errs, FieldError{Key: key, Message: err.Error()})
			out.Set(key, raw)
			continue
		}
		v, err := k.coerce(raw, coerceMode{stored: true})
		if err != nil {
			if fe, ok := err.(*FieldError); ok {
				errs = append(errs, *fe)
			} else {
				errs = append(errs, FieldError{Key: key, Message: err.Error()})
			}
			out.Set(key, raw)
			continue
		}
		out.Set(key, v)
	}
	return out, errs
}
