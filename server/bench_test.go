package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// BenchmarkWebhookAck measures the service's webhook ack path without the
// network: handler, event data, group commit, 256 concurrent senders, no
// pipeline.
func BenchmarkWebhookAck(b *testing.B) {
	svc, err := Open(context.Background(), Config{DataDir: b.TempDir(), APIToken: testToken, DisableScheduler: true, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	w, err := svc.Store().CreateWebhook(context.Background(), store.Webhook{Name: "bench", Topic: "user/bench/ack", DataMode: store.DataModeAuto})
	if err != nil {
		b.Fatal(err)
	}
	h := svc.Handler()
	body := `{"id": 1234567890, "email": "bench@example.com", "total_price": "19.99"}`
	b.SetParallelism(128)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/webhooks/"+w.ID, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNoContent {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "acks/s")
}
