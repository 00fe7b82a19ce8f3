package filters_test

import (
	"context"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/dialect/filters"
	"github.com/sprocketrun/sprocket/liquid"
)

// TestDocExamplesThroughEngine renders examples from Mechanic's filter
// reference (platform/liquid/filters/README.md, section named per case)
// with the filters registered in the Liquid engine.
func TestDocExamplesThroughEngine(t *testing.T) {
	eng := liquid.NewEngine()
	for name, f := range filters.Mechanic() {
		eng.RegisterFilter(name, f)
	}
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2021, 1, 4, 13, 6, 0, 0, chicago)
	shop := map[string]any{"currency": "USD", "iana_timezone": "America/Chicago"}
	cases := []struct {
		name, src, want string
		shop            map[string]any
	}{
		{name: "in_groups", src: `{{ abc | parse_json | in_groups: 2 | json }}`, want: `[["1","2"],["3",null]]`},
		{name: "in_groups fill_with false", src: `{{ abc | parse_json | in_groups: 2, fill_with: false | json }}`, want: `[["1","2"],["3"]]`},
		{name: "in_groups_of", src: `{{ five | parse_json | in_groups_of: 2 | json }}`, want: `[["1","2"],["3","4"],["5",null]]`},
		{name: "match lookaround", src: `{{ "It's a lovely day!" | match: "(?<=a ).*(?= day)" }}`, want: `lovely`},
		{name: "match named_captures", src: `{% assign match = "It's a lovely day!" | match: "a (?<adjective>bucolic|lovely) day" %}{{ match.named_captures | json }}`, want: `{"adjective":"lovely"}`},
		{name: "match captures", src: `{% assign match = "It's a lovely day!" | match: "a (bucolic|lovely) day" %}{{ match.captures | json }}`, want: `["lovely"]`},
		{name: "scan map captures", src: `{% assign ms = "It's a lovely day!" | scan: "(bucolic|lovely|day)" %}{% for m in ms %}{{ m.captures | json }}{% endfor %}`, want: `["lovely"]["day"]`},
		{name: "scan named", src: `{% assign ms = "It's a lovely day!" | scan: "(?<punctuation>[[:punct:]])" %}{% for m in ms %}{{ m.named_captures | json }}{% endfor %}`, want: `{"punctuation":"'"}{"punctuation":"!"}`},
		{name: "date format", src: `{{ "2000-01-01" | date: "%Y-%m-%d %H:%M %z" }}`, want: `2000-01-01 00:00 -0600`},
		{name: "date default", src: `{{ "2000-01-01" | date }}`, want: `2000-01-01T00:00:00-06:00`},
		{name: "date tz", src: `{{ "2000-01-01" | date: tz: "UTC" }}`, want: `2000-01-01T06:00:00Z`},
		{name: "date advance", src: `{{ "2023-01-31" | date: "%F", advance: "1 year 1 month" }}`, want: `2024-02-29`},
		{name: "date now", src: `{{ "now - 1 day" | date: "%F %H:%M" }}`, want: `2021-01-03 13:06`},
		{name: "parse_date in shop zone", src: `{{ "01-01-20" | parse_date: "%m-%d-%y" }}`, want: `2020-01-01T00:00:00+11:00`,
			shop: map[string]any{"iana_timezone": "Australia/Sydney"}},
		{name: "parse_date then date", src: `{{ "01-01-20" | parse_date: "%m-%d-%y" | date: "%Y-%m-%d" }}`, want: `2020-01-01`},
		{name: "parse_date invalid", src: `{{ "ab-cd-ef" | parse_date: "%m-%d-%y" | json }}`, want: `null`},
		{name: "gunzip", src: `{{ "H4sIANAafl8AA8tIzcnJVyjPL8pJAQCFEUoNCwAAAA==" | decode_base64: force_utf8: false | gunzip }}`, want: `hello world`},
		{name: "gzip round trip", src: `{{ "testing" | gzip | gunzip }}`, want: `testing`},
		{name: "parse_json silent", src: `{% assign should_be_nil = "{{" | parse_json: silent: true %}{{ should_be_nil | json }}`, want: `null`},
		{name: "parse_json error", src: `{{ "{{" | parse_json }}`, want: `Liquid error: parse_json: invalid JSON: invalid character '{'`},
		{name: "index_by", src: `{{ variants_json | parse_json | index_by: "sku" | json }}`,
			want: `{"ONE":{"id":12345,"sku":"ONE"},"TWO":{"id":67890,"sku":"TWO"}}`},
		{name: "push", src: `{% assign a = count_json | parse_json %}{{ a | push: "four", "five" | json }}|{{ a | json }}`, want: `["one","two","three","four","five"]|["one","two","three"]`},
		{name: "except", src: `{{ items_json | parse_json | except: "bar", "baz" | json }}`, want: `["qux"]`},
		{name: "hash slice", src: `{{ foo_json | parse_json | slice: "bar", "baz" | json }}`, want: `{"bar":"bar","baz":"baz"}`},
		{name: "array slice", src: `{{ five | parse_json | slice: -3, 2 | json }}`, want: `["3","4"]`},
		{name: "sort_naturally", src: `{{ set_json | parse_json | sort_naturally | json }}`,
			want: `["Order #2.c","Order #10.a","order #2.d","order #10.b"]`},
		{name: "sum", src: `{{ "[2, 3, 5, 7, 11]" | parse_json | sum }}`, want: `28`},
		{name: "hash compact", src: `{{ nils_json | parse_json | compact | json }}`, want: `{"bar":"baz"}`},
		{name: "keys", src: `{{ foo_json | parse_json | keys | json }}`, want: `["bar","baz","qux"]`},
		{name: "currency", src: `{{ "100000.0" | currency }} {{ 100000.0 | currency: "EUR" }} {{ 100000 | currency: "EUR", locale: "fr" }} {{ 100000 | currency: locale: "fr" }}`,
			want: `$100,000.00 €100,000.00 €100 000,00 $100 000,00`},
		{name: "currency shop", src: `{{ 5 | currency }}`, want: `€5.00`, shop: map[string]any{"currency": "EUR"}},
		{name: "e164", src: `{{ "1 (312) 456-7890" | e164 }} {{ "+43 670 1234567890" | e164 }} {{ "000" | e164 | json }}`, want: `13124567890 436701234567890 null`},
		{name: "csv", src: `{{ rows_json | parse_json | csv: ";" }}`, want: "a;b\n1;\"x;y\"\n"},
		{name: "parse_csv headers", src: `{{ csv_text | parse_csv: headers: true, delimiter: ";" | json }}`, want: `[{"a":"1","b":"2"}]`},
		{name: "browser", src: `{% assign browser = "Mozilla/5.0 (iPhone; CPU iPhone OS 12_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/79.0.259819395 Mobile/16G77 Safari/604.1" | browser %}{{ browser }}|{{ browser.version.major }}|{{ browser.os }}|{{ browser.os.version.minor }}|{{ browser.device.brand }}`,
			want: `Google 79.0.259819395|79|iOS 12.4|4|Apple`},
		{name: "unindent", src: "{% capture message %}\n  Hello, friend!\n  It's a mighty fine day!\n{% endcapture %}{{ message | unindent }}", want: "\nHello, friend!\nIt's a mighty fine day!\n"},
		{name: "graphql_arguments", src: `{{ inputs_json | parse_json | graphql_arguments }}`, want: `a_string: "yep" an_array: [1, 2]`},
		{name: "hmac binary chain", src: `{% assign k = "20150830" | hmac_sha256: "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", binary: true %}{% assign k = "us-east-1" | hmac_sha256: k, binary: true %}{% assign k = "iam" | hmac_sha256: k, binary: true %}{{ "aws4_request" | hmac_sha256: k }}`,
			want: `c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := eng.Parse(tc.src)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			s := shop
			if tc.shop != nil {
				s = tc.shop
			}
			got, err := tpl.Render(context.Background(), map[string]any{"shop": s, "abc": `["1","2","3"]`, "five": `["1","2","3","4","5"]`,
				"variants_json": `[{"id":12345,"sku":"ONE"},{"id":67890,"sku":"TWO"}]`, "count_json": `["one","two","three"]`,
				"items_json": `["bar","baz","qux"]`, "foo_json": `{"bar":"bar","baz":"baz","qux":"qux"}`,
				"set_json": `["order #10.b","Order #10.a","Order #2.c","order #2.d"]`, "nils_json": `{"bar":"baz","qux":null}`,
				"rows_json": `[["a","b"],[1,"x;y"]]`, "csv_text": "a;b\n1;2", "inputs_json": `{"a_string":"yep","an_array":[1,2]}`}, &liquid.RenderOptions{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
