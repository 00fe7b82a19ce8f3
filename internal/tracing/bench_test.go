package tracing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/tracing"
	"github.com/sprocketrun/sprocket/internal/tracing/otlptest"
	"github.com/sprocketrun/sprocket/pipeline"
	"github.com/sprocketrun/sprocket/store"
)

// BenchmarkRunAttempt measures what recording one run attempt costs the
// worker that performed it: nothing to do when tracing is off, and when
// on, deriving the ids, building the span and queueing it for the batch
// exporter, which sends to a real OTLP/HTTP receiver on loopback in the
// background (its CPU is in the figures, as it is in the process).
func BenchmarkRunAttempt(b *testing.B) {
	rec := otlptest.New()
	defer rec.Close()
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("tracing=%v", map[bool]string{false: "off", true: "on"}[on]), func(b *testing.B) {
			cfg := tracing.Config{Enabled: on, Endpoint: rec.URL(), MaxQueueSize: 1 << 16}
			tr, err := tracing.New(cfg, tracing.Options{Logger: quiet()})
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			a := pipeline.RunAttempt{
				Run:     store.Run{Kind: store.KindAction, EventID: "01a24c70-f7ed-70f7-807b-fb1065f01a9f", TaskID: "01a24c70-f7e8-723e-824f-07b9af9a23cc", ParentRunID: "f01af3a9-e6f4-8e39-92f2-85dbbd3685ce", ActionType: "http"},
				Attempt: 1, Token: 1, Status: pipeline.AttemptSucceeded, Start: now, End: now.Add(time.Millisecond),
				Topic: "user/orders/new", TaskName: "Forward orders",
			}
			ids := make([]string, 4096)
			for i := range ids {
				ids[i] = fmt.Sprintf("f01af3a9-e6f4-8e39-92f2-%012d", i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				a.Run.ID = ids[i%len(ids)]
				a.Key = a.Run.ID
				tr.RunAttempt(context.Background(), a)
			}
			b.StopTimer()
			if err := tr.Shutdown(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}
