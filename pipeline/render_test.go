package pipeline

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	httpaction "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
)

const orderScript = `{% if event.topic == "mechanic/actions/perform" %}
  {% if action.type == "http" %}
    {% log status: action.run.result.status, parent_topic: event.parent.topic %}
  {% endif %}
{% else %}
  {% action "http" %}
    {
      "method": "post",
      "url": {{ options.endpoint__required | json }},
      "body": {"order": {{ event.data.id | json }}, "seen": {{ cache.seen | default: 0 | json }}}
    }
  {% endaction %}
  {% action "cache", "incr", "seen", __perform_event: false %}
{% endif %}`

// TestRealRenderer: a Liquid task through the real engine: webhook-style
// event → task run → http action to a loopback server and a cache action →
// perform event → the task logs the response status.
func TestRealRenderer(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()

	h := newHarness(t)
	hp := httpaction.New(httpaction.Config{Network: netpolicy.New(netip.MustParsePrefix("127.0.0.0/8"))})
	defer hp.CloseIdleConnections()
	h.register("http", hp)
	h.cfg.Renderer = RunRenderer{Renderer: &run.Renderer{Engine: dialect.NewEngine(dialect.Options{}), Cache: StoreCache(h.st), Logger: quietLogger()}}

	def := value.MapOf("name", "Forward orders", "script", orderScript,
		"subscriptions", []any{"user/orders/new", TopicActionsPerform},
		"options", value.MapOf("endpoint__required", srv.URL+"/hook"))
	b, err := value.ToJSON(def)
	if err != nil {
		t.Fatal(err)
	}
	tk, _, err := h.st.CreateTask(context.Background(), store.NewTask{Name: "Forward orders", Enabled: true,
		Subscriptions: []string{"user/orders/new", TopicActionsPerform}, Definition: b})
	if err != nil {
		t.Fatal(err)
	}
	h.start()
	h.event("user/orders/new", `{"id":1001}`)
	h.waitIdle()
	h.event("user/orders/new", `{"id":1002}`)
	h.waitIdle()

	mu.Lock()
	got := strings.Join(bodies, " ")
	mu.Unlock()
	if got != `{"order":1001,"seen":0} {"order":1002,"seen":1}` {
		t.Errorf("loopback bodies = %s", got)
	}
	taskRuns := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindTask})
	if len(taskRuns) != 4 {
		t.Fatalf("task runs = %d, want 4 (2 events, 2 http perform events)", len(taskRuns))
	}
	var logs []string
	for _, r := range taskRuns {
		if r.Status != store.StatusSuccess {
			t.Errorf("task run %s: %s %s\n%s", r.ID, r.Status, r.Error, r.Output)
		}
		if string(r.Logs) != "[]" {
			logs = append(logs, string(r.Logs))
		}
	}
	want := `[{"status":201,"parent_topic":"user/orders/new"}]`
	if len(logs) != 2 || logs[0] != want || logs[1] != want {
		t.Errorf("perform logs = %v", logs)
	}
	if v := h.cacheValue("seen"); v != "2" {
		t.Errorf("cache seen = %s", v)
	}
	if n := len(h.events(TopicActionsPerform)); n != 2 {
		t.Errorf("perform events = %d, want 2 (cache opted out)", n)
	}
	acts := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})
	for _, a := range acts {
		if a.Status != store.StatusSuccess {
			t.Errorf("action %s: %s %s", a.ActionType, a.Status, a.Error)
		}
	}
	var res []map[string]any
	if err := json.Unmarshal(taskRuns[0].Result, &res); err != nil || len(res) != 2 {
		t.Errorf("task run result = %s", taskRuns[0].Result)
	}
}

func TestRealRendererLiquidError(t *testing.T) {
	h := newHarness(t)
	h.cfg.Renderer = RunRenderer{Renderer: &run.Renderer{Engine: dialect.NewEngine(dialect.Options{}), Logger: quietLogger()}}
	tk := h.task("broken", []string{"user/a/b"}, `{% if %}`, taskOpts{})
	h.start()
	h.event("user/a/b", `{}`)
	h.waitIdle()
	rs := h.runs(store.RunFilter{TaskID: tk.ID})
	if len(rs) != 1 || rs[0].Status != store.StatusFailed || rs[0].Attempts != 1 || !strings.Contains(rs[0].Error, "syntax") {
		t.Fatalf("runs = %+v", rs)
	}
}
