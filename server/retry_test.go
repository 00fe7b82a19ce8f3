package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// waitRun polls a run until it is finished and returns it.
func waitRun(t *testing.T, c *client, kind, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := c.want(http.StatusOK, "GET", "/v1/"+kind+"/"+id, nil)
		if st := r["status"]; st == "success" || st == "failed" {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s still %v", kind, id, r["status"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// triggerTask creates and enables a task subscribed to
// mechanic/user/trigger, triggers it once and returns the task id and the
// ids of its event run, its (finished) task run and its action runs.
func triggerTask(t *testing.T, c *client, name, script string) (taskID, eventID, taskRunID string, actionRunIDs []string) {
	t.Helper()
	doc := map[string]any{"name": name, "script": script, "subscriptions": []string{"mechanic/user/trigger"}, "options": map[string]any{}}
	taskID = c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+taskID+"/enable", nil)
	eventID = c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": taskID})["id"].(string)
	waitRun(t, c, "event_runs", eventID)
	trs := c.want(http.StatusOK, "GET", "/v1/task_runs?event_id="+eventID, nil)["task_runs"].([]any)
	if len(trs) != 1 {
		t.Fatalf("%s: %d task runs, want 1", name, len(trs))
	}
	taskRunID = trs[0].(map[string]any)["id"].(string)
	waitRun(t, c, "task_runs", taskRunID)
	ars := c.want(http.StatusOK, "GET", "/v1/action_runs?parent_run_id="+taskRunID, nil)["action_runs"].([]any)
	for _, a := range ars {
		id := a.(map[string]any)["id"].(string)
		waitRun(t, c, "action_runs", id)
		actionRunIDs = append(actionRunIDs, id)
	}
	return taskID, eventID, taskRunID, actionRunIDs
}

// TestRetryRules checks every manual retry rule of Mechanic
// (core/runs/retries.md) through the API, with a loopback server counting
// the requests of http actions: runs with a meaningful result (a succeeded
// action run, a task run that produced actions, an event run that started
// task runs) answer 409 with the reason and are never performed again;
// failed runs and runs without a result are retried; the URL's run kind
// must match the run's.
func TestRetryRules(t *testing.T) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer target.Close()
	_, c := startPipelineService(t)

	httpScript := `{% action "http" %}{"method": "post", "url": "` + target.URL + `/charge", "body": "x"}{% endaction %}`
	_, evID, trID, ars := triggerTask(t, c, "Charge", httpScript)
	if len(ars) != 1 || hits.Load() != 1 {
		t.Fatalf("%d action runs, %d requests; want 1 and 1", len(ars), hits.Load())
	}
	arID := ars[0]
	refused := []struct {
		path, reason string
	}{
		{"/v1/action_runs/" + arID + "/retry", "only failed action runs can be retried"},
		{"/v1/runs/" + arID + "/retry", "only failed action runs can be retried"},
		{"/v1/task_runs/" + trID + "/retry", "produced actions"},
		{"/v1/runs/" + trID + "/retry", "produced actions"},
		{"/v1/event_runs/" + evID + "/retry", "created task runs"},
	}
	for _, tc := range refused {
		out := c.want(http.StatusConflict, "POST", tc.path, nil)
		if msg, _ := errorField(t, out); !strings.Contains(msg, tc.reason) {
			t.Errorf("%s: %q, want the reason %q", tc.path, msg, tc.reason)
		}
	}
	// The run kind of the URL must match.
	for _, p := range []string{
		"/v1/task_runs/" + arID + "/retry", "/v1/event_runs/" + trID + "/retry", "/v1/action_runs/" + evID + "/retry",
	} {
		out := c.want(http.StatusNotFound, "POST", p, nil)
		if msg, _ := errorField(t, out); !strings.Contains(msg, "it is a") {
			t.Errorf("%s: %q does not name the run's kind", p, msg)
		}
	}
	c.want(http.StatusNotFound, "GET", "/v1/event_runs/"+trID, nil)
	c.want(http.StatusNotFound, "POST", "/v1/runs/no-such-run/retry", nil)
	// Nothing was queued again and no request repeated.
	time.Sleep(300 * time.Millisecond)
	if n := hits.Load(); n != 1 {
		t.Fatalf("the loopback API received %d requests, want 1 (a retry repeated a succeeded request)", n)
	}
	if got := c.want(http.StatusOK, "GET", "/v1/action_runs/"+arID, nil); got["status"] != "success" || got["attempts"] != float64(1) {
		t.Fatalf("succeeded action run changed: %v attempts %v", got["status"], got["attempts"])
	}

	// A task run that only logged may be retried (Mechanic's dev loop).
	_, _, logRun, none := triggerTask(t, c, "Logs only", `{% log "hello" %}`)
	if len(none) != 0 {
		t.Fatalf("log-only task produced %d actions", len(none))
	}
	c.want(http.StatusOK, "POST", "/v1/task_runs/"+logRun+"/retry", nil)
	if r := waitRun(t, c, "task_runs", logRun); r["status"] != "success" {
		t.Fatalf("retried log-only run: %v", r["status"])
	}

	// A failed action run may be retried; it is performed again with its
	// original options, whatever the task's code says now.
	failsID, _, _, failed := triggerTask(t, c, "Fails", `{% action "echo", __error: "boom" %}`)
	if len(failed) != 1 {
		t.Fatalf("%d action runs", len(failed))
	}
	if r := c.want(http.StatusOK, "GET", "/v1/action_runs/"+failed[0], nil); r["status"] != "failed" {
		t.Fatalf("echo __error run: %v", r["status"])
	}
	c.want(http.StatusOK, "PUT", "/v1/tasks/"+failsID, map[string]any{"name": "Fails", "script": `{% action "echo", fine: true %}`,
		"subscriptions": []string{"mechanic/user/trigger"}, "options": map[string]any{}, "force": true})
	c.want(http.StatusOK, "POST", "/v1/action_runs/"+failed[0]+"/retry", nil)
	if r := waitRun(t, c, "action_runs", failed[0]); r["status"] != "failed" || r["error"] == nil || !strings.Contains(r["error"].(string), "boom") {
		t.Fatalf("retried failing action run: %v %v", r["status"], r["error"])
	}

	// A task run that failed may be retried; it runs the task's current code.
	errTask, _, errRun, _ := triggerTask(t, c, "Errors", `{% error "nope" %}`)
	if r := c.want(http.StatusOK, "GET", "/v1/task_runs/"+errRun, nil); r["status"] != "failed" {
		t.Fatalf("error task run: %v", r["status"])
	}
	c.want(http.StatusOK, "PUT", "/v1/tasks/"+errTask, map[string]any{"name": "Errors", "script": `{% log "fixed" %}`,
		"subscriptions": []string{"mechanic/user/trigger"}, "options": map[string]any{}, "force": true})
	c.want(http.StatusOK, "POST", "/v1/task_runs/"+errRun+"/retry", nil)
	if r := waitRun(t, c, "task_runs", errRun); r["status"] != "success" || r["logs"].([]any)[0] != "fixed" {
		t.Fatalf("retried task run: %v %v", r["status"], r["logs"])
	}
	// A disabled task's retried runs fail.
	c.want(http.StatusOK, "POST", "/v1/tasks/"+errTask+"/disable", nil)
	c.want(http.StatusOK, "POST", "/v1/task_runs/"+errRun+"/retry", nil)
	if r := waitRun(t, c, "task_runs", errRun); r["status"] != "failed" || r["error"] != "task is disabled" {
		t.Fatalf("retried run of a disabled task: %v %v", r["status"], r["error"])
	}

	// An event run that started no task runs may be retried.
	lone := c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/nobody/listens", "data": map[string]any{}})["id"].(string)
	waitRun(t, c, "event_runs", lone)
	c.want(http.StatusOK, "POST", "/v1/event_runs/"+lone+"/retry", nil)
	waitRun(t, c, "event_runs", lone)
}

// TestCancelQueuedEvent: a queued event (its event run not yet performed)
// can be cancelled; it then reaches no task. A performed event cannot.
func TestCancelQueuedEvent(t *testing.T) {
	_, c := startPipelineService(t)
	doc := map[string]any{"name": "Listener", "script": `{% log "ran" %}`, "subscriptions": []string{"user/orders/new"}, "options": map[string]any{}}
	taskID := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+taskID+"/enable", nil)
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	ev := c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/orders/new", "data": map[string]any{}, "run_at": later})["id"].(string)
	out := c.want(http.StatusOK, "POST", "/v1/events/"+ev+"/cancel", nil)
	if out["status"] != "failed" || !strings.Contains(out["error"].(string), "cancelled") {
		t.Fatalf("cancelled event run: %v %v", out["status"], out["error"])
	}
	out = c.want(http.StatusConflict, "POST", "/v1/events/"+ev+"/cancel", nil)
	if msg, _ := errorField(t, out); !strings.Contains(msg, "only queued events") {
		t.Fatalf("second cancel: %q", msg)
	}
	now := c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/orders/new", "data": map[string]any{}})["id"].(string)
	waitRun(t, c, "event_runs", now)
	c.want(http.StatusConflict, "POST", "/v1/events/"+now+"/cancel", nil)
	c.want(http.StatusNotFound, "POST", "/v1/events/no-such-event/cancel", nil)
	if n := len(c.want(http.StatusOK, "GET", "/v1/task_runs?event_id="+ev, nil)["task_runs"].([]any)); n != 0 {
		t.Fatalf("cancelled event has %d task runs", n)
	}
}
