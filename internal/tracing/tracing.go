// Package tracing exports OpenTelemetry traces of Sprocket's runs over
// OTLP/HTTP (protobuf). It is off unless configured (see ConfigFromEnv);
// off, it hands out a no-op tracer and the service does no tracing work.
//
// Every event is one trace, whatever node performs its runs and however
// late: ids are derived from the records instead of being carried in
// memory or stored, so both stores need nothing new.
//
//   - trace id: the first 16 bytes of SHA-256("sprocket trace", event id);
//   - "sprocket.event" (the root): span id from the event id, emitted when
//     the event run ends, from the event's creation to then;
//   - "sprocket.webhook": the webhook request that received the event, a
//     child of the root;
//   - "sprocket.event_run", "sprocket.task_run", "sprocket.action_run": one
//     span per attempt of a run. The attempt that ends the run (success, or
//     failure for good) has the span id derived from the run's id, so the
//     runs it created — whose ParentRunID names it — are its children: an
//     event run is a child of the root, a task run of its event run, an
//     action run of its task run. Attempts that will be retried, or that
//     were abandoned, get span ids derived from the run id and the claim,
//     under the same parent.
//
// After a manual retry the run's new outcome has a span id derived from
// the run id and its generation, and the runs it creates then hang under
// the run's first outcome (their record names only the run id).
//
// Sampling decides by trace id (the samplers' parent-based forms apply
// the same rule to remote parents), so an event's spans are kept or
// dropped together on every node.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of Sprocket's spans.
const ScopeName = "github.com/sprocketrun/sprocket"

// Tracing owns the tracer provider. Create it with New; the zero value and
// a nil *Tracing are off.
type Tracing struct {
	provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil when off
	tracer   trace.Tracer
	log      *slog.Logger
	shutdown time.Duration
	exp      *loggingExporter
}

// Options are what New needs besides the Config.
type Options struct {
	// Logger receives export failures (default slog.Default()).
	Logger *slog.Logger
}

// New builds the tracer provider for cfg: the OTLP/HTTP exporter behind a
// bounded batch span processor when cfg.Enabled, a no-op provider
// otherwise. It does not connect anywhere until spans are exported.
func New(cfg Config, o Options) (*Tracing, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if !cfg.Enabled {
		np := noop.NewTracerProvider()
		return &Tracing{provider: np, tracer: np.Tracer(ScopeName), log: log}, nil
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(endpoint),
		otlptracehttp.WithEncoding(otlptracehttp.EncodingProtobuf),
		otlptracehttp.WithTimeout(or(cfg.Timeout, DefaultTimeout)),
		otlptracehttp.WithCompression(otlptracehttp.NoCompression),
	}
	if cfg.Gzip {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	inner, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	exp := &loggingExporter{SpanExporter: inner, log: log, endpoint: endpoint}
	attrs := make([]attribute.KeyValue, 0, len(cfg.ResourceAttributes)+2)
	for k, v := range cfg.ResourceAttributes {
		attrs = append(attrs, attribute.String(k, v))
	}
	svc := cfg.ServiceName
	if svc == "" {
		svc = cfg.ResourceAttributes["service.name"]
	}
	if svc == "" {
		svc = DefaultServiceName
	}
	attrs = append(attrs, attribute.String("service.name", svc))
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		attrs = append(attrs, attribute.String("service.version", bi.Main.Version))
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp,
			sdktrace.WithBatchTimeout(or(cfg.ScheduleDelay, DefaultScheduleDelay)),
			sdktrace.WithExportTimeout(or(cfg.ExportTimeout, DefaultExportTimeout)),
			sdktrace.WithMaxQueueSize(or(cfg.MaxQueueSize, DefaultMaxQueueSize)),
			sdktrace.WithMaxExportBatchSize(or(cfg.MaxExportBatch, DefaultMaxExportBatch)),
		),
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
		sdktrace.WithSampler(sampler(cfg.Sampler, cfg.SamplerArg)),
		sdktrace.WithIDGenerator(idGenerator{}),
	)
	return &Tracing{
		provider: tp, sdk: tp, tracer: tp.Tracer(ScopeName), log: log,
		shutdown: or(cfg.ShutdownTimeout, DefaultShutdownTimeout), exp: exp,
	}, nil
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.sdk != nil }

// TracerProvider returns the provider (a no-op one when off), for
// instrumenting other parts with the same exporter.
func (t *Tracing) TracerProvider() trace.TracerProvider {
	if t == nil || t.provider == nil {
		return noop.NewTracerProvider()
	}
	return t.provider
}

// Shutdown exports the spans still queued and stops the provider, for at
// most the configured ShutdownTimeout (or until ctx ends). Later spans are
// dropped. It is a no-op when off.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.shutdown)
	defer cancel()
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush spans: %w", err)
	}
	return nil
}

// ForceFlush exports the spans queued so far.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.sdk.ForceFlush(ctx); err != nil {
		return fmt.Errorf("tracing: flush spans: %w", err)
	}
	return nil
}

// Failed returns how many spans failed to export so far.
func (t *Tracing) Failed() int64 {
	if !t.Enabled() {
		return 0
	}
	return t.exp.failed.Load()
}

// sampler builds the sampler named by OTEL_TRACES_SAMPLER. Sprocket's
// spans have remote (derived) parents or none, so the parent-based forms
// decide remote parents with the root sampler too: the decision depends
// on the trace id only.
func sampler(name string, arg float64) sdktrace.Sampler {
	var root sdktrace.Sampler
	switch name {
	case SamplerAlwaysOff, SamplerParentBasedAlwaysOff:
		root = sdktrace.NeverSample()
	case SamplerTraceIDRatio, SamplerParentBasedTraceIDRate:
		root = sdktrace.TraceIDRatioBased(arg)
	default:
		root = sdktrace.AlwaysSample()
	}
	switch name {
	case SamplerAlwaysOn, SamplerAlwaysOff, SamplerTraceIDRatio:
		return root
	}
	return sdktrace.ParentBased(root, sdktrace.WithRemoteParentSampled(root), sdktrace.WithRemoteParentNotSampled(root))
}

// loggingExporter logs failed exports to the service's log and counts the
// spans lost; it answers nil so that the SDK does not report them again
// through its global error handler.
type loggingExporter struct {
	sdktrace.SpanExporter
	log      *slog.Logger
	endpoint string
	failed   atomic.Int64
}

// ExportSpans implements sdktrace.SpanExporter.
func (e *loggingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		e.failed.Add(int64(len(spans)))
		e.log.Warn("tracing: exporting spans failed; they are dropped", "endpoint", e.endpoint, "spans", len(spans), "error", err)
	}
	return nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
