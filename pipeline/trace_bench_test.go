package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/sprocketrun/sprocket/internal/tracing"
	"github.com/sprocketrun/sprocket/internal/tracing/otlptest"
	"github.com/sprocketrun/sprocket/pipeline"
)

// BenchmarkEventToHTTPActionTraced is BenchmarkEventToHTTPAction with
// tracing off (no tracer: what the service runs without OTEL variables)
// and on (every run attempt exported over OTLP/HTTP to a real receiver on
// loopback, which decodes every request), to compare chains/s and CPU per
// chain.
func BenchmarkEventToHTTPActionTraced(b *testing.B) {
	for _, workers := range []int{8, 32} {
		b.Run(fmt.Sprintf("workers=%d/tracing=off", workers), func(b *testing.B) {
			pipeline.BenchChain(b, workers, nil)
		})
		b.Run(fmt.Sprintf("workers=%d/tracing=on", workers), func(b *testing.B) {
			rec := otlptest.New()
			defer rec.Close()
			tr, err := tracing.New(tracing.Config{Enabled: true, Endpoint: rec.URL()}, tracing.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			pipeline.BenchChain(b, workers, tr)
			if err := tr.Shutdown(context.Background()); err != nil {
				b.Fatal(err)
			}
			if f := tr.Failed(); f > 0 {
				b.Fatalf("%d spans failed to export", f)
			}
			// root, event run, task run and action run per chain; spans
			// beyond the batch processor's queue would be dropped.
			b.ReportMetric(float64(len(rec.Spans()))/float64(b.N), "spans/chain")
			if len(rec.Spans()) == 0 {
				b.Fatal("the receiver got no spans")
			}
		})
	}
}
