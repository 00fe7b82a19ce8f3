// Package storetest is the shared behaviour suite every store.Store
// implementation must pass: call Run from the driver's tests.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// NewStoreFunc opens a fresh, empty store that reads time from clock; the
// store must be closed by the function's own t.Cleanup.
type NewStoreFunc func(t *testing.T, clock store.Clock) store.Store

// id returns a UUID-shaped id named by name, so the suite also suits
// implementations that store ids in UUID columns.
func id(name string) string { return store.DerivedID("storetest", name) }

// start returns the time the suite's clocks start at.
func start() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

type env struct {
	t     *testing.T
	s     store.Store
	clock *Clock
	ctx   context.Context
}

func newEnv(t *testing.T, newStore NewStoreFunc) *env {
	t.Helper()
	c := NewClock(start())
	return &env{t: t, s: newStore(t, c), clock: c, ctx: t.Context()}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) wantErr(err, target error) {
	e.t.Helper()
	if !errors.Is(err, target) {
		e.t.Fatalf("got error %v, want %v", err, target)
	}
}

func (e *env) insert(evs ...store.NewEvent) []store.Event {
	e.t.Helper()
	out, err := e.s.InsertEvents(e.ctx, evs)
	e.must(err)
	return out
}

func (e *env) claim(limit int, lease time.Duration) []store.Job {
	e.t.Helper()
	jobs, err := e.s.Claim(e.ctx, limit, lease)
	e.must(err)
	return jobs
}

func (e *env) claimOne() store.Job {
	e.t.Helper()
	jobs := e.claim(1, time.Minute)
	if len(jobs) != 1 {
		e.t.Fatalf("claimed %d jobs, want 1", len(jobs))
	}
	return jobs[0]
}

func (e *env) run(id string) store.Run {
	e.t.Helper()
	r, err := e.s.GetRun(e.ctx, id)
	e.must(err)
	return r
}

func (e *env) countRuns(f store.RunFilter) int {
	e.t.Helper()
	f.Page.Limit = store.MaxPageLimit
	runs, _, err := e.s.ListRuns(e.ctx, f)
	e.must(err)
	return len(runs)
}

func jsonEq(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

// Run runs the whole suite against stores made by newStore.
func Run(t *testing.T, newStore NewStoreFunc) {
	tests := []struct {
		name string
		fn   func(e *env)
	}{
		{"Tasks", testTasks},
		{"TaskPagination", testTaskPagination},
		{"TaskVersions", testTaskVersions},
		{"Events", testEvents},
		{"EventPagination", testEventPagination},
		{"Webhooks", testWebhooks},
		{"QueuePriority", testQueuePriority},
		{"QueueRunAt", testQueueRunAt},
		{"ClaimFiltered", testClaimFiltered},
		{"ClaimSkipTasks", testClaimSkipTasks},
		{"LeaseExpiry", testLeaseExpiry},
		{"AttemptHistory", testAttemptHistory},
		{"Retries", testRetries},
		{"DefaultRetrySchedule", testDefaultRetrySchedule},
		{"ExactlyOnceEffects", testExactlyOnceEffects},
		{"SequenceEffects", testSequenceEffects},
		{"ConcurrentClaims", testConcurrentClaims},
		{"RetryAndCancel", testRetryAndCancel},
		{"StaleLeaseAfterManualRetry", testStaleLeaseAfterManualRetry},
		{"QueueStats", testQueueStats},
		{"ConcurrentMixedWrites", testConcurrentMixedWrites},
		{"Settings", testSettings},
		{"CredentialRewriter", testCredentialRewriter},
		{"CancelledWrites", testCancelledWrites},
		{"TimeRangeFilters", testTimeRangeFilters},
		{"RunListing", testRunListing},
		{"Cache", testCache},
		{"CacheList", testCacheList},
		{"CacheEffects", testCacheEffects},
		{"CacheEndpoints", testCacheEndpoints},
		{"Scheduler", testScheduler},
		{"Prune", testPrune},
		{"Batcher", testBatcher},
		{"InvalidInput", testInvalidInput},
		{"ListPages", testListPages},
		{"StoredBytes", testStoredBytes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(newEnv(t, newStore)) })
	}
}

func testTasks(e *env) {
	def := json.RawMessage(`{"name":"A","script":"{{ 1 }}","options":{}}`)
	a, created, err := e.s.CreateTask(e.ctx, store.NewTask{Name: "A", Subscriptions: []string{"shopify/orders/create"}, Definition: def, IdempotencyKey: "k1"})
	e.must(err)
	if !created || a.ID == "" || a.Enabled || !a.CreatedAt.Equal(start()) {
		e.t.Fatalf("created task = %+v, created=%v", a, created)
	}
	again, created, err := e.s.CreateTask(e.ctx, store.NewTask{Name: "other", Definition: def, IdempotencyKey: "k1"})
	e.must(err)
	if created || again.ID != a.ID || again.Name != "A" {
		e.t.Fatalf("idempotent create returned %+v created=%v, want task %s", again, created, a.ID)
	}
	got, err := e.s.GetTask(e.ctx, a.ID)
	e.must(err)
	if got.Name != "A" || !slices.Equal(got.Subscriptions, []string{"shopify/orders/create"}) || !jsonEq(got.Definition, def) {
		e.t.Fatalf("GetTask = %+v", got)
	}
	_, _, err = e.s.CreateTask(e.ctx, store.NewTask{ID: a.ID, Name: "dup", Definition: def})
	e.wantErr(err, store.ErrConflict)

	e.clock.Advance(time.Second)
	got.Name, got.Enabled, got.Subscriptions = "A2", true, []string{"mechanic/scheduler/daily"}
	upd, err := e.s.UpdateTask(e.ctx, got)
	e.must(err)
	if upd.Name != "A2" || !upd.Enabled || !upd.UpdatedAt.Equal(start().Add(time.Second)) || !upd.CreatedAt.Equal(start()) {
		e.t.Fatalf("UpdateTask = %+v", upd)
	}
	// got carries the old UpdatedAt: a second write based on it conflicts.
	_, err = e.s.UpdateTask(e.ctx, got)
	e.wantErr(err, store.ErrConflict)
	upd.UpdatedAt = time.Time{} // unconditional
	upd.Name = "A3"
	e.clock.Advance(time.Second)
	upd, err = e.s.UpdateTask(e.ctx, upd)
	e.must(err)
	upd.Name = "A2"
	upd, err = e.s.UpdateTask(e.ctx, upd) // conditional on the value just read
	e.must(err)
	b, _, err := e.s.CreateTask(e.ctx, store.NewTask{Name: "B", Definition: def})
	e.must(err)
	yes, no := true, false
	for _, tc := range []struct {
		enabled *bool
		want    []string
	}{{nil, []string{b.ID, a.ID}}, {&yes, []string{a.ID}}, {&no, []string{b.ID}}} {
		ts, next, err := e.s.ListTasks(e.ctx, store.TaskFilter{Enabled: tc.enabled})
		e.must(err)
		var ids []string
		for _, t := range ts {
			ids = append(ids, t.ID)
		}
		if !slices.Equal(ids, tc.want) || next != "" {
			e.t.Fatalf("ListTasks(enabled=%v) = %v next=%q, want %v", tc.enabled, ids, next, tc.want)
		}
	}
	e.must(e.s.DeleteTask(e.ctx, a.ID))
	_, err = e.s.GetTask(e.ctx, a.ID)
	e.wantErr(err, store.ErrNotFound)
	e.wantErr(e.s.DeleteTask(e.ctx, a.ID), store.ErrNotFound)
	_, err = e.s.UpdateTask(e.ctx, store.Task{ID: id("missing"), Definition: def})
	e.wantErr(err, store.ErrNotFound)
	// The idempotency key went with the task: the key can create anew.
	c, created, err := e.s.CreateTask(e.ctx, store.NewTask{Name: "C", Definition: def, IdempotencyKey: "k1"})
	e.must(err)
	if !created || c.ID == a.ID {
		e.t.Fatalf("create after delete = %+v created=%v", c, created)
	}
}

func testTaskPagination(e *env) {
	var want []string
	for i := range 7 {
		tk, _, err := e.s.CreateTask(e.ctx, store.NewTask{Name: fmt.Sprint("t", i), Definition: json.RawMessage(`{}`)})
		e.must(err)
		want = append([]string{tk.ID}, want...)
		if i%2 == 0 {
			e.clock.Advance(time.Millisecond) // mix equal and distinct timestamps
		}
	}
	var got []string
	cursor := ""
	for range 10 {
		ts, next, err := e.s.ListTasks(e.ctx, store.TaskFilter{Page: store.Page{Limit: 3, Cursor: cursor}})
		e.must(err)
		for _, t := range ts {
			got = append(got, t.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	// Tasks made in the same microsecond are ordered by id, not by creation.
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		e.t.Fatalf("paged ids = %v, want %v", got, want)
	}
	_, _, err := e.s.ListTasks(e.ctx, store.TaskFilter{Page: store.Page{Cursor: "%%%"}})
	e.wantErr(err, store.ErrInvalid)
}

func testEvents(e *env) {
	fixedID := id("fixed")
	evs := e.insert(
		store.NewEvent{Topic: "shopify/orders/create", Data: json.RawMessage(`{"id":1,"b":[1,2]}`), Source: "shopify", ShopifyTopic: "shopify/orders/create"},
		store.NewEvent{ID: fixedID, Topic: "user/webhook/form", Source: "user", WebhookID: id("wh"), RequestID: id("req"), TaskIDs: []string{id("t1")}},
	)
	if len(evs) != 2 || evs[0].ID == "" || evs[1].ID != fixedID {
		e.t.Fatalf("InsertEvents = %+v", evs)
	}
	got, err := e.s.GetEvent(e.ctx, evs[0].ID)
	e.must(err)
	if got.Topic != "shopify/orders/create" || !jsonEq(got.Data, json.RawMessage(`{"id":1,"b":[1,2]}`)) || got.Source != "shopify" ||
		got.ShopifyTopic != "shopify/orders/create" || !got.CreatedAt.Equal(start()) || !got.RunAt.Equal(start()) || got.ParentID != "" {
		e.t.Fatalf("GetEvent = %+v", got)
	}
	got, err = e.s.GetEvent(e.ctx, fixedID)
	e.must(err)
	if string(got.Data) != "null" || got.WebhookID != id("wh") || got.RequestID != id("req") || !slices.Equal(got.TaskIDs, []string{id("t1")}) {
		e.t.Fatalf("GetEvent(fixed-id) = %+v", got)
	}
	// Every event has exactly one pending event run with a derived id.
	r := e.run(store.EventRunID(fixedID))
	if r.Kind != store.KindEvent || r.Status != store.StatusPending || r.EventID != fixedID || r.Attempts != 0 || !r.NextAttemptAt.Equal(start()) {
		e.t.Fatalf("event run = %+v", r)
	}
	// Re-inserting an existing id changes nothing and adds no run.
	again := e.insert(store.NewEvent{ID: fixedID, Topic: "other/topic/x"})
	if again[0].Topic != "user/webhook/form" || !again[0].CreatedAt.Equal(start()) {
		e.t.Fatalf("repeated insert returned %+v, want the stored event", again[0])
	}
	got, err = e.s.GetEvent(e.ctx, fixedID)
	e.must(err)
	if got.Topic != "user/webhook/form" {
		e.t.Fatalf("duplicate insert overwrote the event: %+v", got)
	}
	if n := e.countRuns(store.RunFilter{EventID: fixedID}); n != 1 {
		e.t.Fatalf("event has %d runs, want 1", n)
	}
	_, err = e.s.GetEvent(e.ctx, id("nope"))
	e.wantErr(err, store.ErrNotFound)

	child := e.insert(store.NewEvent{Topic: "user/child/x", ParentID: fixedID})[0]
	// A task run of task t9 for the first event, to test the task filter.
	job := e.claimOne()
	_, err = e.s.Complete(e.ctx, job, store.Result{Effects: store.Effects{Runs: []store.NewRun{
		{ID: store.DerivedID(job.Run.ID, "t9"), Kind: store.KindTask, EventID: job.Run.EventID, TaskID: id("t9"), ParentRunID: job.Run.ID},
	}}})
	e.must(err)
	for _, tc := range []struct {
		f    store.EventFilter
		want []string
	}{
		{store.EventFilter{Topic: "user/webhook/form"}, []string{fixedID}},
		{store.EventFilter{ParentID: fixedID}, []string{child.ID}},
		{store.EventFilter{TaskID: id("t9")}, []string{job.Run.EventID}},
		{store.EventFilter{Topic: "none/such/topic"}, nil},
	} {
		list, _, err := e.s.ListEvents(e.ctx, tc.f)
		e.must(err)
		var ids []string
		for _, ev := range list {
			ids = append(ids, ev.ID)
		}
		if !slices.Equal(ids, tc.want) {
			e.t.Fatalf("ListEvents(%+v) = %v, want %v", tc.f, ids, tc.want)
		}
	}
}

func testEventPagination(e *env) {
	seen := map[string]bool{}
	for i := range 25 {
		e.insert(store.NewEvent{Topic: "user/page/test", Data: json.RawMessage(fmt.Sprint(i))})
		if i%3 == 0 {
			e.clock.Advance(time.Second)
		}
	}
	e.insert(store.NewEvent{Topic: "user/other/test"})
	cursor := ""
	var last time.Time
	pages := 0
	for {
		list, next, err := e.s.ListEvents(e.ctx, store.EventFilter{Topic: "user/page/test", Page: store.Page{Limit: 10, Cursor: cursor}})
		e.must(err)
		pages++
		for _, ev := range list {
			if seen[ev.ID] {
				e.t.Fatalf("event %s listed twice", ev.ID)
			}
			if !last.IsZero() && ev.CreatedAt.After(last) {
				e.t.Fatalf("events not newest first")
			}
			last = ev.CreatedAt
			seen[ev.ID] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 25 || pages != 3 {
		e.t.Fatalf("paged %d events in %d pages, want 25 in 3", len(seen), pages)
	}
}

func testWebhooks(e *env) {
	w, err := e.s.CreateWebhook(e.ctx, store.Webhook{Name: "Form", Topic: "user/webhook/form"})
	e.must(err)
	if len(w.ID) < 32 || w.DataMode != store.DataModeAuto {
		e.t.Fatalf("CreateWebhook = %+v", w)
	}
	w2, err := e.s.CreateWebhook(e.ctx, store.Webhook{Name: "Full", Topic: "user/webhook/full", DataMode: store.DataModeFull, Secret: "s", SignatureHeader: "X-Sig"})
	e.must(err)
	if w2.ID == w.ID {
		e.t.Fatal("webhook ids repeat")
	}
	got, err := e.s.GetWebhook(e.ctx, w2.ID)
	e.must(err)
	if got.Secret != "s" || got.SignatureHeader != "X-Sig" || got.DataMode != store.DataModeFull || got.Topic != "user/webhook/full" {
		e.t.Fatalf("GetWebhook = %+v", got)
	}
	got.DataMode, got.Name = store.DataModeAuto, "Renamed"
	e.clock.Advance(time.Minute)
	upd, err := e.s.UpdateWebhook(e.ctx, got)
	e.must(err)
	if upd.Name != "Renamed" || upd.DataMode != store.DataModeAuto || !upd.UpdatedAt.Equal(start().Add(time.Minute)) {
		e.t.Fatalf("UpdateWebhook = %+v", upd)
	}
	_, err = e.s.CreateWebhook(e.ctx, store.Webhook{Name: "bad", Topic: "user/a/b", DataMode: "partial"})
	e.wantErr(err, store.ErrInvalid)
	list, err := e.s.ListWebhooks(e.ctx)
	e.must(err)
	if len(list) != 2 {
		e.t.Fatalf("ListWebhooks = %d webhooks", len(list))
	}
	e.must(e.s.DeleteWebhook(e.ctx, w.ID))
	_, err = e.s.GetWebhook(e.ctx, w.ID)
	e.wantErr(err, store.ErrNotFound)
	e.wantErr(e.s.DeleteWebhook(e.ctx, w.ID), store.ErrNotFound)
	_, err = e.s.UpdateWebhook(e.ctx, store.Webhook{ID: w.ID})
	e.wantErr(err, store.ErrNotFound)
}

func testQueuePriority(e *env) {
	evs := e.insert(store.NewEvent{Topic: "user/a/b"})
	e.clock.Advance(time.Second)
	e.insert(store.NewEvent{Topic: "user/a/c"})
	e.clock.Advance(time.Second)
	job := e.claimOne()
	if job.Run.EventID != evs[0].ID || job.Run.Kind != store.KindEvent || job.Attempt != 1 || job.Run.Status != store.StatusRunning {
		e.t.Fatalf("first claim = %+v, want the older event's run", job)
	}
	taskRun := store.DerivedID(job.Run.ID, "task")
	_, err := e.s.Complete(e.ctx, job, store.Result{Effects: store.Effects{Runs: []store.NewRun{
		{ID: taskRun, Kind: store.KindTask, EventID: evs[0].ID, TaskID: id("t"), ParentRunID: job.Run.ID},
		{ID: store.DerivedID(taskRun, "0"), Kind: store.KindAction, EventID: evs[0].ID, TaskID: id("t"), ParentRunID: taskRun,
			ActionType: "echo", ActionOptions: json.RawMessage(`{"a":1}`), ActionMeta: json.RawMessage(`{"m":true}`)},
	}}})
	e.must(err)
	jobs := e.claim(10, time.Minute)
	var kinds []store.RunKind
	for _, j := range jobs {
		kinds = append(kinds, j.Run.Kind)
	}
	if !slices.Equal(kinds, []store.RunKind{store.KindAction, store.KindTask, store.KindEvent}) {
		e.t.Fatalf("claim order = %v, want action, task, event", kinds)
	}
	a := jobs[0].Run
	if a.ActionType != "echo" || !jsonEq(a.ActionOptions, json.RawMessage(`{"a":1}`)) || !jsonEq(a.ActionMeta, json.RawMessage(`{"m":true}`)) ||
		a.ParentRunID != taskRun || a.TaskID != id("t") {
		e.t.Fatalf("action run = %+v", a)
	}
	if more := e.claim(10, time.Minute); len(more) != 0 {
		e.t.Fatalf("claimed %d leased jobs again", len(more))
	}
}

func testQueueRunAt(e *env) {
	e.insert(store.NewEvent{Topic: "user/later/x", RunAt: start().Add(time.Hour)})
	if jobs := e.claim(5, time.Minute); len(jobs) != 0 {
		e.t.Fatalf("claimed a run scheduled in the future: %+v", jobs)
	}
	e.clock.Advance(59 * time.Minute)
	if jobs := e.claim(5, time.Minute); len(jobs) != 0 {
		e.t.Fatal("claimed a run before its time")
	}
	e.clock.Advance(time.Minute)
	job := e.claimOne()
	if !job.Run.RunAt.Equal(start().Add(time.Hour)) {
		e.t.Fatalf("RunAt = %v", job.Run.RunAt)
	}
	// A delayed task run (subscription offset) waits too.
	_, err := e.s.Complete(e.ctx, job, store.Result{Effects: store.Effects{Runs: []store.NewRun{
		{ID: store.DerivedID(job.Run.ID, "t"), Kind: store.KindTask, EventID: job.Run.EventID, TaskID: id("t"), RunAt: e.clock.Now().Add(3 * 24 * time.Hour)},
	}}})
	e.must(err)
	if jobs := e.claim(5, time.Minute); len(jobs) != 0 {
		e.t.Fatal("claimed a delayed task run early")
	}
	e.clock.Advance(3 * 24 * time.Hour)
	if j := e.claimOne(); j.Run.Kind != store.KindTask {
		e.t.Fatalf("claimed %s, want the task run", j.Run.Kind)
	}
}

func testLeaseExpiry(e *env) {
	e.insert(store.NewEvent{Topic: "user/a/b"})
	j1 := e.claim(1, 30*time.Second)[0]
	e.clock.Advance(20 * time.Second)
	j1, err := e.s.Extend(e.ctx, j1, 30*time.Second) // lease now ends at +50s
	e.must(err)
	e.clock.Advance(25 * time.Second) // +45s: past the first lease, within the extension
	if jobs := e.claim(1, 30*time.Second); len(jobs) != 0 {
		e.t.Fatal("retook a job whose lease was extended")
	}
	e.clock.Advance(10 * time.Second) // +55s: the worker "crashed"
	jobs := e.claim(1, 30*time.Second)
	if len(jobs) != 1 || jobs[0].Run.ID != j1.Run.ID || jobs[0].Attempt != 2 {
		e.t.Fatalf("retake = %+v, want attempt 2 of %s", jobs, j1.Run.ID)
	}
	j2 := jobs[0]
	if j1.Interrupted || !j2.Interrupted {
		e.t.Fatalf("Interrupted: first claim %v, retake %v; want false, true", j1.Interrupted, j2.Interrupted)
	}
	_, err = e.s.Complete(e.ctx, j1, store.Result{})
	e.wantErr(err, store.ErrLeaseLost)
	_, err = e.s.Fail(e.ctx, j1, store.Failure{Error: "x"})
	e.wantErr(err, store.ErrLeaseLost)
	_, err = e.s.Extend(e.ctx, j1, time.Minute)
	e.wantErr(err, store.ErrLeaseLost)
	r, err := e.s.Complete(e.ctx, j2, store.Result{Result: json.RawMessage(`{"ok":true}`)})
	e.must(err)
	if r.Status != store.StatusSuccess || r.Attempts != 2 || !r.StoppedAt.Equal(e.clock.Now()) || !jsonEq(r.Result, json.RawMessage(`{"ok":true}`)) ||
		!r.NextAttemptAt.IsZero() {
		e.t.Fatalf("completed run = %+v", r)
	}
	e.clock.Advance(time.Hour)
	if jobs := e.claim(1, time.Minute); len(jobs) != 0 {
		e.t.Fatal("claimed a finished run")
	}
}

func testRetries(e *env) {
	ev := e.insert(store.NewEvent{Topic: "user/a/b"})[0]
	sched := store.RetrySchedule{10 * time.Second, 20 * time.Second}
	errEvent := store.NewEvent{ID: store.DerivedID(store.EventRunID(ev.ID), "error"), Topic: "mechanic/errors/event", ParentID: ev.ID}
	fail := func(j store.Job) store.Run {
		e.t.Helper()
		r, err := e.s.Fail(e.ctx, j, store.Failure{Error: fmt.Sprint("boom ", j.Attempt), Schedule: sched,
			Logs: json.RawMessage(`["l"]`), Effects: store.Effects{Events: []store.NewEvent{errEvent}}})
		e.must(err)
		return r
	}
	r := fail(e.claimOne())
	if r.Status != store.StatusPending || r.Error != "boom 1" || !r.NextAttemptAt.Equal(start().Add(10*time.Second)) || r.Attempts != 1 {
		e.t.Fatalf("after attempt 1: %+v", r)
	}
	if _, err := e.s.GetEvent(e.ctx, errEvent.ID); !errors.Is(err, store.ErrNotFound) {
		e.t.Fatal("final-failure effects applied on a retried attempt")
	}
	e.clock.Advance(9 * time.Second)
	if jobs := e.claim(1, time.Minute); len(jobs) != 0 {
		e.t.Fatal("retry claimed before its delay")
	}
	e.clock.Advance(time.Second)
	r = fail(e.claimOne())
	if r.Status != store.StatusPending || !r.NextAttemptAt.Equal(e.clock.Now().Add(20*time.Second)) || r.Attempts != 2 {
		e.t.Fatalf("after attempt 2: %+v", r)
	}
	e.clock.Advance(20 * time.Second)
	r = fail(e.claimOne())
	if r.Status != store.StatusFailed || r.Error != "boom 3" || r.Attempts != 3 || r.StoppedAt.IsZero() || !r.NextAttemptAt.IsZero() ||
		!jsonEq(r.Logs, json.RawMessage(`["l"]`)) {
		e.t.Fatalf("after attempt 3: %+v", r)
	}
	got, err := e.s.GetEvent(e.ctx, errEvent.ID)
	e.must(err)
	if got.Topic != "mechanic/errors/event" {
		e.t.Fatalf("error event = %+v", got)
	}
	e.clock.Advance(time.Hour)
	// The error event's run is the only thing left.
	if j := e.claimOne(); j.Run.EventID != errEvent.ID {
		e.t.Fatalf("claimed %+v", j.Run)
	}

	// A permanent failure does not retry.
	e.insert(store.NewEvent{Topic: "user/a/c"})
	r, err = e.s.Fail(e.ctx, e.claimOne(), store.Failure{Error: "bad input", Permanent: true})
	e.must(err)
	if r.Status != store.StatusFailed || r.Attempts != 1 {
		e.t.Fatalf("permanent failure: %+v", r)
	}
}

func testDefaultRetrySchedule(e *env) {
	want := []time.Duration{30 * time.Second, 76 * time.Second, 152 * time.Second, 308 * time.Second}
	if got := store.DefaultRetrySchedule(); !slices.Equal(got, want) || got.MaxAttempts() != 5 {
		e.t.Fatalf("DefaultRetrySchedule = %v", got)
	}
	e.insert(store.NewEvent{Topic: "user/a/b"})
	for i, d := range want {
		j := e.claimOne()
		if j.Attempt != i+1 {
			e.t.Fatalf("attempt = %d, want %d", j.Attempt, i+1)
		}
		r, err := e.s.Fail(e.ctx, j, store.Failure{Error: "transient"})
		e.must(err)
		if r.Status != store.StatusPending || !r.NextAttemptAt.Equal(e.clock.Now().Add(d)) {
			e.t.Fatalf("attempt %d: %+v", i+1, r)
		}
		e.clock.Advance(d)
	}
	r, err := e.s.Fail(e.ctx, e.claimOne(), store.Failure{Error: "transient"})
	e.must(err)
	if r.Status != store.StatusFailed || r.Attempts != 5 {
		e.t.Fatalf("attempt 5: %+v", r)
	}
}

func testExactlyOnceEffects(e *env) {
	ev := e.insert(store.NewEvent{Topic: "user/a/b"})[0]
	effects := func(runID string) store.Effects {
		return store.Effects{
			Runs: []store.NewRun{
				{ID: store.DerivedID(runID, "task-1"), Kind: store.KindTask, EventID: ev.ID, TaskID: id("task-1"), ParentRunID: runID},
				{ID: store.DerivedID(runID, "task-2"), Kind: store.KindTask, EventID: ev.ID, TaskID: id("task-2"), ParentRunID: runID},
			},
			Events: []store.NewEvent{{ID: store.DerivedID(runID, "child"), Topic: "user/child/x", ParentID: ev.ID}},
			Cache:  []store.CacheOp{{Kind: store.CacheIncr, Key: "counter", Delta: 1}},
		}
	}
	// Worker 1 claims, stalls past its lease; worker 2 retakes and completes.
	j1 := e.claim(1, 10*time.Second)[0]
	e.clock.Advance(11 * time.Second)
	j2 := e.claim(1, 10*time.Second)[0]
	_, err := e.s.Complete(e.ctx, j2, store.Result{Effects: effects(j2.Run.ID)})
	e.must(err)
	// Worker 1 wakes up and tries to complete with the same effects.
	_, err = e.s.Complete(e.ctx, j1, store.Result{Effects: effects(j1.Run.ID)})
	e.wantErr(err, store.ErrLeaseLost)
	// Completing the same job twice records nothing the second time.
	_, err = e.s.Complete(e.ctx, j2, store.Result{Effects: effects(j2.Run.ID)})
	e.wantErr(err, store.ErrLeaseLost)
	check := func() {
		e.t.Helper()
		if n := e.countRuns(store.RunFilter{Kind: store.KindTask, EventID: ev.ID}); n != 2 {
			e.t.Fatalf("%d task runs, want 2", n)
		}
		kids, _, err := e.s.ListEvents(e.ctx, store.EventFilter{ParentID: ev.ID})
		e.must(err)
		if len(kids) != 1 {
			e.t.Fatalf("%d child events, want 1", len(kids))
		}
		v, ok, err := e.s.CacheGet(e.ctx, "counter")
		e.must(err)
		if !ok || string(v) != "1" {
			e.t.Fatalf("counter = %s, %v; want 1", v, ok)
		}
	}
	check()
	// A manual retry of the event run re-derives the same ids: inserts are no-ops.
	_, err = e.s.RetryRun(e.ctx, j2.Run.ID)
	e.must(err)
	for {
		j := e.claimOne()
		if j.Run.ID == j2.Run.ID {
			eff := effects(j.Run.ID)
			eff.Cache = nil
			_, err = e.s.Complete(e.ctx, j, store.Result{Effects: eff})
			e.must(err)
			break
		}
		_, err := e.s.Complete(e.ctx, j, store.Result{})
		e.must(err)
	}
	check()
}

func testSequenceEffects(e *env) {
	ev := e.insert(store.NewEvent{Topic: "user/a/b"})[0]
	j := e.claimOne()
	ids := []string{store.DerivedID(j.Run.ID, "a0"), store.DerivedID(j.Run.ID, "a1"), store.DerivedID(j.Run.ID, "a2")}
	var runs []store.NewRun
	for i, runID := range ids {
		runs = append(runs, store.NewRun{ID: runID, Kind: store.KindAction, EventID: ev.ID, TaskID: id("t"), ParentRunID: j.Run.ID, Seq: i,
			ActionType: "shopify", Paused: i > 0})
	}
	_, err := e.s.Complete(e.ctx, j, store.Result{Effects: store.Effects{Runs: runs}})
	e.must(err)
	if r := e.run(ids[1]); !r.Paused || r.Status != store.StatusPending || r.Seq != 1 {
		e.t.Fatalf("paused run = %+v", r)
	}
	a0 := e.claimOne()
	if a0.Run.ID != ids[0] {
		e.t.Fatalf("claimed seq %d, want the first action", a0.Run.Seq)
	}
	if jobs := e.claim(5, time.Minute); len(jobs) != 0 {
		e.t.Fatal("claimed a paused run")
	}
	_, err = e.s.Complete(e.ctx, a0, store.Result{Effects: store.Effects{Release: []string{ids[1]}}})
	e.must(err)
	a1 := e.claimOne()
	if a1.Run.ID != ids[1] {
		e.t.Fatalf("claimed seq %d, want 1", a1.Run.Seq)
	}
	// Halt on error: the failing action fails the rest of the sequence.
	_, err = e.s.Fail(e.ctx, a1, store.Failure{Error: "422", Permanent: true,
		Effects: store.Effects{Fail: []store.RunFailure{{RunID: ids[2], Error: "halted: an earlier action failed"}}}})
	e.must(err)
	if r := e.run(ids[2]); r.Status != store.StatusFailed || r.Error != "halted: an earlier action failed" || r.Paused {
		e.t.Fatalf("halted run = %+v", r)
	}
}

func testConcurrentClaims(e *env) {
	const n = 150
	var evs []store.NewEvent
	for i := range n {
		evs = append(evs, store.NewEvent{Topic: "user/load/x", Data: json.RawMessage(fmt.Sprint(i))})
	}
	e.insert(evs...)
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
		errs = make(chan error, 8)
	)
	for range 8 {
		wg.Go(func() {
			for {
				jobs, err := e.s.Claim(e.ctx, 7, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					seen[j.Run.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatal(err)
	}
	if len(seen) != n {
		e.t.Fatalf("claimed %d distinct runs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			e.t.Fatalf("run %s claimed %d times", id, c)
		}
	}
}

func testRetryAndCancel(e *env) {
	evs := e.insert(store.NewEvent{Topic: "user/a/b"}, store.NewEvent{Topic: "user/a/c", RunAt: start().Add(time.Hour)})
	j := e.claimOne()
	_, err := e.s.RetryRun(e.ctx, j.Run.ID)
	e.wantErr(err, store.ErrConflict)
	_, err = e.s.Fail(e.ctx, j, store.Failure{Error: "nope", Permanent: true, Result: json.RawMessage(`{"x":1}`)})
	e.must(err)
	e.clock.Advance(time.Minute)
	r, err := e.s.RetryRun(e.ctx, j.Run.ID)
	e.must(err)
	if r.Status != store.StatusPending || r.Attempts != 0 || r.Error != "" || r.Result != nil || !r.NextAttemptAt.Equal(e.clock.Now()) {
		e.t.Fatalf("retried run = %+v", r)
	}
	if j2 := e.claimOne(); j2.Run.ID != j.Run.ID || j2.Attempt != 1 {
		e.t.Fatalf("claimed %+v after retry", j2)
	}
	c, err := e.s.CancelRun(e.ctx, store.EventRunID(evs[1].ID), "cancelled by user")
	e.must(err)
	if c.Status != store.StatusFailed || c.Error != "cancelled by user" {
		e.t.Fatalf("cancelled run = %+v", c)
	}
	_, err = e.s.CancelRun(e.ctx, c.ID, "again")
	e.wantErr(err, store.ErrConflict)
	_, err = e.s.CancelRun(e.ctx, id("missing"), "x")
	e.wantErr(err, store.ErrNotFound)
	_, err = e.s.RetryRun(e.ctx, id("missing"))
	e.wantErr(err, store.ErrNotFound)
	_, err = e.s.GetRun(e.ctx, id("missing"))
	e.wantErr(err, store.ErrNotFound)
}

func testRunListing(e *env) {
	ev := e.insert(store.NewEvent{Topic: "user/a/b"})[0]
	j := e.claimOne()
	var runs []store.NewRun
	for i := range 12 {
		runs = append(runs, store.NewRun{ID: store.DerivedID(j.Run.ID, fmt.Sprint(i)), Kind: store.KindTask, EventID: ev.ID,
			TaskID: id(fmt.Sprint("task-", i%3)), ParentRunID: j.Run.ID})
	}
	_, err := e.s.Complete(e.ctx, j, store.Result{Output: "out", Effects: store.Effects{Runs: runs}})
	e.must(err)
	e.clock.Advance(time.Second)
	done := e.claimOne()
	_, err = e.s.Complete(e.ctx, done, store.Result{})
	e.must(err)
	for _, tc := range []struct {
		f    store.RunFilter
		want int
	}{
		{store.RunFilter{EventID: ev.ID}, 13},
		{store.RunFilter{Kind: store.KindTask}, 12},
		{store.RunFilter{Kind: store.KindEvent}, 1},
		{store.RunFilter{TaskID: id("task-1")}, 4},
		{store.RunFilter{ParentRunID: j.Run.ID}, 12},
		{store.RunFilter{Status: store.StatusSuccess}, 2},
		{store.RunFilter{Status: store.StatusPending, Kind: store.KindTask}, 11},
		{store.RunFilter{EventID: id("other")}, 0},
	} {
		if n := e.countRuns(tc.f); n != tc.want {
			e.t.Fatalf("ListRuns(%+v) = %d runs, want %d", tc.f, n, tc.want)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	for {
		list, next, err := e.s.ListRuns(e.ctx, store.RunFilter{EventID: ev.ID, Page: store.Page{Limit: 5, Cursor: cursor}})
		e.must(err)
		for _, r := range list {
			if seen[r.ID] {
				e.t.Fatalf("run %s listed twice", r.ID)
			}
			seen[r.ID] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 13 {
		e.t.Fatalf("paged %d runs, want 13", len(seen))
	}
	if r := e.run(j.Run.ID); r.Output != "out" || r.Status != store.StatusSuccess {
		e.t.Fatalf("event run = %+v", r)
	}
}

// testCacheList lists live entries in byte order of their keys, leaves
// expired ones out and keeps to the limit.
func testCacheList(e *env) {
	set := func(key, v string, ttl time.Duration) {
		e.t.Helper()
		_, err := e.s.CacheApply(e.ctx, store.CacheOp{Kind: store.CacheSet, Key: key, Value: json.RawMessage(v), TTL: ttl})
		e.must(err)
	}
	set("b", `2`, time.Hour)
	set("a", `{"x":1}`, time.Hour)
	set("B", `"upper"`, time.Hour)
	set("a/1", `[1]`, time.Hour)
	set("é", `true`, time.Hour)
	set("short", `0`, time.Minute)
	e.clock.Advance(2 * time.Minute)
	got, err := e.s.CacheList(e.ctx, 100)
	e.must(err)
	var keys []string
	for _, c := range got {
		keys = append(keys, c.Key)
	}
	if want := []string{"B", "a", "a/1", "b", "é"}; !slices.Equal(keys, want) {
		e.t.Fatalf("CacheList keys = %q, want %q (byte order, expired left out)", keys, want)
	}
	if !jsonEq(got[1].Value, json.RawMessage(`{"x":1}`)) || !got[1].ExpiresAt.Equal(start().Add(time.Hour)) {
		e.t.Fatalf("CacheList entry = %+v", got[1])
	}
	got, err = e.s.CacheList(e.ctx, 2)
	e.must(err)
	if len(got) != 2 || got[0].Key != "B" || got[1].Key != "a" {
		e.t.Fatalf("CacheList limit 2 = %+v", got)
	}
	_, err = e.s.CacheList(e.ctx, 0)
	e.wantErr(err, store.ErrInvalid)
}

func testCache(e *env) {
	apply := func(op store.CacheOp) json.RawMessage {
		e.t.Helper()
		v, err := e.s.CacheApply(e.ctx, op)
		e.must(err)
		return v
	}
	get := func(key string) (string, bool) {
		e.t.Helper()
		v, ok, err := e.s.CacheGet(e.ctx, key)
		e.must(err)
		return string(v), ok
	}
	if _, ok := get("missing"); ok {
		e.t.Fatal("missing key found")
	}
	apply(store.CacheOp{Kind: store.CacheSet, Key: "obj", Value: json.RawMessage(`{"a":[1,"x"]}`)})
	if v, ok := get("obj"); !ok || !jsonEq(json.RawMessage(v), json.RawMessage(`{"a":[1,"x"]}`)) {
		e.t.Fatalf("obj = %s %v", v, ok)
	}
	for _, tc := range []struct {
		delta int64
		want  string
	}{{1, "1"}, {5, "6"}, {-1, "5"}, {-10, "-5"}} {
		if v := apply(store.CacheOp{Kind: store.CacheIncr, Key: "n", Delta: tc.delta}); string(v) != tc.want {
			e.t.Fatalf("incr %d = %s, want %s", tc.delta, v, tc.want)
		}
	}
	apply(store.CacheOp{Kind: store.CacheSet, Key: "s", Value: json.RawMessage(`"41"`)})
	if v := apply(store.CacheOp{Kind: store.CacheIncr, Key: "s", Delta: 1}); string(v) != "42" {
		e.t.Fatalf("incr of string counter = %s", v)
	}
	_, err := e.s.CacheApply(e.ctx, store.CacheOp{Kind: store.CacheIncr, Key: "obj", Delta: 1})
	e.wantErr(err, store.ErrNotInteger)
	apply(store.CacheOp{Kind: store.CacheSet, Key: "f", Value: json.RawMessage(`1.5`)})
	_, err = e.s.CacheApply(e.ctx, store.CacheOp{Kind: store.CacheIncr, Key: "f", Delta: 1})
	e.wantErr(err, store.ErrNotInteger)

	// TTL: expiry, and every command resets it.
	apply(store.CacheOp{Kind: store.CacheSet, Key: "ttl", Value: json.RawMessage(`true`), TTL: time.Minute})
	e.clock.Advance(50 * time.Second)
	apply(store.CacheOp{Kind: store.CacheSet, Key: "ttl", Value: json.RawMessage(`false`), TTL: time.Minute})
	e.clock.Advance(50 * time.Second)
	if v, ok := get("ttl"); !ok || v != "false" {
		e.t.Fatalf("ttl key = %s %v after reset", v, ok)
	}
	e.clock.Advance(10 * time.Second)
	if _, ok := get("ttl"); ok {
		e.t.Fatal("expired key still readable")
	}
	// An expired counter restarts from zero.
	apply(store.CacheOp{Kind: store.CacheIncr, Key: "c", Delta: 7, TTL: time.Second})
	e.clock.Advance(time.Second)
	if v := apply(store.CacheOp{Kind: store.CacheIncr, Key: "c", Delta: 1}); string(v) != "1" {
		e.t.Fatalf("incr after expiry = %s", v)
	}
	// Default TTL is 60 days.
	apply(store.CacheOp{Kind: store.CacheSet, Key: "long", Value: json.RawMessage(`1`)})
	e.clock.Advance(store.DefaultCacheTTL - time.Second)
	if _, ok := get("long"); !ok {
		e.t.Fatal("default TTL shorter than 60 days")
	}
	e.clock.Advance(time.Second)
	if _, ok := get("long"); ok {
		e.t.Fatal("default TTL longer than 60 days")
	}
	apply(store.CacheOp{Kind: store.CacheSet, Key: "d", Value: json.RawMessage(`1`)})
	if v := apply(store.CacheOp{Kind: store.CacheDel, Key: "d"}); v != nil {
		e.t.Fatalf("del returned %s", v)
	}
	if _, ok := get("d"); ok {
		e.t.Fatal("deleted key found")
	}
	apply(store.CacheOp{Kind: store.CacheDel, Key: "never-set"})
	_, err = e.s.CacheApply(e.ctx, store.CacheOp{Kind: store.CacheSet, Key: "bad", Value: json.RawMessage(`{`)})
	e.wantErr(err, store.ErrInvalid)
	_, err = e.s.CacheApply(e.ctx, store.CacheOp{Kind: "rename", Key: "x"})
	e.wantErr(err, store.ErrInvalid)

	// Concurrent increments are atomic.
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 10 {
				if _, err := e.s.CacheApply(e.ctx, store.CacheOp{Kind: store.CacheIncr, Key: "race", Delta: 1}); err != nil {
					e.t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if v, _ := get("race"); v != "100" {
		e.t.Fatalf("race counter = %s, want 100", v)
	}
}

func testCacheEffects(e *env) {
	e.insert(store.NewEvent{Topic: "user/a/b"})
	j := e.claimOne()
	_, err := e.s.Complete(e.ctx, j, store.Result{Effects: store.Effects{Cache: []store.CacheOp{
		{Kind: store.CacheSet, Key: "k", Value: json.RawMessage(`"v"`), TTL: time.Hour},
		{Kind: store.CacheIncr, Key: "n", Delta: 3},
	}}})
	e.must(err)
	v, ok, err := e.s.CacheGet(e.ctx, "k")
	e.must(err)
	n, _, err2 := e.s.CacheGet(e.ctx, "n")
	e.must(err2)
	if !ok || string(v) != `"v"` || string(n) != "3" {
		e.t.Fatalf("cache after effects: k=%s n=%s", v, n)
	}
	// A failing effect rolls back the whole completion.
	e.insert(store.NewEvent{Topic: "user/a/c"})
	j = e.claimOne()
	_, err = e.s.Complete(e.ctx, j, store.Result{Effects: store.Effects{Cache: []store.CacheOp{
		{Kind: store.CacheSet, Key: "k", Value: json.RawMessage(`"changed"`)},
		{Kind: store.CacheIncr, Key: "k", Delta: 1},
	}}})
	e.wantErr(err, store.ErrNotInteger)
	v, _, _ = e.s.CacheGet(e.ctx, "k")
	if string(v) != `"v"` {
		e.t.Fatalf("rolled-back completion changed the cache: %s", v)
	}
	if r := e.run(j.Run.ID); r.Status != store.StatusRunning {
		e.t.Fatalf("rolled-back completion changed the run: %s", r.Status)
	}
}

func testCacheEndpoints(e *env) {
	ep, err := e.s.CreateCacheEndpoint(e.ctx, store.CacheEndpoint{Key: "stats"})
	e.must(err)
	if len(ep.ID) < 32 || ep.ContentType != "application/json" || ep.Key != "stats" {
		e.t.Fatalf("CreateCacheEndpoint = %+v", ep)
	}
	ep2, err := e.s.CreateCacheEndpoint(e.ctx, store.CacheEndpoint{Key: "csv", ContentType: "text/csv"})
	e.must(err)
	got, err := e.s.GetCacheEndpoint(e.ctx, ep2.ID)
	e.must(err)
	if got != ep2 {
		e.t.Fatalf("GetCacheEndpoint = %+v, want %+v", got, ep2)
	}
	list, err := e.s.ListCacheEndpoints(e.ctx)
	e.must(err)
	if len(list) != 2 {
		e.t.Fatalf("%d endpoints", len(list))
	}
	_, err = e.s.CreateCacheEndpoint(e.ctx, store.CacheEndpoint{})
	e.wantErr(err, store.ErrInvalid)
	e.must(e.s.DeleteCacheEndpoint(e.ctx, ep.ID))
	_, err = e.s.GetCacheEndpoint(e.ctx, ep.ID)
	e.wantErr(err, store.ErrNotFound)
	e.wantErr(e.s.DeleteCacheEndpoint(e.ctx, ep.ID), store.ErrNotFound)
}

func testScheduler(e *env) {
	_, ok, err := e.s.LastTick(e.ctx, "hourly")
	e.must(err)
	if ok {
		e.t.Fatal("fresh store has a last tick")
	}
	tick := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := func(t time.Time) []store.NewEvent {
		return []store.NewEvent{{ID: store.DerivedID("tick", "hourly", t.String()), Topic: "mechanic/scheduler/hourly", Source: "mechanic"}}
	}
	for _, tc := range []struct {
		tick  time.Time
		fired bool
	}{
		{tick, true},
		{tick, false},                       // same tick again (restart)
		{tick.Add(-time.Hour), false},       // older tick
		{tick.Add(time.Hour), true},         // next tick
		{tick.Add(time.Hour), false},        // and only once
		{tick.Add(30 * time.Minute), false}, // stale
	} {
		fired, err := e.s.FireTick(e.ctx, "hourly", tc.tick, ev(tc.tick))
		e.must(err)
		if fired != tc.fired {
			e.t.Fatalf("FireTick(%v) = %v, want %v", tc.tick, fired, tc.fired)
		}
	}
	last, ok, err := e.s.LastTick(e.ctx, "hourly")
	e.must(err)
	if !ok || !last.Equal(tick.Add(time.Hour)) {
		e.t.Fatalf("LastTick = %v %v", last, ok)
	}
	list, _, err := e.s.ListEvents(e.ctx, store.EventFilter{Topic: "mechanic/scheduler/hourly"})
	e.must(err)
	if len(list) != 2 {
		e.t.Fatalf("%d tick events, want 2", len(list))
	}
	if n := e.countRuns(store.RunFilter{Kind: store.KindEvent}); n != 2 {
		e.t.Fatalf("%d event runs, want 2", n)
	}
	// Intervals are independent.
	fired, err := e.s.FireTick(e.ctx, "daily", tick, nil)
	e.must(err)
	if !fired {
		e.t.Fatal("daily did not fire")
	}
}

func testPrune(e *env) {
	finish := func(j store.Job) {
		e.t.Helper()
		_, err := e.s.Complete(e.ctx, j, store.Result{})
		e.must(err)
	}
	// old: finished long ago -> pruned with its runs.
	old := e.insert(store.NewEvent{Topic: "user/old/done"})[0]
	j := e.claimOne()
	_, err := e.s.Complete(e.ctx, j, store.Result{Effects: store.Effects{Runs: []store.NewRun{
		{ID: store.DerivedID(j.Run.ID, "t"), Kind: store.KindTask, EventID: old.ID, TaskID: id("t")},
	}}})
	e.must(err)
	finish(e.claimOne())
	// pending: old but still has a pending (scheduled) run -> kept.
	pending := e.insert(store.NewEvent{Topic: "user/old/pending", RunAt: start().Add(30 * 24 * time.Hour)})[0]
	// parent with a child that is still pending -> kept; child kept.
	parent := e.insert(store.NewEvent{Topic: "user/old/parent"})[0]
	finish(e.claimOne())
	child := e.insert(store.NewEvent{Topic: "user/old/child", ParentID: parent.ID, RunAt: start().Add(30 * 24 * time.Hour)})[0]
	// slow: old event whose run finished recently -> kept.
	slow := e.insert(store.NewEvent{Topic: "user/old/slow"})[0]
	slowJob := e.claim(1, 20*24*time.Hour)[0]
	// expired cache entry -> pruned; live one kept.
	_, err = e.s.CacheApply(e.ctx, store.CacheOp{Kind: store.CacheSet, Key: "gone", Value: json.RawMessage(`1`), TTL: time.Hour})
	e.must(err)
	_, err = e.s.CacheApply(e.ctx, store.CacheOp{Kind: store.CacheSet, Key: "kept", Value: json.RawMessage(`1`)})
	e.must(err)

	e.clock.Advance(16 * 24 * time.Hour)
	finish(slowJob)
	recent := e.insert(store.NewEvent{Topic: "user/new/x"})[0]
	cut := e.clock.Now().Add(-15 * 24 * time.Hour)
	st, err := e.s.Prune(e.ctx, cut)
	e.must(err)
	if st.Events != 1 || st.Runs != 2 || st.CacheEntries != 1 {
		e.t.Fatalf("Prune = %+v, want 1 event, 2 runs, 1 cache entry", st)
	}
	exists := func(id string) bool {
		_, err := e.s.GetEvent(e.ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			e.t.Fatal(err)
		}
		return err == nil
	}
	for id, want := range map[string]bool{old.ID: false, pending.ID: true, parent.ID: true, child.ID: true, slow.ID: true, recent.ID: true} {
		if exists(id) != want {
			e.t.Fatalf("event %s exists=%v after prune, want %v", id, !want, want)
		}
	}
	if n := e.countRuns(store.RunFilter{EventID: old.ID}); n != 0 {
		e.t.Fatalf("pruned event keeps %d runs", n)
	}
	if as := e.attempts(old.ID); len(as) != 0 {
		e.t.Fatalf("pruned event run keeps %d attempts", len(as))
	}
	if as := e.attempts(slow.ID); len(as) != 1 || as[0].Outcome != store.OutcomeSuccess {
		e.t.Fatalf("kept event run's attempts = %+v, want one success", as)
	}
	if _, ok, _ := e.s.CacheGet(e.ctx, "kept"); !ok {
		e.t.Fatal("live cache entry pruned")
	}
	// Once the child's run is done and old enough, child then parent go.
	e.clock.Advance(15 * 24 * time.Hour)
	for {
		jobs := e.claim(10, time.Minute)
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			finish(j)
		}
	}
	e.clock.Advance(16 * 24 * time.Hour)
	st, err = e.s.Prune(e.ctx, e.clock.Now().Add(-15*24*time.Hour))
	e.must(err)
	if st.Events != 5 {
		e.t.Fatalf("second prune = %+v, want 5 events", st)
	}
	for _, id := range []string{pending.ID, parent.ID, child.ID, slow.ID, recent.ID} {
		if exists(id) {
			e.t.Fatalf("event %s survived the second prune", id)
		}
	}
}

func testBatcher(e *env) {
	quiet := slog.New(slog.DiscardHandler)
	b := store.NewEventBatcher(e.s, store.BatcherOptions{MaxBatch: 16, Logger: quiet})
	const n = 200
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ev, err := b.Insert(e.ctx, store.NewEvent{Topic: "user/batch/x", Data: json.RawMessage(fmt.Sprint(i))})
			if err != nil {
				e.t.Error(err)
				return
			}
			ids[i] = ev.ID
		})
	}
	wg.Wait()
	e.must(b.Close())
	_, err := b.Insert(e.ctx, store.NewEvent{Topic: "user/batch/x"})
	e.wantErr(err, store.ErrBatcherClosed)
	for i, id := range ids {
		ev, err := e.s.GetEvent(e.ctx, id)
		e.must(err)
		if string(ev.Data) != fmt.Sprint(i) {
			e.t.Fatalf("event %d has data %s", i, ev.Data)
		}
		if _, err := e.s.GetRun(e.ctx, store.EventRunID(id)); err != nil {
			e.t.Fatalf("event %d has no event run: %v", i, err)
		}
	}
	// One invalid event fails alone, not its batch.
	b = store.NewEventBatcher(e.s, store.BatcherOptions{MaxBatch: 8, MaxWait: 50 * time.Millisecond, Logger: quiet})
	defer b.Close()
	var good, bad error
	wg.Go(func() { _, good = b.Insert(e.ctx, store.NewEvent{Topic: "user/batch/ok"}) })
	wg.Go(func() { _, bad = b.Insert(e.ctx, store.NewEvent{Topic: ""}) })
	wg.Wait()
	if good != nil || !errors.Is(bad, store.ErrInvalid) {
		e.t.Fatalf("good=%v bad=%v", good, bad)
	}
}

func testInvalidInput(e *env) {
	_, err := e.s.InsertEvents(e.ctx, []store.NewEvent{{Topic: "user/a/b", Data: json.RawMessage(`{nope`)}})
	e.wantErr(err, store.ErrInvalid)
	_, err = e.s.InsertEvents(e.ctx, []store.NewEvent{{Topic: "user/a/b"}, {Topic: ""}})
	e.wantErr(err, store.ErrInvalid)
	list, _, err := e.s.ListEvents(e.ctx, store.EventFilter{})
	e.must(err)
	if len(list) != 0 {
		e.t.Fatal("a failed batch left events behind")
	}
	_, _, err = e.s.CreateTask(e.ctx, store.NewTask{Name: "x", Definition: json.RawMessage(`[`)})
	e.wantErr(err, store.ErrInvalid)
	e.insert(store.NewEvent{Topic: "user/a/b"})
	j := e.claimOne()
	_, err = e.s.Complete(e.ctx, j, store.Result{Effects: store.Effects{Runs: []store.NewRun{{Kind: store.KindEvent, EventID: "x"}}}})
	e.wantErr(err, store.ErrInvalid)
	_, err = e.s.Complete(e.ctx, j, store.Result{Result: json.RawMessage(`{`)})
	e.wantErr(err, store.ErrInvalid)
	_, err = e.s.Claim(e.ctx, 1, 0)
	e.wantErr(err, store.ErrInvalid)
}

func testStaleLeaseAfterManualRetry(e *env) {
	e.insert(store.NewEvent{Topic: "user/a/b"})
	a := e.claim(1, 10*time.Second)[0] // worker A stalls
	e.clock.Advance(11 * time.Second)
	b := e.claimOne()
	_, err := e.s.Complete(e.ctx, b, store.Result{})
	e.must(err)
	_, err = e.s.RetryRun(e.ctx, a.Run.ID)
	e.must(err)
	c := e.claimOne()
	if c.Attempt != a.Attempt || c.Token == a.Token {
		e.t.Fatalf("claims a=%+v c=%+v: want the same attempt number with a new token", a, c)
	}
	_, err = e.s.Complete(e.ctx, a, store.Result{Output: "stale"})
	e.wantErr(err, store.ErrLeaseLost)
	r, err := e.s.Complete(e.ctx, c, store.Result{Output: "fresh"})
	e.must(err)
	if r.Output != "fresh" || r.Claims != 3 || r.Attempts != 1 {
		e.t.Fatalf("run = %+v", r)
	}
}

func testQueueStats(e *env) {
	st, err := e.s.Stats(e.ctx)
	e.must(err)
	if len(st.Due)+len(st.Scheduled)+len(st.Running) != 0 || !st.OldestDue.IsZero() {
		e.t.Fatalf("empty queue stats = %+v", st)
	}
	e.insert(store.NewEvent{Topic: "user/a/b"})
	e.clock.Advance(time.Second)
	e.insert(store.NewEvent{Topic: "user/a/b"}, store.NewEvent{Topic: "user/a/b"})
	e.insert(store.NewEvent{Topic: "user/a/b", RunAt: e.clock.Now().Add(time.Hour)})
	j := e.claimOne()
	_, err = e.s.Complete(e.ctx, j, store.Result{Effects: store.Effects{Runs: []store.NewRun{
		{ID: store.DerivedID(j.Run.ID, "t"), Kind: store.KindTask, EventID: j.Run.EventID, TaskID: id("t")},
	}}})
	e.must(err)
	e.claimOne() // the task run, now running
	e.clock.Advance(time.Second)
	st, err = e.s.Stats(e.ctx)
	e.must(err)
	if st.Due[store.KindEvent] != 2 || st.Scheduled[store.KindEvent] != 1 || st.Running[store.KindTask] != 1 ||
		!st.OldestDue.Equal(start().Add(time.Second)) {
		e.t.Fatalf("queue stats = %+v", st)
	}
}

// testConcurrentMixedWrites checks that failing writes running alongside
// successful ones (possibly in one group commit) fail alone.
func testConcurrentMixedWrites(e *env) {
	_, err := e.s.CacheApply(e.ctx, store.CacheOp{Kind: store.CacheSet, Key: "text", Value: json.RawMessage(`"abc"`)})
	e.must(err)
	var (
		wg           sync.WaitGroup
		mu           sync.Mutex
		okN, notIntN int
		otherErr     error
		eventIDs     []string
	)
	for i := range 40 {
		wg.Go(func() {
			var err error
			switch i % 3 {
			case 0:
				_, err = e.s.CacheApply(e.ctx, store.CacheOp{Kind: store.CacheIncr, Key: "n", Delta: 1})
			case 1:
				_, err = e.s.CacheApply(e.ctx, store.CacheOp{Kind: store.CacheIncr, Key: "text", Delta: 1})
			default:
				var evs []store.Event
				evs, err = e.s.InsertEvents(e.ctx, []store.NewEvent{{Topic: "user/mixed/x"}})
				if err == nil {
					mu.Lock()
					eventIDs = append(eventIDs, evs[0].ID)
					mu.Unlock()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				okN++
			case errors.Is(err, store.ErrNotInteger):
				notIntN++
			default:
				otherErr = err
			}
		})
	}
	wg.Wait()
	if otherErr != nil {
		e.t.Fatal(otherErr)
	}
	if okN != 27 || notIntN != 13 {
		e.t.Fatalf("%d ok, %d not-integer; want 27 and 13", okN, notIntN)
	}
	v, _, err := e.s.CacheGet(e.ctx, "n")
	e.must(err)
	if string(v) != "14" {
		e.t.Fatalf("counter = %s, want 14", v)
	}
	v, _, err = e.s.CacheGet(e.ctx, "text")
	e.must(err)
	if string(v) != `"abc"` {
		e.t.Fatalf("text = %s", v)
	}
	for _, id := range eventIDs {
		if _, err := e.s.GetEvent(e.ctx, id); err != nil {
			e.t.Fatal(err)
		}
	}
}

func testSettings(e *env) {
	put := func(kind store.SettingKind, key, value string) store.Setting {
		e.t.Helper()
		st, err := e.s.PutSetting(e.ctx, kind, key, json.RawMessage(value))
		e.must(err)
		return st
	}
	a := put(store.SettingGlobal, "shop_name", `"Acme"`)
	if a.Kind != store.SettingGlobal || a.Key != "shop_name" || string(a.Value) != `"Acme"` || !a.CreatedAt.Equal(start()) {
		e.t.Fatalf("PutSetting = %+v", a)
	}
	put(store.SettingGlobal, "limits", `{"max":3}`)
	put(store.SettingSecret, "shop_name", `"hunter2"`) // same key, other kind
	e.clock.Advance(time.Minute)
	b := put(store.SettingGlobal, "shop_name", `"Acme Inc"`)
	if !b.CreatedAt.Equal(start()) || !b.UpdatedAt.Equal(start().Add(time.Minute)) || string(b.Value) != `"Acme Inc"` {
		e.t.Fatalf("replaced setting = %+v", b)
	}
	got, err := e.s.GetSetting(e.ctx, store.SettingSecret, "shop_name")
	e.must(err)
	if string(got.Value) != `"hunter2"` {
		e.t.Fatalf("secret = %s", got.Value)
	}
	list, err := e.s.ListSettings(e.ctx, store.SettingGlobal)
	e.must(err)
	if len(list) != 2 || list[0].Key != "limits" || list[1].Key != "shop_name" || !jsonEq(list[0].Value, json.RawMessage(`{"max":3}`)) {
		e.t.Fatalf("ListSettings = %+v", list)
	}
	e.must(e.s.DeleteSetting(e.ctx, store.SettingGlobal, "limits"))
	_, err = e.s.GetSetting(e.ctx, store.SettingGlobal, "limits")
	e.wantErr(err, store.ErrNotFound)
	e.wantErr(e.s.DeleteSetting(e.ctx, store.SettingGlobal, "limits"), store.ErrNotFound)
	_, err = e.s.PutSetting(e.ctx, store.SettingGlobal, "bad", json.RawMessage(`{`))
	e.wantErr(err, store.ErrInvalid)
	_, err = e.s.PutSetting(e.ctx, store.SettingGlobal, "", json.RawMessage(`1`))
	e.wantErr(err, store.ErrInvalid)
	if list, err := e.s.ListSettings(e.ctx, store.SettingEventFilter); err != nil || len(list) != 0 {
		e.t.Fatalf("empty kind lists %v %v", list, err)
	}
}

func testTimeRangeFilters(e *env) {
	var ids []string
	for range 4 {
		ev := e.insert(store.NewEvent{Topic: "user/a/b"})[0]
		ids = append(ids, ev.ID)
		e.clock.Advance(time.Hour)
	}
	list, _, err := e.s.ListEvents(e.ctx, store.EventFilter{Since: start().Add(time.Hour), Until: start().Add(3 * time.Hour)})
	e.must(err)
	if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] {
		e.t.Fatalf("ListEvents(range) = %+v", list)
	}
	runs, _, err := e.s.ListRuns(e.ctx, store.RunFilter{Since: start().Add(2 * time.Hour)})
	e.must(err)
	if len(runs) != 2 || runs[0].EventID != ids[3] || runs[1].EventID != ids[2] {
		e.t.Fatalf("ListRuns(since) = %d runs", len(runs))
	}
}

// testCancelledWrites checks that writers whose context ends do not disturb
// concurrent writers: every write that reported success is stored, and
// writes with live contexts all succeed.
func testCancelledWrites(e *env) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		okID []string
		errs []error
	)
	for i := range 60 {
		wg.Go(func() {
			ctx := e.ctx
			if i%2 == 1 {
				c, cancel := context.WithCancel(e.ctx)
				defer cancel()
				ctx = c
				if i%4 == 1 {
					cancel() // before the write
				} else {
					go cancel() // racing the write
				}
			}
			evs, err := e.s.InsertEvents(ctx, []store.NewEvent{{Topic: "user/cancel/x"}, {Topic: "user/cancel/y"}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				okID = append(okID, evs[0].ID, evs[1].ID)
			case i%2 == 0 || !errors.Is(err, context.Canceled):
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		e.t.Fatalf("unexpected write errors: %v", errs)
	}
	if len(okID) < 60 {
		e.t.Fatalf("only %d events reported stored, want at least the 60 of live writers", len(okID))
	}
	for _, id := range okID {
		if _, err := e.s.GetEvent(e.ctx, id); err != nil {
			e.t.Fatalf("reported event %s missing: %v", id, err)
		}
	}
}

func testTaskVersions(e *env) {
	t, _, err := e.s.CreateTask(e.ctx, store.NewTask{Name: "v", Subscriptions: []string{"user/a/b"}, Definition: json.RawMessage(`{"script":"1"}`)})
	e.must(err)
	e.clock.Advance(time.Minute)
	t.Definition = json.RawMessage(`{"script":"2"}`)
	t, err = e.s.UpdateTask(e.ctx, t)
	e.must(err)
	e.clock.Advance(time.Minute)
	t.Enabled = true // not a content change: no version
	t, err = e.s.UpdateTask(e.ctx, t)
	e.must(err)
	e.clock.Advance(time.Minute)
	t.Name, t.Subscriptions = "v2", []string{"user/a/c"}
	_, err = e.s.UpdateTask(e.ctx, t)
	e.must(err)
	vs, err := e.s.ListTaskVersions(e.ctx, t.ID)
	e.must(err)
	if len(vs) != 3 {
		e.t.Fatalf("%d versions, want 3: %+v", len(vs), vs)
	}
	want := []struct {
		version int
		name    string
		script  string
		sub     string
		at      time.Time
	}{
		{3, "v2", `{"script":"2"}`, "user/a/c", start().Add(3 * time.Minute)},
		{2, "v", `{"script":"2"}`, "user/a/b", start().Add(time.Minute)},
		{1, "v", `{"script":"1"}`, "user/a/b", start()},
	}
	for i, w := range want {
		v := vs[i]
		if v.TaskID != t.ID || v.Version != w.version || v.Name != w.name || !jsonEq(v.Definition, json.RawMessage(w.script)) ||
			!slices.Equal(v.Subscriptions, []string{w.sub}) || !v.SavedAt.Equal(w.at) {
			e.t.Fatalf("version %d = %+v, want %+v", i, v, w)
		}
	}
	// Only the newest MaxTaskVersions are kept.
	for i := range store.MaxTaskVersions {
		t.Definition = json.RawMessage(fmt.Sprintf(`{"script":"n%d"}`, i))
		t.UpdatedAt = time.Time{}
		_, err = e.s.UpdateTask(e.ctx, t)
		e.must(err)
	}
	vs, err = e.s.ListTaskVersions(e.ctx, t.ID)
	e.must(err)
	if len(vs) != store.MaxTaskVersions || vs[0].Version != 3+store.MaxTaskVersions || vs[len(vs)-1].Version != 4 {
		e.t.Fatalf("after many updates: %d versions, newest %d, oldest %d", len(vs), vs[0].Version, vs[len(vs)-1].Version)
	}
	e.must(e.s.DeleteTask(e.ctx, t.ID))
	_, err = e.s.ListTaskVersions(e.ctx, t.ID)
	e.wantErr(err, store.ErrNotFound)
}

func testClaimFiltered(e *env) {
	ev := e.insert(store.NewEvent{Topic: "user/a/b"})[0]
	j := e.claimOne()
	var runs []store.NewRun
	for i, typ := range []string{"shopify", "http", "shopify", "email"} {
		runs = append(runs, store.NewRun{ID: store.DerivedID(j.Run.ID, fmt.Sprint(i)), Kind: store.KindAction, EventID: ev.ID,
			TaskID: id("t"), ParentRunID: j.Run.ID, Seq: i, ActionType: typ})
	}
	runs = append(runs, store.NewRun{ID: store.DerivedID(j.Run.ID, "task"), Kind: store.KindTask, EventID: ev.ID, TaskID: id("t")})
	_, err := e.s.Complete(e.ctx, j, store.Result{Effects: store.Effects{Runs: runs}})
	e.must(err)
	e.insert(store.NewEvent{Topic: "user/a/c"})

	// Shopify rate limit exhausted: no task runs, no Shopify actions.
	jobs, err := e.s.ClaimFiltered(e.ctx, store.ClaimOptions{Limit: 10, Lease: time.Minute,
		Kinds: []store.RunKind{store.KindAction, store.KindEvent}, SkipActionTypes: []string{"shopify"}})
	e.must(err)
	var got []string
	for _, j := range jobs {
		got = append(got, string(j.Run.Kind)+":"+j.Run.ActionType)
	}
	if !slices.Equal(got, []string{"action_run:http", "action_run:email", "event_run:"}) {
		e.t.Fatalf("filtered claim = %v", got)
	}
	jobs, err = e.s.ClaimFiltered(e.ctx, store.ClaimOptions{Limit: 10, Lease: time.Minute})
	e.must(err)
	got = got[:0]
	for _, j := range jobs {
		got = append(got, string(j.Run.Kind)+":"+j.Run.ActionType)
	}
	if !slices.Equal(got, []string{"action_run:shopify", "action_run:shopify", "task_run:"}) {
		e.t.Fatalf("unfiltered claim = %v", got)
	}
}

// testClaimSkipTasks: SkipTaskIDs leaves the task runs and action runs of
// the listed tasks due, claims the runs behind them in their place and
// never holds back event runs; the skipped runs are claimed once the list
// no longer names their task.
func testClaimSkipTasks(e *env) {
	evA := e.insert(store.NewEvent{Topic: "user/a/a"})[0]
	j := e.claimOne()
	var runs []store.NewRun
	// Task A's runs come first in the queue, task B's after them.
	for i := range 3 {
		runs = append(runs, store.NewRun{ID: store.DerivedID(j.Run.ID, "a", fmt.Sprint(i)), Kind: store.KindAction, EventID: evA.ID,
			TaskID: id("A"), ParentRunID: j.Run.ID, Seq: i, ActionType: "http"})
	}
	runs = append(runs,
		store.NewRun{ID: store.DerivedID(j.Run.ID, "a-task"), Kind: store.KindTask, EventID: evA.ID, TaskID: id("A")},
		store.NewRun{ID: store.DerivedID(j.Run.ID, "b-task"), Kind: store.KindTask, EventID: evA.ID, TaskID: id("B"),
			RunAt: start().Add(time.Second)},
		store.NewRun{ID: store.DerivedID(j.Run.ID, "b-act"), Kind: store.KindAction, EventID: evA.ID, TaskID: id("B"),
			ParentRunID: j.Run.ID, ActionType: "http", RunAt: start().Add(time.Second)},
		store.NewRun{ID: store.DerivedID(j.Run.ID, "c-act"), Kind: store.KindAction, EventID: evA.ID, TaskID: id("C"),
			ParentRunID: j.Run.ID, ActionType: "echo", RunAt: start().Add(2 * time.Second)},
	)
	_, err := e.s.Complete(e.ctx, j, store.Result{Effects: store.Effects{Runs: runs}})
	e.must(err)
	e.clock.Advance(3 * time.Second) // every run above is due
	e.insert(store.NewEvent{Topic: "user/a/c"})

	label := func(jobs []store.Job) []string {
		var out []string
		for _, j := range jobs {
			name := "-"
			for _, n := range []string{"A", "B", "C"} {
				if j.Run.TaskID == id(n) {
					name = n
				}
			}
			out = append(out, string(j.Run.Kind)+":"+name)
		}
		return out
	}
	// Task A at its limit: its three action runs and its task run stay
	// queued although they are due first; B's and C's runs and the event
	// run are taken, in priority order.
	jobs, err := e.s.ClaimFiltered(e.ctx, store.ClaimOptions{Limit: 10, Lease: time.Minute, SkipTaskIDs: []string{id("A"), id("unknown")}})
	e.must(err)
	if got, want := label(jobs), []string{"action_run:B", "action_run:C", "task_run:B", "event_run:-"}; !slices.Equal(got, want) {
		e.t.Fatalf("claim skipping A = %v, want %v", got, want)
	}
	// Combined with the other filters: A and action type http skipped,
	// nothing else is due.
	jobs, err = e.s.ClaimFiltered(e.ctx, store.ClaimOptions{Limit: 10, Lease: time.Minute, SkipTaskIDs: []string{id("A")},
		SkipActionTypes: []string{"http"}})
	e.must(err)
	if len(jobs) != 0 {
		e.t.Fatalf("claim skipping A and http = %v, want nothing", label(jobs))
	}
	// A no longer at its limit: its runs are taken, within the claim's limit.
	jobs, err = e.s.ClaimFiltered(e.ctx, store.ClaimOptions{Limit: 2, Lease: time.Minute, SkipTaskIDs: []string{id("B")}})
	e.must(err)
	if got, want := label(jobs), []string{"action_run:A", "action_run:A"}; !slices.Equal(got, want) {
		e.t.Fatalf("claim after A's limit = %v, want %v", got, want)
	}
	jobs, err = e.s.ClaimFiltered(e.ctx, store.ClaimOptions{Limit: 10, Lease: time.Minute})
	e.must(err)
	if got, want := label(jobs), []string{"action_run:A", "task_run:A"}; !slices.Equal(got, want) {
		e.t.Fatalf("last claim = %v, want %v", got, want)
	}
}

func (e *env) attempts(runID string) []store.Attempt {
	e.t.Helper()
	as, err := e.s.RunAttempts(e.ctx, runID)
	e.must(err)
	return as
}

// wantAttempts checks a run's attempt history: per attempt, its outcome
// ("" while in progress), node, error, and start and end times.
func (e *env) wantAttempts(runID string, want []store.Attempt) {
	e.t.Helper()
	got := e.attempts(runID)
	if len(got) != len(want) {
		e.t.Fatalf("attempts of %s = %+v, want %d", runID, got, len(want))
	}
	for i, w := range want {
		g := got[i]
		w.RunID = runID
		if g.RunID != w.RunID || g.Number != w.Number || g.RetryAttempt != w.RetryAttempt || g.Node != w.Node || g.Outcome != w.Outcome ||
			g.Error != w.Error || !g.StartedAt.Equal(w.StartedAt) || !g.FinishedAt.Equal(w.FinishedAt) {
			e.t.Fatalf("attempt %d of %s = %+v, want %+v", i+1, runID, g, w)
		}
	}
}

// testAttemptHistory: every claim opens an attempt (with its node), the
// completion or failure closes it with the outcome, and a claim that
// retakes a run whose lease ran out closes the open attempt as
// interrupted; a stale holder's outcome changes nothing.
func testAttemptHistory(e *env) {
	ev := e.insert(store.NewEvent{Topic: "user/a/b"})[0]
	if as := e.attempts(ev.ID); len(as) != 0 {
		e.t.Fatalf("attempts before any claim = %+v", as)
	}
	if as := e.attempts(id("unknown")); len(as) != 0 {
		e.t.Fatalf("attempts of an unknown run = %+v", as)
	}
	claim := func(node string) store.Job {
		e.t.Helper()
		jobs, err := e.s.ClaimFiltered(e.ctx, store.ClaimOptions{Limit: 1, Lease: 30 * time.Second, Node: node})
		e.must(err)
		if len(jobs) != 1 || jobs[0].Run.ID != ev.ID {
			e.t.Fatalf("claimed %+v, want the event run", jobs)
		}
		return jobs[0]
	}
	t0 := e.clock.Now()
	j1 := claim("node-a")
	e.wantAttempts(ev.ID, []store.Attempt{{Number: 1, RetryAttempt: 1, Node: "node-a", StartedAt: t0}})

	// The holder dies: its lease runs out and another node retakes the run.
	e.clock.Advance(31 * time.Second)
	t1 := e.clock.Now()
	j2 := claim("node-b")
	if !j2.Interrupted {
		e.t.Fatal("retake not marked interrupted")
	}
	interrupted := store.Attempt{Number: 1, RetryAttempt: 1, Node: "node-a", StartedAt: t0, FinishedAt: t1,
		Outcome: store.OutcomeInterrupted, Error: store.InterruptedAttemptError}
	e.wantAttempts(ev.ID, []store.Attempt{interrupted, {Number: 2, RetryAttempt: 2, Node: "node-b", StartedAt: t1}})
	// The first holder wakes up: its outcome is refused and the history kept.
	_, err := e.s.Complete(e.ctx, j1, store.Result{})
	e.wantErr(err, store.ErrLeaseLost)
	_, err = e.s.Fail(e.ctx, j1, store.Failure{Error: "late"})
	e.wantErr(err, store.ErrLeaseLost)
	e.wantAttempts(ev.ID, []store.Attempt{interrupted, {Number: 2, RetryAttempt: 2, Node: "node-b", StartedAt: t1}})

	// Attempt 2 fails and is retried; attempt 3 (no node) succeeds, with a
	// cache effect (drivers may take another transaction path for those).
	e.clock.Advance(time.Second)
	t2 := e.clock.Now()
	_, err = e.s.Fail(e.ctx, j2, store.Failure{Error: "boom", Schedule: store.RetrySchedule{time.Minute, time.Minute, time.Minute}})
	e.must(err)
	failed := store.Attempt{Number: 2, RetryAttempt: 2, Node: "node-b", StartedAt: t1, FinishedAt: t2, Outcome: store.OutcomeError, Error: "boom"}
	e.wantAttempts(ev.ID, []store.Attempt{interrupted, failed})
	e.clock.Advance(time.Minute)
	t3 := e.clock.Now()
	j3 := claim("")
	if j3.Interrupted {
		e.t.Fatal("claim after a recorded failure marked interrupted")
	}
	e.clock.Advance(2 * time.Second)
	t4 := e.clock.Now()
	_, err = e.s.Complete(e.ctx, j3, store.Result{Effects: store.Effects{Cache: []store.CacheOp{{Kind: store.CacheSet, Key: "k", Value: json.RawMessage(`1`)}}}})
	e.must(err)
	done := store.Attempt{Number: 3, RetryAttempt: 3, StartedAt: t3, FinishedAt: t4, Outcome: store.OutcomeSuccess}
	e.wantAttempts(ev.ID, []store.Attempt{interrupted, failed, done})

	// A manual retry keeps the history; the attempt number goes on while
	// the retry-schedule attempt starts again at 1.
	_, err = e.s.RetryRun(e.ctx, ev.ID)
	e.must(err)
	t5 := e.clock.Now()
	j4 := claim("node-c")
	_, err = e.s.Complete(e.ctx, j4, store.Result{})
	e.must(err)
	e.wantAttempts(ev.ID, []store.Attempt{interrupted, failed, done,
		{Number: 4, RetryAttempt: 1, Node: "node-c", StartedAt: t5, FinishedAt: t5, Outcome: store.OutcomeSuccess}})
}

func testCredentialRewriter(e *env) {
	cr, ok := e.s.(store.CredentialRewriter)
	if !ok {
		e.t.Fatalf("%T does not implement store.CredentialRewriter", e.s)
	}
	hook, err := e.s.CreateWebhook(e.ctx, store.Webhook{Name: "Signed", Topic: "user/a/b", Secret: "hook-plain", SignatureHeader: "X-Sig"})
	e.must(err)
	_, err = e.s.CreateWebhook(e.ctx, store.Webhook{Name: "Unsigned", Topic: "user/a/c"})
	e.must(err)
	_, err = e.s.PutSetting(e.ctx, store.SettingSecret, "api", json.RawMessage(`"secret-plain"`))
	e.must(err)
	_, err = e.s.PutSetting(e.ctx, "connection", "main", json.RawMessage(`{"sealed_token":"tok-plain","shop":"x","n":3}`))
	e.must(err)
	_, err = e.s.PutSetting(e.ctx, store.SettingGlobal, "g", json.RawMessage(`"global-plain"`))
	e.must(err)

	var seen []string
	upper := func(loc store.CredentialLocation, v string) (string, error) {
		seen = append(seen, fmt.Sprintf("%v/%s/%s/%s=%s", loc.Webhook, loc.Kind, loc.Key, loc.Field, v))
		if loc.Field == "shop" {
			return v, nil
		}
		return strings.ToUpper(v), nil
	}
	n, err := cr.RewriteCredentials(e.ctx, []store.SettingKind{store.SettingSecret, "connection"}, upper)
	e.must(err)
	if n != 3 {
		e.t.Fatalf("RewriteCredentials changed %d values, want 3 (seen %q)", n, seen)
	}
	slices.Sort(seen)
	want := []string{
		"false/connection/main/sealed_token=tok-plain", "false/connection/main/shop=x",
		"false/secret/api/=secret-plain", "true//" + hook.ID + "/secret=hook-plain",
	}
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		e.t.Fatalf("RewriteCredentials saw %q, want %q", seen, want)
	}
	got, err := e.s.GetWebhook(e.ctx, hook.ID)
	e.must(err)
	if got.Secret != "HOOK-PLAIN" || got.SignatureHeader != "X-Sig" {
		e.t.Fatalf("webhook after rewrite = %+v", got)
	}
	sec, err := e.s.GetSetting(e.ctx, store.SettingSecret, "api")
	e.must(err)
	if !jsonEq(sec.Value, json.RawMessage(`"SECRET-PLAIN"`)) {
		e.t.Fatalf("secret after rewrite = %s", sec.Value)
	}
	conn, err := e.s.GetSetting(e.ctx, "connection", "main")
	e.must(err)
	if !jsonEq(conn.Value, json.RawMessage(`{"sealed_token":"TOK-PLAIN","shop":"x","n":3}`)) {
		e.t.Fatalf("object setting after rewrite = %s", conn.Value)
	}
	g, err := e.s.GetSetting(e.ctx, store.SettingGlobal, "g")
	e.must(err)
	if !jsonEq(g.Value, json.RawMessage(`"global-plain"`)) {
		e.t.Fatalf("a kind not named was rewritten: %s", g.Value)
	}

	// An error from fn rolls every change back.
	boom := errors.New("boom")
	_, err = cr.RewriteCredentials(e.ctx, []store.SettingKind{store.SettingSecret, "connection"}, func(loc store.CredentialLocation, v string) (string, error) {
		if loc.Kind == "connection" {
			return "", boom
		}
		return "changed", nil
	})
	e.wantErr(err, boom)
	got, err = e.s.GetWebhook(e.ctx, hook.ID)
	e.must(err)
	sec, err = e.s.GetSetting(e.ctx, store.SettingSecret, "api")
	e.must(err)
	if got.Secret != "HOOK-PLAIN" || !jsonEq(sec.Value, json.RawMessage(`"SECRET-PLAIN"`)) {
		e.t.Fatalf("a failed rewrite left changes: webhook %q, secret %s", got.Secret, sec.Value)
	}
	// Nothing to change: no writes counted.
	n, err = cr.RewriteCredentials(e.ctx, []store.SettingKind{store.SettingSecret}, func(_ store.CredentialLocation, v string) (string, error) { return v, nil })
	e.must(err)
	if n != 0 {
		e.t.Fatalf("identity rewrite changed %d values", n)
	}
	e.must(cr.ScrubFreed(e.ctx))
	sec, err = e.s.GetSetting(e.ctx, store.SettingSecret, "api")
	e.must(err)
	if !jsonEq(sec.Value, json.RawMessage(`"SECRET-PLAIN"`)) {
		e.t.Fatalf("secret after scrub = %s", sec.Value)
	}
}
