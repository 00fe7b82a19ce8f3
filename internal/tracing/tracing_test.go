package tracing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/echo"
	"github.com/sprocketrun/sprocket/internal/tracing"
	"github.com/sprocketrun/sprocket/internal/tracing/otlptest"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/pipeline"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// newTracing builds tracing exporting to rec, configured through the
// environment variables as the service reads them.
func newTracing(t *testing.T, rec *otlptest.Receiver, extra map[string]string) *tracing.Tracing {
	t.Helper()
	m := map[string]string{tracing.EnvEndpoint: rec.BaseURL(), tracing.EnvBSPScheduleDelay: "20"}
	for k, v := range extra {
		m[k] = v
	}
	cfg, err := tracing.ConfigFromEnv(env(m))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracing.New(cfg, tracing.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() {
		t.Fatal("tracing is off")
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr
}

// TestOffIsNoop: without configuration the provider is the no-op one, its
// spans record nothing, and recording run attempts sends nothing even
// with a receiver listening.
func TestOffIsNoop(t *testing.T) {
	rec := otlptest.New()
	defer rec.Close()
	for _, m := range []map[string]string{
		nil,
		{tracing.EnvSDKDisabled: "true", tracing.EnvEndpoint: rec.BaseURL()},
		{tracing.EnvTracesExporter: "none", tracing.EnvEndpoint: rec.BaseURL()},
	} {
		cfg, err := tracing.ConfigFromEnv(env(m))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := tracing.New(cfg, tracing.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Enabled() {
			t.Fatalf("%v: enabled", m)
		}
		if _, ok := tr.TracerProvider().(noop.TracerProvider); !ok {
			t.Fatalf("%v: provider is %T, want the no-op provider", m, tr.TracerProvider())
		}
		_, span := tr.TracerProvider().Tracer("x").Start(context.Background(), "y")
		if span.IsRecording() || span.SpanContext().IsValid() {
			t.Fatalf("%v: a span of the off provider records", m)
		}
		span.End()
		tr.RunAttempt(context.Background(), pipeline.RunAttempt{Run: store.Run{ID: "r", Kind: store.KindEvent, EventID: "e"}, Status: pipeline.AttemptSucceeded, Key: "r"})
		tr.Webhook(context.Background(), tracing.Webhook{EventID: "e"})
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var nilTracing *tracing.Tracing
	if nilTracing.Enabled() || nilTracing.Shutdown(context.Background()) != nil {
		t.Fatal("a nil *Tracing is not off")
	}
	if n := rec.Requests(); n != 0 {
		t.Fatalf("the receiver got %d requests from tracing that is off", n)
	}
}

// holdKinds is a pipeline throttle that never performs the given kinds:
// it splits the work between two pipelines like two nodes on one store.
type holdKinds []store.RunKind

func (h holdKinds) Hold() ([]store.RunKind, []string) { return h, nil }

// flaky fails its first attempt transiently, then succeeds.
type flaky struct {
	mu    sync.Mutex
	calls int
}

func (f *flaky) Perform(_ context.Context, req action.Request) (action.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == 1 {
		return action.Result{}, action.Transient(errors.New("upstream busy"))
	}
	return action.Result{Value: value.MapOf("ok", true)}, nil
}

// broken always fails for good.
type broken struct{}

func (broken) Perform(context.Context, action.Request) (action.Result, error) {
	return action.Result{}, action.Failed(errors.New("the remote refused the order"))
}

// TestTraceAcrossNodes runs an event through a real pipeline on a real
// SQLite store split over two "nodes" — one pipeline performs only event
// runs, the other (with its own tracer provider) task and action runs —
// and checks the spans a real OTLP/HTTP receiver gets: one trace per
// event, the event run under the event's root, the task run under the
// event run, the action runs under the task run, a retried attempt beside
// the final one, and error status on the failed action.
func TestTraceAcrossNodes(t *testing.T) {
	rec := otlptest.New()
	defer rec.Close()
	st, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := action.NewRegistry()
	for name, p := range map[string]action.Performer{"echo": echo.New(), "flaky": &flaky{}, "broken": broken{}} {
		if err := reg.Register(name, p); err != nil {
			t.Fatal(err)
		}
	}
	renderer := pipeline.TaskRendererFunc(func(_ context.Context, in pipeline.TaskRunInput) (pipeline.TaskRunOutput, error) {
		text := `{"action": {"type": "flaky", "options": {}}}` + "\n" + `{"action": {"type": "broken", "options": {}}}`
		out, err := run.ParseOutput(text)
		if err != nil {
			return pipeline.TaskRunOutput{}, err
		}
		return pipeline.TaskRunOutput{Text: text, Actions: out.Actions}, nil
	})
	def, _ := json.Marshal(map[string]any{"name": "Ship orders", "script": "-", "subscriptions": []string{"user/orders/new"}, "options": map[string]any{}})
	tk, _, err := st.CreateTask(context.Background(), store.NewTask{Name: "Ship orders", Enabled: true, Subscriptions: []string{"user/orders/new"}, Definition: def})
	if err != nil {
		t.Fatal(err)
	}

	start := func(tr pipeline.Tracer, hold holdKinds) func() {
		p, err := pipeline.New(pipeline.Config{
			Store: st, Renderer: renderer, Actions: reg, Workers: 2, PollInterval: 10 * time.Millisecond,
			RetrySchedule: store.RetrySchedule{20 * time.Millisecond}, Logger: quiet(), Throttle: hold, Tracer: tr,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = p.Run(ctx); close(done) }()
		return func() { cancel(); <-done }
	}
	nodeA := newTracing(t, rec, map[string]string{tracing.EnvServiceName: "node-a"})
	nodeB := newTracing(t, rec, map[string]string{tracing.EnvServiceName: "node-b"})
	stopA := start(nodeA, holdKinds{store.KindTask, store.KindAction})
	defer stopA()
	stopB := start(nodeB, holdKinds{store.KindEvent})
	defer stopB()

	evs, err := st.InsertEvents(context.Background(), []store.NewEvent{{Topic: "user/orders/new", Data: json.RawMessage(`{"number": 1001}`), Source: "user"}})
	if err != nil {
		t.Fatal(err)
	}
	ev := evs[0]
	// event root + event run + task run + flaky (2 attempts) + broken
	spans, ok := rec.Wait(20*time.Second, func(s []otlptest.Span) bool { return len(s) >= 6 })
	if !ok {
		t.Fatalf("received %d spans, want 6: %+v (receiver errors %v)", len(spans), spans, rec.Errors())
	}
	time.Sleep(100 * time.Millisecond) // nothing more should come
	spans = rec.Spans()
	if len(spans) != 6 {
		t.Fatalf("received %d spans, want 6: %+v", len(spans), spans)
	}
	traceID := tracing.TraceID(ev.ID).String()
	byName := map[string][]otlptest.Span{}
	for _, s := range spans {
		if s.TraceID != traceID {
			t.Errorf("%s span in trace %s, want %s (the event's)", s.Name, s.TraceID, traceID)
		}
		if s.Scope != tracing.ScopeName {
			t.Errorf("%s span scope %q", s.Name, s.Scope)
		}
		byName[s.Name] = append(byName[s.Name], s)
	}
	one := func(name string) otlptest.Span {
		t.Helper()
		if len(byName[name]) != 1 {
			t.Fatalf("%d %s spans, want 1", len(byName[name]), name)
		}
		return byName[name][0]
	}
	root, evRun, taskRun := one(tracing.SpanEvent), one(tracing.SpanEventRun), one(tracing.SpanTaskRun)
	if root.ParentSpanID != "" || root.SpanID != tracing.EventSpanID(ev.ID).String() || root.Attrs[tracing.AttrTopic] != "user/orders/new" || root.Attrs[tracing.AttrEventSource] != "user" {
		t.Errorf("root span %+v", root)
	}
	if evRun.ParentSpanID != root.SpanID || evRun.Resource["service.name"] != "node-a" || evRun.Attrs[tracing.AttrCreatedRuns] != int64(1) {
		t.Errorf("event run span %+v, want a child of the root from node-a that created 1 run", evRun)
	}
	if taskRun.ParentSpanID != evRun.SpanID || taskRun.Resource["service.name"] != "node-b" ||
		taskRun.Attrs[tracing.AttrTaskID] != tk.ID || taskRun.Attrs[tracing.AttrTaskName] != "Ship orders" ||
		taskRun.Attrs[tracing.AttrTopic] != "user/orders/new" || taskRun.Attrs[tracing.AttrCreatedRuns] != int64(2) {
		t.Errorf("task run span %+v, want a child of the event run from node-b", taskRun)
	}
	var flakyFinal, flakyFirst, brokenSpan *otlptest.Span
	for i := range byName[tracing.SpanActionRun] {
		s := byName[tracing.SpanActionRun][i]
		if s.ParentSpanID != taskRun.SpanID {
			t.Errorf("action run span %s has parent %s, want the task run %s", s.Attrs[tracing.AttrRunID], s.ParentSpanID, taskRun.SpanID)
		}
		switch {
		case s.Attrs[tracing.AttrActionType] == "broken":
			brokenSpan = &s
		case s.Attrs[tracing.AttrAttempt] == int64(1):
			flakyFirst = &s
		default:
			flakyFinal = &s
		}
	}
	if flakyFirst == nil || flakyFinal == nil || brokenSpan == nil {
		t.Fatalf("action run spans: %+v", byName[tracing.SpanActionRun])
	}
	runID := flakyFinal.Attrs[tracing.AttrRunID].(string)
	if flakyFinal.SpanID != tracing.RunSpanID(runID).String() || flakyFinal.Attrs[tracing.AttrStatus] != "success" ||
		flakyFinal.Attrs[tracing.AttrAttempt] != int64(2) || flakyFinal.StatusCode != tracepb.Status_STATUS_CODE_UNSET {
		t.Errorf("final flaky attempt %+v", *flakyFinal)
	}
	if flakyFirst.Attrs[tracing.AttrRunID] != runID || flakyFirst.SpanID == flakyFinal.SpanID ||
		flakyFirst.Attrs[tracing.AttrStatus] != "retrying" || flakyFirst.StatusCode != tracepb.Status_STATUS_CODE_ERROR || flakyFirst.StatusMessage == "" {
		t.Errorf("first flaky attempt %+v, want an error span of the same run beside the final one", *flakyFirst)
	}
	if brokenSpan.StatusCode != tracepb.Status_STATUS_CODE_ERROR || brokenSpan.Attrs[tracing.AttrStatus] != "failed" ||
		brokenSpan.StatusMessage != "the remote refused the order" {
		t.Errorf("broken action span %+v, want error status with the failure", *brokenSpan)
	}
	for _, s := range spans {
		if s.End.Before(s.Start) || s.Start.IsZero() {
			t.Errorf("%s span ends %v before it starts %v", s.Name, s.End, s.Start)
		}
	}
}

// TestSamplingKeepsWholeTraces: with traceidratio the decision is the
// same for every span of an event, on every node.
func TestSamplingKeepsWholeTraces(t *testing.T) {
	rec := otlptest.New()
	defer rec.Close()
	trs := []*tracing.Tracing{
		newTracing(t, rec, map[string]string{tracing.EnvSampler: "parentbased_traceidratio", tracing.EnvSamplerArg: "0.5"}),
		newTracing(t, rec, map[string]string{tracing.EnvSampler: "traceidratio", tracing.EnvSamplerArg: "0.5"}),
	}
	const events = 40
	now := time.Now()
	for i := range events {
		evID := fmt.Sprintf("event-%d", i)
		trID := evID + "-task"
		for _, tr := range trs {
			tr.RunAttempt(context.Background(), pipeline.RunAttempt{Run: store.Run{ID: evID, Kind: store.KindEvent, EventID: evID}, Key: evID, Attempt: 1, Status: pipeline.AttemptSucceeded, Start: now, End: now})
			tr.RunAttempt(context.Background(), pipeline.RunAttempt{Run: store.Run{ID: trID, Kind: store.KindTask, EventID: evID, ParentRunID: evID}, Key: trID, Attempt: 1, Status: pipeline.AttemptSucceeded, Start: now, End: now})
		}
	}
	for _, tr := range trs {
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	perTrace := map[string]int{}
	for _, s := range rec.Spans() {
		perTrace[s.TraceID]++
	}
	for id, n := range perTrace {
		if n != 6 { // root + event run + task run, from each of the two providers
			t.Errorf("trace %s: %d spans, want all 6 or none", id, n)
		}
	}
	if len(perTrace) == 0 || len(perTrace) == events {
		t.Errorf("%d of %d traces kept at ratio 0.5", len(perTrace), events)
	}
}
