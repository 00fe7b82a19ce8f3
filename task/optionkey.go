package task

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Kind is the input control an option key asks for, decided by its flags
// (docs: core/tasks/options/README.md, "Input-type flags").
type Kind string

// The input kinds of options.
const (
	KindText        Kind = "text"
	KindMultiline   Kind = "multiline"
	KindCode        Kind = "code"
	KindBoolean     Kind = "boolean"
	KindNumber      Kind = "number"
	KindKeyVal      Kind = "keyval"
	KindArray       Kind = "array"
	KindDate        Kind = "date"
	KindDateTime    Kind = "datetime"
	KindTime        Kind = "time"
	KindColor       Kind = "color"
	KindRange       Kind = "range"
	KindSelect      Kind = "select"
	KindChoice      Kind = "choice"
	KindMultiselect Kind = "multiselect"
	KindPicker      Kind = "picker"
	KindGlobal      Kind = "global"
	KindSecret      Kind = "secret"
)

// Range is the slider specification of a range option: min and max are
// required, step defaults to 1.
type Range struct {
	Min, Max, Step int64
}

// OptionKey is an option key split into its base name and flags, following
// `<name>[__<flag>[_<flag>…]][__<flag>…]`.
type OptionKey struct {
	// Key is the whole key, as written.
	Key string
	// Name is the base name before the first "__"; it is also the name of
	// the user-form input (input.<name>).
	Name string
	// Flags lists the flag words in the order written, each once, without
	// choice values and range bounds; a picker appears as "picker_<resource>".
	Flags []string

	// Required: the value must not be empty.
	Required bool
	// Email: values are email addresses.
	Email bool
	// UserForm: the option also appears on the Run task form.
	UserForm bool
	// FutureOnly: date and datetime values must not be in the past.
	FutureOnly bool

	// Multiline: a multi-line text area.
	Multiline bool
	// Code: a code-formatted text area.
	Code bool
	// Boolean: a checkbox.
	Boolean bool
	// Number: a number, or numeric elements in an array or keyval.
	Number bool
	// KeyVal: a hash of string keys to values.
	KeyVal bool
	// Array: a list of values (also set for picker_<resource>_array).
	Array bool
	// Date: "YYYY-MM-DD".
	Date bool
	// DateTime: "YYYY-MM-DDTHH:MM" (seconds optional).
	DateTime bool
	// Time: "HH:MM".
	Time bool
	// Color: "#RRGGBB".
	Color bool
	// Global: the value of a shop global.
	Global bool
	// Secret: a reference to a shop secret.
	Secret bool

	// Select, Choice and Multiselect: choice lists (dropdown, radio
	// buttons, checkbox list); Choices holds the values in ordinal order.
	Select, Choice, Multiselect bool
	// Choices are the allowed values of a select, choice or multiselect.
	Choices []string
	// Range is the slider of a range option, or nil.
	Range *Range
	// Picker is the Shopify resource of a picker: "product", "variant" or
	// "collection"; empty for other options.
	Picker string
}

// pickerResources maps picker resources to the GraphQL type of their IDs.
var pickerResources = map[string]string{
	"product":    "Product",
	"variant":    "ProductVariant",
	"collection": "Collection",
}

// simpleFlags are flag words without arguments.
var simpleFlags = map[string]func(k *OptionKey){
	"required":   func(k *OptionKey) { k.Required = true },
	"email":      func(k *OptionKey) { k.Email = true },
	"userform":   func(k *OptionKey) { k.UserForm = true },
	"futureonly": func(k *OptionKey) { k.FutureOnly = true },
	"multiline":  func(k *OptionKey) { k.Multiline = true },
	"code":       func(k *OptionKey) { k.Code = true },
	"boolean":    func(k *OptionKey) { k.Boolean = true },
	"number":     func(k *OptionKey) { k.Number = true },
	"keyval":     func(k *OptionKey) { k.KeyVal = true },
	"array":      func(k *OptionKey) { k.Array = true },
	"date":       func(k *OptionKey) { k.Date = true },
	"datetime":   func(k *OptionKey) { k.DateTime = true },
	"time":       func(k *OptionKey) { k.Time = true },
	"color":      func(k *OptionKey) { k.Color = true },
	"global":     func(k *OptionKey) { k.Global = true },
	"secret":     func(k *OptionKey) { k.Secret = true },
}

// modifiers may trail a choice list in the same segment
// (`__select_o1_a_o2_b_userform_required`).
var choiceModifiers = map[string]bool{"required": true, "userform": true}

// formModifiers must not precede a choice-list input type.
var formModifiers = map[string]bool{"required": true, "userform": true, "email": true}

func isOrdinal(tok string) (int, bool) {
	if len(tok) < 2 || tok[0] != 'o' {
		return 0, false
	}
	n, err := strconv.Atoi(tok[1:])
	if err != nil || n < 0 || tok[1] == '+' || tok[1] == '-' {
		return 0, false
	}
	return n, true
}

func validNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// ParseOptionKey splits an option key into its base name and flags. Flags
// follow the first "__", separated by "_" or "__", in any order
// (number_required is required_number); choice lists run `o<N>_<value>`
// with values in ordinal order and underscores kept; ranges are
// range_min<X>_max<Y>[_step<Z>] with integer bounds (min may be negative);
// pickers are picker_<product|variant|collection>[_array]. Unknown flag
// words, conflicting input types, modifiers before a choice-list type,
// secret with userform, and futureonly without a date are errors.
// (docs: core/tasks/options/README.md)
func ParseOptionKey(key string) (OptionKey, error) {
	k := OptionKey{Key: key}
	if key == "" {
		return k, errors.New("empty option key")
	}
	if key[0] < 'a' || key[0] > 'z' {
		return k, fmt.Errorf("option key must start with a lowercase letter")
	}
	name, rest, hasFlags := strings.Cut(key, "__")
	for i := 0; i < len(name); i++ {
		if !validNameChar(name[i]) {
			return k, fmt.Errorf("invalid character %q in option name", name[i])
		}
	}
	k.Name = name
	if !hasFlags {
		return k, nil
	}
	if rest == "" {
		return k, errors.New("empty flags after \"__\"")
	}
	seen := map[string]bool{}
	addFlag := func(f string) {
		if !seen[f] {
			seen[f] = true
			k.Flags = append(k.Flags, f)
		}
	}
	segments := strings.Split(rest, "__")
	choiceOpen := false // a choice list may continue in the next segment
	var ordinals []int
	for _, seg := range segments {
		toks := strings.Split(seg, "_")
		for _, t := range toks {
			if t == "" {
				return k, errors.New("empty flag (stray underscore)")
			}
		}
		i := 0
		if choiceOpen {
			if _, ok := isOrdinal(toks[0]); ok {
				var err error
				var trailing []string
				if trailing, err = k.addChoices(toks, &ordinals); err != nil {
					return k, err
				}
				for _, m := range trailing {
					simpleFlags[m](&k)
					addFlag(m)
				}
				continue
			}
			choiceOpen = false
		}
		for i < len(toks) {
			t := toks[i]
			switch t {
			case "select", "choice", "multiselect":
				if k.Select || k.Choice || k.Multiselect {
					return k, fmt.Errorf("more than one choice list (%q)", t)
				}
				for _, f := range k.Flags {
					if formModifiers[f] {
						return k, fmt.Errorf("modifier %q must follow the %q input type", f, t)
					}
				}
				switch t {
				case "select":
					k.Select = true
				case "choice":
					k.Choice = true
				default:
					k.Multiselect = true
				}
				addFlag(t)
				trailing, err := k.addChoices(toks[i+1:], &ordinals)
				if err != nil {
					return k, err
				}
				for _, m := range trailing {
					simpleFlags[m](&k)
					addFlag(m)
				}
				choiceOpen = len(trailing) == 0
				i = len(toks)
			case "picker":
				if i+1 >= len(toks) {
					return k, errors.New("picker needs a resource (product, variant or collection)")
				}
				res := toks[i+1]
				if _, ok := pickerResources[res]; !ok {
					return k, fmt.Errorf("unsupported picker resource %q (want product, variant or collection)", res)
				}
				if k.Picker != "" {
					return k, errors.New("more than one picker")
				}
				k.Picker = res
				addFlag("picker_" + res)
				i += 2
			case "range":
				if k.Range != nil {
					return k, errors.New("more than one range")
				}
				r := &Range{Step: 1}
				var hasMin, hasMax bool
				i++
				for i < len(toks) {
					n, v, ok := rangeBound(toks[i])
					if !ok {
						break
					}
					switch n {
					case "min":
						r.Min, hasMin = v, true
					case "max":
						r.Max, hasMax = v, true
					case "step":
						r.Step = v
					}
					i++
				}
				if !hasMin || !hasMax {
					return k, errors.New("range needs both min<X> and max<Y>")
				}
				if r.Min > r.Max {
					return k, fmt.Errorf("range min %d is above max %d", r.Min, r.Max)
				}
				if r.Step <= 0 {
					return k, fmt.Errorf("range step %d must be positive", r.Step)
				}
				k.Range = r
				addFlag("range")
			default:
				set, ok := simpleFlags[t]
				if !ok {
					if strings.HasPrefix(t, "min") || strings.HasPrefix(t, "max") || strings.HasPrefix(t, "step") {
						return k, fmt.Errorf("%q outside a range flag", t)
					}
					if _, ord := isOrdinal(t); ord {
						return k, fmt.Errorf("choice %q outside a select, choice or multiselect flag", t)
					}
					return k, fmt.Errorf("unknown flag %q", t)
				}
				set(&k)
				addFlag(t)
				i++
			}
		}
	}
	if err := k.check(); err != nil {
		return k, err
	}
	return k, nil
}

// rangeBound reads min<N>, max<N> or step<N>.
func rangeBound(tok string) (string, int64, bool) {
	for _, p := range []string{"min", "max", "step"} {
		if num, ok := strings.CutPrefix(tok, p); ok && num != "" {
			v, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				return "", 0, false
			}
			return p, v, true
		}
	}
	return "", 0, false
}

// addChoices reads `o<N>_<value…>` pairs from toks, returning the modifier
// words that trail the list.
func (k *OptionKey) addChoices(toks []string, ordinals *[]int) ([]string, error) {
	end := len(toks)
	for end > 0 && choiceModifiers[toks[end-1]] {
		end--
	}
	trailing := toks[end:]
	toks = toks[:end]
	for i := 0; i < len(toks); {
		n, ok := isOrdinal(toks[i])
		if !ok {
			return nil, fmt.Errorf("choice list: expected o<N> before %q", toks[i])
		}
		j := i + 1
		for j < len(toks) {
			if _, next := isOrdinal(toks[j]); next {
				break
			}
			j++
		}
		if j == i+1 {
			return nil, fmt.Errorf("choice list: %s has no value", toks[i])
		}
		for _, o := range *ordinals {
			if o == n {
				return nil, fmt.Errorf("choice list: duplicate ordinal %s", toks[i])
			}
		}
		*ordinals = append(*ordinals, n)
		k.Choices = append(k.Choices, strings.Join(toks[i+1:j], "_"))
		i = j
	}
	// Order choices by ordinal.
	idx := make([]int, len(k.Choices))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return (*ordinals)[idx[a]] < (*ordinals)[idx[b]] })
	choices := make([]string, len(idx))
	ords := make([]int, len(idx))
	for i, j := range idx {
		choices[i] = k.Choices[j]
		ords[i] = (*ordinals)[j]
	}
	k.Choices = choices
	*ordinals = ords
	return trailing, nil
}

// check rejects conflicting flags.
func (k *OptionKey) check() error {
	var scalar []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{k.Boolean, "boolean"}, {k.Number, "number"}, {k.Date, "date"},
		{k.DateTime, "datetime"}, {k.Time, "time"}, {k.Color, "color"},
		{k.Range != nil, "range"}, {k.Select, "select"}, {k.Choice, "choice"},
		{k.Multiselect, "multiselect"}, {k.Picker != "", "picker"},
		{k.Global, "global"}, {k.Secret, "secret"},
	} {
		if f.on {
			scalar = append(scalar, f.name)
		}
	}
	if len(scalar) > 1 {
		return fmt.Errorf("conflicting input types %s", strings.Join(scalar, " and "))
	}
	if k.KeyVal && k.Array {
		return errors.New("conflicting input types keyval and array")
	}
	if (k.Select || k.Choice || k.Multiselect) && len(k.Choices) == 0 {
		return errors.New("choice list has no choices (o1_<value>…)")
	}
	if (k.Select || k.Choice || k.Multiselect || k.Picker != "") && k.KeyVal {
		return fmt.Errorf("%s cannot be combined with keyval", scalar[0])
	}
	if (k.Select || k.Choice || k.Multiselect) && k.Array {
		return fmt.Errorf("%s cannot be combined with array", scalar[0])
	}
	if k.Secret && k.UserForm {
		return errors.New("secret options cannot be combined with userform")
	}
	if k.FutureOnly && !k.Date && !k.DateTime {
		return errors.New("futureonly needs date or datetime")
	}
	if k.Email && len(scalar) > 0 && !k.Multiselect {
		return fmt.Errorf("email cannot be combined with %s", scalar[0])
	}
	if k.Boolean && (k.Array || k.KeyVal) {
		return errors.New("boolean cannot be combined with array or keyval")
	}
	return nil
}

// Kind returns the input control of the option.
func (k OptionKey) Kind() Kind {
	switch {
	case k.Picker != "":
		return KindPicker
	case k.Multiselect:
		return KindMultiselect
	case k.Select:
		return KindSelect
	case k.Choice:
		return KindChoice
	case k.Range != nil:
		return KindRange
	case k.KeyVal:
		return KindKeyVal
	case k.Array:
		return KindArray
	case k.Boolean:
		return KindBoolean
	case k.Number:
		return KindNumber
	case k.Date:
		return KindDate
	case k.DateTime:
		return KindDateTime
	case k.Time:
		return KindTime
	case k.Color:
		return KindColor
	case k.Global:
		return KindGlobal
	case k.Secret:
		return KindSecret
	case k.Code:
		return KindCode
	case k.Multiline:
		return KindMultiline
	}
	return KindText
}

// Label returns the field label Mechanic derives from the base name:
// underscores become spaces and the first letter is capitalised.
func (k OptionKey) Label() string {
	s := strings.TrimSpace(strings.ReplaceAll(k.Name, "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Has reports whether the key carries the flag word f (as listed in Flags).
func (k OptionKey) Has(f string) bool {
	for _, x := range k.Flags {
		if x == f {
			return true
		}
	}
	return false
}
