package postgres_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/postgres"
)

// The benchmarks mirror store/sqlite's, on PostgreSQL.

var sampleData = json.RawMessage(`{"id":820982911946154508,"email":"jon@example.com","total_price":"199.00","tags":"vip, wholesale","line_items":[{"id":1,"sku":"A-1","quantity":2}]}`)

func benchStore(b *testing.B, conns int) *postgres.Store {
	url := databaseURL(b)
	return open(b, url, freshSchema(b, url), postgres.WithMaxConns(conns))
}

// BenchmarkEventBatcher measures the durable ack path: many concurrent
// callers each block until their event (and its event run) is committed.
func BenchmarkEventBatcher(b *testing.B) {
	s := benchStore(b, 8)
	bt := store.NewEventBatcher(s, store.BatcherOptions{})
	defer bt.Close()
	b.SetParallelism(128)
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
}

// BenchmarkInsertEventsSerial measures one event per transaction.
func BenchmarkInsertEventsSerial(b *testing.B) {
	s := benchStore(b, 2)
	for b.Loop() {
		if _, err := s.InsertEvents(b.Context(), []store.NewEvent{{Topic: "shopify/orders/create", Data: sampleData}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWorkerTurnover measures concurrent workers each claiming one
// event run at a time and completing it with one follow-up task run.
func BenchmarkWorkerTurnover(b *testing.B) {
	s := benchStore(b, 16)
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
	b.SetParallelism(8) // 16 workers on 2 cores
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
