package tracing

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"strconv"

	"go.opentelemetry.io/otel/trace"
)

// digest hashes a domain tag and parts, separated by NUL bytes.
func digest(tag string, parts ...string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte("sprocket "))
	h.Write([]byte(tag))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// TraceID is the trace id of an event's trace.
func TraceID(eventID string) trace.TraceID {
	d := digest("trace", eventID)
	var id trace.TraceID
	copy(id[:], d[:16])
	if !id.IsValid() {
		id[15] = 1
	}
	return id
}

func spanID(tag string, parts ...string) trace.SpanID {
	d := digest(tag, parts...)
	var id trace.SpanID
	copy(id[:], d[:8])
	if !id.IsValid() {
		id[7] = 1
	}
	return id
}

// EventSpanID is the span id of an event's root span.
func EventSpanID(eventID string) trace.SpanID { return spanID("event", eventID) }

// WebhookSpanID is the span id of the webhook request (requestID) that
// received an event.
func WebhookSpanID(eventID, requestID string) trace.SpanID {
	return spanID("webhook", eventID, requestID)
}

// RunSpanID is the span id of the attempt that ended a run's generation
// (key: the run id, or after a manual retry the id with the generation);
// the runs it created are its children.
func RunSpanID(key string) trace.SpanID { return spanID("run", key) }

// AttemptSpanID is the span id of an attempt that did not end its run
// (token: the claim's token, unique per run).
func AttemptSpanID(runID string, token int64) trace.SpanID {
	return spanID("attempt", runID, strconv.FormatInt(token, 10))
}

// ids are the ids a span is to be created with.
type ids struct {
	trace trace.TraceID
	span  trace.SpanID
}

type idsKey struct{}

// withIDs returns ctx carrying the ids of the next span started with it.
func withIDs(ctx context.Context, t trace.TraceID, s trace.SpanID) context.Context {
	return context.WithValue(ctx, idsKey{}, ids{trace: t, span: s})
}

// idGenerator gives spans the ids put in their start context (withIDs);
// other spans get random ids.
type idGenerator struct{}

// NewIDs implements sdktrace.IDGenerator.
func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if v, ok := ctx.Value(idsKey{}).(ids); ok {
		return v.trace, v.span
	}
	var t trace.TraceID
	for !t.IsValid() {
		binary.NativeEndian.PutUint64(t[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(t[8:], rand.Uint64())
	}
	return t, randomSpanID()
}

// NewSpanID implements sdktrace.IDGenerator.
func (idGenerator) NewSpanID(ctx context.Context, traceID trace.TraceID) trace.SpanID {
	if v, ok := ctx.Value(idsKey{}).(ids); ok && v.trace == traceID {
		return v.span
	}
	return randomSpanID()
}

func randomSpanID() trace.SpanID {
	var s trace.SpanID
	for !s.IsValid() {
		binary.NativeEndian.PutUint64(s[:], rand.Uint64())
	}
	return s
}
