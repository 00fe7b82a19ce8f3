package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startPipelineService runs the service with its pipeline in-process.
func startPipelineService(t *testing.T, clock ...*fakeClock) (*Service, *client) {
	t.Helper()
	return startPipelineServiceWith(t, PipelineOptions{Network: loopbackNetwork}, clock...)
}

// startPipelineServiceWith is startPipelineService with pipeline options.
func startPipelineServiceWith(t *testing.T, o PipelineOptions, clock ...*fakeClock) (*Service, *client) {
	t.Helper()
	cfg := Config{
		DataDir: t.TempDir(), APIToken: testToken, DisableScheduler: true, Logger: quietLogger(),
		NewPipeline: StandardPipeline(o),
	}
	if len(clock) > 0 {
		cfg.StoreClock = clock[0]
	}
	svc, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, serveInProcess(t, svc, nil)
}

// serveInProcess serves svc on ln (a new loopback listener when nil) until
// the test ends, then closes it, and returns an API client for it.
func serveInProcess(t *testing.T, svc *Service, ln net.Listener) *client {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		_ = svc.Close()
	})
	return &client{t: t, base: "http://" + ln.Addr().String(), token: testToken}
}

// TestManualTriggers runs the service in-process with its pipeline: a
// mechanic/user/trigger, text or form event created through the API runs
// only the task it names, with the text or form data in the run.
func TestManualTriggers(t *testing.T) {
	_, c := startPipelineService(t)
	mk := func(name string) string {
		doc := map[string]any{
			"name":          name,
			"script":        `{% if event.topic == "mechanic/user/text" %}{% log text: event.data %}{% elsif event.topic == "mechanic/user/form" %}{% log color: input.color %}{% else %}{% log "triggered" %}{% endif %}`,
			"subscriptions": []string{"mechanic/user/trigger", "mechanic/user/text", "mechanic/user/form"},
			"options":       map[string]any{},
		}
		id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
		c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
		return id
	}
	a, b := mk("A"), mk("B")
	for _, ev := range []map[string]any{
		{"topic": "mechanic/user/trigger", "task_id": a},
		{"topic": "mechanic/user/text", "task_id": a, "data": "hello there"},
		{"topic": "mechanic/user/form", "task_id": a, "data": map[string]any{"color": "teal"}},
	} {
		c.want(http.StatusCreated, "POST", "/v1/events", ev)
	}
	var runs []any
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs = c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+a+"&status=success", nil)["task_runs"].([]any)
		if len(runs) == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(runs) != 3 {
		t.Fatalf("task A has %d successful runs, want 3", len(runs))
	}
	var logs []string
	for _, r := range runs {
		raw, _ := json.Marshal(r.(map[string]any)["logs"])
		logs = append(logs, string(raw))
	}
	all := strings.Join(logs, " ")
	for _, want := range []string{"triggered", "hello there", "teal"} {
		if !strings.Contains(all, want) {
			t.Errorf("logs %s do not contain %q", all, want)
		}
	}
	if other := c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+b, nil)["task_runs"].([]any); len(other) != 0 {
		t.Fatalf("task B ran for events meant for A: %v", other)
	}
}

// TestCacheActionAndEndpoint: a task's cache action stores a value that a
// public cache endpoint serves and that the next run reads through the
// cache variable.
func TestCacheActionAndEndpoint(t *testing.T) {
	_, c := startPipelineService(t)
	doc := map[string]any{
		"name":          "Cache it",
		"script":        `{% if cache["page"] %}{% log seen: cache["page"].hello %}{% else %}{% action "cache" %}["set", "page", {"hello": "world"}]{% endaction %}{% endif %}`,
		"subscriptions": []string{"mechanic/user/trigger"},
		"options":       map[string]any{},
	}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	ep := c.want(http.StatusCreated, "POST", "/v1/cache_endpoints", map[string]any{"key": "page"})
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(c.base + ep["url"].(string))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			body = string(b)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if body != `{"hello":"world"}` {
		t.Fatalf("cache endpoint served %q", body)
	}
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
	for {
		runs := c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+id+"&status=success", nil)["task_runs"].([]any)
		if len(runs) == 2 {
			logs, _ := json.Marshal(runs[0].(map[string]any)["logs"]) // newest first
			if !strings.Contains(string(logs), `"seen":"world"`) {
				t.Fatalf("second run logs %s", logs)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d successful runs, want 2", len(runs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPrune: finished events and runs older than the retention period are
// pruned by the service; newer ones stay.
func TestPrune(t *testing.T) {
	clock := newFakeClock(time.Now())
	svc, c := startPipelineService(t, clock)
	ev := c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/things/happened", "data": 1})
	id := ev["id"].(string)
	deadline := time.Now().Add(20 * time.Second)
	for c.want(http.StatusOK, "GET", "/v1/runs/"+id, nil)["status"] != "success" {
		if time.Now().After(deadline) {
			t.Fatal("event run did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	clock.Set(clock.Now().Add(DefaultRetention - time.Hour))
	if st, err := svc.Prune(context.Background()); err != nil || st.Events != 0 {
		t.Fatalf("prune before the retention period: %+v, %v", st, err)
	}
	clock.Set(clock.Now().Add(2 * time.Hour))
	st, err := svc.Prune(context.Background())
	if err != nil || st.Events != 1 || st.Runs != 1 {
		t.Fatalf("prune after the retention period: %+v, %v", st, err)
	}
	c.want(http.StatusNotFound, "GET", "/v1/events/"+id, nil)
}
