package difftest

import (
	"fmt"
	"math/big"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// TrickyCases returns hand-written cases around the corners where Liquid
// implementations tend to differ from Ruby: number formatting and
// overflow, string/number coercion, nil and empty handling, whitespace
// control, loop edge cases, and Ruby's inspect output.
func TrickyCases() []Case {
	big1, _ := new(big.Int).SetString("9223372036854775808", 10)
	data := value.MapOf(
		"n", int64(9223372036854775807),
		"neg", int64(-9223372036854775808),
		"big", big1,
		"f", 0.1,
		"e20", 1e20,
		"half", -0.5,
		"s", "héllo wörld",
		"ws", " \t\n",
		"empty", "",
		"nil", nil,
		"arr", []any{int64(3), int64(1), int64(2)},
		"strs", []any{"b", "A", "c", "B"},
		"mixed", []any{int64(1), "a", nil, 2.5, true},
		"nested", []any{[]any{int64(1), int64(2)}, []any{"a", []any{"b"}}},
		"h", value.MapOf("a", int64(1), "b", value.MapOf("c", []any{int64(1), "x", nil}), "s", "str"),
		"products", []any{
			value.MapOf("title", "Shirt", "price", int64(10), "available", true),
			value.MapOf("title", "hat", "price", 2.5, "available", false),
			value.MapOf("title", "Shoe", "available", nil),
		},
	)
	srcs := []string{
		// numbers
		"{{ n | plus: 1 }} {{ neg | minus: 1 }} {{ big | times: 2 }}",
		"{{ f | plus: 0.2 }} {{ 0.1 | times: 3 }} {{ 1.0 | divided_by: 3 }} {{ 10 | divided_by: 4 }} {{ -7 | divided_by: 2 }}",
		"{{ e20 }} {{ e20 | times: 10 }} {{ 1e20 }} {{ 0.0001 | times: 1 }} {{ 1234567.0 }} {{ 10000000000000000.0 }}",
		"{{ half | round }} {{ 2.5 | round }} {{ 1.005 | round: 2 }} {{ -1.5 | ceil }} {{ -1.5 | floor }} {{ 3 | round: 2 }}",
		"{{ 7 | modulo: -3 }} {{ -7 | modulo: 3 }} {{ 7.5 | modulo: 2 }} {{ 5 | divided_by: 0 }} {{ 5.0 | divided_by: 0 }}",
		"{{ '3' | plus: '4' }} {{ '3.5' | plus: 1 }} {{ 'abc' | plus: 1 }} {{ nil | plus: 1 }} {{ '1e3' | plus: 0 }}",
		"{{ -0.0 }} {{ 0.0 | times: -1 }} {{ 1 | at_least: 2.5 }} {{ 5 | at_most: '3' }} {{ -3 | abs }} {{ '-3.5' | abs }}",
		"{{ n | times: n }} {{ big | divided_by: 7 }} {{ big | modulo: 7 }} {{ neg | abs }}",
		// strings
		"{{ s | upcase }} {{ s | capitalize }} {{ s | size }} {{ s | slice: 1, 3 }} {{ s | slice: -3 }} {{ s | truncate: 5 }}",
		"{{ s | truncatewords: 1 }}|{{ 'a b  c' | truncatewords: 2, '' }}|{{ 'abc' | truncate: 2 }}|{{ 'abc' | truncate: 0 }}",
		"{{ 'a,b,,c,,' | split: ',' | size }} {{ ' a  b ' | split: ' ' | join: '|' }} {{ 'abc' | split: '' | join: '-' }}",
		"{{ '<p>x &amp; y</p>' | escape }} {{ '<p>x &amp; y</p>' | escape_once }} {{ '<a href=\"x\">l</a>b' | strip_html }}",
		"{{ 'a b+c/d?e=é' | url_encode }} {{ 'a+b%20c%zz' | url_decode }} {{ 'hé' | base64_encode }} {{ 'aGk=' | base64_decode }}",
		"{{ ws | strip | size }} [{{ ws | lstrip }}] [{{ ws | rstrip }}] {{ \"a\nb\r\nc\" | newline_to_br }} {{ \"a\nb\" | strip_newlines }}",
		"{{ 'aaa' | replace: 'a', 'b' }} {{ 'aaa' | replace_first: 'a', 'b' }} {{ 'abab' | remove: 'b' }} {{ 'abab' | remove_first: 'b' }}",
		"{{ 'x' | append: nil }}{{ nil | append: 'x' }}{{ 1 | append: 2 }}{{ 'x' | prepend: 1.5 }}",
		// arrays and hashes
		"{{ arr | sort | join }} {{ strs | sort | join }} {{ strs | sort_natural | join }} {{ arr | reverse | join: ',' }}",
		"{{ mixed | join: ',' }} {{ mixed | compact | size }} {{ mixed | uniq | size }} {{ nested | join: ';' }}",
		"{{ mixed }} {{ h }} {{ nested }} {{ products[0] }}",
		"{{ products | map: 'title' | join: ',' }} {{ products | where: 'available' | size }} {{ products | where: 'title', 'hat' | map: 'price' }}",
		"{{ products | sort: 'price' | map: 'title' | join }} {{ products | sort_natural: 'title' | map: 'title' | join }}",
		"{{ arr.first }} {{ arr.last }} {{ arr.size }} {{ arr[-1] }} {{ arr[5] }} {{ h.size }} {{ h.b.c[1] }} {{ h['s'].size }}",
		"{{ arr | concat: strs | join: '' }} {{ arr | slice: 1, 5 | join }} {{ 'abc' | first }} {{ h | first }} {{ h | map: 'a' }}",
		"{{ nil | default: 'd' }} {{ false | default: 'd' }} {{ false | default: 'd', allow_false: true }} {{ '' | default: 'd' }} {{ empty | default: 'x' }} {{ arr | default: 'd' }}",
		// conditions
		"{% if empty == blank %}a{% endif %}{% if nil == empty %}b{% endif %}{% if ws == blank %}c{% endif %}{% if arr == empty %}d{% endif %}",
		"{% if 1 == 1.0 %}a{% endif %}{% if '1' == 1 %}b{% endif %}{% if nil < 1 %}c{% endif %}{% if 'b' > 'a' %}d{% endif %}",
		"{% if s contains 'wör' %}a{% endif %}{% if arr contains 2 %}b{% endif %}{% if arr contains '2' %}c{% endif %}{% if h contains 'a' %}d{% endif %}",
		"{% if true or false and false %}a{% endif %}{% if false and true or true %}b{% endif %}{% unless nil %}c{% endunless %}",
		"{% case 1 %}{% when 1.0 %}float{% when 1 %}int{% else %}none{% endcase %}{% case 'a' %}{% when 'b' or 'a' %}or{% endcase %}",
		"{% case nil %}{% when empty %}e{% when blank %}b{% else %}x{% endcase %}",
		// loops
		"{% for i in (1..5) limit: 2 offset: 1 reversed %}{{ i }}{% endfor %}|{% for i in arr reversed %}{{ forloop.index }}{{ i }}{% endfor %}",
		"{% for i in (3..1) %}x{% else %}empty{% endfor %}|{% for k in h %}{{ k[0] }}={{ k[1] }};{% endfor %}|{% for c in s %}{{ c }}{% endfor %}",
		"{% for i in arr %}{% if i == 1 %}{% continue %}{% endif %}{{ i }}{% if forloop.last %}L{% endif %}{% endfor %}",
		"{% for i in (1..3) %}{% for j in (1..3) %}{% if j == 2 %}{% break %}{% endif %}{{ i }}{{ j }}{% endfor %}{% endfor %}",
		"{% for i in (1..6) %}{% cycle 'a', 'b', 'c' %}{% cycle 'g': 1, 2 %}{% endfor %}",
		"{% for i in arr limit: 2 %}{{ i }}{% endfor %}{% for i in arr offset: continue %}{{ i }}{% endfor %}",
		"{% tablerow i in arr cols: 2 %}{{ i }}{{ tablerowloop.col }}{% endtablerow %}",
		"{% for i in (1..4) %}{% ifchanged %}{{ i | divided_by: 2 }}{% endifchanged %}{% endfor %}",
		// variables
		"{% assign x = arr | sort %}{{ x | join }}{% capture c %}  {{ x.size }}  {% endcapture %}[{{ c }}]",
		"{% increment a %}{% increment a %}{% decrement a %}{{ a }}{% assign a = 10 %}{{ a }}{% increment a %}",
		"{% liquid\nassign t = 'x'\nfor i in (1..2)\necho t | append: i\nendfor\n%}",
		"{%- if true -%}\n  yes  \n{%- endif -%}\n{{- ' x ' -}}\n{% raw %}{{ raw }}{% endraw %}{% comment %}hidden{% endcomment %}",
		"{% echo 'a' | upcase %}{% # inline comment %}{{ nil }}{{ true }}{{ false }}{{ 'x' | size }}",
		"{{ undefined.x.y }}{{ h.nope.x }}{{ arr.nope }}{{ s.size }}{{ 42.size }}",
		"{% render 'p', v: arr %}{% include 'p' with 5 %}{% render 'p' for arr as v %}",
		"{{ '2024-01-15' | date: '%Y %b %d %a %j %U %W' }} {{ 1700000000 | date: '%F %T %z' }} {{ 'x' | date: '%Y' }} {{ nil | date: '%Y' }}",
		"{{ 'March 14, 2016' | date: '%s' }} {{ '2021-03-04T05:06:07+02:00' | date: '%H:%M %Z' }} {{ '2024-01-15' | date: '' }}",
	}
	out := make([]Case, 0, len(srcs)+8)
	for i, src := range srcs {
		out = append(out, Case{
			Name:     fmt.Sprintf("tricky-%d", i+1),
			Template: src,
			Data:     data,
			Partials: map[string]string{"p": "<{{ v | join: ',' }}{{ p }}>"},
		})
	}
	// Reproductions of disagreements found by TestDifferential (KNOWN.md).
	bigInt := func(s string) any {
		b, _ := new(big.Int).SetString(s, 10)
		return value.Int(b)
	}
	known := []Case{
		{Template: "{% decrement n %}{{ n }}", Data: value.MapOf("n", int64(-9223372036854775808))},
		{Template: "{% increment n %}{% increment n %}{{ n }}", Data: value.MapOf("n", int64(9223372036854775807))},
		{Template: "{% increment n %}{{ n }}", Data: value.MapOf("n", bigInt("-9223372036854775809"))},
		{Template: "{% include 'p' with false %}|{% include 'p' with nil %}|{% include 'p' with v %}|{% include 'p' with w %}",
			Data: value.MapOf("p", "outer", "v", false, "w", nil), Partials: map[string]string{"p": "[{{ p }}]"}},
		{Template: "{% if s < 4611686018427387904 %}x{% endif %}|{% if s < 4611686018427387903 %}x{% endif %}|{% if s < -4611686018427387904 %}x{% endif %}|{% if s < -4611686018427387905 %}x{% endif %}|{% if s < b %}x{% endif %}|{% if s < f %}x{% endif %}",
			Data: value.MapOf("s", "a", "b", bigInt("99999999999999999999"), "f", 1e300)},
		{Template: "{% for i in (1..2) %}{% tablerow c in (1..3) %}{% break %}{% endtablerow %}{% endfor %}after"},
		{Template: "{% tablerow c in (1..3) cols: 2 %}{{ c }}{% if c == 2 %}{% continue %}{% endif %}{{ c }}{% endtablerow %}after"},
		{Template: "{{ a.size }} {{ b.size }} {{ c.size }} {{ d.size }} {{ a | size }} {{ c | size }}",
			Data: value.MapOf("a", bigInt("123456789012345678901234567890"), "b", bigInt("9223372036854775808"), "c", bigInt("18446744073709551616"), "d", int64(42))},
		{Template: "{{ a }}", Data: value.MapOf("a", value.MapOf("ls", "\u2028", "ps", "\u2029", "unassigned", "\u0378", "fffe", "\uFFFE", "max", "\U0010FFFF", "zwsp", "\u200b", "shy", "\u00ad", "pua", "\ue000", "ctl", "\x01\x7f", "interp", "#{x} #$y #@z"))},
		{Template: "{% render 'r' %}|{% include 'i' %}", Partials: map[string]string{"r": "y{% render 'r' %}", "i": "x{% include 'i' %}"}},
		{Template: "{% for i in items limit: n offset: 2 %}{{ i }}{% endfor %}|{% for i in items offset: 1 limit: 9223372036854775807 %}{{ i }}{% endfor %}|{% tablerow i in items limit: n offset: 2 %}{{ i }}{% endtablerow %}",
			Data: value.MapOf("n", int64(9223372036854775806), "items", []any{"a", int64(2), 3.5})},
		{Template: "{% for i in items limit: n offset: -1 %}{{ i }}{% endfor %}|{% for i in items limit: 2 offset: -1 %}{{ i }}{% endfor %}",
			Data: value.MapOf("n", int64(-9223372036854775808), "items", []any{"a", int64(2), 3.5})},
		{Template: "{{ big | modulo: f }}|{{ 10 | modulo: 0.3 }}|{{ big | divided_by: f }}", Data: value.MapOf("f", 1.23e-18, "big", bigInt("9223372036854775808"))},
		{Template: "{{ a | url_decode }}|{{ b | url_decode }}|{{ c | url_decode }}", Data: value.MapOf("a", "+%+", "b", "a%+", "c", "%zz+%4+1")},
		{Template: `{{ "toto" | replace: "t", "\+" }}|{{ "toto" | replace: "t", "\0\&" }}|{{ "toto" | replace_first: "t", "\'" }}`},
	}
	for i, c := range known {
		c.Name = fmt.Sprintf("known-%d", i+1)
		out = append(out, c)
	}
	return out
}
