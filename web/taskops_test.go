package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

func mkTask(t *testing.T, env *testEnv, name string, tags []string, subs ...string) store.Task {
	t.Helper()
	tk := task.New(name)
	tk.Script = `{% log "hi" %}`
	tk.Tags = tags
	tk.Subscriptions = subs
	st, _, err := server.CreateTask(context.Background(), env.svc.Store(), tk, "")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestTaskListFiltersAndBulk filters the task list by name, tag, topic
// and state, and applies bulk actions.
func TestTaskListFiltersAndBulk(t *testing.T) {
	env := startEnv(t, envOptions{})
	a := mkTask(t, env, "Tag new orders", []string{"Orders"}, "shopify/orders/create")
	b2 := mkTask(t, env, "Daily report", []string{"Reporting"}, "mechanic/scheduler/daily")
	c := mkTask(t, env, "Order digest", []string{"Orders", "Reporting"}, "shopify/orders/create+1.day")
	br := env.browser()
	br.mustSignIn()
	if code, _, body := br.post("/tasks/bulk", url.Values{"ids": {a.ID, c.ID}, "action": {"enable"}, "back": {"/"}}); code != http.StatusSeeOther {
		t.Fatalf("bulk enable: %d %s", code, body)
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{a.Name, b2.Name, c.Name}},
		{"q=order", []string{a.Name, c.Name}},
		{"q=REPORTING", []string{b2.Name, c.Name}},
		{"tag=Orders", []string{a.Name, c.Name}},
		{"topic=shopify/orders/create", []string{a.Name, c.Name}},
		{"topic=mechanic/scheduler/daily", []string{b2.Name}},
		{"enabled=true", []string{a.Name, c.Name}},
		{"enabled=false", []string{b2.Name}},
		{"tag=Orders&enabled=true&q=digest", []string{c.Name}},
		{"q=nothing-matches", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			_, body := br.get("/?" + tt.query)
			for _, n := range []string{a.Name, b2.Name, c.Name} {
				shown := strings.Contains(body, `class="task-name">`+n+`</a>`)
				want := false
				for _, w := range tt.want {
					want = want || w == n
				}
				if shown != want {
					t.Errorf("%q shown = %v, want %v", n, shown, want)
				}
			}
		})
	}
	br.get("/")
	if code, _, _ := br.post("/tasks/bulk", url.Values{"ids": {a.ID, b2.ID}, "action": {"delete"}}); code != http.StatusSeeOther {
		t.Fatalf("bulk delete: %d", code)
	}
	ts, _, _ := env.svc.Store().ListTasks(context.Background(), store.TaskFilter{})
	if len(ts) != 1 || ts[0].ID != c.ID || !ts[0].Enabled {
		t.Errorf("after bulk delete: %+v", ts)
	}
	_, body := br.get("/")
	if !strings.Contains(body, "delete: 2 task(s).") {
		t.Errorf("no bulk result message")
	}
}

// TestTaskVersionsDuplicateImportExport saves a task twice through the
// editor, restores the first version, duplicates, exports and imports it.
func TestTaskVersionsDuplicateImportExport(t *testing.T) {
	env := startEnv(t, envOptions{})
	st := env.svc.Store()
	ctx := context.Background()
	tk := mkTask(t, env, "Versioned", nil, "mechanic/user/trigger")
	b := env.browser()
	b.mustSignIn()
	save := func(script string) {
		t.Helper()
		b.get("/tasks/" + tk.ID + "?mode=advanced")
		form := url.Values{"name": {"Versioned"}, "script": {script}, "subscriptions_template": {"mechanic/user/trigger"}, "mode": {"advanced"}}
		if code, _, body := b.post("/tasks/"+tk.ID, form); code != http.StatusSeeOther {
			t.Fatalf("save: %d %s", code, body)
		}
	}
	save(`{% log "second" %}`)
	save(`{% log "third" %}`)
	_, body := b.get("/tasks/" + tk.ID + "/versions")
	for _, want := range []string{"Version 3", "Version 1", `<span class="ddel">-   &#34;script&#34;: &#34;{% log \&#34;hi\&#34; %}&#34;,</span>`, `<span class="dadd">&#43;   &#34;script&#34;: &#34;{% log \&#34;third\&#34; %}&#34;,</span>`} {
		if !strings.Contains(body, want) {
			t.Errorf("versions page lacks %s", want)
		}
	}
	if code, _, _ := b.post("/tasks/"+tk.ID+"/versions/1/restore", nil); code != http.StatusSeeOther {
		t.Fatalf("restore: %d", code)
	}
	cur, _ := st.GetTask(ctx, tk.ID)
	parsed, _ := task.Parse(cur.Definition)
	if parsed.Script != `{% log "hi" %}` {
		t.Errorf("restored script %q", parsed.Script)
	}
	if vs, _ := st.ListTaskVersions(ctx, tk.ID); len(vs) != 4 {
		t.Errorf("%d versions after a restore, want 4", len(vs))
	}
	// A stale editor (opened before another save) is told about the conflict.
	b.get("/tasks/" + tk.ID)
	stale := b.csrf
	form := url.Values{"name": {"Versioned"}, "updated_at": {"1"}, "csrf": {stale}}
	if code, _, body := b.post("/tasks/"+tk.ID, form); code != http.StatusUnprocessableEntity || !strings.Contains(body, "changed elsewhere") {
		t.Errorf("stale save: %d", code)
	}

	code, loc, _ := b.post("/tasks/"+tk.ID+"/duplicate", nil)
	if code != http.StatusSeeOther {
		t.Fatalf("duplicate: %d", code)
	}
	dup, err := st.GetTask(ctx, strings.TrimPrefix(loc, "/tasks/"))
	if err != nil || dup.Name != "Copy of Versioned" || dup.Enabled {
		t.Fatalf("duplicate: %+v %v", dup, err)
	}

	resp, err := b.c.Get(env.base + "/tasks/" + tk.ID + "/export")
	if err != nil {
		t.Fatal(err)
	}
	var exported map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&exported); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if exported["name"] != "Versioned" || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename="versioned.json"`) {
		t.Errorf("export: %v %q", exported["name"], resp.Header.Get("Content-Disposition"))
	}
	exported["name"] = "Imported"
	raw, _ := json.Marshal(exported)
	b.get("/tasks/import")
	code, loc, body = b.post("/tasks/import", url.Values{"json": {string(raw)}})
	if code != http.StatusSeeOther {
		t.Fatalf("import: %d %s", code, body)
	}
	imp, err := st.GetTask(ctx, strings.TrimPrefix(loc, "/tasks/"))
	if err != nil || imp.Name != "Imported" {
		t.Fatalf("imported %+v %v", imp, err)
	}
	code, _, body = b.post("/tasks/import", url.Values{"json": {`{"name": "x", "script": 5}`}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "script") {
		t.Errorf("bad import: %d, error does not name the field", code)
	}
}

// TestRunTopicsAndCancel runs text and form tasks from their page
// (creating the manual events) and cancels a queued event.
func TestRunTopicsAndCancel(t *testing.T) {
	env := startEnv(t, envOptions{}) // no pipeline: events stay queued
	ctx := context.Background()
	st := env.svc.Store()
	tk := task.New("Ask")
	tk.Script = `{% log input %}`
	tk.Subscriptions = []string{"mechanic/user/text", "mechanic/user/form"}
	tk.Options.Set("color__userform_required", "blue")
	stored, _, err := server.CreateTask(ctx, st, tk, "")
	if err != nil {
		t.Fatal(err)
	}
	b := env.browser()
	b.mustSignIn()
	_, body := b.get("/tasks/" + stored.ID)
	if !strings.Contains(body, `name="input:color"`) || !strings.Contains(body, `name="text"`) {
		t.Fatalf("run forms missing")
	}
	if code, _, _ := b.post("/tasks/"+stored.ID+"/run", url.Values{"topic": {"mechanic/user/text"}, "text": {"hello"}}); code != http.StatusSeeOther {
		t.Fatalf("run disabled task: %d", code)
	}
	if _, body := b.get("/tasks/" + stored.ID); !strings.Contains(body, "Enable the task before running it") {
		t.Errorf("no message about the disabled task")
	}
	b.post("/tasks/"+stored.ID+"/enable", nil)
	tests := []struct {
		topic    string
		form     url.Values
		wantData string
		wantErr  string
	}{
		{topic: "mechanic/user/text", form: url.Values{"text": {"hello"}}, wantData: `"hello"`},
		{topic: "mechanic/user/form", form: url.Values{"input:color": {"red"}}, wantData: `{"color":"red"}`},
		{topic: "mechanic/user/form", form: url.Values{"input:color": {""}}, wantErr: "Color is required"},
		{topic: "mechanic/user/trigger", wantErr: "not subscribed"},
	}
	for _, tt := range tests {
		t.Run(tt.topic+tt.wantErr, func(t *testing.T) {
			b.get("/tasks/" + stored.ID)
			form := tt.form
			if form == nil {
				form = url.Values{}
			}
			form.Set("topic", tt.topic)
			code, loc, _ := b.post("/tasks/"+stored.ID+"/run", form)
			if code != http.StatusSeeOther {
				t.Fatalf("run: %d", code)
			}
			if tt.wantErr != "" {
				if _, body := b.get(loc); !strings.Contains(body, tt.wantErr) {
					t.Errorf("no %q message", tt.wantErr)
				}
				return
			}
			e, err := st.GetEvent(ctx, strings.TrimPrefix(loc, "/events/"))
			if err != nil {
				t.Fatal(err)
			}
			if e.Topic != tt.topic || string(e.Data) != tt.wantData || len(e.TaskIDs) != 1 || e.TaskIDs[0] != stored.ID {
				t.Errorf("event %s %s %v", e.Topic, e.Data, e.TaskIDs)
			}
			// Queued (no pipeline): it can be cancelled, once.
			_, page := b.get(loc)
			if !strings.Contains(page, `action="/events/`+e.ID+`/cancel"`) {
				t.Fatalf("no cancel button on a queued event")
			}
			b.post("/events/"+e.ID+"/cancel", nil)
			runs, _, _ := st.ListRuns(ctx, store.RunFilter{EventID: e.ID, Kind: store.KindEvent})
			if len(runs) != 1 || runs[0].Status != store.StatusFailed || !strings.Contains(runs[0].Error, "cancelled") {
				t.Errorf("event run after cancel: %+v", runs)
			}
			b.post("/events/"+e.ID+"/cancel", nil)
			if _, page := b.get(loc); !strings.Contains(page, "not queued any more") {
				t.Errorf("second cancel not refused")
			}
		})
	}
}

// TestConsole evaluates Liquid against sample data and a stored event.
func TestConsole(t *testing.T) {
	env := startEnv(t, envOptions{})
	ctx := context.Background()
	evs, err := env.svc.Store().InsertEvents(ctx, []store.NewEvent{{Topic: "user/orders/new", Data: json.RawMessage(`{"number": 1001}`), Source: "user"}})
	if err != nil {
		t.Fatal(err)
	}
	gv, _ := json.Marshal("blue")
	env.svc.Store().PutSetting(ctx, store.SettingGlobal, "color", gv)
	env.svc.SettingsChanged()
	b := env.browser()
	b.mustSignIn()
	b.get("/console")
	tests := []struct {
		name string
		form url.Values
		want []string
	}{
		{name: "sample data", form: url.Values{"template": {`{{ event.data.x | plus: 1 }} {{ globals.color }}`}, "topic": {"user/x/y"}, "sample": {`{"x": 41}`}},
			want: []string{`<pre class="code" id="console-output">42 blue</pre>`, "a task run would fail on it"}},
		{name: "actions", form: url.Values{"template": {`{% action "echo", a: event.data.x %}{% log "seen" %}`}, "topic": {"user/x/y"}, "sample": {`{"x": 41}`}},
			want: []string{"&#34;type&#34;: &#34;echo&#34;", "&#34;a&#34;: 41", "&#34;seen&#34;"}},
		{name: "stored event", form: url.Values{"template": {`#{{ event.data.number }} {{ event.topic }}`}, "event_id": {evs[0].ID}}, want: []string{"#1001 user/orders/new"}},
		{name: "bad sample", form: url.Values{"template": {`x`}, "topic": {"user/x/y"}, "sample": {`{`}}, want: []string{"sample data is not valid JSON"}},
		{name: "liquid error", form: url.Values{"template": {`{% if %}`}, "topic": {"user/x/y"}}, want: []string{"Liquid syntax error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := b.post("/console", tt.form, "HX-Request", "true")
			if code != http.StatusOK {
				t.Fatalf("console: %d", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("result lacks %q:\n%s", w, body)
				}
			}
		})
	}
}

// TestSaveAndEnableRules refuses saving Liquid syntax errors (named with
// their line) and enabling a task whose required option is empty.
func TestSaveAndEnableRules(t *testing.T) {
	env := startEnv(t, envOptions{})
	ctx := context.Background()
	tk := task.New("Rules")
	tk.Script = `{% log options.who__required %}`
	tk.Subscriptions = []string{"mechanic/user/trigger"}
	tk.Options.Set("who__required", nil)
	stored, _, err := server.CreateTask(ctx, env.svc.Store(), tk, "")
	if err != nil {
		t.Fatal(err)
	}
	b := env.browser()
	b.mustSignIn()
	b.get("/tasks/" + stored.ID)
	code, _, body := b.post("/tasks/"+stored.ID, url.Values{"name": {"Rules"}, "script": {"{% log 1 %}\n{% if %}"}, "mode": {"advanced"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "script line 2: Liquid syntax error") {
		t.Errorf("save with a syntax error: %d", code)
	}
	if cur, _ := env.svc.Store().GetTask(ctx, stored.ID); !strings.Contains(string(cur.Definition), "options.who__required") {
		t.Errorf("the broken script was saved")
	}
	tests := []struct {
		name, path string
		form       url.Values
	}{
		{name: "enable", path: "/tasks/" + stored.ID + "/enable"},
		{name: "bulk enable", path: "/tasks/bulk", form: url.Values{"ids": {stored.ID}, "action": {"enable"}}},
		{name: "save and enable", path: "/tasks/" + stored.ID, form: url.Values{"name": {"Rules"}, "enable": {"true"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.get("/tasks/" + stored.ID)
			code, loc, _ := b.post(tt.path, tt.form)
			if code != http.StatusSeeOther {
				t.Fatalf("%d", code)
			}
			if _, page := b.get(loc); !strings.Contains(page, "is required") {
				t.Errorf("no message naming the empty required option")
			}
			if cur, _ := env.svc.Store().GetTask(ctx, stored.ID); cur.Enabled {
				t.Errorf("the task was enabled")
			}
		})
	}
	b.get("/tasks/" + stored.ID)
	b.post("/tasks/"+stored.ID, url.Values{"name": {"Rules"}, "options_form": {"1"}, "opt:who__required": {"me"}, "enable": {"true"}})
	if cur, _ := env.svc.Store().GetTask(ctx, stored.ID); !cur.Enabled {
		t.Errorf("filled in, the task was not enabled")
	}
}

// TestHomeExtras searches code and options, filters by API version,
// retags and exports selected tasks, and lists current activity.
func TestHomeExtras(t *testing.T) {
	env := startEnv(t, envOptions{}) // no pipeline: event runs stay queued
	ctx := context.Background()
	a := task.New("Alpha")
	a.Script = `{% log "needle-in-code" %}`
	a.Subscriptions = []string{"mechanic/user/trigger"}
	a.ShopifyAPIVersion = "2025-10"
	sa, _, _ := server.CreateTask(ctx, env.svc.Store(), a, "")
	bt := task.New("Beta")
	bt.Script = `{{ options.x }}`
	bt.Options.Set("x", "needle-in-options")
	bt.Subscriptions = []string{"mechanic/user/trigger"}
	sb, _, _ := server.CreateTask(ctx, env.svc.Store(), bt, "")
	if _, err := env.svc.Store().InsertEvents(ctx, []store.NewEvent{{Topic: "user/x/y", Data: json.RawMessage(`{}`), Source: "user"}}); err != nil {
		t.Fatal(err)
	}
	b := env.browser()
	b.mustSignIn()
	for _, tt := range []struct{ query, want, notWant string }{
		{"q=needle-in-code", "Alpha", "Beta"},
		{"q=NEEDLE-IN-OPTIONS", "Beta", "Alpha"},
		{"api_version=2025-10", "Alpha", "Beta"},
	} {
		_, body := b.get("/?" + tt.query)
		if !strings.Contains(body, `class="task-name">`+tt.want+`<`) || strings.Contains(body, `class="task-name">`+tt.notWant+`<`) {
			t.Errorf("%s: want only %s", tt.query, tt.want)
		}
	}
	_, body := b.get("/")
	if !strings.Contains(body, "1 queued") || !strings.Contains(body, "event_run") {
		t.Errorf("current activity does not list the queued event run")
	}
	// A queued task run is counted on its task's row.
	if _, err := env.svc.Store().InsertEvents(ctx, []store.NewEvent{{Topic: "mechanic/user/trigger", Data: json.RawMessage(`null`), Source: "user", TaskIDs: []string{sb.ID}}}); err != nil {
		t.Fatal(err)
	}
	jobs, err := env.svc.Store().ClaimFiltered(ctx, store.ClaimOptions{Limit: 10, Lease: time.Minute, Kinds: []store.RunKind{store.KindEvent}})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		// The trigger event's run creates a task run due in an hour.
		var eff store.Effects
		if e, err := env.svc.Store().GetEvent(ctx, j.Run.EventID); err == nil && e.Topic == "mechanic/user/trigger" {
			eff.Runs = []store.NewRun{{ID: store.DerivedID(j.Run.ID, "t"), Kind: store.KindTask, EventID: j.Run.EventID, TaskID: sb.ID, ParentRunID: j.Run.ID, RunAt: time.Now().Add(time.Hour)}}
		}
		if _, err := env.svc.Store().Complete(ctx, j, store.Result{Result: json.RawMessage(`[]`), Effects: eff}); err != nil {
			t.Fatal(err)
		}
	}
	_, body = b.get("/")
	row := regexp.MustCompile(`class="task-name">Beta</a>[\s\S]*?</tr>`).FindString(body)
	if !strings.Contains(row, "1 queued") {
		t.Errorf("Beta's row does not count its queued task run: %s", row)
	}
	b.post("/tasks/bulk", url.Values{"ids": {sa.ID, sb.ID}, "action": {"add_tag"}, "tag": {"Batch"}})
	_, body = b.get("/?tag=Batch")
	if !strings.Contains(body, `class="task-name">Alpha<`) || !strings.Contains(body, `class="task-name">Beta<`) {
		t.Errorf("tag not added to both")
	}
	b.post("/tasks/bulk", url.Values{"ids": {sb.ID}, "action": {"remove_tag"}, "tag": {"Batch"}})
	_, body = b.get("/?tag=Batch")
	if strings.Contains(body, `class="task-name">Beta<`) {
		t.Errorf("tag not removed")
	}
	code, _, exported := b.post("/tasks/bulk", url.Values{"ids": {sa.ID, sb.ID}, "action": {"export"}})
	if code != http.StatusOK {
		t.Fatalf("export: %d", code)
	}
	ts, err := task.ParseAll([]byte(exported))
	if err != nil || len(ts) != 2 || ts[0].Name != "Alpha" || ts[1].Name != "Beta" {
		t.Fatalf("exported %d tasks: %v", len(ts), err)
	}
	// The export imports back in one go.
	b.get("/tasks/import")
	if code, loc, _ := b.post("/tasks/import", url.Values{"json": {exported}}); code != http.StatusSeeOther || loc != "/" {
		t.Fatalf("import of two: %d %q", code, loc)
	}
	all, _, _ := env.svc.Store().ListTasks(ctx, store.TaskFilter{})
	if len(all) != 4 {
		t.Errorf("%d tasks after importing two, want 4", len(all))
	}
}
