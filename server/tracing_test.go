package server

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/sprocketrun/sprocket/internal/tracing"
	"github.com/sprocketrun/sprocket/internal/tracing/otlptest"
)

// tracedService opens a service with its pipeline and the tracing
// configuration read from env, serves it on loopback, and returns it with
// a client, whether the pipeline was given a tracer, and a function that
// stops it (Serve returns, then Close).
// A non-empty dbURL puts it on that PostgreSQL database.
func tracedService(t *testing.T, env map[string]string, dbURL string) (*Service, *client, bool, func()) {
	t.Helper()
	tc, err := tracing.ConfigFromEnv(func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	var traced bool
	svc, err := Open(context.Background(), Config{
		DataDir: t.TempDir(), APIToken: testToken, DisableScheduler: true, Logger: quietLogger(),
		DatabaseURL: dbURL, SecretKey: strings.Repeat("ab", 32),
		NewPipeline: func(d PipelineDeps) (Pipeline, error) {
			traced = d.Tracer != nil
			return StandardPipeline(PipelineOptions{Network: loopbackNetwork})(d)
		},
		Tracing: tc,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	var stopped atomic.Bool
	stop := func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	return svc, &client{t: t, base: "http://" + ln.Addr().String(), token: testToken}, traced, stop
}

// orderFlow creates a task subscribed to user/orders/new whose two http
// actions post to target (succeeds) and to an internal address the
// network policy refuses (fails for good), posts an order to a webhook of
// that topic, waits for every run to finish and returns the ids.
func orderFlow(t *testing.T, c *client, target string) (webhookID, taskID, eventID, taskRunID string, actionRuns map[string]map[string]any) {
	t.Helper()
	script := `{% action "http" %}{"method": "post", "url": "` + target + `/orders", "body": "x"}{% endaction %}` +
		`{% action "http" %}{"method": "post", "url": "http://10.255.255.1/orders", "body": "x"}{% endaction %}`
	doc := map[string]any{"name": "Forward orders", "script": script, "subscriptions": []string{"user/orders/new"}, "options": map[string]any{}}
	taskID = c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+taskID+"/enable", nil)
	webhookID = c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "Orders", "topic": "user/orders/new", "data_mode": "auto"})["id"].(string)
	pub := &client{t: t, base: c.base}
	if st, out := pub.do("POST", "/webhooks/"+webhookID, `{"number": 1001}`); st != http.StatusNoContent {
		t.Fatalf("webhook POST: status %d %v", st, out)
	}
	evs := c.want(http.StatusOK, "GET", "/v1/events?topic=user/orders/new", nil)["events"].([]any)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	eventID = evs[0].(map[string]any)["id"].(string)
	waitRun(t, c, "event_runs", eventID)
	trs := c.want(http.StatusOK, "GET", "/v1/task_runs?event_id="+eventID, nil)["task_runs"].([]any)
	if len(trs) != 1 {
		t.Fatalf("%d task runs, want 1", len(trs))
	}
	taskRunID = trs[0].(map[string]any)["id"].(string)
	waitRun(t, c, "task_runs", taskRunID)
	actionRuns = map[string]map[string]any{}
	for _, a := range c.want(http.StatusOK, "GET", "/v1/action_runs?parent_run_id="+taskRunID, nil)["action_runs"].([]any) {
		id := a.(map[string]any)["id"].(string)
		actionRuns[id] = waitRun(t, c, "action_runs", id)
	}
	if len(actionRuns) != 2 {
		t.Fatalf("%d action runs, want 2", len(actionRuns))
	}
	return webhookID, taskID, eventID, taskRunID, actionRuns
}

// TestTracesOfWebhookFlow: with OTEL_EXPORTER_OTLP_ENDPOINT set, a webhook
// → task → http actions flow through the real server yields one trace
// whose spans a real OTLP/HTTP receiver decodes: the event's root, the
// webhook request and the event run under it, the task run under the
// event run, the action runs under the task run, with their attributes,
// and error status on the action that failed. The batch delay is longer
// than the test, so the spans arrive only because stopping the service
// flushes them. On PostgreSQL two nodes share the queue, each with its
// own tracer provider: whichever performs a run, the chain holds.
func TestTracesOfWebhookFlow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes int
		db    func(t *testing.T) string
	}{
		{"sqlite", 1, func(*testing.T) string { return "" }},
		{"postgres, 2 nodes", 2, testDatabaseURL},
	} {
		t.Run(tc.name, func(t *testing.T) { testTracesOfWebhookFlow(t, tc.nodes, tc.db(t)) })
	}
}

func testTracesOfWebhookFlow(t *testing.T, nodes int, dbURL string) {
	rec := otlptest.New()
	defer rec.Close()
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer target.Close()
	env := map[string]string{
		tracing.EnvEndpoint:           rec.BaseURL(),
		tracing.EnvServiceName:        "sprocket-test",
		tracing.EnvResourceAttributes: "deployment.environment=test",
		tracing.EnvBSPScheduleDelay:   "600000", // ten minutes: only the flush on stop exports
	}
	var c *client
	var stops []func()
	for i := range nodes {
		svc, ci, traced, stop := tracedService(t, env, dbURL)
		if !svc.tracing.Enabled() || !traced {
			t.Fatalf("tracing is off (enabled %v, pipeline tracer %v)", svc.tracing.Enabled(), traced)
		}
		if i == 0 {
			c = ci
		}
		stops = append(stops, stop)
	}
	stop := func() {
		for _, s := range stops {
			s()
		}
	}
	webhookID, taskID, eventID, taskRunID, actionRuns := orderFlow(t, c, target.URL)
	if hits.Load() != 1 {
		t.Fatalf("the target got %d requests, want 1", hits.Load())
	}
	if n := rec.Requests(); n != 0 {
		t.Fatalf("%d export requests before the service stopped; the batch delay should have held them", n)
	}
	stop()
	spans := rec.Spans()
	if errs := rec.Errors(); len(errs) > 0 {
		t.Fatalf("the receiver refused requests: %v", errs)
	}
	byName := map[string][]otlptest.Span{}
	traceID := tracing.TraceID(eventID).String()
	for _, s := range spans {
		if s.TraceID != traceID {
			t.Errorf("%s span in trace %s, want the event's %s", s.Name, s.TraceID, traceID)
		}
		if s.Resource["service.name"] != "sprocket-test" || s.Resource["deployment.environment"] != "test" {
			t.Errorf("%s span resource %v", s.Name, s.Resource)
		}
		byName[s.Name] = append(byName[s.Name], s)
	}
	one := func(name string) otlptest.Span {
		t.Helper()
		if len(byName[name]) != 1 {
			t.Fatalf("%d %s spans, want 1 (all: %+v)", len(byName[name]), name, spans)
		}
		return byName[name][0]
	}
	root, hook := one(tracing.SpanEvent), one(tracing.SpanWebhook)
	evRun, taskRun := one(tracing.SpanEventRun), one(tracing.SpanTaskRun)
	if len(spans) != 6 {
		t.Fatalf("%d spans, want 6 (event, webhook, event run, task run, 2 action runs): %+v", len(spans), spans)
	}
	if root.ParentSpanID != "" || root.SpanID != tracing.EventSpanID(eventID).String() ||
		root.Attrs[tracing.AttrEventID] != eventID || root.Attrs[tracing.AttrTopic] != "user/orders/new" ||
		root.Attrs[tracing.AttrEventSource] != "webhook" || root.Attrs[tracing.AttrWebhookID] != webhookID {
		t.Errorf("event span %+v", root)
	}
	if hook.ParentSpanID != root.SpanID || hook.Kind != tracepb.Span_SPAN_KIND_SERVER ||
		hook.Attrs[tracing.AttrWebhookID] != webhookID || hook.Attrs[tracing.AttrEventID] != eventID || hook.Attrs[tracing.AttrRequestID] == "" {
		t.Errorf("webhook span %+v", hook)
	}
	if evRun.ParentSpanID != root.SpanID || evRun.SpanID != tracing.RunSpanID(eventID).String() ||
		evRun.Attrs[tracing.AttrRunID] != eventID || evRun.Attrs[tracing.AttrStatus] != "success" || evRun.Attrs[tracing.AttrAttempt] != int64(1) {
		t.Errorf("event run span %+v", evRun)
	}
	if taskRun.ParentSpanID != evRun.SpanID || taskRun.SpanID != tracing.RunSpanID(taskRunID).String() ||
		taskRun.Attrs[tracing.AttrTaskID] != taskID || taskRun.Attrs[tracing.AttrTaskName] != "Forward orders" ||
		taskRun.Attrs[tracing.AttrTopic] != "user/orders/new" || taskRun.Attrs[tracing.AttrCreatedRuns] != int64(2) ||
		taskRun.StatusCode != tracepb.Status_STATUS_CODE_UNSET {
		t.Errorf("task run span %+v", taskRun)
	}
	var failed, ok int
	for _, s := range byName[tracing.SpanActionRun] {
		id, _ := s.Attrs[tracing.AttrRunID].(string)
		run := actionRuns[id]
		if run == nil {
			t.Errorf("action run span for unknown run %q", id)
			continue
		}
		if s.ParentSpanID != taskRun.SpanID || s.SpanID != tracing.RunSpanID(id).String() ||
			s.Attrs[tracing.AttrActionType] != "http" || s.Attrs[tracing.AttrTaskID] != taskID || s.Attrs[tracing.AttrAttempt] != int64(1) {
			t.Errorf("action run span %+v", s)
		}
		if s.Attrs[tracing.AttrStatus] != run["status"] {
			t.Errorf("action run %s: span status %v, run status %v", id, s.Attrs[tracing.AttrStatus], run["status"])
		}
		switch run["status"] {
		case "failed":
			failed++
			if s.StatusCode != tracepb.Status_STATUS_CODE_ERROR || s.StatusMessage == "" || !strings.Contains(run["error"].(string), s.StatusMessage) {
				t.Errorf("failed action run span: status %v %q, run error %q", s.StatusCode, s.StatusMessage, run["error"])
			}
		case "success":
			ok++
			if s.StatusCode != tracepb.Status_STATUS_CODE_UNSET {
				t.Errorf("succeeded action run span has status %v %q", s.StatusCode, s.StatusMessage)
			}
		}
	}
	if failed != 1 || ok != 1 {
		t.Errorf("%d failed and %d succeeded action run spans, want 1 and 1", failed, ok)
	}
}

// TestTracesOffByDefault: without the OTEL variables that turn tracing on
// (or with them overridden off) the service's tracer is the no-op one,
// the pipeline gets none, and nothing reaches a receiver although the
// runs complete.
func TestTracesOffByDefault(t *testing.T) {
	rec := otlptest.New()
	defer rec.Close()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer target.Close()
	for name, env := range map[string]map[string]string{
		"no OTEL variables": {},
		"SDK disabled":      {tracing.EnvSDKDisabled: "true", tracing.EnvEndpoint: rec.BaseURL()},
		"exporter none":     {tracing.EnvTracesExporter: "none", tracing.EnvTracesEndpoint: rec.URL()},
	} {
		t.Run(name, func(t *testing.T) {
			svc, c, traced, stop := tracedService(t, env, "")
			if svc.tracing.Enabled() || traced {
				t.Fatalf("tracing is on (enabled %v, pipeline tracer %v)", svc.tracing.Enabled(), traced)
			}
			if _, ok := svc.tracing.TracerProvider().(noop.TracerProvider); !ok {
				t.Fatalf("tracer provider %T, want the no-op one", svc.tracing.TracerProvider())
			}
			orderFlow(t, c, target.URL)
			stop()
		})
	}
	time.Sleep(50 * time.Millisecond)
	if n := rec.Requests(); n != 0 {
		t.Fatalf("the receiver got %d export requests with tracing off", n)
	}
}
