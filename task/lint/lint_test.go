package lint

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/task"
)

func TestCheck(t *testing.T) {
	eng := dialect.NewEngine(dialect.Options{})
	tests := []struct {
		name    string
		script  string
		options map[string]any
		want    []string // "where:line:substring"
	}{
		{name: "clean", script: "{% log options.a %}", options: map[string]any{"a": "x"}},
		{name: "syntax error line", script: "{{ 1 }}\n{{ 2 }}\n{% endif %}", want: []string{"script:3:Liquid syntax error"}},
		{name: "unknown filter line", script: "{{ 1 }}\n\n{{ 1 | nope }}", want: []string{"script:3:unknown filter nope"}},
		{name: "filters inside raw are skipped", script: "{% raw %}{{ 1 | nope }}{% endraw %}"},
		{name: "undeclared option", script: "{{ 1 }}\n{{ options.missing__required }}", want: []string{"script:2:option \"missing__required\" is referenced but not declared"}},
		{name: "bad option key", script: "{{ options.x__bogus }}", options: map[string]any{"x__bogus": nil}, want: []string{"options:0:option \"x__bogus\""}},
		{name: "broken Liquid in an option", script: "{{ options.a }}", options: map[string]any{"a": "{% if %}"}, want: []string{"options:0:option \"a\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := task.New("t")
			tk.Script = tt.script
			for k, v := range tt.options {
				tk.Options.Set(k, v)
			}
			got := Check(eng, tk)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %v", got, tt.want)
			}
			for i, p := range got {
				prefix := fmt.Sprintf("%s:%d:", p.Where, p.Line)
				if w := tt.want[i]; len(w) < len(prefix) || w[:len(prefix)] != prefix || !strings.Contains(p.Message, w[len(prefix):]) {
					t.Errorf("problem %d = %s%s, want %s", i, prefix, p.Message, w)
				}
			}
		})
	}
}
