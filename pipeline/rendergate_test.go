package pipeline

import (
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
)

// TestRenderGateHoldsClaims: with room for one render at a time, a blocked
// render leaves the other task runs queued rather than claimed into
// workers that would wait at the gate, so free workers keep performing
// the runs that need no render (event runs, action runs); once the render
// ends every task run finishes.
func TestRenderGateHoldsClaims(t *testing.T) {
	limits := run.Limits{MemoryBytes: 1 << 20}
	gate := run.NewMemoryGate(limits.MemoryBytes, limits) // one render at a time
	h := newHarness(t, withConfig(func(c *Config) { c.Workers = 4; c.RenderGate = gate }))
	actions := newGate()
	h.register("gate", actions)
	blockA, enteredA := make(chan struct{}), make(chan struct{}, 10)
	var unblock sync.Once
	unblockA := func() { unblock.Do(func() { close(blockA) }) }
	a := h.task("A", []string{"user/a/go"}, `{"log":"a"}`, taskOpts{})
	h.setRender("A", func(in TaskRunInput) (string, error) {
		enteredA <- struct{}{}
		<-blockA
		return in.Task.Script, nil
	})
	c := h.task("C", []string{"user/c/go"}, `{"action":{"type":"gate","options":{}}}`, taskOpts{})
	h.start()
	defer close(actions.release)
	defer unblockA() // also when the test fails early

	// C's action run performs (and holds a worker) without rendering.
	h.event("user/c/go", `{}`)
	<-actions.started
	for range 3 {
		h.event("user/a/go", `{}`)
	}
	<-enteredA
	// A second C event: its event run needs a worker, not the gate.
	evC := h.event("user/c/go", `{}`)
	h.waitFor("the second C event run", func() bool {
		rs := h.runs(store.RunFilter{EventID: evC.ID, Kind: store.KindEvent})
		return len(rs) == 1 && rs[0].Status == store.StatusSuccess
	})
	time.Sleep(50 * time.Millisecond) // further claims would happen now, were they allowed
	running, pending := 0, 0
	for _, r := range h.runs(store.RunFilter{Kind: store.KindTask}) {
		switch r.Status {
		case store.StatusRunning:
			running++
		case store.StatusPending:
			pending++
		}
	}
	// One A render in progress; two A task runs and C's second wait queued.
	if running != 1 || pending != 3 {
		t.Fatalf("task runs running %d, pending %d; want 1 and 3 (only what the gate admits is claimed)", running, pending)
	}
	unblockA()
	for range 2 {
		<-enteredA
	}
	h.waitFor("every task run of A", func() bool {
		n := 0
		for _, r := range h.runs(store.RunFilter{TaskID: a.ID, Kind: store.KindTask}) {
			if r.Status == store.StatusSuccess {
				n++
			}
		}
		return n == 3
	})
	h.waitFor("C's second task run", func() bool {
		n := 0
		for _, r := range h.runs(store.RunFilter{TaskID: c.ID, Kind: store.KindTask}) {
			if r.Status == store.StatusSuccess {
				n++
			}
		}
		return n == 2
	})
}
