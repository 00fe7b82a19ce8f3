package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestManualTriggers runs the service in-process with its pipeline: a
// mechanic/user/trigger, text or form event created through the API runs
// only the task it names, with the text or form data in the run.
func TestManualTriggers(t *testing.T) {
	svc, err := Open(context.Background(), Config{
		DataDir: t.TempDir(), APIToken: testToken, DisableScheduler: true, Logger: quietLogger(),
		NewPipeline: StandardPipeline(PipelineOptions{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	c := &client{t: t, base: "http://" + ln.Addr().String(), token: testToken}
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
