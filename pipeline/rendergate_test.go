package pipeline

import (
	"context"
	"slices"
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

// claimSpy records the size of every claim and whether it could take
// task runs.
type claimSpy struct {
	Store
	mu     sync.Mutex
	claims []claimCall
}

type claimCall struct {
	limit int
	tasks bool // task runs could be claimed
}

func (c *claimSpy) record(limit int, kinds []store.RunKind) {
	c.mu.Lock()
	c.claims = append(c.claims, claimCall{limit: limit, tasks: len(kinds) == 0 || slices.Contains(kinds, store.KindTask)})
	c.mu.Unlock()
}

func (c *claimSpy) Claim(ctx context.Context, n int, lease time.Duration) ([]store.Job, error) {
	c.record(n, nil)
	return c.Store.Claim(ctx, n, lease)
}

func (c *claimSpy) ClaimFiltered(ctx context.Context, o store.ClaimOptions) ([]store.Job, error) {
	c.record(o.Limit, o.Kinds)
	return c.Store.ClaimFiltered(ctx, o)
}

func (c *claimSpy) since(i int) []claimCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.claims[i:])
}

// TestRenderGateKeepsClaimBatches: with room for one more render, claims
// still take a batch of other runs (the task kind held for the part
// beyond the room) rather than one run per claim.
func TestRenderGateKeepsClaimBatches(t *testing.T) {
	limits := run.Limits{MemoryBytes: 1 << 20}
	gate := run.NewMemoryGate(2*limits.MemoryBytes, limits) // two renders at a time
	h := newHarness(t, withConfig(func(c *Config) { c.Workers = 16; c.RenderGate = gate }))
	spy := &claimSpy{Store: h.cfg.Store}
	h.cfg.Store = spy
	block, entered := make(chan struct{}), make(chan struct{}, 1)
	var unblock sync.Once
	defer unblock.Do(func() { close(block) })
	h.task("A", []string{"user/a/go"}, `{"log":"a"}`, taskOpts{})
	h.setRender("A", func(in TaskRunInput) (string, error) {
		entered <- struct{}{}
		<-block
		return in.Task.Script, nil
	})
	h.start()
	h.event("user/a/go", `{}`)
	<-entered // one render in progress: room for one more
	from := len(spy.since(0))
	evs, err := h.st.InsertEvents(context.Background(), slices.Repeat([]store.NewEvent{{Topic: "user/nobody/listens"}}, 40))
	if err != nil {
		t.Fatal(err)
	}
	h.p.Wake()
	h.waitFor("the 40 event runs", func() bool {
		for _, ev := range evs {
			rs := h.runs(store.RunFilter{EventID: ev.ID, Kind: store.KindEvent})
			if len(rs) != 1 || rs[0].Status != store.StatusSuccess {
				return false
			}
		}
		return true
	})
	batched := false
	for _, c := range spy.since(from) {
		if c.tasks && c.limit > 1 {
			t.Errorf("a claim of %d runs could take task runs with room for one render", c.limit)
		}
		if !c.tasks && c.limit > 1 {
			batched = true
		}
	}
	if !batched {
		t.Errorf("no claim took more than one run while the gate had room for one render: %+v", spy.since(from))
	}
	unblock.Do(func() { close(block) })
}
