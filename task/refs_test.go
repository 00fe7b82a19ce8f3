package task

import (
	"reflect"
	"testing"
)

func TestReferencedOptions(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []string
	}{
		{"dotted", `{{ options.subject__required }} {{ options.body__multiline | json }}`, []string{"subject__required", "body__multiline"}},
		{"first reference order, once each", `{{ options.b }}{{ options.a }}{{ options.b }}`, []string{"b", "a"}},
		// docs: core/tasks/options/README.md, "Display Order": a comment
		// block listing options sets their order, so comments count.
		{"comment block counts", "{% comment %}\n  {{ options.api_key__required }}\n{% endcomment %}{{ options.x }}", []string{"api_key__required", "x"}},
		{"brackets", `{{ options["tags__array"] }} {{ options['days__number'] }} {{ options[ "sp" ] }}`, []string{"tags__array", "days__number", "sp"}},
		{"tag arguments", `{% if options.enabled__boolean and options.count__number > 1 %}{% assign x = options.mode__select_o1_a_o2_b %}{% endif %}`, []string{"enabled__boolean", "count__number", "mode__select_o1_a_o2_b"}},
		{"range key with minus", `{{ options.temp__range_min-20_max20 }}`, []string{"temp__range_min-20_max20"}},
		{"start of script", `options.first`, []string{"first"}},
		{"not a property of another object", `{{ action.options.method }} {{ task.options.x }} {{ my_options.y }} {{ suboptions.z }}`, nil},
		{"raw skipped", `{% raw %}{{ options.hidden }}{% endraw %}{{ options.shown }}`, []string{"shown"}},
		{"trimmed raw skipped", `{%- raw -%}{{ options.hidden }}{%- endraw -%}`, nil},
		{"bare options", `{{ options }} {% for o in options %}{% endfor %}`, nil},
		{"liquid tag lines", "{% liquid\n  assign t = options.tag_to_add__required\n  echo options.note\n%}", []string{"tag_to_add__required", "note"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReferencedOptions(tc.script); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReferencedOptions = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOptionKeys(t *testing.T) {
	tmpl := "shopify/orders/paid+{{ options.days__number }}.days"
	js := "console.log({{ options.banner_text | json }});"
	tk := New("x")
	tk.Script = "{{ options.a }} {{ options.missing__boolean }} {{ options.b }}"
	tk.SubscriptionsTemplate = &tmpl
	tk.OnlineStoreJavaScript = &js
	tk.Options.Set("b", nil)
	tk.Options.Set("a", "1")
	tk.Options.Set("unused", nil)

	if got, want := tk.ReferencedOptions(), []string{"a", "missing__boolean", "b", "days__number", "banner_text"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ReferencedOptions = %q, want %q", got, want)
	}
	if got, want := tk.MissingOptions(), []string{"missing__boolean", "days__number", "banner_text"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MissingOptions = %q, want %q", got, want)
	}
	if got, want := tk.OptionKeys(), []string{"b", "a", "unused", "missing__boolean", "days__number", "banner_text"}; !reflect.DeepEqual(got, want) {
		t.Errorf("OptionKeys = %q, want %q", got, want)
	}
	if got := tk.Options.Keys(); len(got) != 3 {
		t.Errorf("OptionKeys modified the options: %q", got)
	}
}
