package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/cache"
	"github.com/sprocketrun/sprocket/store"
)

func TestDelayedSubscription(t *testing.T) {
	h := newHarness(t, withManualClock())
	tk := h.task("later", []string{"user/a/b+2.hours", "user/a/b+1.day"}, `{"log":"late"}`, taskOpts{})
	h.start()
	start := h.clock.Now()
	ev := h.event("user/a/b", `{}`)
	h.waitFor("the event run", func() bool { return h.run(ev.ID).Status == store.StatusSuccess })
	rs := h.runs(store.RunFilter{TaskID: tk.ID})
	if len(rs) != 2 {
		t.Fatalf("task runs = %d", len(rs))
	}
	due := map[time.Duration]string{}
	for _, r := range rs {
		if r.Status != store.StatusPending {
			t.Errorf("delayed run is %s", r.Status)
		}
		due[r.RunAt.Sub(start)] = r.ID
	}
	first, second := due[2*time.Hour], due[24*time.Hour]
	if first == "" || second == "" {
		t.Fatalf("run_at offsets = %v", due)
	}
	h.clock.Advance(2*time.Hour + time.Second)
	h.p.Wake()
	h.waitFor("the +2.hours run", func() bool { return h.run(first).Status == store.StatusSuccess })
	if h.run(second).Status != store.StatusPending {
		t.Errorf("+1.day run ran early")
	}
	h.clock.Advance(22 * time.Hour)
	h.waitFor("the +1.day run", func() bool { return h.run(second).Status == store.StatusSuccess })
}

func TestSequence(t *testing.T) {
	script := `{"action":{"type":"echo","options":{"n":1}}} {"action":{"type":"echo","options":{"__error":"boom"}}} {"action":{"type":"echo","options":{"n":3}}}`
	tests := []struct {
		name string
		o    taskOpts
		want []store.RunStatus
	}{
		{name: "halt", o: taskOpts{seq: true, halt: true}, want: []store.RunStatus{store.StatusSuccess, store.StatusFailed, store.StatusFailed}},
		{name: "no halt", o: taskOpts{seq: true}, want: []store.RunStatus{store.StatusSuccess, store.StatusFailed, store.StatusSuccess}},
		{name: "parallel", o: taskOpts{}, want: []store.RunStatus{store.StatusSuccess, store.StatusFailed, store.StatusSuccess}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tk := h.task("seq", []string{"user/a/b"}, script, tt.o)
			h.start()
			h.event("user/a/b", `{}`)
			h.waitIdle()
			acts := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})
			if len(acts) != 3 {
				t.Fatalf("action runs = %d", len(acts))
			}
			for i, r := range acts {
				if r.Seq != i || r.Status != tt.want[i] {
					t.Errorf("action %d (seq %d): %s %q, want %s", i, r.Seq, r.Status, r.Error, tt.want[i])
				}
			}
			if tt.name == "halt" {
				if !strings.Contains(acts[2].Error, "not performed: action run 2 of this sequence failed") || acts[2].Attempts != 0 {
					t.Errorf("halted run: %q attempts %d", acts[2].Error, acts[2].Attempts)
				}
			}
			if tt.o.seq {
				for i := 1; i < len(acts); i++ {
					if acts[i].Attempts > 0 && acts[i].StartedAt.Before(acts[i-1].StoppedAt) {
						t.Errorf("action %d started %v before action %d stopped %v", i, acts[i].StartedAt, i-1, acts[i-1].StoppedAt)
					}
				}
			}
		})
	}
}

func TestSequenceWaitsForSlowAction(t *testing.T) {
	h := newHarness(t)
	g := newGate()
	h.register("gate", g)
	tk := h.task("seq", []string{"user/a/b"}, `{"action":{"type":"gate","options":1}} {"action":{"type":"echo","options":2}}`, taskOpts{seq: true})
	h.start()
	h.event("user/a/b", `{}`)
	<-g.started
	acts := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})
	if len(acts) != 2 || !acts[1].Paused || acts[1].Status != store.StatusPending {
		t.Fatalf("second action should wait paused: %+v", acts)
	}
	close(g.release)
	h.waitIdle()
	acts = h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})
	if acts[0].Status != store.StatusSuccess || acts[1].Status != store.StatusSuccess || acts[1].StartedAt.Before(acts[0].StoppedAt) {
		t.Errorf("sequence: %+v", acts)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		failures     int
		wantStatus   store.RunStatus
		wantAttempts int
	}{
		{name: "recovers", failures: 2, wantStatus: store.StatusSuccess, wantAttempts: 3},
		{name: "gives up", failures: 100, wantStatus: store.StatusFailed, wantAttempts: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withManualClock())
			f := &flaky{failures: tt.failures}
			h.register("flaky", f)
			tk := h.task("retry", []string{"user/a/b", TopicActionsPerform}, `{"action":{"type":"flaky","options":{}}}`, taskOpts{})
			h.setRender("retry", func(in TaskRunInput) (string, error) {
				if in.Event.Topic == TopicActionsPerform {
					return `{"log":"seen"}`, nil
				}
				return `{"action":{"type":"flaky","options":{}}}`, nil
			})
			h.start()
			h.event("user/a/b", `{}`)
			var act store.Run
			h.waitFor("the action run", func() bool {
				rs := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})
				if len(rs) == 1 && rs[0].Attempts == 1 && rs[0].Status == store.StatusPending {
					act = rs[0]
					return true
				}
				return false
			})
			for i, d := range store.DefaultRetrySchedule() {
				if act.Status != store.StatusPending {
					break
				}
				if got := act.NextAttemptAt.Sub(h.clock.Now()); got != d {
					t.Errorf("retry %d due in %v, want %v", i+1, got, d)
				}
				h.clock.Advance(d - time.Second)
				h.p.Wake()
				time.Sleep(30 * time.Millisecond) // not due yet: nothing may happen
				if r := h.run(act.ID); r.Attempts != i+1 {
					t.Fatalf("retry %d ran early", i+1)
				}
				h.clock.Advance(time.Second)
				h.p.Wake()
				h.waitFor(fmt.Sprintf("attempt %d", i+2), func() bool {
					act = h.run(act.ID)
					return act.Attempts == i+2 && act.Status != store.StatusRunning
				})
			}
			h.waitIdle()
			act = h.run(act.ID)
			if act.Status != tt.wantStatus || act.Attempts != tt.wantAttempts {
				t.Fatalf("action run = %s after %d attempts (%s)", act.Status, act.Attempts, act.Error)
			}
			perf := h.events(TopicActionsPerform)
			if len(perf) != 1 {
				t.Fatalf("perform events = %d, want 1 (only the final outcome)", len(perf))
			}
			d := dataOf(t, perf[0].Data)
			if dig(d, "run", "attempts") != int64(tt.wantAttempts) || dig(d, "run", "ok") != (tt.wantStatus == store.StatusSuccess) {
				t.Errorf("perform event = %s", perf[0].Data)
			}
			if tt.wantStatus == store.StatusFailed && dig(d, "run", "error") != "flaky failure 5" {
				t.Errorf("perform event error = %v", dig(d, "run", "error"))
			}
		})
	}
}

// blockingCache is the cache action, except that its first call blocks
// until released: a worker that stalls after claiming.
type blockingCache struct {
	*cache.Performer
	first   chan struct{}
	release chan struct{}
	calls   int
}

func (b *blockingCache) PerformEffects(ctx context.Context, req action.Request, key string) (action.Result, store.Effects, error) {
	b.calls++
	if b.calls == 1 {
		close(b.first)
		<-b.release
	}
	return b.Performer.PerformEffects(ctx, req, key)
}

// TestReclaimAfterLeaseExpiry: a worker stalls mid-run, its lease
// expires, another worker performs the run; the stalled worker's late
// completion is refused, so the effects are recorded once.
func TestReclaimAfterLeaseExpiry(t *testing.T) {
	h := newHarness(t, withManualClock(), withConfig(func(c *Config) { c.Lease = time.Hour }))
	b := &blockingCache{Performer: cache.New(nil), first: make(chan struct{}), release: make(chan struct{})}
	h.register("slowcache", b)
	tk := h.task("t", []string{"user/a/b", TopicActionsPerform}, "", taskOpts{})
	h.setRender("t", func(in TaskRunInput) (string, error) {
		if in.Event.Topic == TopicActionsPerform {
			return `{"log":"done"}`, nil
		}
		return `{"action":{"type":"slowcache","options":["incr","n"]}}`, nil
	})
	h.start()
	h.event("user/a/b", `{}`)
	<-b.first
	acts := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})
	if len(acts) != 1 || acts[0].Status != store.StatusRunning {
		t.Fatalf("action run = %+v", acts)
	}
	h.clock.Advance(time.Hour + time.Second) // the lease expires
	h.p.Wake()
	h.waitFor("the retaken run", func() bool { return h.run(acts[0].ID).Status == store.StatusSuccess })
	close(b.release) // the stalled worker wakes up and tries to complete
	h.waitIdle()
	h.stop()
	r := h.run(acts[0].ID)
	if r.Attempts != 2 || r.Claims != 2 {
		t.Errorf("attempts %d claims %d, want 2 and 2", r.Attempts, r.Claims)
	}
	// The record says the run was performed again after an interrupted
	// attempt; runs that were not interrupted say nothing of the kind.
	var meta map[string]any
	if err := json.Unmarshal(r.ResultMeta, &meta); err != nil || meta[MetaInterruptedAttempt] != true {
		t.Errorf("result_meta = %s (%v), want %s: true", r.ResultMeta, err, MetaInterruptedAttempt)
	}
	for _, tr := range h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindTask}) {
		if strings.Contains(string(tr.ResultMeta), MetaInterruptedAttempt) {
			t.Errorf("task run %s result_meta = %s, not interrupted", tr.ID, tr.ResultMeta)
		}
	}
	// The history shows both: the stalled attempt interrupted, the retake
	// successful (the stalled worker's late completion changed nothing).
	hist, err := h.st.RunAttempts(context.Background(), acts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Outcome != store.OutcomeInterrupted || hist[1].Outcome != store.OutcomeSuccess {
		t.Errorf("attempts = %+v, want interrupted then success", hist)
	}
	if v := h.cacheValue("n"); v != "1" {
		t.Errorf("cache n = %s, want 1 (effects recorded once)", v)
	}
	if n := len(h.events(TopicActionsPerform)); n != 1 {
		t.Errorf("perform events = %d, want 1", n)
	}
	if n := len(h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindTask})); n != 2 {
		t.Errorf("task runs = %d, want 2", n)
	}
}

func TestMarkInterrupted(t *testing.T) {
	act := store.Job{Run: store.Run{Kind: store.KindAction}, Interrupted: true}
	tests := []struct {
		name string
		job  store.Job
		meta string
		want string
	}{
		{"no meta", act, "", `{"performed_after_interrupted_attempt":true}`},
		{"null meta", act, "null", `{"performed_after_interrupted_attempt":true}`},
		{"object kept", act, `{"cost":3}`, `{"cost":3,"performed_after_interrupted_attempt":true}`},
		{"array kept", act, `[1]`, `{"meta":[1],"performed_after_interrupted_attempt":true}`},
		{"not interrupted", store.Job{Run: store.Run{Kind: store.KindAction}}, `{"cost":3}`, `{"cost":3}`},
		{"task run", store.Job{Run: store.Run{Kind: store.KindTask}, Interrupted: true}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var meta []byte
			if tc.meta != "" {
				meta = []byte(tc.meta)
			}
			if got := string(markInterrupted(tc.job, meta)); got != tc.want {
				t.Errorf("markInterrupted = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestManualRetryCreatesNewRecords(t *testing.T) {
	h := newHarness(t)
	tk := h.task("t", []string{"user/a/b"}, `{"error":"not yet"}`, taskOpts{})
	h.start()
	h.event("user/a/b", `{}`)
	h.waitIdle()
	taskRun := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindTask})[0]
	if taskRun.Status != store.StatusFailed {
		t.Fatalf("task run %s, want failed", taskRun.Status)
	}
	// The failed task run is retried with the task's current code.
	h.setRender("t", func(TaskRunInput) (string, error) {
		return `{"action":{"type":"cache","options":["incr","n"]}}`, nil
	})
	if _, err := h.p.Retry(context.Background(), taskRun.ID); err != nil {
		t.Fatal(err)
	}
	h.waitIdle()
	acts := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})
	if len(acts) != 1 || acts[0].Status != store.StatusSuccess {
		t.Fatalf("action runs after a manual retry = %+v", acts)
	}
	if v := h.cacheValue("n"); v != "1" {
		t.Errorf("cache n = %s, want 1", v)
	}
	// Now the task run produced actions and the action run succeeded:
	// neither may be retried, and nothing is performed again.
	for _, id := range []string{taskRun.ID, acts[0].ID} {
		if _, err := h.p.Retry(context.Background(), id); !errors.Is(err, ErrNotRetryable) {
			t.Errorf("retry %s: %v, want ErrNotRetryable", id, err)
		}
	}
	h.waitIdle()
	if v := h.cacheValue("n"); v != "1" {
		t.Errorf("cache n = %s after refused retries, want 1", v)
	}
}

func TestPriorities(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.Workers = 1 }))
	tk := h.task("t", []string{"user/a/b"}, `{"log":1}`, taskOpts{})
	ctx := context.Background()
	// Make one due run of each kind before the pipeline starts: an event
	// run, and a task run plus an action run created by a completed event run.
	seed := h.event("user/seed/x", `{}`)
	jobs, err := h.st.Claim(ctx, 1, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].Run.ID != seed.ID {
		t.Fatalf("claim seed: %v %+v", err, jobs)
	}
	taskRunID, actionRunID := "10000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000002"
	if _, err := h.st.Complete(ctx, jobs[0], store.Result{Effects: store.Effects{Runs: []store.NewRun{
		{ID: taskRunID, Kind: store.KindTask, EventID: seed.ID, TaskID: tk.ID, ParentRunID: seed.ID},
		{ID: actionRunID, Kind: store.KindAction, EventID: seed.ID, TaskID: tk.ID, ParentRunID: taskRunID, ActionType: "echo", ActionOptions: []byte(`{}`)},
	}}}); err != nil {
		t.Fatal(err)
	}
	ev := h.event("user/other/y", `{}`)
	h.start()
	h.waitIdle()
	a, tr, er := h.run(actionRunID), h.run(taskRunID), h.run(ev.ID)
	if !a.StartedAt.Before(tr.StartedAt) || !tr.StartedAt.Before(er.StartedAt) {
		t.Errorf("start order: action %v, task %v, event %v; want action < task < event", a.StartedAt, tr.StartedAt, er.StartedAt)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.Workers = 6; c.ShopConcurrency = 2 }))
	g := newGate()
	h.register("gate", g)
	h.task("t", []string{"user/a/b"}, strings.Repeat(`{"action":{"type":"gate","options":{}}} `, 6), taskOpts{})
	h.start()
	h.event("user/a/b", `{}`)
	<-g.started
	<-g.started
	time.Sleep(50 * time.Millisecond) // give a third run the chance to start, were it allowed
	g.mu.Lock()
	running := g.running
	g.mu.Unlock()
	if running != 2 {
		t.Errorf("running = %d, want 2", running)
	}
	close(g.release)
	h.waitIdle()
	if g.maxRun != 2 || g.calls != 6 {
		t.Errorf("max concurrent = %d over %d calls, want 2 over 6", g.maxRun, g.calls)
	}
	if h.p.Concurrency() != 2 {
		t.Errorf("Concurrency() = %d", h.p.Concurrency())
	}
}

func TestShutdown(t *testing.T) {
	t.Run("finishes runs in progress", func(t *testing.T) {
		h := newHarness(t)
		g := newGate()
		h.register("gate", g)
		tk := h.task("t", []string{"user/a/b"}, `{"action":{"type":"gate","options":{}}}`, taskOpts{})
		h.start()
		h.event("user/a/b", `{}`)
		<-g.started
		h.cancel()
		time.AfterFunc(20*time.Millisecond, func() { close(g.release) })
		if err := <-h.done; err != nil {
			t.Fatal(err)
		}
		h.cancel = nil
		if r := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})[0]; r.Status != store.StatusSuccess {
			t.Errorf("run in progress at shutdown = %s", r.Status)
		}
	})
	t.Run("abandons runs after the grace period", func(t *testing.T) {
		h := newHarness(t, withManualClock(), withConfig(func(c *Config) { c.ShutdownGrace = 20 * time.Millisecond }))
		g := newGate()
		h.register("gate", g)
		tk := h.task("t", []string{"user/a/b"}, `{"action":{"type":"gate","options":{}}}`, taskOpts{})
		h.start()
		h.event("user/a/b", `{}`)
		<-g.started
		h.stop()
		act := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})[0]
		if act.Status != store.StatusRunning || act.Attempts != 1 {
			t.Fatalf("abandoned run = %s attempts %d (it must keep its lease, not count a failure)", act.Status, act.Attempts)
		}
		// A new pipeline takes the run once the lease has expired.
		close(g.release)
		h.clock.Advance(DefaultLease + time.Second)
		h.start()
		h.waitFor("the retaken run", func() bool { return h.run(act.ID).Status == store.StatusSuccess })
	})
}

func TestErrorEvents(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.ErrorEvents = true }))
	failing := h.task("failing", []string{"user/a/b", TopicErrorsTask}, `{"error":"nope"}`, taskOpts{})
	acting := h.task("acting", []string{"user/a/c"}, `{"action":{"type":"echo","options":{"__error":"echo failed"}}}`, taskOpts{})
	reporter := h.task("reporter", []string{TopicErrorsTask, TopicErrorsAction}, `{"log":"reported"}`, taskOpts{})
	bystander := h.task("bystander", []string{"user/z/z", TopicErrorsTask}, `{"log":"not mine"}`, taskOpts{})
	h.start()
	h.event("user/a/b", `{}`)
	h.event("user/a/c", `{}`)
	h.waitIdle()
	te := h.events(TopicErrorsTask)
	ae := h.events(TopicErrorsAction)
	if len(te) != 1 || len(ae) != 1 {
		for _, r := range h.runs(store.RunFilter{}) {
			t.Logf("run %s %s task %s %s attempts %d %q next %v", r.Kind, r.ID, r.TaskID, r.Status, r.Attempts, r.Error, r.NextAttemptAt)
		}
		t.Fatalf("error events: task %d action %d", len(te), len(ae))
	}
	d := dataOf(t, te[0].Data)
	if dig(d, "message") != "task rendered error objects: nope" || dig(d, "task", "id") != failing.ID || dig(d, "task", "run", "ok") != false {
		t.Errorf("task error data = %s", te[0].Data)
	}
	d = dataOf(t, ae[0].Data)
	if dig(d, "message") != "echo failed" || dig(d, "task", "id") != acting.ID || dig(d, "action", "type") != "echo" {
		t.Errorf("action error data = %s", ae[0].Data)
	}
	// The reporter (error topics only) sees both; the failing task its own
	// task error (whose run fails again, raising no further error event);
	// the bystander nothing.
	if n := len(h.runs(store.RunFilter{TaskID: reporter.ID, Kind: store.KindTask})); n != 2 {
		t.Errorf("reporter task runs = %d, want 2", n)
		for _, e := range append(te, ae...) {
			for _, r := range h.runs(store.RunFilter{EventID: e.ID}) {
				t.Logf("event %s %s: run %s %s task %s %s %q", e.Topic, e.ID, r.Kind, r.ID, r.TaskID, r.Status, r.Error)
			}
		}
	}
	if n := len(h.runs(store.RunFilter{TaskID: failing.ID, Kind: store.KindTask})); n != 2 {
		t.Errorf("failing task runs = %d, want 2", n)
	}
	if n := len(h.runs(store.RunFilter{TaskID: bystander.ID})); n != 0 {
		t.Errorf("bystander task runs = %d, want 0", n)
	}
}

func TestPrune(t *testing.T) {
	h := newHarness(t, withManualClock(), withConfig(func(c *Config) { c.Retention = 15 * 24 * time.Hour }))
	h.task("t", []string{"user/a/b"}, `{"action":{"type":"echo","options":{}}}`, taskOpts{})
	h.start()
	old := h.event("user/a/b", `{}`)
	h.waitIdle()
	h.stop()
	h.clock.Advance(16 * 24 * time.Hour)
	fresh := h.event("user/a/b", `{}`)
	p, err := New(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.PruneOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 1 || st.Runs != 3 {
		t.Errorf("pruned %+v, want 1 event and its 3 runs", st)
	}
	if _, err := h.st.GetEvent(context.Background(), old.ID); err == nil {
		t.Error("old event survived")
	}
	if _, err := h.st.GetEvent(context.Background(), fresh.ID); err != nil {
		t.Errorf("fresh event pruned: %v", err)
	}
}

func TestLoopProtection(t *testing.T) {
	h := newHarness(t)
	// The task answers every perform event with the same cache action: the
	// second round is identical to the first and is failed.
	tk := h.task("loop", []string{"user/a/b", TopicActionsPerform}, `{"action":{"type":"cache","options":["incr","loops"]}}`, taskOpts{})
	h.start()
	h.event("user/a/b", `{}`)
	h.waitIdle()
	rs := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindTask})
	if len(rs) != 2 {
		t.Fatalf("task runs = %d, want 2", len(rs))
	}
	if rs[0].Status != store.StatusSuccess || rs[1].Status != store.StatusFailed || !strings.Contains(rs[1].Error, "loop protection") {
		t.Errorf("runs: %s %q / %s %q", rs[0].Status, rs[0].Error, rs[1].Status, rs[1].Error)
	}
	if v := h.cacheValue("loops"); v != "1" {
		t.Errorf("cache loops = %s", v)
	}
}

// TestHeartbeat: a run that takes longer than its lease keeps it, so no
// other worker takes it meanwhile.
func TestHeartbeat(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.Lease = 150 * time.Millisecond }))
	g := newGate()
	h.register("gate", g)
	tk := h.task("slow", []string{"user/a/b"}, `{"action":{"type":"gate","options":{}}}`, taskOpts{})
	h.start()
	h.event("user/a/b", `{}`)
	<-g.started
	time.Sleep(600 * time.Millisecond) // four leases long
	close(g.release)
	h.waitIdle()
	act := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})[0]
	if act.Status != store.StatusSuccess || act.Claims != 1 || g.calls != 1 {
		t.Errorf("run %s, claims %d, performed %d times; want success, 1, 1", act.Status, act.Claims, g.calls)
	}
}

// holdTasks is a throttle holding back task runs and echo actions while on.
type holdTasks struct {
	mu sync.Mutex
	on bool
}

func (h *holdTasks) Hold() ([]store.RunKind, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.on {
		return []store.RunKind{store.KindTask}, []string{"echo"}
	}
	return nil, nil
}

func (h *holdTasks) set(on bool) {
	h.mu.Lock()
	h.on = on
	h.mu.Unlock()
}

func TestThrottle(t *testing.T) {
	th := &holdTasks{on: true}
	h := newHarness(t, withConfig(func(c *Config) { c.Throttle = th }))
	tk := h.task("t", []string{"user/a/b"}, `{"action":{"type":"echo","options":{}}}`, taskOpts{})
	h.start()
	ev := h.event("user/a/b", `{}`)
	h.waitFor("the event run", func() bool { return h.run(ev.ID).Status == store.StatusSuccess })
	time.Sleep(50 * time.Millisecond) // several polls: the held task run must stay put
	rs := h.runs(store.RunFilter{TaskID: tk.ID})
	if len(rs) != 1 || rs[0].Status != store.StatusPending || rs[0].Attempts != 0 {
		t.Fatalf("held task run = %+v", rs)
	}
	th.set(false)
	h.p.Wake()
	h.waitIdle()
	for _, r := range h.runs(store.RunFilter{TaskID: tk.ID}) {
		if r.Status != store.StatusSuccess {
			t.Errorf("%s: %s", r.Kind, r.Status)
		}
	}
}

// TestConcurrencyShare: a node's share of the shop's run queue size (as
// ConcurrencyShare answers it, e.g. the limit divided among live nodes)
// caps its runs in progress, and a larger share lets more start.
func TestConcurrencyShare(t *testing.T) {
	var share atomic.Int64
	share.Store(2)
	h := newHarness(t, withConfig(func(c *Config) {
		c.Workers = 6
		c.ConcurrencyShare = func() int { return int(share.Load()) }
	}))
	g := newGate()
	h.register("gate", g)
	h.task("t", []string{"user/a/b"}, strings.Repeat(`{"action":{"type":"gate","options":{}}} `, 6), taskOpts{})
	h.start()
	h.event("user/a/b", `{}`)
	<-g.started
	<-g.started
	time.Sleep(80 * time.Millisecond) // a third run would start now, were it allowed
	g.mu.Lock()
	running := g.running
	g.mu.Unlock()
	if running != 2 {
		t.Fatalf("running = %d with a share of 2", running)
	}
	share.Store(4) // another node left: the share grows
	<-g.started
	<-g.started
	time.Sleep(80 * time.Millisecond)
	g.mu.Lock()
	running = g.running
	g.mu.Unlock()
	if running != 4 {
		t.Errorf("running = %d with a share of 4", running)
	}
	close(g.release)
	h.waitIdle()
	if g.maxRun != 4 || g.calls != 6 {
		t.Errorf("max concurrent = %d over %d calls, want 4 over 6", g.maxRun, g.calls)
	}
}
