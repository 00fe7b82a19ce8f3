// Package otlptest is a real OTLP/HTTP trace receiver for tests: an HTTP
// server on loopback that accepts POST /v1/traces with a protobuf
// ExportTraceServiceRequest (gzip or not), as a collector does, and keeps
// the spans it received.
package otlptest

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// maxBody bounds one export request.
const maxBody = 16 << 20

// Span is a received span, flattened.
type Span struct {
	// TraceID, SpanID and ParentSpanID are lower-case hex ("" for no parent).
	TraceID, SpanID, ParentSpanID string
	Name                          string
	Kind                          tracepb.Span_SpanKind
	Start, End                    time.Time
	// Attrs are the span's attributes (string, int64, float64, bool, or
	// the value's text for other kinds).
	Attrs map[string]any
	// StatusCode and StatusMessage are the span's status.
	StatusCode    tracepb.Status_StatusCode
	StatusMessage string
	// Links are the linked spans as "traceid/spanid".
	Links []string
	// Resource holds the resource attributes, Scope the instrumentation scope.
	Resource map[string]any
	Scope    string
}

// Receiver is a running OTLP/HTTP receiver; close it with Close.
type Receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	spans    []Span
	requests int
	errs     []string
	notify   chan struct{}
}

// New starts a receiver on loopback.
func New() *Receiver {
	r := &Receiver{notify: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// URL is the traces endpoint (http://127.0.0.1:port/v1/traces).
func (r *Receiver) URL() string { return r.srv.URL + "/v1/traces" }

// BaseURL is the server's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it.
func (r *Receiver) BaseURL() string { return r.srv.URL }

// Close stops the receiver.
func (r *Receiver) Close() { r.srv.Close() }

// Spans returns a copy of the spans received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.spans)
}

// Requests returns how many export requests arrived (valid or not).
func (r *Receiver) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// Errors lists the requests the receiver refused, and why.
func (r *Receiver) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

// Wait waits until cond holds for the spans received, or timeout passes;
// it returns the spans and whether cond held.
func (r *Receiver) Wait(timeout time.Duration, cond func([]Span) bool) ([]Span, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		spans := r.Spans()
		if cond(spans) {
			return spans, true
		}
		select {
		case <-r.notify:
		case <-deadline.C:
			spans = r.Spans()
			return spans, cond(spans)
		}
	}
}

func (r *Receiver) fail(w http.ResponseWriter, code int, msg string) {
	r.mu.Lock()
	r.errs = append(r.errs, msg)
	r.mu.Unlock()
	http.Error(w, msg, code)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests++
	r.mu.Unlock()
	if req.URL.Path != "/v1/traces" {
		r.fail(w, http.StatusNotFound, "path "+req.URL.Path)
		return
	}
	if req.Method != http.MethodPost {
		r.fail(w, http.StatusMethodNotAllowed, "method "+req.Method)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		r.fail(w, http.StatusUnsupportedMediaType, "content type "+ct)
		return
	}
	var body io.Reader = http.MaxBytesReader(w, req.Body, maxBody)
	switch enc := req.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			r.fail(w, http.StatusBadRequest, "gzip: "+err.Error())
			return
		}
		defer zr.Close()
		body = io.LimitReader(zr, maxBody+1)
	default:
		r.fail(w, http.StatusUnsupportedMediaType, "content encoding "+enc)
		return
	}
	raw, err := io.ReadAll(body)
	if err != nil || len(raw) > maxBody {
		r.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("read body: %v (%d bytes)", err, len(raw)))
		return
	}
	var msg coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &msg); err != nil {
		r.fail(w, http.StatusBadRequest, "decode ExportTraceServiceRequest: "+err.Error())
		return
	}
	var got []Span
	for _, rs := range msg.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := Span{
					TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
					ParentSpanID: hex.EncodeToString(s.GetParentSpanId()), Name: s.GetName(), Kind: s.GetKind(),
					Start: time.Unix(0, int64(s.GetStartTimeUnixNano())), End: time.Unix(0, int64(s.GetEndTimeUnixNano())),
					Attrs: attrs(s.GetAttributes()), StatusCode: s.GetStatus().GetCode(), StatusMessage: s.GetStatus().GetMessage(),
					Resource: res, Scope: ss.GetScope().GetName(),
				}
				for _, l := range s.GetLinks() {
					sp.Links = append(sp.Links, hex.EncodeToString(l.GetTraceId())+"/"+hex.EncodeToString(l.GetSpanId()))
				}
				got = append(got, sp)
			}
		}
	}
	out, err := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	if err != nil {
		r.fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	r.mu.Lock()
	r.spans = append(r.spans, got...)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func attrs(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = x.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = x.IntValue
		case *commonpb.AnyValue_DoubleValue:
			m[kv.GetKey()] = x.DoubleValue
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = x.BoolValue
		default:
			m[kv.GetKey()] = v.String()
		}
	}
	return m
}
