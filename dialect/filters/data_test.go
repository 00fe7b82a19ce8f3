package filters

import "testing"

func TestDataFilters(t *testing.T) {
	c := newCtx(t, "UTC")
	const ordersCSV = "Order Name,Order ID,Order Date\n#1234,1234567890,2021/03/23\n#1235,1234567891,2021/03/24"
	cases := []filterCase{
		// json: Ruby JSON.generate (ruby -rjson) output.
		{name: "json ruby floats and no html escaping", filter: "json",
			input: js(t, `{"a":1.0,"b":[null,true,"é<>&"],"c":1e20,"d":1.5e-7}`),
			want:  `"{\"a\":1.0,\"b\":[null,true,\"é<>&\"],\"c\":1.0e+20,\"d\":1.5e-07}"`},
		{name: "json string", filter: "json", input: "a\"b", want: `"\"a\\\"b\""`},
		{name: "json nil", filter: "json", input: nil, want: `"null"`},
		{name: "json with an option", filter: "json", input: 1, kw: kw("pretty", true), err: `json: unknown option "pretty"`},
		{name: "json extra argument", filter: "json", input: 1, args: []any{int64(2)}, err: "wrong number of arguments (given 2, expected 1)"},

		// platform/liquid/filters/README.md "json, parse_json": round trip.
		{name: "parse_json object keeps order", filter: "parse_json", input: `{"z":1,"a":[1,2.5,"x"]}`, want: `{"z":1,"a":[1,2.5,"x"]}`},
		// platform/liquid/filters/README.md "json, parse_json": raises on invalid JSON.
		{name: "parse_json invalid", filter: "parse_json", input: "{{", err: "parse_json: invalid JSON"},
		// platform/liquid/filters/README.md "json, parse_json": silent: true gives nil.
		{name: "parse_json silent", filter: "parse_json", input: "{{", kw: kw("silent", true), want: `null`},
		{name: "parse_json non-string", filter: "parse_json", input: int64(1), err: "expected a string, got Integer"},
		{name: "parse_json unknown option", filter: "parse_json", input: "1", kw: kw("quiet", true), err: `unknown option "quiet"`},

		// platform/liquid/filters/README.md "jsonl, parse_jsonl".
		{name: "jsonl", filter: "jsonl", input: js(t, `[{"a":1},[2],"x"]`), want: `"{\"a\":1}\n[2]\n\"x\""`},
		{name: "jsonl non-array", filter: "jsonl", input: "x", err: "expected an array, got String"},
		{name: "parse_jsonl doc example with indentation", filter: "parse_jsonl",
			input: "\n  {\"id\":\"gid://shopify/Customer/12345\",\"email\":\"foo@bar.baz\"}\n  {\"id\":\"gid://shopify/Customer/67890\",\"email\":\"bar@baz.qux\"}\n",
			want:  `[{"id":"gid://shopify/Customer/12345","email":"foo@bar.baz"},{"id":"gid://shopify/Customer/67890","email":"bar@baz.qux"}]`},
		{name: "parse_jsonl invalid line", filter: "parse_jsonl", input: "{\"a\":1}\n{oops", err: "invalid JSON on line 2"},

		// platform/liquid/filters/README.md "graphql_arguments".
		{name: "graphql_arguments doc example", filter: "graphql_arguments",
			input: js(t, `{"a_string":"yep this is a string","a_more_complex_type":{"id":"gid://something/Or?other"},"an_array":[1,2]}`),
			want:  `"a_string: \"yep this is a string\" a_more_complex_type: { id: \"gid://something/Or?other\" } an_array: [1, 2]"`},
		{name: "graphql_arguments array of inputs", filter: "graphql_arguments",
			input: js(t, `[{"key":"a","value":null},{"key":"b","value":true}]`),
			want:  `"[{ key: \"a\", value: null }, { key: \"b\", value: true }]"`},

		// platform/liquid/filters/README.md "csv, parse_csv"; expected text from ruby -rcsv.
		{name: "csv with delimiter", filter: "csv", input: js(t, `[["Product ID","Product Title"],[1234567890,"Short sleeve t-shirt"]]`),
			args: []any{";"}, want: `"Product ID;Product Title\n1234567890;Short sleeve t-shirt\n"`},
		{name: "csv with bom", filter: "csv", input: js(t, `[["a"]]`), kw: kw("include_bom", true), want: "\"\ufeffa\\n\""},
		{name: "csv quoting like ruby", filter: "csv", input: js(t, `[["a","",null,1,2.5,"x,y","q\"q","l\nb"," s ",true]]`),
			want: `"a,\"\",,1,2.5,\"x,y\",\"q\"\"q\",\"l\nb\", s ,true\n"`},
		{name: "csv bad delimiter", filter: "csv", input: js(t, `[["a"]]`), args: []any{";;"}, err: "single character"},
		{name: "csv bad rows", filter: "csv", input: js(t, `["a"]`), err: "expected each row to be an array, got String"},
		{name: "parse_csv rows", filter: "parse_csv", input: "a,,\"\",b\n\n1,2\n", want: `[["a",null,"","b"],[],["1","2"]]`},
		// platform/liquid/filters/README.md "csv, parse_csv": headers: true.
		{name: "parse_csv headers", filter: "parse_csv", input: ordersCSV, kw: kw("headers", true),
			want: `[{"Order Name":"#1234","Order ID":"1234567890","Order Date":"2021/03/23"},{"Order Name":"#1235","Order ID":"1234567891","Order Date":"2021/03/24"}]`},
		{name: "parse_csv headers and delimiter", filter: "parse_csv", input: "a;b\r\n1;2\r\n", kw: kw("headers", true, "delimiter", ";"), want: `[{"a":"1","b":"2"}]`},
		// ruby -rcsv: duplicate headers keep the first, short rows give nil.
		{name: "parse_csv headers ruby edge cases", filter: "parse_csv", input: "h1,h2,h1\n1,2,3\n\n4\n", kw: kw("headers", true),
			want: `[{"h1":"1","h2":"2"},{"h1":null,"h2":null},{"h1":"4","h2":null}]`},
		{name: "parse_csv trailing empty field", filter: "parse_csv", input: "a,b,", want: `[["a","b",null]]`},
		{name: "parse_csv unclosed quote", filter: "parse_csv", input: "a,\"b\nc", err: "Unclosed quoted field in line 1."},
		{name: "parse_csv illegal quoting", filter: "parse_csv", input: "a,b\"c\"\n", err: "Illegal quoting in line 1."},
		{name: "parse_csv stray newline", filter: "parse_csv", input: "a\rb\nc", err: `Unquoted fields do not allow new line <"\n"> in line 2.`},
		{name: "parse_csv non-string", filter: "parse_csv", input: js(t, `[1]`), err: "expected a string, got Array"},

		// platform/liquid/filters/README.md "parse_xml".
		{name: "parse_xml doc example", filter: "parse_xml",
			input: "\n<foo>\n  <bar>baz</bar>\n  <bar>\n    <qux>quux</qux>\n  </bar>\n</foo>\n",
			want:  `{"foo":{"bar":["baz",{"qux":"quux"}]}}`},
		// Rails Hash.from_xml rules: typed values, empty elements, attributes, dashes.
		{name: "parse_xml types", filter: "parse_xml",
			input: `<order-info id="7"><count type="integer">3</count><ok type="boolean">true</ok><note/><items type="array"><item>a</item><item>b</item></items><name lang="en">X</name></order-info>`,
			want:  `{"order_info":{"id":"7","count":3,"ok":true,"note":null,"items":["a","b"],"name":"X"}}`},
		// ruby-activesupport 6.1 Hash.from_xml for the next three.
		{name: "parse_xml text rules", filter: "parse_xml",
			input: `<a><b>  x  </b><c></c><d> </d><e nil="true"/><f type="string"/><g x="1"/><h>t<i>u</i>v</h></a>`,
			want:  `{"a":{"b":"  x  ","c":null,"d":" ","e":null,"f":"","g":{"x":"1"},"h":"tv"}}`},
		{name: "parse_xml namespaces", filter: "parse_xml", input: `<a xmlns="urn:x" xmlns:p="urn:p"><p:b p:attr="1">x</p:b></a>`,
			want: `{"a":{"xmlns":"urn:x","xmlns:p":"urn:p","b":"x"}}`},
		{name: "parse_xml more types", filter: "parse_xml",
			input: `<r><items type="array"/><list type="array"><x>1</x></list><dt type="datetime">2020-01-02T03:04:05+02:00</dt><f type="float">1.5</f><dec type="decimal">1.50</dec><dd type="date">2020-01-02</dd></r>`,
			want:  `{"r":{"items":[],"list":["1"],"dt":"2020-01-02T01:04:05.000Z","f":1.5,"dec":"1.5","dd":"2020-01-02"}}`},
		{name: "parse_xml cdata and entities", filter: "parse_xml", input: `<r><![CDATA[<b>hi</b>]]> &amp; more</r>`, want: `{"r":"<b>hi</b> & more"}`},
		{name: "parse_xml declaration, comments, doctype", filter: "parse_xml",
			input: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<!DOCTYPE r>\n<!-- c -->\n<r><a>1</a><!-- d --></r>\n", want: `{"r":{"a":"1"}}`},
		{name: "parse_xml invalid", filter: "parse_xml", input: "<a><b></a>", err: "parse_xml: invalid XML"},
	}
	runCases(t, c, cases)
}
