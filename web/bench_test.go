package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// benchTaskRuns is how many task runs the page benchmark's store holds.
const benchTaskRuns = 10000

// fillStore creates nTasks tasks and runs/5 events, each with five
// finished task runs (one in ten failed), through the store's queue as
// the pipeline would. Task runs go to the tasks round-robin.
func fillStore(b testing.TB, st store.Store, nTasks, runs int) (taskIDs []string, eventID string) {
	ctx := context.Background()
	var ids []string
	for i := range nTasks {
		t := task.New(fmt.Sprintf("Bench task %03d", i))
		t.Script = `{% action "echo", n: event.data.n %}`
		t.Subscriptions = []string{fmt.Sprintf("user/bench/t%d", i%20)}
		t.Tags = []string{fmt.Sprintf("tag%d", i%7), "bench"}
		docs := fmt.Sprintf("Benchmark task %d.\n\nIt echoes.", i)
		t.Docs = &docs
		s, _, err := server.CreateTask(ctx, st, t, "")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	events := runs / 5
	var evs []store.NewEvent
	for i := range events {
		evs = append(evs, store.NewEvent{Topic: fmt.Sprintf("user/bench/t%d", i%20), Data: json.RawMessage(fmt.Sprintf(`{"n": %d, "email": "c%d@example.com"}`, i, i)), Source: "user"})
	}
	for len(evs) > 0 {
		n := min(len(evs), 500)
		stored, err := st.InsertEvents(ctx, evs[:n])
		if err != nil {
			b.Fatal(err)
		}
		eventID = stored[len(stored)-1].ID
		evs = evs[n:]
	}
	done := 0
	for {
		jobs, err := st.Claim(ctx, 200, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			switch j.Run.Kind {
			case store.KindEvent:
				var eff store.Effects
				for k := range 5 {
					eff.Runs = append(eff.Runs, store.NewRun{
						ID: store.DerivedID(j.Run.ID, fmt.Sprint(k)), Kind: store.KindTask, EventID: j.Run.EventID,
						TaskID: ids[(done+k)%len(ids)], ParentRunID: j.Run.ID,
					})
				}
				if _, err := st.Complete(ctx, j, store.Result{Result: json.RawMessage(`[]`), Effects: eff}); err != nil {
					b.Fatal(err)
				}
			case store.KindTask:
				done++
				var err error
				if done%10 == 0 {
					_, err = st.Fail(ctx, j, store.Failure{Error: "render task: bench failure", Permanent: true})
				} else {
					_, err = st.Complete(ctx, j, store.Result{Output: `{"action": {"type": "echo", "options": {}}}`, Logs: json.RawMessage(`[]`), Errors: json.RawMessage(`[]`), Result: json.RawMessage(`[]`)})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if done != runs {
		b.Fatalf("%d task runs, want %d", done, runs)
	}
	return ids, eventID
}

// BenchmarkPages measures the server time of each page (handler to
// rendered HTML, no network) over a store holding 10,000 task runs.
func BenchmarkPages(b *testing.B) {
	svc, err := server.Open(context.Background(), server.Config{
		DataDir: b.TempDir(), APIToken: testToken, DisableScheduler: true, Logger: quietLogger(),
		Previewer: server.NewPreviewer(), UI: Factory(Options{Logger: quietLogger(), LibraryDir: b.TempDir()}),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	ids, eventID := fillStore(b, svc.Store(), 360, benchTaskRuns)
	taskID := ids[0]
	h := svc.Handler()
	cookie := benchSignIn(b, h)
	pages := []struct{ name, path string }{
		{"home", "/"},
		{"home_search", "/?q=task+01&tag=tag3"},
		{"events", "/events"},
		{"events_search", "/events?q=c1999%40example.com"},
		{"events_failed", "/events?status=failed"},
		{"event_tree", "/events/" + eventID},
		{"activity", "/activity"},
		{"activity_7d", "/activity?range=7d"},
		{"activity_uncached", "/activity?fresh=1"},
		{"activity_task_uncached", "/activity?fresh=1&task_id=" + taskID},
		{"editor", "/tasks/" + taskID + "?mode=advanced"},
		{"settings", "/settings"},
		{"console", "/console"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", p.path, rec.Code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}

// benchSignIn signs in through the handler and returns the session cookie.
func benchSignIn(b *testing.B, h http.Handler) *http.Cookie {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/signin", nil))
	var pre *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == preCookie {
			pre = c
		}
	}
	if pre == nil {
		b.Fatal("no sign-in cookie")
	}
	form := url.Values{"token": {testToken}, "csrf": {pre.Value}}
	req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(pre)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	b.Fatalf("sign-in failed: %d", rec.Code)
	return nil
}
