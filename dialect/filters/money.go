package filters

import (
	"math/big"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/filter"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Shop is implemented by filter contexts that know the shop's currency and
// money formats. Contexts without it are asked for the render's "shop"
// variable (Mechanic's REST shop object: currency, money_format,
// money_with_currency_format); without either the filters assume US dollars.
type Shop interface {
	// Currency is the shop's ISO 4217 currency code, e.g. "USD".
	Currency() string
	// MoneyFormat is the shop's money format, e.g. "${{amount}}".
	MoneyFormat() string
	// MoneyWithCurrencyFormat is the format with the currency code, e.g.
	// "${{amount}} USD".
	MoneyWithCurrencyFormat() string
}

// variables is implemented by render contexts that expose the template's
// variables.
type variables interface {
	Get(name string) (any, bool)
}

// shopField reads a string field of the shop: from a Shop context, else
// from the render's shop variable.
func shopField(c filter.Context, field string) string {
	if shop, ok := c.(Shop); ok {
		switch field {
		case "currency":
			return shop.Currency()
		case "money_format":
			return shop.MoneyFormat()
		case "money_with_currency_format":
			return shop.MoneyWithCurrencyFormat()
		}
		return ""
	}
	vars, ok := c.(variables)
	if !ok {
		return ""
	}
	shop, ok := vars.Get("shop")
	if !ok || shop == nil {
		return ""
	}
	v, ok := value.Index(shop, field)
	if !ok {
		return ""
	}
	s, _ := v.(string)
	return s
}

type currencyInfo struct {
	symbol      string
	decimals    int
	symbolFirst bool
}

type localeInfo struct{ delimiter, separator string }

// locales holds the thousands delimiter and decimal separator of common
// locales.
var locales = map[string]localeInfo{
	"en": {",", "."}, "en-US": {",", "."}, "en-GB": {",", "."}, "en-CA": {",", "."}, "en-AU": {",", "."},
	"en-NZ": {",", "."}, "en-IE": {",", "."}, "ja": {",", "."}, "zh-CN": {",", "."}, "ko": {",", "."},
	"fr": {" ", ","}, "fr-CA": {" ", ","}, "fr-FR": {" ", ","}, "de": {".", ","}, "de-AT": {".", ","},
	"de-CH": {"'", "."}, "es": {".", ","}, "es-MX": {",", "."}, "it": {".", ","}, "nl": {".", ","},
	"pt": {".", ","}, "pt-BR": {".", ","}, "sv": {" ", ","}, "da": {".", ","}, "nb": {" ", ","},
	"fi": {" ", ","}, "pl": {" ", ","}, "cs": {" ", ","}, "ru": {" ", ","}, "tr": {".", ","},
}

// decimalOf converts a number or numeric string to an exact rational.
func decimalOf(name string, v any) (*big.Rat, error) {
	var s string
	switch x := v.(type) {
	case int64:
		return new(big.Rat).SetInt64(x), nil
	case *big.Int:
		return new(big.Rat).SetInt(x), nil
	case float64:
		s = value.FormatFloat(x)
	case string:
		s = strings.TrimSpace(x)
	case nil:
		return new(big.Rat), nil
	default:
		return nil, errorf("%s: expected a number, got %s", name, value.TypeName(v))
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || len(s) > 400 {
		return nil, errorf("%s: invalid number %s", name, value.InspectString(s))
	}
	return r, nil
}

// roundHalfEven rounds r to the given number of decimals, ties to even, and
// returns the digits of |r| and whether r is negative.
func roundHalfEven(r *big.Rat, decimals int) (*big.Int, bool) {
	neg := r.Sign() < 0
	a := new(big.Rat).Abs(r)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	a.Mul(a, new(big.Rat).SetInt(scale))
	q, m := new(big.Int).QuoRem(a.Num(), a.Denom(), new(big.Int))
	twice := new(big.Int).Mul(m, big.NewInt(2))
	switch twice.Cmp(a.Denom()) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q, neg && q.Sign() != 0
}

// formatDecimal renders scaled digits with the given number of decimals,
// thousands delimiter and decimal separator.
func formatDecimal(digits *big.Int, decimals int, delim, sep string) string {
	s := digits.String()
	for len(s) <= decimals {
		s = "0" + s
	}
	intPart, frac := s[:len(s)-decimals], s[len(s)-decimals:]
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(delim)
		}
		b.WriteRune(c)
	}
	if decimals > 0 {
		b.WriteString(sep)
		b.WriteString(frac)
	}
	return b.String()
}

// currency formats an amount with a currency symbol: the shop's currency or
// the ISO code given, with the separators of the locale: option.
func currency(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
	if err := arity("currency", args, 0, 1); err != nil {
		return nil, err
	}
	if err := checkKwargs("currency", kwargs, "locale"); err != nil {
		return nil, err
	}
	code := "USD"
	if cur := shopField(c, "currency"); cur != "" {
		code = strings.ToUpper(cur)
	}
	if len(args) == 1 && args[0] != nil {
		code = strings.ToUpper(value.ToS(args[0]))
	}
	info, ok := currencies[code]
	if !ok {
		return nil, errorf("currency: unknown currency %s", value.InspectString(code))
	}
	loc := locales["en"]
	if l, ok := kwarg(kwargs, "locale"); ok && l != nil {
		name := value.ToS(l)
		if loc, ok = locales[name]; !ok {
			return nil, errorf("currency: %s is not a valid locale", value.InspectString(name))
		}
	}
	r, err := decimalOf("currency", input)
	if err != nil {
		return nil, err
	}
	digits, neg := roundHalfEven(r, info.decimals)
	num := formatDecimal(digits, info.decimals, loc.delimiter, loc.separator)
	if neg {
		num = "-" + num
	}
	// As the money gem formats: the sign stays with the number ("$-1.00").
	if info.symbolFirst {
		return info.symbol + num, nil
	}
	return num + " " + info.symbol, nil
}

// moneyFilter returns one of Shopify's money filters: the input is an
// amount in cents, rendered with the shop's money format; a negative amount
// gets its minus sign in front of the whole text.
func moneyFilter(name string) filter.Func {
	return func(c filter.Context, input any, args []any, kwargs *value.Map) (any, error) {
		if err := arity(name, args, 0, 0); err != nil {
			return nil, err
		}
		format, withCurrency := "${{amount}}", "${{amount}} USD"
		if f := shopField(c, "money_format"); f != "" {
			format = f
		}
		if f := shopField(c, "money_with_currency_format"); f != "" {
			withCurrency = f
		}
		if input == nil {
			return "", nil
		}
		r, err := decimalOf(name, input)
		if err != nil {
			return nil, err
		}
		r.Quo(r, big.NewRat(100, 1))
		switch name {
		case "money_with_currency":
			format = withCurrency
		case "money_without_currency":
			format = "{{amount}}"
		case "money_without_trailing_zeros":
			if r.IsInt() {
				format = strings.ReplaceAll(format, "{{amount}}", "{{amount_no_decimals}}")
				format = strings.ReplaceAll(format, "{{amount_with_comma_separator}}", "{{amount_no_decimals_with_comma_separator}}")
			}
		}
		if r.Sign() < 0 {
			return "-" + applyMoneyFormat(format, r.Neg(r)), nil
		}
		return applyMoneyFormat(format, r), nil
	}
}

func applyMoneyFormat(format string, r *big.Rat) string {
	render := func(decimals int, delim, sep string) string {
		d, neg := roundHalfEven(r, decimals)
		s := formatDecimal(d, decimals, delim, sep)
		if neg {
			s = "-" + s
		}
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(format, "{{")
		if i < 0 {
			b.WriteString(format)
			break
		}
		j := strings.Index(format[i:], "}}")
		if j < 0 {
			b.WriteString(format)
			break
		}
		b.WriteString(format[:i])
		switch strings.TrimSpace(format[i+2 : i+j]) {
		case "amount":
			b.WriteString(render(2, ",", "."))
		case "amount_no_decimals":
			b.WriteString(render(0, ",", "."))
		case "amount_with_comma_separator":
			b.WriteString(render(2, ".", ","))
		case "amount_no_decimals_with_comma_separator":
			b.WriteString(render(0, ".", ","))
		case "amount_with_apostrophe_separator":
			b.WriteString(render(2, "'", "."))
		case "amount_with_space_separator":
			b.WriteString(render(2, " ", ","))
		case "amount_with_period_and_space_separator":
			b.WriteString(render(2, " ", "."))
		default:
			b.WriteString(format[i : i+j+2])
		}
		format = format[i+j+2:]
	}
	return b.String()
}
