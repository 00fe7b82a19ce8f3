package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sprocketrun/sprocket/internal/metrics"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

func TestStoreMetrics(t *testing.T) {
	ctx := t.Context()
	raw, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	m := metrics.New(raw)
	st := m.Store(raw)
	if _, err := st.InsertEvents(ctx, []store.NewEvent{
		{Topic: "user/a/b", Source: "webhook"}, {Topic: "user/a/b", Source: "webhook"}, {Topic: "user/c/d", Source: "api"},
	}); err != nil {
		t.Fatal(err)
	}
	jobs, err := st.Claim(ctx, 3, time.Minute)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	if _, err := st.Complete(ctx, jobs[0], store.Result{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Fail(ctx, jobs[1], store.Failure{Error: "boom"}); err != nil { // retried
		t.Fatal(err)
	}
	if _, err := st.Fail(ctx, jobs[2], store.Failure{Error: "bad", Permanent: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Complete(ctx, jobs[0], store.Result{}); err == nil { // stale lease
		t.Fatal("second Complete succeeded")
	}
	if _, err := st.GetRun(ctx, "missing"); err == nil {
		t.Fatal("GetRun of a missing run succeeded")
	}

	want := `
# HELP sprocket_events_received_total Events accepted, by source and topic.
# TYPE sprocket_events_received_total counter
sprocket_events_received_total{source="api",topic="user/c/d"} 1
sprocket_events_received_total{source="webhook",topic="user/a/b"} 2
# HELP sprocket_run_leases_lost_total Run outcomes refused because the run's lease had been lost, by kind.
# TYPE sprocket_run_leases_lost_total counter
sprocket_run_leases_lost_total{kind="event_run"} 1
# HELP sprocket_run_retries_total Failed run attempts rescheduled for a retry, by kind.
# TYPE sprocket_run_retries_total counter
sprocket_run_retries_total{kind="event_run"} 1
# HELP sprocket_runs_finished_total Runs finished, by kind and final status.
# TYPE sprocket_runs_finished_total counter
sprocket_runs_finished_total{kind="event_run",status="failed"} 1
sprocket_runs_finished_total{kind="event_run",status="success"} 1
# HELP sprocket_queue_runs Runs in the queue, by kind and state (due, scheduled, running).
# TYPE sprocket_queue_runs gauge
sprocket_queue_runs{kind="action_run",state="due"} 0
sprocket_queue_runs{kind="action_run",state="running"} 0
sprocket_queue_runs{kind="action_run",state="scheduled"} 0
sprocket_queue_runs{kind="event_run",state="due"} 0
sprocket_queue_runs{kind="event_run",state="running"} 0
sprocket_queue_runs{kind="event_run",state="scheduled"} 1
sprocket_queue_runs{kind="task_run",state="due"} 0
sprocket_queue_runs{kind="task_run",state="running"} 0
sprocket_queue_runs{kind="task_run",state="scheduled"} 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "sprocket_events_received_total",
		"sprocket_run_leases_lost_total", "sprocket_run_retries_total", "sprocket_runs_finished_total", "sprocket_queue_runs"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.Registry(), "sprocket_store_errors_total"); n != 0 {
		t.Fatalf("store errors counted for the caller's mistakes: %d series", n)
	}
	if n := testutil.CollectAndCount(m.Registry(), "sprocket_event_run_duration_seconds"); n != 1 {
		t.Fatalf("event run durations: %d series, want 1", n)
	}
}

// TestTaskLimitMetrics: a claim skipping tasks at their concurrency limit
// sets the gauge and adds to the counter; an unfiltered claim clears the
// gauge.
func TestTaskLimitMetrics(t *testing.T) {
	ctx := t.Context()
	raw, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	m := metrics.New(nil)
	st := m.Store(raw)
	for range 2 {
		if _, err := st.ClaimFiltered(ctx, store.ClaimOptions{Limit: 1, Lease: time.Minute, SkipTaskIDs: []string{"a", "b"}}); err != nil {
			t.Fatal(err)
		}
	}
	want := `
# HELP sprocket_task_limit_deferrals_total Claims that left a task's due runs queued because the task was at its concurrency limit, once per task and claim.
# TYPE sprocket_task_limit_deferrals_total counter
sprocket_task_limit_deferrals_total 4
# HELP sprocket_tasks_at_concurrency_limit Tasks whose runs the latest claim left queued because the task had its limit of runs in progress (--task-concurrency).
# TYPE sprocket_tasks_at_concurrency_limit gauge
sprocket_tasks_at_concurrency_limit 2
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "sprocket_task_limit_deferrals_total", "sprocket_tasks_at_concurrency_limit"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	want = `
# HELP sprocket_tasks_at_concurrency_limit Tasks whose runs the latest claim left queued because the task had its limit of runs in progress (--task-concurrency).
# TYPE sprocket_tasks_at_concurrency_limit gauge
sprocket_tasks_at_concurrency_limit 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "sprocket_tasks_at_concurrency_limit"); err != nil {
		t.Fatal(err)
	}
}

func TestWebhookRejections(t *testing.T) {
	m := metrics.New(nil)
	h := m.Webhooks(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte("ok"))
		case "/big":
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		default:
			http.NotFound(w, r)
		}
	}))
	for _, path := range []string{"/ok", "/big", "/nope", "/nope"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", path, nil))
	}
	want := `
# HELP sprocket_webhook_rejections_total Webhook requests answered with an error status, by status code.
# TYPE sprocket_webhook_rejections_total counter
sprocket_webhook_rejections_total{code="404"} 2
sprocket_webhook_rejections_total{code="413"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "sprocket_webhook_rejections_total"); err != nil {
		t.Fatal(err)
	}
}
