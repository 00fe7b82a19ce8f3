package tracing

import (
	"context"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sprocketrun/sprocket/pipeline"
	"github.com/sprocketrun/sprocket/store"
)

// Span names.
const (
	SpanEvent     = "sprocket.event"
	SpanWebhook   = "sprocket.webhook"
	SpanEventRun  = "sprocket.event_run"
	SpanTaskRun   = "sprocket.task_run"
	SpanActionRun = "sprocket.action_run"
)

// Attribute keys.
const (
	AttrEventID       = "sprocket.event.id"
	AttrTopic         = "sprocket.event.topic"
	AttrEventSource   = "sprocket.event.source"
	AttrParentEventID = "sprocket.event.parent_id"
	AttrRunID         = "sprocket.run.id"
	AttrRunKind       = "sprocket.run.kind"
	AttrParentRunID   = "sprocket.run.parent_id"
	AttrAttempt       = "sprocket.run.attempt"
	AttrStatus        = "sprocket.run.status"
	AttrCreatedRuns   = "sprocket.run.created_runs"
	AttrCreatedEvents = "sprocket.run.created_events"
	AttrTaskID        = "sprocket.task.id"
	AttrTaskName      = "sprocket.task.name"
	AttrActionType    = "sprocket.action.type"
	AttrWebhookID     = "sprocket.webhook.id"
	AttrRequestID     = "sprocket.webhook.request_id"
)

// maxMessage bounds the error message of a span's status.
const maxMessage = 1024

var runSpanNames = map[store.RunKind]string{
	store.KindEvent:  SpanEventRun,
	store.KindTask:   SpanTaskRun,
	store.KindAction: SpanActionRun,
}

// RunAttempt records the span of one ended run attempt (and, for the
// attempt that ends an event's run, the event's root span). It implements
// pipeline.Tracer; it does nothing when tracing is off.
func (t *Tracing) RunAttempt(_ context.Context, a pipeline.RunAttempt) {
	if !t.Enabled() {
		return
	}
	r := a.Run
	tid := TraceID(r.EventID)
	parent := EventSpanID(r.EventID)
	if r.Kind != store.KindEvent && r.ParentRunID != "" {
		parent = RunSpanID(r.ParentRunID)
	}
	sid := AttemptSpanID(r.ID, a.Token)
	if a.Status.Final() {
		sid = RunSpanID(a.Key)
	}
	name := runSpanNames[r.Kind]
	if name == "" {
		name = "sprocket." + string(r.Kind)
	}
	attrs := make([]attribute.KeyValue, 0, 12)
	attrs = append(attrs,
		attribute.String(AttrEventID, r.EventID),
		attribute.String(AttrRunID, r.ID),
		attribute.String(AttrRunKind, string(r.Kind)),
		attribute.Int(AttrAttempt, a.Attempt),
		attribute.String(AttrStatus, string(a.Status)),
	)
	attrs = withString(attrs, AttrTopic, a.Topic)
	attrs = withString(attrs, AttrParentRunID, r.ParentRunID)
	attrs = withString(attrs, AttrTaskID, r.TaskID)
	attrs = withString(attrs, AttrTaskName, a.TaskName)
	attrs = withString(attrs, AttrActionType, r.ActionType)
	attrs = withInt(attrs, AttrCreatedRuns, a.Created)
	attrs = withInt(attrs, AttrCreatedEvents, a.Events)
	failed := a.Status != pipeline.AttemptSucceeded
	t.emit(name, trace.SpanKindInternal, tid, parent, sid, a.Start, a.End, attrs, nil, failed, a.Error)

	if r.Kind == store.KindEvent && a.Status.Final() && a.Key == r.ID {
		t.eventSpan(a)
	}
}

// eventSpan records an event's root span, from the event's creation to
// the end of its event run.
func (t *Tracing) eventSpan(a pipeline.RunAttempt) {
	r := a.Run
	start := r.CreatedAt
	attrs := []attribute.KeyValue{attribute.String(AttrEventID, r.EventID)}
	var links []trace.Link
	if ev := a.Event; ev != nil {
		start = ev.CreatedAt
		attrs = append(attrs, attribute.String(AttrTopic, ev.Topic))
		attrs = withString(attrs, AttrEventSource, ev.Source)
		attrs = withString(attrs, AttrWebhookID, ev.WebhookID)
		if ev.ParentID != "" {
			attrs = append(attrs, attribute.String(AttrParentEventID, ev.ParentID))
			links = append(links, trace.Link{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: TraceID(ev.ParentID), SpanID: EventSpanID(ev.ParentID), TraceFlags: trace.FlagsSampled, Remote: true,
			})})
		}
	} else if a.Topic != "" {
		attrs = append(attrs, attribute.String(AttrTopic, a.Topic))
	}
	if start.IsZero() || start.After(a.End) {
		start = a.Start
	}
	failed := a.Status != pipeline.AttemptSucceeded
	t.emit(SpanEvent, trace.SpanKindInternal, TraceID(r.EventID), trace.SpanID{}, EventSpanID(r.EventID), start, a.End, attrs, links, failed, a.Error)
}

// Webhook describes a webhook request that recorded an event.
type Webhook struct {
	// EventID is the event recorded; Topic its topic.
	EventID, Topic string
	// WebhookID is the webhook; RequestID the request's id.
	WebhookID, RequestID string
	// Start is when the request was received, End when the event was
	// durable.
	Start, End time.Time
}

// Webhook records the span of a webhook request that recorded an event,
// a child of the event's root span. It does nothing when tracing is off.
func (t *Tracing) Webhook(_ context.Context, w Webhook) {
	if !t.Enabled() || w.EventID == "" {
		return
	}
	attrs := []attribute.KeyValue{
		attribute.String(AttrEventID, w.EventID),
		attribute.String(AttrTopic, w.Topic),
		attribute.String(AttrWebhookID, w.WebhookID),
	}
	attrs = withString(attrs, AttrRequestID, w.RequestID)
	tid := TraceID(w.EventID)
	t.emit(SpanWebhook, trace.SpanKindServer, tid, EventSpanID(w.EventID), WebhookSpanID(w.EventID, w.RequestID), w.Start, w.End, attrs, nil, false, "")
}

// emit records a finished span with the given ids; a zero parent makes
// it a root.
func (t *Tracing) emit(name string, kind trace.SpanKind, tid trace.TraceID, parent, sid trace.SpanID,
	start, end time.Time, attrs []attribute.KeyValue, links []trace.Link, failed bool, msg string) {
	ctx := context.Background()
	if parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: tid, SpanID: parent, TraceFlags: trace.FlagsSampled, Remote: true,
		}))
	}
	ctx = withIDs(ctx, tid, sid)
	opts := []trace.SpanStartOption{trace.WithTimestamp(start), trace.WithSpanKind(kind), trace.WithAttributes(attrs...)}
	if len(links) > 0 {
		opts = append(opts, trace.WithLinks(links...))
	}
	if !parent.IsValid() {
		opts = append(opts, trace.WithNewRoot())
	}
	_, span := t.tracer.Start(ctx, name, opts...)
	if failed {
		span.SetStatus(codes.Error, truncate(msg, maxMessage))
	}
	span.End(trace.WithTimestamp(end))
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// withString appends the attribute when v is not empty.
func withString(attrs []attribute.KeyValue, key, v string) []attribute.KeyValue {
	if v == "" {
		return attrs
	}
	return append(attrs, attribute.String(key, v))
}

// withInt appends the attribute when n is positive.
func withInt(attrs []attribute.KeyValue, key string, n int) []attribute.KeyValue {
	if n <= 0 {
		return attrs
	}
	return append(attrs, attribute.Int(key, n))
}
