package task

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// fullExport has every field a Mechanic export carries, in Mechanic's own
// export order (docs: core/tasks/README.md shows an export with these
// fields; the content here is our own).
const fullExport = `{"name":"Welcome mail","options":{"recipient__email_required":"staff@example.com","subject__required":"New signup: {{ customer.email }}","wait_hours__number":"3"},"script":"{% action \"email\" %}{\"to\": {{ options.recipient__email_required | json }}}{% endaction %}","subscriptions":["shopify/customers/create+3.hours"],"online_store_javascript":null,"order_status_javascript":null,"docs":null,"subscriptions_template":"shopify/customers/create+{{ options.wait_hours__number }}.hours","shopify_api_version":"2022-04","liquid_profiling":false,"perform_action_runs_in_sequence":false,"halt_action_run_sequence_on_error":false,"preview_event_definitions":[{"description":"Gmail user","event_attributes":{"topic":"shopify/customers/create","data":{"email":"a@gmail.com","id":1,"tags":[]}}}]}`

func TestParseFullExport(t *testing.T) {
	tk, err := Parse([]byte(fullExport))
	if err != nil {
		t.Fatal(err)
	}
	if tk.Name != "Welcome mail" || tk.ShopifyAPIVersion != "2022-04" || tk.Docs != nil || tk.OnlineStoreJavaScript != nil {
		t.Errorf("unexpected fields: %+v", tk)
	}
	if got := tk.Options.Keys(); !reflect.DeepEqual(got, []string{"recipient__email_required", "subject__required", "wait_hours__number"}) {
		t.Errorf("option order %v", got)
	}
	if v := tk.OptionValue("wait_hours__number"); v != "3" {
		t.Errorf("stored option value %#v, want the string kept as stored", v)
	}
	if len(tk.PreviewEventDefinitions) != 1 {
		t.Fatalf("preview events %+v", tk.PreviewEventDefinitions)
	}
	ea := tk.PreviewEventDefinitions[0].EventAttributes
	if ea.Topic != "shopify/customers/create" {
		t.Errorf("topic %q", ea.Topic)
	}
	data, ok := ea.Data.(*value.Map)
	if !ok || !reflect.DeepEqual(data.Keys(), []string{"email", "id", "tags"}) {
		t.Errorf("data %#v", ea.Data)
	}
	if id, _ := data.Get("id"); id != int64(1) {
		t.Errorf("id %#v, want int64 1", id)
	}
	for _, f := range Fields() {
		if f == FieldTags {
			continue // Mechanic's own exports carry no tags; the library's do
		}
		if !tk.Has(f) {
			t.Errorf("Has(%q) = false", f)
		}
	}

	out, err := tk.Export()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(genericJSON(t, out), genericJSON(t, []byte(fullExport))) {
		t.Errorf("export is not the input:\n%s", out)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, tk) {
		t.Errorf("Parse(Export(x)) != Parse(x)")
	}
}

func TestExportFormat(t *testing.T) {
	tk := New("Tiny")
	tk.Script = "{% log \"hé\" %}"
	tk.Subscriptions = []string{"mechanic/user/trigger"}
	tmpl := "mechanic/user/trigger"
	tk.SubscriptionsTemplate = &tmpl
	tk.Options.Set("tag__required", "<b>&")
	tk.Options.Set("a__boolean", true)
	out, err := tk.Export()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "docs": null,
  "name": "Tiny",
  "options": {
    "tag__required": "<b>&",
    "a__boolean": true
  },
  "script": "{% log \"hé\" %}",
  "subscriptions": [
    "mechanic/user/trigger"
  ],
  "subscriptions_template": "mechanic/user/trigger"
}
`
	if string(out) != want {
		t.Errorf("Export:\n%s\nwant:\n%s", out, want)
	}
	compact, err := tk.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(compact, "\n ") && !bytes.Contains(compact, []byte("log")) {
		t.Errorf("MarshalJSON not compact: %s", compact)
	}

	// Optional fields appear once set, and empty ones once marked present.
	tk.PerformActionRunsInSequence = true
	tk.SetPresent(FieldTags, true)
	out, _ = tk.Export()
	if !bytes.Contains(out, []byte(`"perform_action_runs_in_sequence": true`)) || !bytes.Contains(out, []byte(`"tags": []`)) {
		t.Errorf("optional fields missing:\n%s", out)
	}
}

func TestExportKeepsAbsentFieldsAbsent(t *testing.T) {
	in := `{"name":"x","script":"","options":{},"subscriptions":[],"subscriptions_template":"","docs":"d","tags":[],"order_status_javascript":null}`
	tk, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if tk.Has(FieldOnlineStoreJavaScript) || tk.Has(FieldPreviewEventDefinitions) || !tk.Has(FieldOrderStatusJavaScript) || !tk.Has(FieldTags) {
		t.Errorf("presence wrong")
	}
	out, _ := tk.Export()
	if !reflect.DeepEqual(genericJSON(t, out), genericJSON(t, []byte(in))) {
		t.Errorf("export %s", out)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		field string
		want  string // substring of the message
		line  int
	}{
		{"typo field", "{\"name\":\"x\",\n \"scirpt\":\"\"}", "scirpt", `task: unknown field "scirpt" (line 2, column 2)`, 2},
		{"wrong type", `{"name":1,"script":""}`, "name", `field "name": expected string, got number`, 1},
		{"null name", `{"name":null,"script":""}`, "name", "expected string, got null", 1},
		{"bool as string", `{"name":"x","script":"","perform_action_runs_in_sequence":"yes"}`, "perform_action_runs_in_sequence", "expected boolean, got string", 1},
		{"options not object", `{"name":"x","script":"","options":[]}`, "options", "expected object, got array", 1},
		{"subscription not string", `{"name":"x","script":"","subscriptions":["a/b/c",2]}`, "subscriptions[1]", "expected string, got number", 1},
		{"tags null", `{"name":"x","script":"","tags":null}`, "tags", "expected array, got null", 1},
		{"missing script", `{"name":"x"}`, "script", "missing required field", 1},
		{"duplicate", `{"name":"x","name":"y","script":""}`, "name", "duplicate field", 1},
		{"bad option key", `{"name":"x","script":"","options":{"foo__bogus":null}}`, "options.foo__bogus", `unknown flag "bogus"`, 1},
		{"uppercase option key", `{"name":"x","script":"","options":{"Foo":null}}`, "options.Foo", "lowercase", 1},
		{"bad number option", "{\"name\":\"x\",\"script\":\"\",\n\"options\":{\"foo__number\":\"abc\"}}", "options.foo__number", `must be a number, got "abc"`, 2},
		{"bad boolean option", `{"name":"x","script":"","options":{"on__boolean":"maybe"}}`, "options.on__boolean", "must be true or false", 1},
		{"preview unknown", `{"name":"x","script":"","preview_event_definitions":[{"description":"d","event_attributes":{"topic":"a/b/c","data":{}},"extra":1}]}`, "preview_event_definitions[0].extra", "unknown field", 1},
		{"preview topic type", `{"name":"x","script":"","preview_event_definitions":[{"description":"d","event_attributes":{"topic":5,"data":{}}}]}`, "preview_event_definitions[0].event_attributes.topic", "expected string", 1},
		{"preview missing data", `{"name":"x","script":"","preview_event_definitions":[{"description":"d","event_attributes":{"topic":"a/b/c"}}]}`, "preview_event_definitions[0].event_attributes.data", "missing required field", 1},
		{"not an object", `[1]`, "", "expected object, got array", 1},
		{"syntax", "{\"name\":\"x\",\n\"script\": }", "", "invalid JSON", 2},
		{"truncated", `{"name":"x"`, "", "unexpected end of JSON input", 1},
		{"trailing data", `{"name":"x","script":""} {}`, "", "unexpected data after the task document", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if pe.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", pe.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if pe.Line != tc.line {
				t.Errorf("line %d, want %d (%v)", pe.Line, tc.line, err)
			}
			if !strings.HasPrefix(err.Error(), "task: ") {
				t.Errorf("error %q lacks the task: prefix", err)
			}
		})
	}
}

func TestParseNulls(t *testing.T) {
	in := `{"name":"x","script":"","docs":null,"subscriptions_template":null,"online_store_javascript":null,"order_status_javascript":"x"}`
	tk, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if tk.Docs != nil || tk.SubscriptionsTemplate != nil || tk.OnlineStoreJavaScript != nil || tk.OrderStatusJavaScript == nil || *tk.OrderStatusJavaScript != "x" {
		t.Errorf("nulls decoded wrong: %+v", tk)
	}
	subs, err := tk.RenderSubscriptions(t.Context(), passThrough)
	if err != nil || len(subs) != 0 {
		t.Errorf("null template rendered %v, %v", subs, err)
	}
}

func TestParseAll(t *testing.T) {
	one := `{"name":"a","script":""}`
	tests := []struct {
		in    string
		names []string
		err   string
	}{
		{one, []string{"a"}, ""},
		{"[" + one + "," + `{"name":"b","script":"x"}` + "]", []string{"a", "b"}, ""},
		{"[]", nil, ""},
		{"[" + one + `,{"name":"b"}]`, nil, `field "[1].script": missing required field`},
	}
	for _, tc := range tests {
		ts, err := ParseAll([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAll(%s) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAll(%s): %v", tc.in, err)
			continue
		}
		var names []string
		for _, tk := range ts {
			names = append(names, tk.Name)
		}
		if !reflect.DeepEqual(names, tc.names) {
			t.Errorf("ParseAll(%s) names %v, want %v", tc.in, names, tc.names)
		}
	}
}

func TestUnmarshalJSON(t *testing.T) {
	var tk Task
	if err := tk.UnmarshalJSON([]byte(fullExport)); err != nil {
		t.Fatal(err)
	}
	if tk.Name != "Welcome mail" {
		t.Errorf("name %q", tk.Name)
	}
	if err := tk.UnmarshalJSON([]byte(`{"name":"x","script":"","oops":1}`)); err == nil {
		t.Error("unknown field accepted")
	}
}
