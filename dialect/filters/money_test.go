package filters

import "testing"

// euroShop is a shop selling in euros with a comma-separated money format.
type euroShop struct{ testCtx }

func (euroShop) Currency() string                { return "EUR" }
func (euroShop) MoneyFormat() string             { return "€{{amount_with_comma_separator}}" }
func (euroShop) MoneyWithCurrencyFormat() string { return "€{{amount_with_comma_separator}} EUR" }

func TestCurrency(t *testing.T) {
	c := newCtx(t, "UTC")
	cases := []filterCase{
		// platform/liquid/filters/README.md "currency" (shop currency USD, locale en).
		{name: "string amount", filter: "currency", input: "100000.0", want: `"$100,000.00"`},
		{name: "eur", filter: "currency", input: 100000.0, args: []any{"EUR"}, want: `"€100,000.00"`},
		{name: "eur fr", filter: "currency", input: int64(100000), args: []any{"EUR"}, kw: kw("locale", "fr"), want: `"€100 000,00"`},
		{name: "shop currency fr", filter: "currency", input: int64(100000), kw: kw("locale", "fr"), want: `"$100 000,00"`},
		// money gem rounds half to even (BigDecimal ROUND_HALF_EVEN, checked with ruby -rbigdecimal).
		{name: "half even down", filter: "currency", input: "2.345", want: `"$2.34"`},
		{name: "half even up", filter: "currency", input: "2.355", want: `"$2.36"`},
		// money 6.16 (ruby-money) keeps the sign with the number.
		{name: "negative", filter: "currency", input: -1234.5, want: `"$-1,234.50"`},
		{name: "negative symbol after", filter: "currency", input: -1234.5, args: []any{"SEK"}, want: `"-1,234.50 kr"`},
		{name: "rounds to zero without sign", filter: "currency", input: "-0.004", want: `"$0.00"`},
		{name: "three decimals", filter: "currency", input: 1234.5, args: []any{"KWD"}, want: `"د.ك1,234.500"`},
		{name: "zero decimal forint", filter: "currency", input: 1234.5, args: []any{"HUF"}, want: `"1,234 Ft"`},
		{name: "zero decimals", filter: "currency", input: 1234.5, args: []any{"JPY"}, want: `"¥1,234"`},
		{name: "symbol after", filter: "currency", input: int64(5), args: []any{"sek"}, want: `"5.00 kr"`},
		{name: "unknown currency", filter: "currency", input: int64(5), args: []any{"XYZ"}, err: "unknown currency"},
		{name: "unknown locale", filter: "currency", input: int64(5), kw: kw("locale", "xx"), err: "not a valid locale"},
		{name: "not a number", filter: "currency", input: "abc", err: "invalid number"},
		{name: "array", filter: "currency", input: js(t, `[1]`), err: "expected a number, got Array"},
	}
	runCases(t, c, cases)
	runCases(t, euroShop{c}, []filterCase{
		{name: "shop default currency", filter: "currency", input: int64(3), want: `"€3.00"`},
	})
}

func TestMoney(t *testing.T) {
	c := newCtx(t, "UTC")
	// Shopify money filters take cents and use the shop's money formats.
	cases := []filterCase{
		{name: "money", filter: "money", input: int64(145000), want: `"$1,450.00"`},
		{name: "money_with_currency", filter: "money_with_currency", input: int64(145000), want: `"$1,450.00 USD"`},
		{name: "money_without_currency", filter: "money_without_currency", input: int64(145000), want: `"1,450.00"`},
		{name: "money_without_trailing_zeros", filter: "money_without_trailing_zeros", input: int64(145000), want: `"$1,450"`},
		{name: "money_without_trailing_zeros keeps cents", filter: "money_without_trailing_zeros", input: int64(145050), want: `"$1,450.50"`},
		{name: "money float cents", filter: "money", input: 1999.0, want: `"$19.99"`},
		{name: "money string cents", filter: "money", input: "1999", want: `"$19.99"`},
		{name: "money nil", filter: "money", input: nil, want: `""`},
		{name: "money negative", filter: "money", input: int64(-5), want: `"-$0.05"`},
		{name: "money bad", filter: "money", input: "x", err: "invalid number"},
	}
	runCases(t, c, cases)
	runCases(t, euroShop{c}, []filterCase{
		{name: "shop format", filter: "money", input: int64(145000), want: `"€1.450,00"`},
		{name: "shop format with currency", filter: "money_with_currency", input: int64(145000), want: `"€1.450,00 EUR"`},
		{name: "shop format trailing zeros", filter: "money_without_trailing_zeros", input: int64(145000), want: `"€1.450"`},
	})
}
