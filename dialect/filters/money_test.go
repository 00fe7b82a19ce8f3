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

func TestBrowser(t *testing.T) {
	c := newCtx(t, "UTC")
	// platform/liquid/filters/README.md "browser" example.
	const gsa = "Mozilla/5.0 (iPhone; CPU iPhone OS 12_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/79.0.259819395 Mobile/16G77 Safari/604.1"
	got, err := call(t, c, "browser", gsa, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := got.(*Browser)
	lookup := func(v any, path ...string) any {
		for _, p := range path {
			d, ok := v.(interface{ Get(string) (any, bool) })
			if !ok {
				return nil
			}
			v, _ = d.Get(p)
		}
		return v
	}
	str := func(v any) string {
		if s, ok := v.(interface{ LiquidString() string }); ok {
			return s.LiquidString()
		}
		if s, ok := v.(string); ok {
			return s
		}
		return "<nil>"
	}
	checks := []struct {
		path []string
		want string
	}{
		{nil, "Google 79.0.259819395"},
		{[]string{"name"}, "Google"},
		{[]string{"version"}, "79.0.259819395"},
		{[]string{"version", "major"}, "79"},
		{[]string{"version", "minor"}, "0"},
		{[]string{"os"}, "iOS 12.4"},
		{[]string{"os", "name"}, "iOS"},
		{[]string{"os", "version"}, "12.4"},
		{[]string{"os", "version", "major"}, "12"},
		{[]string{"os", "version", "minor"}, "4"},
		{[]string{"device"}, "iPhone"},
		{[]string{"device", "name"}, "iPhone"},
		{[]string{"device", "brand"}, "Apple"},
		{[]string{"device", "model"}, "iPhone"},
	}
	for _, ch := range checks {
		if g := str(lookup(b, ch.path...)); g != ch.want {
			t.Errorf("browser %v = %q, want %q", ch.path, g, ch.want)
		}
	}

	others := []struct{ ua, want, os, device string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36", "Chrome 120.0.6099.109", "Windows 10", "Other"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "Safari 17.1", "Mac OS X 10.15.7", "Mac"},
		{"Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36", "Chrome Mobile 119.0.0.0", "Android 13", "Samsung SM-S918B"},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121.0", "Ubuntu", "Other"},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot 2.1", "Other", "Spider"},
		{"curl/8.0", "Other", "Other", "Other"},
	}
	for _, o := range others {
		p := ParseUserAgent(o.ua)
		if p.LiquidString() != o.want || p.os.LiquidString() != o.os || p.device.LiquidString() != o.device {
			t.Errorf("%s\n got %q / %q / %q\nwant %q / %q / %q", o.ua, p.LiquidString(), p.os.LiquidString(), p.device.LiquidString(), o.want, o.os, o.device)
		}
	}
	j := toJSON(t, ParseUserAgent(gsa))
	if j != `{"name":"Google","version":"79.0.259819395","os":{"name":"iOS","version":"12.4"},"device":{"name":"iPhone","brand":"Apple","model":"iPhone"}}` {
		t.Errorf("browser json = %s", j)
	}
	if _, err := call(t, c, "browser", js(t, `{}`), nil, nil); err == nil {
		t.Error("browser of a hash should fail")
	}
}
