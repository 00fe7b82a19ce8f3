package sqlite_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

// sampleData is a small webhook-like payload.
var sampleData = json.RawMessage(`{"id":820982911946154508,"email":"jon@example.com","total_price":"199.00","tags":"vip, wholesale","line_items":[{"id":1,"sku":"A-1","quantity":2}]}`)

// BenchmarkEventBatcher measures the durable ack path: many concurrent
// callers each block until their event (and its event run) is committed.
func BenchmarkEventBatcher(b *testing.B) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			s, err := sqlite.Open(b.Context(), b.TempDir(), sqlite.WithSynchronous(sync))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			bt := store.NewEventBatcher(s, store.BatcherOptions{})
			defer bt.Close()
			b.SetParallelism(128) // 128 callers per GOMAXPROCS, like busy webhook handlers
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bt.Insert(b.Context(), store.NewEvent{Topic: "shopify/orders/create", Data: sampleData, Source: "shopify"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkInsertEventsSerial measures one event per transaction, for comparison.
func BenchmarkInsertEventsSerial(b *testing.B) {
	s, err := sqlite.Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.InsertEvents(b.Context(), []store.NewEvent{{Topic: "shopify/orders/create", Data: sampleData}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimComplete measures queue turnover: claim a batch of event
// runs and complete each with one follow-up task run.
func BenchmarkClaimComplete(b *testing.B) {
	s, err := sqlite.Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	evs := make([]store.NewEvent, 1000)
	for i := range evs {
		evs[i] = store.NewEvent{Topic: "shopify/orders/create", Data: sampleData}
	}
	b.ResetTimer()
	done := 0
	for done < b.N {
		b.StopTimer()
		if _, err := s.InsertEvents(b.Context(), evs); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for done < b.N {
			jobs, err := s.Claim(b.Context(), 32, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			if len(jobs) == 0 {
				break
			}
			for _, j := range jobs {
				var eff store.Effects
				if j.Run.Kind == store.KindEvent {
					eff.Runs = []store.NewRun{{ID: store.DerivedID(j.Run.ID, "t"), Kind: store.KindTask, EventID: j.Run.EventID, TaskID: "t", ParentRunID: j.Run.ID}}
				}
				if _, err := s.Complete(b.Context(), j, store.Result{Effects: eff}); err != nil {
					b.Fatal(err)
				}
				done++
			}
		}
	}
}

// BenchmarkWorkerTurnover measures concurrent workers each claiming one
// event run at a time and completing it with one follow-up task run (two
// write transactions per job, group-committed across workers).
func BenchmarkWorkerTurnover(b *testing.B) {
	s, err := sqlite.Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]store.NewEvent, 0, 1000)
	for i := 0; i < b.N; i++ {
		batch = append(batch, store.NewEvent{Topic: "shopify/orders/create", Data: sampleData})
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := s.InsertEvents(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			jobs, err := s.Claim(b.Context(), 1, time.Minute)
			if err != nil {
				b.Error(err)
				return
			}
			if len(jobs) == 0 {
				continue
			}
			j := jobs[0]
			eff := store.Effects{Runs: []store.NewRun{{ID: store.DerivedID(j.Run.ID, "t"), Kind: store.KindTask, EventID: j.Run.EventID, TaskID: "t", ParentRunID: j.Run.ID}}}
			if j.Run.Kind != store.KindEvent {
				eff = store.Effects{}
			}
			if _, err := s.Complete(b.Context(), j, store.Result{Effects: eff}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}
