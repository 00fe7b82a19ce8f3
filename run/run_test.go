package run

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/task"
)

func TestSubjectVariable(t *testing.T) {
	// docs: core/tasks/code/environment-variables.md; mechanic-spec §2.4
	cases := []struct {
		topic, want string
		ok          bool
	}{
		{"shopify/orders/create", "order", true},
		{"shopify/orders/edited", "order_edit", true},
		{"shopify/inventory_levels/update", "inventory_level", true},
		{"shopify/draft_orders/update", "draft_order", true},
		{"shopify/fulfillment_events/create", "fulfillment_event", true},
		{"shopify/refunds/create", "refund", true},
		{"shopify/customers/create", "customer", true},
		{"shopify/customer/tags_added", "customer", true},
		{"shopify/companies/create", "company", true},
		{"shopify/metaobjects/update", "metaobject", true},
		{"mechanic/user/order", "order", true},
		{"mechanic/user/orders", "orders", true},
		{"mechanic/user/text", "", false},
		{"mechanic/user/form", "input", true},
		{"mechanic/actions/perform", "action", true},
		{"mechanic/shopify/bulk_operation", "bulkOperation", true},
		{"mechanic/emails/received", "email", true},
		{"mechanic/errors/task", "error", true},
		{"judgeme/review/created", "review", true},
		{"mechanic/scheduler/daily", "", false},
		{"user/orders/reminder", "", false},
	}
	for _, c := range cases {
		got, ok := SubjectVariable(c.topic)
		if got != c.want || ok != c.ok {
			t.Errorf("SubjectVariable(%q) = %q, %v; want %q, %v", c.topic, got, ok, c.want, c.ok)
		}
	}
}

func TestEventValue(t *testing.T) {
	ev := &Event{ID: "e0", Topic: "shopify/orders/create", Data: int64(0)}
	cur := ev
	for i := 1; i <= 7; i++ {
		cur.Parent = &Event{ID: "e" + string(rune('0'+i)), Topic: "user/x/y"}
		cur = cur.Parent
	}
	m := ev.Value()
	if _, ok := m.Get("preview"); ok {
		t.Error("event.preview is present on a live event")
	}
	if st, _ := m.Get("shopify_topic"); st != "shopify/orders/create" {
		t.Errorf("shopify_topic = %v", st)
	}
	depth := 0
	for p, ok := m.Get("parent"); ok; p, ok = p.(*value.Map).Get("parent") {
		depth++
	}
	if depth != MaxParentGenerations {
		t.Errorf("parent generations = %d, want %d", depth, MaxParentGenerations)
	}
	ev.Preview = true
	if p, _ := ev.Value().Get("preview"); p != true {
		t.Errorf("event.preview = %v on a preview event", p)
	}
}

func newTask(t *testing.T, script string, options map[string]any) *task.Task {
	t.Helper()
	tk := task.New("Test task")
	tk.Script = script
	for k, v := range options {
		tk.Options.Set(k, value.Normalize(v))
	}
	return tk
}

func renderer() *Renderer {
	return &Renderer{
		Engine: dialect.NewEngine(dialect.Options{}),
		Now:    func() time.Time { return time.Date(2024, 3, 14, 12, 0, 0, 0, time.UTC) },
	}
}

func TestRunVariables(t *testing.T) {
	script := `{% log topic: event.topic, preview: event.preview, order: order.name, shop: shop.name, task: task.name, subject: options.subject, n: options.count__number, cache: cache.k, globals: globals.g %}`
	tk := newTask(t, script, map[string]any{"subject": "Order {{ order.name }} for {{ shop.name }}", "count__number": "3"})
	r := renderer()
	r.Globals = map[string]any{"g": "G"}
	res, err := r.Run(context.Background(), Input{Task: tk, Event: &Event{Topic: "shopify/orders/create", Data: value.MapOf("name", "#1001")}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := value.ToJSON(res.Output.Logs[0])
	want := `{"topic":"shopify/orders/create","preview":null,"order":"#1001","shop":"Example Shop","task":"Test task","subject":"Order #1001 for Example Shop","n":3,"cache":null,"globals":"G"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

type mapCache map[string]any

func (m mapCache) Get(_ context.Context, k string) (any, bool, error) {
	v, ok := m[k]
	return v, ok, nil
}

func TestCache(t *testing.T) {
	tk := newTask(t, `{% log cache["k"] %}`, nil)
	r := renderer()
	r.Cache = mapCache{"k": "v"}
	live, err := r.Run(context.Background(), Input{Task: tk, Event: &Event{Topic: "mechanic/user/trigger"}})
	if err != nil {
		t.Fatal(err)
	}
	preview, err := r.Run(context.Background(), Input{Task: tk, Event: &Event{Topic: "mechanic/user/trigger", Preview: true}})
	if err != nil {
		t.Fatal(err)
	}
	if live.Output.Logs[0] != "v" || preview.Output.Logs[0] != nil {
		t.Errorf("cache: live %v, preview %v; want v, nil", live.Output.Logs[0], preview.Output.Logs[0])
	}
}

func TestRunFailures(t *testing.T) {
	ev := &Event{Topic: "mechanic/user/trigger"}
	cases := []struct {
		name   string
		script string
		limits Limits
		kind   ErrorKind
	}{
		{"syntax", `{% if %}`, Limits{}, KindSyntax},
		{"inline runtime error", `{{ 1 | divided_by: 0 }}`, Limits{}, KindRender},
		{"not JSON", `hello`, Limits{}, KindOutput},
		{"unknown object", `{"other": 1}`, Limits{}, KindOutput},
		{"steps", `{% for i in (1..100000) %}{% endfor %}`, Limits{Steps: 1000}, KindLimit},
		{"output", `{% for i in (1..100) %}{"log": "xxxxxxxxxx"}{% endfor %}`, Limits{OutputBytes: 100}, KindLimit},
		{"actions", `{% for i in (1..3) %}{% action "echo", i %}{% endfor %}`, Limits{Actions: 2}, KindActions},
		{"bad action body", `{% action "http" %}nope{% endaction %}`, Limits{}, KindRender},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := renderer()
			r.Limits = c.limits
			_, err := r.Run(context.Background(), Input{Task: newTask(t, c.script, nil), Event: ev})
			var re *Error
			if !errors.As(err, &re) || re.Kind != c.kind {
				t.Errorf("got %v, want a %s error", err, c.kind)
			}
		})
	}
}

func TestRunTimeout(t *testing.T) {
	r := renderer()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Run(ctx, Input{Task: newTask(t, `{% for i in (1..100000) %}{% endfor %}`, nil), Event: &Event{Topic: "mechanic/user/trigger"}})
	var re *Error
	if !errors.As(err, &re) || re.Kind != KindLimit {
		t.Errorf("got %v, want a limit error for a cancelled run", err)
	}
}

func TestTaskErrorsAreNotFailures(t *testing.T) {
	res, err := renderer().Run(context.Background(), Input{Task: newTask(t, `{% error "bad config" %}{% action "echo", 1 %}`, nil), Event: &Event{Topic: "mechanic/user/trigger"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output.Errors) != 1 || len(res.Output.Actions) != 1 {
		t.Errorf("got %+v", res.Output)
	}
}

func TestPerformEventInOutput(t *testing.T) {
	res, err := renderer().Run(context.Background(), Input{Task: newTask(t, `{% action "echo", n: 1, __perform_event: false %}{% action "echo", 2 %}`, nil), Event: &Event{Topic: "mechanic/user/trigger"}})
	if err != nil {
		t.Fatal(err)
	}
	if a := res.Output.Actions; len(a) != 2 || !a[0].NoPerformEvent || a[1].NoPerformEvent {
		t.Errorf("actions %+v", a)
	}
	b, _ := res.Output.Actions[0].MarshalJSON()
	if string(b) != `{"type":"echo","options":{"n":1},"__perform_event":false}` {
		t.Errorf("marshal: %s", b)
	}
}

func TestPreviewEvents(t *testing.T) {
	tk := newTask(t, `{% log event.topic %}`, nil)
	tk.PreviewEventDefinitions = []task.PreviewEventDefinition{
		{Description: "defined", EventAttributes: task.EventAttributes{Topic: "shopify/orders/create", Data: value.MapOf("name", "#9")}},
		{Description: "other", EventAttributes: task.EventAttributes{Topic: "user/x/y", Data: nil}},
	}
	subs := []task.Subscription{{Topic: "shopify/orders/create"}, {Topic: "shopify/customers/update", Delay: time.Hour}, {Topic: "shopify/orders/create", Delay: time.Minute}}
	evs := PreviewEvents(tk, subs)
	var got []string
	for _, e := range evs {
		got = append(got, e.Event.Topic+"|"+e.Description)
		if !e.Event.Preview {
			t.Errorf("%s: not a preview event", e.Event.Topic)
		}
	}
	want := "shopify/orders/create|defined shopify/customers/update|"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if m, ok := evs[1].Event.Data.(*value.Map); !ok || !m.Has("email") {
		t.Errorf("customers sample: %v", evs[1].Event.Data)
	}
}

func TestSampleData(t *testing.T) {
	cases := []struct{ topic, field string }{
		{"shopify/orders/create", "line_items"},
		{"shopify/products/update", "variants"},
		{"shopify/inventory_levels/update", "inventory_item_id"},
		{"shopify/draft_orders/create", "invoice_url"},
		{"shopify/fulfillments/create", "tracking_number"},
		{"shopify/refunds/create", "refund_line_items"},
		{"shopify/fulfillment_events/create", "status"},
		{"shopify/checkouts/create", "abandoned_checkout_url"},
		{"shopify/collections/update", "handle"},
		{"shopify/orders/edited", "order_edit"},
		{"mechanic/actions/perform", "run"},
		{"mechanic/shopify/bulk_operation", "objects"},
		{"mechanic/errors/action", "message"},
		{"mechanic/emails/received", "subject"},
		{"mechanic/user/order", "name"},
		{"mechanic/user/product", "admin_graphql_api_id"},
	}
	for _, c := range cases {
		m, ok := SampleData(c.topic).(*value.Map)
		if !ok || !m.Has(c.field) {
			t.Errorf("%s: sample has no %q", c.topic, c.field)
		}
	}
	if s, ok := SampleData("mechanic/user/text").(string); !ok || s == "" {
		t.Error("mechanic/user/text: want a string")
	}
	if a, ok := SampleData("mechanic/user/orders").([]any); !ok || len(a) != 1 {
		t.Error("mechanic/user/orders: want an array of one order")
	}
	if m, ok := SampleData("user/anything/here").(*value.Map); !ok || m.Len() != 0 {
		t.Error("user topic: want an empty hash")
	}
	// fresh values: changing one sample does not change the next
	SampleData("shopify/orders/create").(*value.Map).Set("name", "changed")
	if n, _ := SampleData("shopify/orders/create").(*value.Map).Get("name"); n != "#1001" {
		t.Errorf("samples are shared: %v", n)
	}
}

func TestSampleRequiredOptions(t *testing.T) {
	tk := newTask(t, `{{ options.extra__required }}`, map[string]any{
		"location_id__required":           nil,
		"tags__array_required":            []any{},
		"map__keyval_number_required":     map[string]any{},
		"mode__select_o1_a_o2_b_required": "",
		"set__required":                   "kept",
		"flag__boolean":                   nil,
		"secret__secret_required":         nil,
	})
	got, filled := SampleRequiredOptions(tk, nil)
	want := map[string]string{
		"flag__boolean":                   `false`,
		"location_id__required":           `"1234567890"`,
		"map__keyval_number_required":     `{"1234567890":1}`,
		"mode__select_o1_a_o2_b_required": `"a"`,
		"secret__secret_required":         `null`,
		"set__required":                   `"kept"`,
		"tags__array_required":            `["sample"]`,
		"extra__required":                 `"sample"`,
	}
	for k, w := range want {
		v, _ := got.Get(k)
		if js, _ := value.ToJSON(v); string(js) != w {
			t.Errorf("%s = %s, want %s", k, js, w)
		}
	}
	if len(filled) != 5 {
		t.Errorf("filled %v", filled)
	}
}

func TestPreviewWithEventAndOptions(t *testing.T) {
	tk := newTask(t, `{% if event.preview %}{% action "echo", who: options.who, topic: event.topic, n: event.data.n %}{% endif %}`, map[string]any{"who__required": nil})
	tk.Script = strings.ReplaceAll(tk.Script, "options.who", "options.who__required")
	tmpl := "mechanic/user/trigger"
	tk.SubscriptionsTemplate = &tmpl
	p, err := renderer().Preview(context.Background(), PreviewInput{
		Task:    tk,
		Event:   &Event{Topic: "user/a/b", Data: value.MapOf("n", int64(5))},
		Options: value.MapOf("who__required", "me"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Runs) != 1 || p.Runs[0].Err != nil {
		t.Fatalf("runs %+v", p.Runs)
	}
	b, _ := p.Runs[0].Result.Output.Actions[0].MarshalJSON()
	if want := `{"type":"echo","options":{"who":"me","topic":"user/a/b","n":5}}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	if strings.Join(p.Subscriptions, ",") != "mechanic/user/trigger" {
		t.Errorf("subscriptions %v", p.Subscriptions)
	}
}

func TestEventFromValue(t *testing.T) {
	v, _ := value.FromJSON([]byte(`{"topic": "shopify/orders/create", "data": {"id": 1}, "created_at": "2024-01-02T03:04:05Z", "parent": {"topic": "user/a/b"}}`))
	e, err := EventFromValue(v)
	if err != nil {
		t.Fatal(err)
	}
	if e.Topic != "shopify/orders/create" || e.CreatedAt.Year() != 2024 || e.Parent == nil || e.Parent.Topic != "user/a/b" {
		t.Errorf("got %+v", e)
	}
	for _, bad := range []string{`[]`, `{"data": 1}`, `{"topic": "a/b/c", "bogus": 1}`, `{"topic": 5}`, `{"topic": "bad topic"}`, `{"topic": "shopify/orders/create+1.hour"}`, `{"topic": "a/b"}`} {
		v, _ := value.FromJSON([]byte(bad))
		if _, err := EventFromValue(v); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

type refSource map[string]string

func (s refSource) RevealSecret(ref string) (string, bool) {
	v, ok := s[ref]
	return v, ok
}

func TestSecrets(t *testing.T) {
	r := renderer()
	r.Secrets = map[string]any{"key": "[[secret:key]]"}
	r.SecretSource = refSource{"[[secret:key]]": "raw-key"}
	res, err := r.Run(context.Background(), Input{
		Task:  newTask(t, `{% log ref: secrets.key, missing: secrets.nope, sig: "data" | hmac_sha256: secrets.key %}`, nil),
		Event: &Event{Topic: "mechanic/user/trigger"},
	})
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte("raw-key"))
	mac.Write([]byte("data"))
	want := `{"ref":"[[secret:key]]","missing":null,"sig":"` + hex.EncodeToString(mac.Sum(nil)) + `"}`
	if got, _ := value.ToJSON(res.Output.Logs[0]); string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestRawActionControlParameters(t *testing.T) {
	out, err := ParseOutput(`{"action": {"type": "http", "options": {"url": "u", "__perform_event": false, "__meta": {"m": 1}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	a := out.Actions[0]
	b, _ := a.MarshalJSON()
	if want := `{"type":"http","options":{"url":"u"},"meta":{"m":1},"__perform_event":false}`; string(b) != want || !a.NoPerformEvent {
		t.Errorf("got %s, want %s", b, want)
	}
}

// slowCache answers after a delay, ignoring its context, as a slow read
// that does not notice the run's deadline would.
type slowCache struct{ delay time.Duration }

func (c slowCache) Get(context.Context, string) (any, bool, error) {
	time.Sleep(c.delay)
	return "v", true, nil
}

// TestWallTimeWholeRun: the wall-time limit holds for the run as a whole:
// a run whose reads take it past the limit fails with a limit error even
// though no Liquid step noticed; one that ends within it succeeds.
func TestWallTimeWholeRun(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		reads   int
		delay   time.Duration
		limit   bool
	}{
		{"within", 2 * time.Second, 2, 50 * time.Millisecond, false},
		{"past the limit", 200 * time.Millisecond, 2, 150 * time.Millisecond, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := renderer()
			r.Cache = slowCache{delay: tc.delay}
			r.Limits = Limits{Timeout: tc.timeout}
			script := strings.Repeat(`{% log cache["k"] %}`, tc.reads)
			res, err := r.Run(context.Background(), Input{Task: newTask(t, script, nil), Event: &Event{Topic: "mechanic/user/trigger"}})
			var re *Error
			if tc.limit {
				if !errors.As(err, &re) || re.Kind != KindLimit || !strings.Contains(err.Error(), "wall-time limit") {
					t.Fatalf("got %v, want a wall-time limit error", err)
				}
				return
			}
			if err != nil || len(res.Output.Logs) != tc.reads {
				t.Fatalf("got %v, %+v", err, res)
			}
		})
	}
}

// TestBulkOperationParent: objects of a bulk operation's result look their
// parent up with __parent, while their JSON keeps only their own keys.
func TestBulkOperationParent(t *testing.T) {
	data, err := value.FromJSON([]byte(`{"id":"gid://shopify/BulkOperation/1","status":"COMPLETED","type":"QUERY","objects":[
		{"__typename":"Order","id":"gid://shopify/Order/1","name":"#1001"},
		{"__typename":"LineItem","id":"gid://shopify/LineItem/7","sku":"A","__parentId":"gid://shopify/Order/1"},
		{"__typename":"LineItem","id":"gid://shopify/LineItem/8","sku":"B","__parentId":"gid://shopify/Order/404"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	tk := &task.Task{Name: "bulk", Script: `{% for o in bulkOperation.objects %}{% if o.__typename == "LineItem" %}{% log sku: o.sku, parent: o.__parent.name, json: o %}{% endif %}{% endfor %}`}
	r := &Renderer{}
	res, err := r.Run(context.Background(), Input{Task: tk, Event: &Event{Topic: "mechanic/shopify/bulk_operation", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := value.ToJSON(res.Output.Logs)
	want := `[{"sku":"A","parent":"#1001","json":{"__typename":"LineItem","id":"gid://shopify/LineItem/7","sku":"A","__parentId":"gid://shopify/Order/1"}},{"sku":"B","parent":null,"json":{"__typename":"LineItem","id":"gid://shopify/LineItem/8","sku":"B","__parentId":"gid://shopify/Order/404"}}]`
	if string(got) != want {
		t.Errorf("logs\n got %s\nwant %s", got, want)
	}
}

// TestBulkOperationBudget: a run answering mechanic/shopify/bulk_operation
// may do BulkOperationScale times the work of other runs.
func TestBulkOperationBudget(t *testing.T) {
	tk := &task.Task{Name: "loop", Script: `{% for i in (1..3000) %}{% assign x = i %}{% endfor %}{% log "done" %}`}
	r := &Renderer{Limits: Limits{Steps: 5000}}
	for _, c := range []struct {
		topic string
		ok    bool
	}{{"mechanic/user/trigger", false}, {"mechanic/shopify/bulk_operation", true}} {
		_, err := r.Run(context.Background(), Input{Task: tk, Event: &Event{Topic: c.topic, Data: value.NewMap(0)}})
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok %v", c.topic, err, c.ok)
		}
	}
}
