package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
)

// Loop protection (docs: core/events/parent-and-child-events.md,
// techniques/preventing-action-loops.md, techniques/responding-to-action-results.md):
//
//   - an event chain is at most Config.MaxEventGenerations generations
//     deep (DefaultMaxEventGenerations): a task run whose actions would
//     create a child event below that fails. Mechanic's docs bound only
//     what a run sees of its ancestors (five generations), not how deep a
//     chain may go, and library tasks page through APIs with chains of
//     mechanic/actions/perform events, so the default bound is well above
//     five;
//   - a task run for a mechanic/actions/perform event that renders exactly
//     the actions of its predecessor fails (repeatsPredecessor);
//   - a task run for a Shopify update event (shopify/<resource>/update)
//     that renders the same actions as the previous run of the task for
//     the same resource is flagged: its action runs are failed;
//   - a task whose runs for child events (runs inside a chain) create
//     further child events faster than Config.MaxChildEventsPerMinute is
//     paused (disabled) with the reason in its run, the log and the API.

// DefaultMaxChildEventsPerMinute is the default event-rate guard: the most
// child events (event actions and mechanic/actions/perform events) one
// task's runs may create per minute, with bursts up to the same number.
const DefaultMaxChildEventsPerMinute = 1000

// TaskPauser pauses a runaway task: it disables the task and records the
// reason where users see it. The server provides one; without it the
// pipeline disables the task in its store.
type TaskPauser interface {
	// PauseTask disables task id and records reason.
	PauseTask(ctx context.Context, taskID, reason string) error
}

// taskEnabler is implemented by stores that change a task's enabled flag
// alone, in one write (store/sqlite does).
type taskEnabler interface {
	SetTaskEnabled(ctx context.Context, id string, enabled bool) (store.Task, error)
}

// pauseTask disables a runaway task through the configured pauser or the store.
func (p *Pipeline) pauseTask(ctx context.Context, taskID, reason string) error {
	p.log.Warn("pipeline: runaway task paused", "task", taskID, "reason", reason)
	if p.cfg.Pauser != nil {
		if err := p.cfg.Pauser.PauseTask(ctx, taskID, reason); err != nil {
			return fmt.Errorf("pause task %s: %w", taskID, err)
		}
		return nil
	}
	if te, ok := p.st.(taskEnabler); ok {
		if _, err := te.SetTaskEnabled(ctx, taskID, false); err != nil {
			return fmt.Errorf("pause task %s: %w", taskID, err)
		}
		return nil
	}
	tu, ok := p.st.(interface {
		UpdateTask(ctx context.Context, t store.Task) (store.Task, error)
	})
	if !ok {
		return fmt.Errorf("pause task %s: the store cannot disable tasks", taskID)
	}
	for range 5 {
		t, err := p.st.GetTask(ctx, taskID)
		if err != nil {
			return fmt.Errorf("pause task %s: %w", taskID, err)
		}
		t.Enabled = false
		if _, err := tu.UpdateTask(ctx, t); !errors.Is(err, store.ErrConflict) {
			if err != nil {
				return fmt.Errorf("pause task %s: %w", taskID, err)
			}
			return nil
		}
	}
	return fmt.Errorf("pause task %s: %w", taskID, store.ErrConflict)
}

// childEvents counts the child events a task run's actions will create:
// one per event action and, when the task subscribes to
// mechanic/actions/perform, one per action that emits a perform event.
func (p *Pipeline) childEvents(actions []run.Action, subscribesPerform bool) int {
	n := 0
	for _, a := range actions {
		switch {
		case a.Type == "event":
			n++
		case subscribesPerform && !a.NoPerformEvent && p.cfg.Actions.EmitsPerformEvent(a.Type, a.Options):
			n++
		}
	}
	return n
}

// DefaultMaxEventGenerations is the default bound of an event chain's depth.
const DefaultMaxEventGenerations = 100

// generationError reports a task run, whose event is depth generations
// below its original event, whose child events would exceed limit.
func generationError(depth, children, limit int) string {
	if children == 0 || limit < 0 || depth < limit {
		return ""
	}
	return fmt.Sprintf("loop protection: this run's event is %d generations below its original event; the %d child event(s) its actions would create exceed the limit of %d generations of parent and child events",
		depth, children, limit)
}

// depth counts the generations above ev, given its first parents, up to
// limit (a pruned ancestor ends the chain).
func (p *Pipeline) depth(ctx context.Context, parents []store.Event, limit int) (int, error) {
	n := len(parents)
	if n < MaxParentGenerations || limit < 0 {
		return n, nil
	}
	id := parents[n-1].ParentID
	for id != "" && n < limit {
		pe, err := p.event(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("load event %s: %w", id, err)
		}
		n++
		id = pe.ParentID
	}
	return n, nil
}

// isShopifyUpdate reports whether topic is a Shopify update topic
// (shopify/products/update and the like).
func isShopifyUpdate(topic string) bool {
	rest, ok := strings.CutPrefix(topic, "shopify/")
	return ok && strings.HasSuffix(rest, "/update") && strings.Count(rest, "/") == 1
}

// resourceID reads data.id of an event as text ("" when there is none).
func resourceID(ev store.Event) string {
	v, err := value.FromJSON(ev.Data)
	if err != nil {
		return ""
	}
	m, ok := v.(*value.Map)
	if !ok {
		return ""
	}
	id, _ := m.Get("id")
	if id == nil {
		return ""
	}
	return value.ToS(id)
}

// updateLookback is how many earlier task runs of a task are searched for
// the previous run on the same Shopify resource.
const updateLookback = 50

// repeatsUpdateRun reports whether a task run for a Shopify update event
// rendered exactly the actions of the previous run of the same task for
// an update of the same resource: the update it made came back to it
// unchanged, an update loop.
func (p *Pipeline) repeatsUpdateRun(ctx context.Context, job store.Job, ev store.Event, result []byte) (bool, error) {
	if !isShopifyUpdate(ev.Topic) {
		return false, nil
	}
	rid := resourceID(ev)
	if rid == "" {
		return false, nil
	}
	runs, _, err := p.st.ListRuns(ctx, store.RunFilter{TaskID: job.Run.TaskID, Kind: store.KindTask, Page: store.Page{Limit: updateLookback}})
	if err != nil {
		return false, fmt.Errorf("list task runs: %w", err)
	}
	for _, r := range runs {
		if r.ID == job.Run.ID || !r.CreatedAt.Before(job.Run.CreatedAt) || r.EventID == ev.ID {
			continue
		}
		prev, err := p.event(ctx, r.EventID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if prev.Topic != ev.Topic || resourceID(prev) != rid {
			continue
		}
		// The latest earlier run on this resource decides.
		return r.Status == store.StatusSuccess && bytes.Equal(r.Result, result), nil
	}
	return false, nil
}

// rateGuard is a token bucket per task: each task may create limit child
// events per minute, in bursts of up to limit.
type rateGuard struct {
	mu      sync.Mutex
	limit   float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the guard's memory; full (idle) buckets are dropped
// beyond it.
const maxBuckets = 10_000

func newRateGuard(limit int) *rateGuard {
	return &rateGuard{limit: float64(limit), buckets: map[string]*bucket{}}
}

// take spends n tokens of task id's bucket at now; false means the task
// is over its rate.
func (g *rateGuard) take(id string, n int, now time.Time) bool {
	if g == nil || n == 0 {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	b, ok := g.buckets[id]
	if !ok {
		if len(g.buckets) >= maxBuckets {
			g.sweep(now)
		}
		b = &bucket{tokens: g.limit, last: now}
		g.buckets[id] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(g.limit, b.tokens+el.Minutes()*g.limit)
		b.last = now
	}
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

// sweep drops buckets that have refilled completely.
func (g *rateGuard) sweep(now time.Time) {
	for id, b := range g.buckets {
		if b.tokens+now.Sub(b.last).Minutes()*g.limit >= g.limit {
			delete(g.buckets, id)
		}
	}
}
