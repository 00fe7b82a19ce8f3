// Package filters holds the Liquid filters that Mechanic adds to Shopify's
// Liquid: JSON, CSV and XML conversion, encodings and digests, Ruby regular
// expressions, array and hash helpers, money formatting and Mechanic's
// extended date filter.
//
// Every filter is a pure filter.Func; Mechanic returns them by name so that
// the dialect can register them with the engine. Where Mechanic's filters
// depend on the shop, they read it from the render:
//
//   - the shop's time zone (date, parse_date) is the render's "shop"
//     variable's iana_timezone, else the zone of the render's clock;
//   - currency and the money filters use shop.currency, shop.money_format
//     and shop.money_with_currency_format (or a context implementing Shop);
//   - the signing filters (hmac_*, rsa_*) resolve secret references through
//     a SecretSource placed in the render's context.Context by WithSecrets;
//   - sample draws from the context's Randomizer when it has one.
//
// Filters are bounded: regular expressions have a time budget
// (RegexpTimeout), gunzip an output cap (MaxGunzipSize), and padding and
// nesting limits keep outputs proportional to inputs.
package filters

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Mechanic returns Mechanic's filters by name. The shopify filter, which
// needs a GraphQL client, is not among them.
func Mechanic() map[string]filter.Func {
	return map[string]filter.Func{
		// data
		"json":              noOptions("json", jsonFilter),
		"parse_json":        decoding(parseJSON),
		"jsonl":             noOptions("jsonl", jsonl),
		"parse_jsonl":       decoding(noOptions("parse_jsonl", parseJSONL)),
		"graphql_arguments": noOptions("graphql_arguments", graphqlArguments),
		"csv":               csvFilter,
		"parse_csv":         decoding(parseCSV),
		"parse_xml":         decoding(noOptions("parse_xml", parseXML)),
		"browser":           noOptions("browser", browser),
		"date":              dateFilter,
		"parse_date":        noOptions("parse_date", parseDate),
		// encodings
		"base64":           noOptions("base64", base64Encode),
		"decode_base64":    decoding(base64Decode),
		"base64url":        noOptions("base64url", base64URLEncode),
		"decode_base64url": decoding(base64URLDecode),
		"gzip":             noOptions("gzip", gzipFilter),
		"gunzip":           decoding(gunzipFilter),
		// digests and signatures
		"md5":         digestFilter("md5"),
		"sha1":        digestFilter("sha1"),
		"sha256":      digestFilter("sha256"),
		"sha512":      digestFilter("sha512"),
		"hmac_sha1":   hmacFilter("hmac_sha1"),
		"hmac_sha256": hmacFilter("hmac_sha256"),
		"hmac_sha512": hmacFilter("hmac_sha512"),
		"rsa_sha256":  rsaFilter("rsa_sha256"),
		"rsa_sha512":  rsaFilter("rsa_sha512"),
		// strings
		"match":            noOptions("match", matchFilter),
		"scan":             noOptions("scan", scanFilter),
		"e164":             noOptions("e164", e164),
		"unindent":         noOptions("unindent", unindent),
		"pluralize":        noOptions("pluralize", pluralize),
		"handleize":        noOptions("handleize", handleize),
		"handle":           noOptions("handle", handleize),
		"url_escape":       noOptions("url_escape", urlEscape),
		"url_param_escape": noOptions("url_param_escape", urlParamEscape),
		"add_tag":          tagFilter("add_tag", true),
		"add_tags":         tagFilter("add_tags", true),
		"remove_tag":       tagFilter("remove_tag", false),
		"remove_tags":      tagFilter("remove_tags", false),
		"img_url":          imgURL,
		// money
		"currency":                     currency,
		"money":                        noOptions("money", moneyFilter("money")),
		"money_with_currency":          noOptions("money_with_currency", moneyFilter("money_with_currency")),
		"money_without_currency":       noOptions("money_without_currency", moneyFilter("money_without_currency")),
		"money_without_trailing_zeros": noOptions("money_without_trailing_zeros", moneyFilter("money_without_trailing_zeros")),
		// arrays and hashes
		"in_groups":      inGroups,
		"in_groups_of":   inGroupsOf,
		"index_by":       noOptions("index_by", indexBy),
		"push":           noOptions("push", push),
		"unshift":        noOptions("unshift", unshift),
		"except":         noOptions("except", except),
		"sample":         noOptions("sample", sample),
		"slice":          noOptions("slice", slice),
		"sort_naturally": noOptions("sort_naturally", sortNaturally),
		"sum":            noOptions("sum", sum),
		"compact":        noOptions("compact", compact),
		"keys":           noOptions("keys", keys),
		"values":         noOptions("values", values),
	}
}

// decoding wraps a filter that decodes its input into a new value (parse_json,
// parse_csv, parse_xml, the base64 decoders, gunzip) so that both count
// against the render's memory budget: the input's bytes before decoding
// (the decoders copy or scan them) and the decoded value after.
func decoding(f filter.Func) filter.Func {
	return func(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
		if s, ok := input.(string); ok {
			if err := filter.Charge(c, int64(len(s))); err != nil {
				return nil, err
			}
		}
		out, err := f(c, input, args, kwargs)
		if err != nil {
			return nil, err
		}
		if err := filter.ChargeValue(c, out); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// noOptions wraps a filter that takes no keyword arguments so that any
// given are reported instead of ignored.
func noOptions(name string, f filter.Func) filter.Func {
	return func(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
		if kwargs != nil && kwargs.Len() > 0 {
			return nil, errorf("%s: unknown option %q", name, kwargs.Keys()[0])
		}
		return f(c, input, args, nil)
	}
}

// errorf builds a filter error shown to the template author.
func errorf(format string, args ...any) error {
	return filter.Errorf(format, args...)
}

// arity checks the number of positional arguments of filter name.
func arity(name string, args []any, min, max int) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		want := strconv.Itoa(min)
		switch {
		case max < 0:
			want += "+"
		case max != min:
			want += ".." + strconv.Itoa(max)
		}
		return errorf("wrong number of arguments (given %d, expected %s)", len(args)+1, incr(want))
	}
	return nil
}

// incr adds one to each number of a Ruby arity string, since Ruby counts the
// filter's input as its first argument.
func incr(want string) string {
	var b strings.Builder
	num := ""
	flush := func() {
		if num != "" {
			n, _ := strconv.Atoi(num)
			b.WriteString(strconv.Itoa(n + 1))
			num = ""
		}
	}
	for _, r := range want {
		if r >= '0' && r <= '9' {
			num += string(r)
			continue
		}
		flush()
		b.WriteRune(r)
	}
	flush()
	return b.String()
}

// kwarg returns the keyword argument name, or nil.
func kwarg(kwargs *value.Map, name string) (any, bool) {
	if kwargs == nil {
		return nil, false
	}
	return kwargs.Get(name)
}

// kwBool reports the truthiness of keyword argument name, or def when absent.
func kwBool(kwargs *value.Map, name string, def bool) bool {
	v, ok := kwarg(kwargs, name)
	if !ok {
		return def
	}
	return value.Truthy(v)
}

// checkKwargs rejects keyword arguments a filter does not know.
func checkKwargs(name string, kwargs *value.Map, allowed ...string) error {
	if kwargs == nil {
		return nil
	}
	for _, k := range kwargs.Keys() {
		found := false
		for _, a := range allowed {
			if a == k {
				found = true
				break
			}
		}
		if !found {
			return errorf("%s: unknown option %q", name, k)
		}
	}
	return nil
}

// str converts a filter input to a string the way Ruby's to_s does for
// scalars; arrays, hashes and drops are rejected.
func str(name string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	case bool, int64, float64, *big.Int:
		return value.ToS(x), nil
	case value.Stringer:
		return x.LiquidString(), nil
	}
	return "", errorf("%s: expected a string, got %s", name, value.TypeName(v))
}

// rubyToS is Ruby's to_s of any value: scalars as str does, arrays and
// hashes inspected.
func rubyToS(v any) string {
	if s, err := str("", v); err == nil {
		return s
	}
	return value.ToS(v)
}

// toInt converts an integer-like argument (Integer, integral Float or
// numeric String) to int64.
func toInt(name string, v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || x > math.MaxInt64 || x < math.MinInt64 {
			return 0, errorf("%s: invalid integer %s", name, value.FormatFloat(x))
		}
		return int64(x), nil
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return int64(f), nil
		}
	}
	return 0, errorf("%s: invalid integer %s", name, value.Inspect(v))
}

// toArray returns v as an array: arrays as they are, ranges expanded, and
// hashes as [key, value] pairs. ok is false for other values.
func toArray(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case value.Range:
		if x.Len() > maxRangeExpand {
			return nil, false
		}
		return x.Slice(), true
	case *value.Map:
		return x.Pairs(), true
	}
	return nil, false
}

// maxRangeExpand bounds how many integers a range may expand to.
const maxRangeExpand = 1 << 20

// wrapErr adds the filter name to an error from a helper.
func wrapErr(name string, err error) error {
	return errorf("%s: %s", name, err.Error())
}
