package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/cache"
	"github.com/sprocketrun/sprocket/action/echo"
	"github.com/sprocketrun/sprocket/action/event"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
	"github.com/sprocketrun/sprocket/store/storetest"
)

// harness runs a pipeline on a real SQLite store in a temp dir.
type harness struct {
	t      testing.TB
	st     *sqlite.Store
	clock  *storetest.Clock // nil: system clock
	reg    *action.Registry
	p      *Pipeline
	cfg    Config
	mu     sync.Mutex
	render map[string]func(in TaskRunInput) (string, error) // by task name
	cancel context.CancelFunc
	done   chan error
}

type harnessOpt func(*harness)

func withManualClock() harnessOpt {
	return func(h *harness) { h.clock = storetest.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)) }
}

func withConfig(f func(*Config)) harnessOpt {
	return func(h *harness) { f(&h.cfg) }
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t, render: map[string]func(TaskRunInput) (string, error){}}
	// No per-task limit unless a test sets one (with 4 workers the default
	// would be 1 run per task).
	h.cfg = Config{Workers: 4, TaskConcurrency: -1, PollInterval: 20 * time.Millisecond, Logger: quietLogger(), ShutdownGrace: 5 * time.Second}
	for _, o := range opts {
		o(h)
	}
	var sopts []sqlite.Option
	if h.clock != nil {
		sopts = append(sopts, sqlite.WithClock(h.clock))
		h.cfg.Clock = h.clock
	}
	sopts = append(sopts, sqlite.WithLogger(quietLogger()), sqlite.WithCacheSize(4<<10))
	st, err := sqlite.Open(context.Background(), t.TempDir(), sopts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.st = st
	h.reg = action.NewRegistry()
	h.register(echo.Type, echo.New())
	h.register(cache.Type, cache.New(st))
	h.register(event.Type, event.New(st, nil))
	h.cfg.Store = st
	h.cfg.Actions = h.reg
	h.cfg.Renderer = TaskRendererFunc(h.renderTask)
	return h
}

func (h *harness) register(name string, p action.Performer) {
	h.t.Helper()
	if err := h.reg.Register(name, p); err != nil {
		h.t.Fatal(err)
	}
}

// renderTask is the fake renderer: the task's script is its literal
// output, unless a render function is set for the task's name.
func (h *harness) renderTask(_ context.Context, in TaskRunInput) (TaskRunOutput, error) {
	h.mu.Lock()
	f := h.render[in.Task.Name]
	h.mu.Unlock()
	text := in.Task.Script
	if f != nil {
		var err error
		if text, err = f(in); err != nil {
			return TaskRunOutput{Text: text}, err
		}
	}
	out, err := run.ParseOutput(text)
	if err != nil {
		return TaskRunOutput{Text: text}, err
	}
	return TaskRunOutput{Text: text, Actions: out.Actions, Logs: out.Logs, Errors: out.Errors}, nil
}

func (h *harness) setRender(name string, f func(in TaskRunInput) (string, error)) {
	h.mu.Lock()
	h.render[name] = f
	h.mu.Unlock()
}

func (h *harness) start() {
	h.t.Helper()
	p, err := New(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.p = p
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- p.Run(ctx) }()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("Run: %v", err)
	}
	h.cancel = nil
}

type taskOpts struct {
	disabled, seq, halt bool
}

func (h *harness) task(name string, subs []string, script string, o taskOpts) store.Task {
	h.t.Helper()
	def := value.MapOf("name", name, "script", script, "subscriptions", subs,
		"perform_action_runs_in_sequence", o.seq, "halt_action_run_sequence_on_error", o.halt, "options", value.NewMap(0))
	b, err := value.ToJSON(def)
	if err != nil {
		h.t.Fatal(err)
	}
	t, _, err := h.st.CreateTask(context.Background(), store.NewTask{Name: name, Enabled: !o.disabled, Subscriptions: subs, Definition: b})
	if err != nil {
		h.t.Fatal(err)
	}
	return t
}

func (h *harness) event(topic, data string, taskIDs ...string) store.Event {
	h.t.Helper()
	evs, err := h.st.InsertEvents(context.Background(), []store.NewEvent{{Topic: topic, Data: json.RawMessage(data), TaskIDs: taskIDs}})
	if err != nil {
		h.t.Fatal(err)
	}
	if h.p != nil {
		h.p.Wake()
	}
	return evs[0]
}

func (h *harness) runs(f store.RunFilter) []store.Run {
	h.t.Helper()
	f.Page.Limit = store.MaxPageLimit
	rs, _, err := h.st.ListRuns(context.Background(), f)
	if err != nil {
		h.t.Fatal(err)
	}
	// oldest first, by sequence for action runs
	slices.SortStableFunc(rs, func(a, b store.Run) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return a.Seq - b.Seq
	})
	return rs
}

func (h *harness) events(topic string) []store.Event {
	h.t.Helper()
	evs, _, err := h.st.ListEvents(context.Background(), store.EventFilter{Topic: topic, Page: store.Page{Limit: store.MaxPageLimit}})
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

func (h *harness) run(id string) store.Run {
	h.t.Helper()
	r, err := h.st.GetRun(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// waitFor polls cond until it holds (failing the test after 15 s, a
// safety net rather than a timing assertion).
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitIdle waits until no run is running or due within a second (runs
// scheduled later may remain). It reads the runs rather than queue stats,
// whose "due" cut-off can trail a concurrent commit.
func (h *harness) waitIdle() {
	h.t.Helper()
	h.waitFor("an idle queue", func() bool {
		now := time.Now()
		if h.clock != nil {
			now = h.clock.Now()
		}
		for _, r := range h.runs(store.RunFilter{}) { // one snapshot
			switch {
			case r.Status == store.StatusRunning:
				return false
			case r.Status == store.StatusPending && !r.Paused && r.NextAttemptAt.Before(now.Add(time.Second)):
				return false
			}
		}
		return true
	})
}

func (h *harness) cacheValue(key string) string {
	h.t.Helper()
	v, ok, err := h.st.CacheGet(context.Background(), key)
	if err != nil {
		h.t.Fatal(err)
	}
	if !ok {
		return "<missing>"
	}
	return string(v)
}

// flaky fails transiently until it has been called failures times.
type flaky struct {
	mu       sync.Mutex
	calls    int
	failures int
}

func (f *flaky) Perform(_ context.Context, req action.Request) (action.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.failures {
		return action.Result{}, action.Transient(fmt.Errorf("flaky failure %d", f.calls))
	}
	return action.Result{Value: value.MapOf("call", f.calls)}, nil
}

// gate blocks each call until released, tracking concurrency.
type gate struct {
	mu      sync.Mutex
	running int
	maxRun  int
	calls   int
	started chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{started: make(chan struct{}, 100), release: make(chan struct{})}
}

func (g *gate) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	g.mu.Lock()
	g.running++
	g.calls++
	g.maxRun = max(g.maxRun, g.running)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running--
		g.mu.Unlock()
	}()
	g.started <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return action.Result{}, ctx.Err()
	}
	return action.Result{Value: req.Options}, nil
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
