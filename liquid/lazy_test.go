package liquid_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// fakeAPI counts the lookups the lazy values below make.
type fakeAPI struct {
	calls int
	fail  error // returned by every lookup when set
}

// lazyList is a value.Lister and value.ContextDrop over the integers 1..n.
type lazyList struct {
	api *fakeAPI
	n   int64
}

func (l *lazyList) Get(string) (any, bool) { return nil, false }

func (l *lazyList) GetContext(_ context.Context, key string) (any, bool, error) {
	l.api.calls++
	if l.api.fail != nil {
		return nil, false, l.api.fail
	}
	switch key {
	case "size":
		return l.n, true, nil
	case "first":
		return int64(1), true, nil
	}
	return "item " + key, true, nil
}

func (l *lazyList) List(_ context.Context, limit int64) ([]any, error) {
	l.api.calls++
	if l.api.fail != nil {
		return nil, l.api.fail
	}
	n := l.n
	if limit >= 0 && limit < n {
		n = limit
	}
	out := make([]any, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out, nil
}

// lazyKeys answers "orders" for a hash that lacks it.
type lazyKeys struct{ list *lazyList }

func (f lazyKeys) Lookup(_ context.Context, key string) (any, bool, error) {
	if key != "orders" {
		return nil, false, nil
	}
	if f.list.api.fail != nil {
		return nil, false, f.list.api.fail
	}
	return f.list, true, nil
}

func TestLazyValues(t *testing.T) {
	cases := []struct {
		name, src, want string
		calls           int
	}{
		{"for materializes", `{% for i in list %}{{ i }}{% unless forloop.last %},{% endunless %}{% endfor %}`, "1,2,3,4,5", 1},
		{"for with limit", `{% for i in list limit: 2 offset: 1 %}{{ i }}{% endfor %}`, "23", 1},
		{"else of an empty list", `{% for i in empty_list %}x{% else %}none{% endfor %}`, "none", 1},
		{"size property", `{{ list.size }}`, "5", 1},
		{"first property", `{{ list.first }}`, "1", 1},
		{"index lookup", `{{ list[42] }}`, "item 42", 1},
		{"filter input", `{{ list | join: "-" }}`, "1-2-3-4-5", 1},
		{"filter argument", `{{ list | concat: list | size }}`, "10", 2},
		{"array filter chain", `{{ list | reverse | first }}`, "5", 1},
		{"contains", `{% if list contains 3 %}yes{% endif %}`, "yes", 1},
		{"== empty", `{% if empty_list == empty %}empty{% endif %}`, "empty", 1},
		{"tablerow", `{% tablerow i in list limit: 1 %}{{ i }}{% endtablerow %}`, "<tr class=\"row1\">\n<td class=\"col1\">1</td></tr>\n", 1},
		{"fallback key", `{{ order.orders | size }}`, "5", 1},
		{"held key first", `{{ order.id }}`, "7", 0},
		{"output sees only held keys", `{{ order }}`, `{"id"=>7}`, 0},
		{"iteration sees only held keys", `{% for p in order %}{{ p[0] }}{% endfor %}`, "id", 0},
		{"size of the hash", `{{ order.size }}`, "1", 0},
	}
	eng := liquid.NewEngine()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{}
			order := value.MapOf("id", 7)
			order.SetFallback(lazyKeys{&lazyList{api: api, n: 5}})
			env := value.MapOf("order", order)
			env.Set("list", &lazyList{api: api, n: 5})
			env.Set("empty_list", &lazyList{api: api, n: 0})
			tpl, err := eng.Parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tpl.RenderMap(context.Background(), env, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if api.calls != tc.calls {
				t.Errorf("%d lookups, want %d", api.calls, tc.calls)
			}
		})
	}
}

func TestLazyLookupErrorsFailTheRender(t *testing.T) {
	boom := errors.New("shopify: HTTP 500")
	cases := []struct{ name, src, path string }{
		{"property", `a{{ list.size }}b`, "list.size"},
		{"dynamic key", `{% assign k = "x@example.com" %}{{ list[k] }}`, `list["x@example.com"]`},
		{"for loop", `{% for i in list %}{{ i }}{% endfor %}`, "list"},
		{"filter input", `{{ list | join }}`, "list"},
		{"fallback key", `{{ order.orders.size }}`, "order.orders"},
		{"condition", `{% if list contains 1 %}{% endif %}`, "list"},
	}
	eng := liquid.NewEngine()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{fail: boom}
			order := value.MapOf("id", 7)
			order.SetFallback(lazyKeys{&lazyList{api: api, n: 5}})
			env := value.MapOf("order", order)
			env.Set("list", &lazyList{api: api, n: 5})
			tpl, err := eng.ParseOpts(tc.src, liquid.ParseOptions{LineNumbers: true})
			if err != nil {
				t.Fatal(err)
			}
			var inline []error
			out, err := tpl.RenderMap(context.Background(), env, &liquid.RenderOptions{Errors: &inline})
			if err == nil {
				t.Fatalf("render succeeded with %q; want the lookup error", out)
			}
			var le *liquid.LookupError
			if !errors.As(err, &le) || !errors.Is(err, boom) {
				t.Fatalf("error %v (%T) is not a LookupError wrapping the cause", err, err)
			}
			if le.Path != tc.path {
				t.Errorf("path %q, want %q", le.Path, tc.path)
			}
			if want := fmt.Sprintf("%s: %v", tc.path, boom); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		})
	}
}
