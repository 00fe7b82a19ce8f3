package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/echo"
	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/pipeline"
)

func taskDoc(name, script string, subs []string, opts map[string]any) map[string]any {
	if opts == nil {
		opts = map[string]any{}
	}
	return map[string]any{"name": name, "script": script, "subscriptions": subs, "options": opts}
}

func details(t *testing.T, out map[string]any) []map[string]any {
	t.Helper()
	ds, _ := out["error"].(map[string]any)["details"].([]any)
	res := make([]map[string]any, len(ds))
	for i, d := range ds {
		res[i] = d.(map[string]any)
	}
	return res
}

// TestSaveRefusesSyntaxErrors: a task whose code (or subscriptions
// template, or an option holding Liquid) has a Liquid syntax error is
// refused with 422 naming the field and line, and nothing is saved; an
// update with one leaves the task as it was.
func TestSaveRefusesSyntaxErrors(t *testing.T) {
	_, c := openTestService(t, Config{})
	tests := []struct {
		name  string
		doc   map[string]any
		field string
		line  float64
		msg   string
	}{
		{"script", taskDoc("A", "{% log 1 %}\n\n{% if %}x{% endif %}", []string{"mechanic/user/trigger"}, nil),
			"script", 3, "the task has Liquid syntax errors and was not saved: script line 3: Liquid syntax error: Syntax Error in tag 'if' - Valid syntax: if [expression]"},
		{"unclosed", taskDoc("B", "{% for x in y %}\n{{ x }}", []string{"mechanic/user/trigger"}, nil),
			"script", 2, "the task has Liquid syntax errors and was not saved: script line 2: Liquid syntax error: 'for' tag was never closed"},
		{"option", taskDoc("C", "{{ options.note }}", []string{"mechanic/user/trigger"}, map[string]any{"note": "Hi {{ shop.name "}),
			"options.note", 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := c.want(http.StatusUnprocessableEntity, "POST", "/v1/tasks", tc.doc)
			msg, field := errorField(t, out)
			if field != tc.field {
				t.Errorf("field %v, want %s", field, tc.field)
			}
			if tc.msg != "" && msg != tc.msg {
				t.Errorf("message\n%q, want\n%q", msg, tc.msg)
			}
			ds := details(t, out)
			if len(ds) != 1 || ds[0]["line"] != tc.line || ds[0]["field"] != tc.field {
				t.Errorf("details %v, want line %v", ds, tc.line)
			}
		})
	}
	if n := len(c.want(http.StatusOK, "GET", "/v1/tasks", nil)["tasks"].([]any)); n != 0 {
		t.Fatalf("%d tasks saved, want 0", n)
	}
	// An update with a syntax error changes nothing.
	good := c.want(http.StatusCreated, "POST", "/v1/tasks", taskDoc("Good", `{% log "ok" %}`, []string{"mechanic/user/trigger"}, nil))
	bad := taskDoc("Good", "{% log \"ok\" %}\n{{ 'x' | }", []string{"mechanic/user/trigger"}, nil)
	bad["force"] = true
	out := c.want(http.StatusUnprocessableEntity, "PUT", "/v1/tasks/"+good["id"].(string), bad)
	if _, f := errorField(t, out); f != "script" {
		t.Fatalf("field %v", f)
	}
	if now := c.want(http.StatusOK, "GET", "/v1/tasks/"+good["id"].(string), nil); now["content_hash"] != good["content_hash"] {
		t.Fatal("a refused update changed the task")
	}
}

// startRegistryService runs a service whose pipeline's action registry
// holds echo and a type named custom_thing (as another package would
// register): validation reads the types from that registry.
func startRegistryService(t *testing.T) *client {
	t.Helper()
	factory := func(d PipelineDeps) (Pipeline, error) {
		reg := action.NewRegistry()
		for _, n := range []string{"echo", "custom_thing"} {
			if err := reg.Register(n, echo.New()); err != nil {
				return nil, err
			}
		}
		return pipeline.New(pipeline.Config{Store: d.Store, Renderer: NewTaskRenderer(d.Store, d.Vault, nil, d.Logger), Actions: reg, Logger: d.Logger})
	}
	_, c := openTestService(t, Config{NewPipeline: factory})
	return c
}

// TestSaveWarnings: unknown topics, action types the pipeline's registry
// cannot perform and undeclared options are saved, with a warning each.
func TestSaveWarnings(t *testing.T) {
	c := startRegistryService(t)
	script := "{% action \"echo\", a: 1 %}\n{% action \"custom_thing\" %}{}{% endaction %}\n{% action \"teleport\", to: options.destination %}"
	out := c.want(http.StatusCreated, "POST", "/v1/tasks", taskDoc("W", script, []string{"shopify/orders/create", "shopify/nonsense/happened", "user/any/thing"}, nil))
	ws, _ := out["warnings"].([]any)
	want := []string{
		`subscription "shopify/nonsense/happened": shopify/nonsense/happened is not a known event topic (user/... topics are free-form; see Mechanic's topic list), so it will never receive events`,
		`script line 3: action type "teleport" cannot be performed by this Sprocket (it performs custom_thing, echo); its action runs will fail`,
		`option "destination" is used by the code but not declared in options; it is always empty`,
	}
	if len(ws) != len(want) {
		t.Fatalf("warnings %v, want %d", ws, len(want))
	}
	for i, w := range want {
		if got := ws[i].(map[string]any)["message"]; got != w {
			t.Errorf("warning %d\n%q, want\n%q", i, got, w)
		}
	}
	if f := ws[0].(map[string]any)["field"]; f != "subscriptions[1]" {
		t.Errorf("topic warning field %v", f)
	}
	clean := c.want(http.StatusCreated, "POST", "/v1/tasks", taskDoc("Clean", `{% action "custom_thing", x: 1 %}`, []string{"mechanic/scheduler/daily"}, nil))
	if ws := clean["warnings"].([]any); len(ws) != 0 {
		t.Errorf("a clean task got warnings %v", ws)
	}
}

// TestEnableValidation: enabling refuses a task whose required options are
// empty or whose option values are invalid, naming each; once filled it
// enables.
func TestEnableValidation(t *testing.T) {
	_, c := openTestService(t, Config{})
	opts := map[string]any{"recipient__email_required": "", "tag__required": nil, "launch__date_futureonly": "2020-01-01", "note": "fine"}
	script := `{% log a: options.recipient__email_required, b: options.tag__required, c: options.launch__date_futureonly, d: options.note, e: options.limit__number_required %}`
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", taskDoc("Opts", script, []string{"mechanic/user/trigger"}, opts))["id"].(string)
	out := c.want(http.StatusUnprocessableEntity, "POST", "/v1/tasks/"+id+"/enable", nil)
	msg, field := errorField(t, out)
	// In the options' order (Go encodes the map with sorted keys), then
	// the referenced but undeclared one.
	wantMsg := `the task cannot be enabled: option "launch__date_futureonly": must not be in the past, got "2020-01-01"; option "recipient__email_required": is required; option "tag__required": is required; option "limit__number_required": is required`
	if msg != wantMsg {
		t.Errorf("message\n%q, want\n%q", msg, wantMsg)
	}
	if field != "options.launch__date_futureonly" {
		t.Errorf("field %v", field)
	}
	if ds := details(t, out); len(ds) != 4 {
		t.Errorf("details %v, want 4", ds)
	}
	if c.want(http.StatusOK, "GET", "/v1/tasks/"+id, nil)["enabled"] != false {
		t.Fatal("refused task is enabled")
	}
	doc := taskDoc("Opts", script, []string{"mechanic/user/trigger"}, map[string]any{
		"recipient__email_required": "ops@example.com", "tag__required": "vip", "launch__date_futureonly": "2099-01-01", "note": "fine", "limit__number_required": 10,
	})
	doc["force"] = true
	c.want(http.StatusOK, "PUT", "/v1/tasks/"+id, doc)
	if c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)["enabled"] != true {
		t.Fatal("valid task not enabled")
	}
	// Disabling never validates.
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/disable", nil)
}

// TestTriggerValidation: a manual trigger for a disabled task answers 409,
// for a task not subscribed to the topic 422, each with the reason.
func TestTriggerValidation(t *testing.T) {
	_, c := openTestService(t, Config{})
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", taskDoc("T", `{% log "x" %}`, []string{"mechanic/user/trigger"}, nil))["id"].(string)
	trigger := map[string]any{"topic": "mechanic/user/trigger", "task_id": id}
	out := c.want(http.StatusConflict, "POST", "/v1/events", trigger)
	if msg, _ := errorField(t, out); msg != `task "`+id+`" is disabled; enable it before triggering it with mechanic/user/trigger` {
		t.Errorf("disabled: %q", msg)
	}
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	out = c.want(http.StatusUnprocessableEntity, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/text", "task_id": id, "data": "hi"})
	if msg, f := errorField(t, out); msg != `task "`+id+`" does not subscribe to mechanic/user/text (its subscriptions: mechanic/user/trigger), so the event would not run it` || f != "task_id" {
		t.Errorf("unsubscribed: %q (field %v)", msg, f)
	}
	c.want(http.StatusCreated, "POST", "/v1/events", trigger)
}

// nested returns JSON with depth levels of nested arrays.
func nested(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

// TestDeepEventData: event data nested deeper than the engine renders is
// refused at ingest (422); data at the limit is accepted and runs.
func TestDeepEventData(t *testing.T) {
	_, c := startPipelineService(t)
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", taskDoc("Deep", `{% log event.data.size %}`, []string{"user/deep/data"}, nil))["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	for _, depth := range []int{101, 1000, 9999} {
		out := c.want(http.StatusUnprocessableEntity, "POST", "/v1/events", `{"topic":"user/deep/data","data":`+nested(depth)+`}`)
		if msg, f := errorField(t, out); f != "data" || !strings.Contains(msg, "at most 100 levels") {
			t.Errorf("depth %d: %q (field %v)", depth, msg, f)
		}
	}
	c.want(http.StatusCreated, "POST", "/v1/events", `{"topic":"user/deep/data","data":`+nested(100)+`}`)
	runs := waitRuns(t, c, "task_runs", id, 1)
	if st := runs[0].(map[string]any)["status"]; st != "success" {
		t.Fatalf("task run for data at the limit: %v", st)
	}
}

// TestLibraryTasksSave: every task of Mechanic's public library saves
// through the API without a Liquid syntax error.
func TestLibraryTasksSave(t *testing.T) {
	lib := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	files, _ := filepath.Glob(filepath.Join(lib, "*.json"))
	if len(files) != 360 {
		t.Fatalf("found %d library tasks, want 360", len(files))
	}
	_, c := openTestService(t, Config{})
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if st, out := c.do("POST", "/v1/tasks", raw); st != http.StatusCreated {
			t.Errorf("%s: status %d: %v", filepath.Base(f), st, out["error"])
		}
	}
}
