package pipeline

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// TestGenerationLimit: a task that answers every event with a child event
// for itself builds a chain; the run whose child would be the sixth
// generation below the original event fails with a loop protection error,
// and the chain stops there.
func TestGenerationLimit(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.MaxEventGenerations = 5 }))
	tk := h.task("chain", []string{"user/a/b"}, `{"action":{"type":"event","options":{"topic":"user/a/b","data":1}}}`, taskOpts{})
	h.start()
	root := h.event("user/a/b", `0`)
	h.waitIdle()
	evs := h.events("user/a/b")
	if len(evs) != MaxParentGenerations+1 {
		t.Fatalf("%d events in the chain, want %d (the root and %d generations)", len(evs), MaxParentGenerations+1, MaxParentGenerations)
	}
	var failed []store.Run
	for _, r := range h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindTask}) {
		if r.Status == store.StatusFailed {
			failed = append(failed, r)
		} else if r.Status != store.StatusSuccess {
			t.Errorf("run %s is %s", r.ID, r.Status)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0].Error, "limit of 5 generations") {
		t.Fatalf("failed runs %+v, want one with the generation limit error", failed)
	}
	if failed[0].EventID == root.ID {
		t.Fatal("the root event's run failed")
	}
	if n := len(h.runs(store.RunFilter{ParentRunID: failed[0].ID})); n != 0 {
		t.Errorf("the failed run created %d action runs", n)
	}
}

// TestShopifyUpdateLoop: a task answering shopify/products/update events
// with the same actions as its previous run for the same product is
// flagged: its action runs are failed, not performed. Another product,
// or different actions, run normally.
func TestShopifyUpdateLoop(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.Workers = 1 }))
	tk := h.task("tagger", []string{"shopify/products/update"}, `{"action":{"type":"cache","options":["incr","n"]}}`, taskOpts{})
	h.start()
	step := func(data string) store.Run {
		t.Helper()
		ev := h.event("shopify/products/update", data)
		h.waitIdle()
		trs := h.runs(store.RunFilter{EventID: ev.ID, Kind: store.KindTask})
		if len(trs) != 1 || trs[0].Status != store.StatusSuccess {
			t.Fatalf("task runs for %s: %+v", data, trs)
		}
		ars := h.runs(store.RunFilter{ParentRunID: trs[0].ID})
		if len(ars) != 1 {
			t.Fatalf("%d action runs for %s", len(ars), data)
		}
		return ars[0]
	}
	tests := []struct {
		data      string
		flagged   bool
		cacheWant string
	}{
		{`{"id": 1}`, false, "1"},
		{`{"id": 1}`, true, "1"},
		{`{"id": 2}`, false, "2"},
		{`{"id": 1}`, true, "2"},
	}
	for i, tc := range tests {
		ar := step(tc.data)
		if tc.flagged != (ar.Status == store.StatusFailed && strings.Contains(ar.Error, "loop protection")) {
			t.Errorf("step %d (%s): action run %s %q, flagged want %v", i, tc.data, ar.Status, ar.Error, tc.flagged)
		}
		if v := h.cacheValue("n"); v != tc.cacheWant {
			t.Errorf("step %d: cache n = %s, want %s", i, v, tc.cacheWant)
		}
	}
	// Different actions for the same product are not a loop.
	h.setRender("tagger", func(TaskRunInput) (string, error) {
		return `{"action":{"type":"cache","options":["incr","m"]}}`, nil
	})
	if ar := step(`{"id": 1}`); ar.Status != store.StatusSuccess {
		t.Errorf("changed actions: %s %q", ar.Status, ar.Error)
	}
	_ = tk
}

// TestEventRateGuard: a task whose runs create child events faster than
// the guard allows is paused (disabled); the run that went over fails
// with the reason, and later events no longer reach the task.
func TestEventRateGuard(t *testing.T) {
	h := newHarness(t, withManualClock(), withConfig(func(c *Config) {
		c.MaxChildEventsPerMinute = 10
		c.Workers = 1
	}))
	four := `{"action":{"type":"event","options":{"topic":"user/c/d","data":null}}}`
	tk := h.task("burst", []string{"user/a/b"}, strings.Repeat(four, 4), taskOpts{})
	h.start()
	// A run for an outside event may fan out freely: not counted.
	root := h.event("user/a/b", `{}`)
	h.waitIdle()
	// Runs for child events (inside a chain) are counted.
	for range 3 {
		if _, err := h.st.InsertEvents(context.Background(), []store.NewEvent{{Topic: "user/a/b", Data: []byte(`{}`), ParentID: root.ID}}); err != nil {
			t.Fatal(err)
		}
		h.p.Wake()
		h.waitIdle()
	}
	rs := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindTask})
	var ok, paused int
	for _, r := range rs {
		switch {
		case r.Status == store.StatusSuccess:
			ok++
		case r.Status == store.StatusFailed && strings.Contains(r.Error, "event-rate guard") && strings.Contains(r.Error, "paused"):
			paused++
		default:
			t.Errorf("run %s %q", r.Status, r.Error)
		}
	}
	if ok != 3 || paused != 1 {
		t.Fatalf("%d successful and %d paused runs, want 3 (the root's and two counted) and 1", ok, paused)
	}
	if n := len(h.events("user/c/d")); n != 12 {
		t.Errorf("%d child events, want 12", n)
	}
	cur, err := h.st.GetTask(context.Background(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Enabled {
		t.Fatal("the runaway task is still enabled")
	}
	h.event("user/a/b", `{}`)
	h.waitIdle()
	if n := len(h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindTask})); n != 4 {
		t.Errorf("%d task runs after the pause, want 4 (the paused task gets no more)", n)
	}
}

func TestRateGuardRefills(t *testing.T) {
	g := newRateGuard(60)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		after time.Duration
		n     int
		ok    bool
	}{
		{0, 60, true},                 // a burst of the whole minute
		{0, 1, false},                 // nothing left
		{time.Second, 1, true},        // one per second comes back
		{time.Second, 2, false},       // but not two
		{time.Minute, 60, true},       // full again
		{10 * time.Minute, 61, false}, // never more than the burst
	}
	for i, tc := range tests {
		now = now.Add(tc.after)
		if got := g.take("t", tc.n, now); got != tc.ok {
			t.Errorf("step %d: take(%d) = %v, want %v", i, tc.n, got, tc.ok)
		}
	}
}

// TestTaskRunWallTime: the task-run wall-time limit holds for the run as
// a whole: a render that ends past it (a slow read that ignored its
// context) fails the run for good, with no action runs; one that ends
// within it succeeds.
func TestTaskRunWallTime(t *testing.T) {
	const limit = time.Second
	h := newHarness(t, withConfig(func(c *Config) { c.TaskRunTimeout = limit }))
	tests := []struct {
		name  string
		sleep time.Duration
		ok    bool
	}{
		{"within", limit / 2, true},
		{"past", limit + limit/2, false},
	}
	for _, tc := range tests {
		h.task(tc.name, []string{"user/" + tc.name + "/x"}, `{"action":{"type":"echo","options":{}}}`, taskOpts{})
		sleep := tc.sleep
		h.setRender(tc.name, func(in TaskRunInput) (string, error) {
			time.Sleep(sleep) // ignores the deadline, as a stuck read would
			return in.Task.Script, nil
		})
	}
	h.start()
	for _, tc := range tests {
		h.event("user/"+tc.name+"/x", `{}`)
	}
	h.waitIdle()
	for _, tc := range tests {
		ev := h.events("user/" + tc.name + "/x")[0]
		trs := h.runs(store.RunFilter{EventID: ev.ID, Kind: store.KindTask})
		if len(trs) != 1 {
			t.Fatalf("%s: %d task runs", tc.name, len(trs))
		}
		tr := trs[0]
		acts := h.runs(store.RunFilter{ParentRunID: tr.ID})
		if tc.ok {
			if tr.Status != store.StatusSuccess || len(acts) != 1 {
				t.Errorf("%s: %s %q with %d action runs", tc.name, tr.Status, tr.Error, len(acts))
			}
			continue
		}
		if tr.Status != store.StatusFailed || !strings.Contains(tr.Error, "wall-time limit of 1s") || len(acts) != 0 || tr.Attempts != 1 {
			t.Errorf("%s: %s %q attempts %d with %d action runs", tc.name, tr.Status, tr.Error, tr.Attempts, len(acts))
		}
	}
}
