package liquid_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid"
)

// benchLoopTemplate is loop-heavy: nested loops, conditions and lookups.
const benchLoopTemplate = `{% for p in products %}<div class="{% cycle 'odd', 'even' %}">
{% if p.available and p.price > 10 %}<b>{{ p.title }}</b>{% elsif p.price == 0 %}free{% else %}{{ p.title }}{% endif %}
{% for v in p.variants %}{% unless forloop.first %}, {% endunless %}{{ v.name }} ({{ forloop.index }}/{{ forloop.length }}){% endfor %}
{% case p.kind %}{% when 'a' %}A{% when 'b', 'c' %}BC{% else %}?{% endcase %}
{% assign total = p.price %}{% capture line %}{{ p.title }}-{{ total }}{% endcapture %}{{ line }}
</div>
{% endfor %}`

// benchFilterTemplate is filter-heavy.
const benchFilterTemplate = `{% for p in products %}{{ p.title | upcase | append: ' - ' | append: p.kind | upcase }} {{ p.price | plus: 1 | plus: 2 | plus: forloop.index }} {% assign s = p.title | append: '!' | append: p.kind %}{{ s | upcase | append: s }}
{% endfor %}`

func benchVars() map[string]any {
	products := make([]any, 0, 50)
	for i := 0; i < 50; i++ {
		variants := []any{}
		for j := 0; j < 5; j++ {
			variants = append(variants, map[string]any{"name": "v" + strings.Repeat("x", j)})
		}
		products = append(products, map[string]any{
			"title": "Product " + strings.Repeat("p", i%7), "price": i * 3, "available": i%2 == 0,
			"kind": string(rune('a' + i%4)), "variants": variants,
		})
	}
	return map[string]any{"products": products}
}

func benchParse(b *testing.B, src string) {
	eng := liquid.NewEngine()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRender(b *testing.B, src string) {
	eng := liquid.NewEngine()
	tpl, err := eng.Parse(src)
	if err != nil {
		b.Fatal(err)
	}
	vars := benchVars()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tpl.Render(ctx, vars, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseLoop(b *testing.B)    { benchParse(b, benchLoopTemplate) }
func BenchmarkParseFilter(b *testing.B)  { benchParse(b, benchFilterTemplate) }
func BenchmarkRenderLoop(b *testing.B)   { benchRender(b, benchLoopTemplate) }
func BenchmarkRenderFilter(b *testing.B) { benchRender(b, benchFilterTemplate) }
