package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// BenchmarkListRuns measures GET /v1/runs pages through the handler (no
// network) on real SQLite: "100k" holds 100,000 event runs (1 KiB event
// payloads); "large" holds 1,000 finished runs with 128 KiB of logs each
// (the shape that made an unpaged answer 131 MB). It reports the answer's
// bytes and the bytes allocated per request.
func BenchmarkListRuns(b *testing.B) {
	for _, sc := range []struct {
		name   string
		runs   int
		output int
	}{{"100k", 100_000, 0}, {"large", 1000, 128 << 10}} {
		b.Run(sc.name, func(b *testing.B) {
			svc, err := Open(context.Background(), Config{DataDir: b.TempDir(), APIToken: testToken, DisableScheduler: true, Logger: quietLogger()})
			if err != nil {
				b.Fatal(err)
			}
			defer svc.Close()
			ctx := context.Background()
			st := svc.Store()
			pad := strings.Repeat("x", 1000)
			for done := 0; done < sc.runs; {
				n := min(1000, sc.runs-done)
				evs := make([]store.NewEvent, n)
				for i := range evs {
					evs[i] = store.NewEvent{Topic: "user/bench/list", Data: json.RawMessage(fmt.Sprintf(`{"i":%d,"pad":%q}`, done+i, pad))}
				}
				if _, err := st.InsertEvents(ctx, evs); err != nil {
					b.Fatal(err)
				}
				done += n
			}
			if sc.output > 0 {
				logs, _ := json.Marshal([]string{strings.Repeat("o", sc.output)})
				for {
					jobs, err := st.Claim(ctx, 100, time.Hour)
					if err != nil {
						b.Fatal(err)
					}
					if len(jobs) == 0 {
						break
					}
					for _, j := range jobs {
						if _, err := st.Complete(ctx, j, store.Result{Logs: logs}); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			h := svc.Handler()
			// "unbounded" is the answer before paging: 1000 items and no
			// byte budget.
			for _, q := range []string{"", "?limit=1000", "unbounded"} {
				b.Run("query="+q, func(b *testing.B) {
					query := q
					if q == "unbounded" {
						svc.cfg.MaxListBytes = 1 << 40
						defer func() { svc.cfg.MaxListBytes = 0 }()
						query = "?limit=1000"
					}
					var body, items int
					var ms0, ms1 runtime.MemStats
					runtime.ReadMemStats(&ms0)
					b.ResetTimer()
					for range b.N {
						req := httptest.NewRequest(http.MethodGet, "/v1/runs"+query, nil)
						req.Header.Set("Authorization", "Bearer "+testToken)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK {
							b.Fatalf("status %d: %.200s", rec.Code, rec.Body.String())
						}
						body = rec.Body.Len()
						var page struct {
							Runs []json.RawMessage `json:"runs"`
						}
						b.StopTimer()
						if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
							b.Fatal(err)
						}
						items = len(page.Runs)
						b.StartTimer()
					}
					b.StopTimer()
					runtime.ReadMemStats(&ms1)
					b.ReportMetric(float64(body), "body-bytes")
					b.ReportMetric(float64(items), "items")
					b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N), "alloc-bytes/op")
				})
			}
		})
	}
}
