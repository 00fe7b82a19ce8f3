package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// Topics with special delivery rules.
const (
	// TopicActionsPerform carries an action run's outcome to its task.
	TopicActionsPerform = "mechanic/actions/perform"
	// TopicBulkOperation carries a finished bulk operation to its task.
	TopicBulkOperation = "mechanic/shopify/bulk_operation"
	// TopicErrorsTask reports a failed task run.
	TopicErrorsTask = "mechanic/errors/task"
	// TopicErrorsAction reports a failed action run.
	TopicErrorsAction = "mechanic/errors/action"
	// TopicErrorsEvent reports a failed event run.
	TopicErrorsEvent = "mechanic/errors/event"
	errorsPrefix     = "mechanic/errors/"
)

// originOnly lists topics delivered only to the task named by the event
// (its TaskIDs); without one they reach no task.
var originOnly = map[string]bool{TopicActionsPerform: true, TopicBulkOperation: true}

type match struct {
	task store.Task
	sub  task.Subscription
}

// eventRun matches the event against the tasks and creates task runs.
func (p *Pipeline) eventRun(ctx context.Context, job store.Job) error {
	if p.exhausted(job) {
		return p.fail(ctx, job, store.Failure{Error: p.exhaustedMsg(job), Permanent: true})
	}
	ev, err := p.event(ctx, job.Run.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return p.fail(ctx, job, store.Failure{Error: "event not found: " + job.Run.EventID, Permanent: true})
	}
	if err != nil {
		return p.fail(ctx, job, store.Failure{Error: err.Error()})
	}
	p.noteEvent(ctx, ev, true)
	if p.cfg.EventFilter != nil {
		stoppedBy, err := p.cfg.EventFilter.Filter(ctx, ev)
		if err != nil {
			f := store.Failure{Error: err.Error(), Permanent: !IsTransient(err)}
			if p.cfg.ErrorEvents && p.final(job, f.Permanent) {
				if ee, ok := p.errorEvent(ctx, job, TopicErrorsEvent, f.Error, nil, nil); ok {
					f.Effects.Events = append(f.Effects.Events, ee)
				}
			}
			return p.fail(ctx, job, f)
		}
		if stoppedBy != "" {
			res, _ := value.ToJSON(value.MapOf("filtered_by", stoppedBy))
			return p.complete(ctx, job, store.Result{Result: res})
		}
	}
	matches, err := p.matchTasks(ctx, ev)
	if err != nil {
		return p.fail(ctx, job, store.Failure{Error: "find subscribed tasks: " + err.Error()})
	}
	base := ev.RunAt
	if base.IsZero() {
		base = ev.CreatedAt
	}
	base = base.In(p.cfg.Location)
	key := runKey(job.Run)
	runs := make([]store.NewRun, 0, len(matches))
	summary := make([]any, 0, len(matches))
	for _, m := range matches {
		id := store.DerivedID(key, "task", m.task.ID, m.sub.String())
		at := m.sub.RunAt(base)
		runs = append(runs, store.NewRun{ID: id, Kind: store.KindTask, EventID: ev.ID, TaskID: m.task.ID, ParentRunID: job.Run.ID, RunAt: at})
		summary = append(summary, value.MapOf("task_id", m.task.ID, "subscription", m.sub.String(), "task_run_id", id, "run_at", formatTime(at, p.cfg.Location)))
	}
	res, err := value.ToJSON(summary)
	if err != nil {
		return p.fail(ctx, job, store.Failure{Error: "encode result: " + err.Error(), Permanent: true})
	}
	return p.complete(ctx, job, store.Result{Result: res, Effects: store.Effects{Runs: runs}})
}

// matchTasks returns one match per (enabled task, subscription) that
// accepts the event.
func (p *Pipeline) matchTasks(ctx context.Context, ev store.Event) ([]match, error) {
	var tasks []store.Task
	switch {
	case len(ev.TaskIDs) > 0:
		ids := slices.Compact(slices.Sorted(slices.Values(ev.TaskIDs)))
		if tl, ok := p.st.(taskLister); ok {
			ts, err := tl.TaskSubscriptions(ctx, true, ids...)
			if err != nil {
				return nil, fmt.Errorf("load tasks %v: %w", ids, err)
			}
			tasks = ts
			break
		}
		for _, id := range ids {
			t, err := p.st.GetTask(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("load task %s: %w", id, err)
			}
			if t.Enabled {
				tasks = append(tasks, t)
			}
		}
	case originOnly[ev.Topic]:
		return nil, nil
	default:
		if tl, ok := p.st.(taskLister); ok {
			ts, err := tl.TaskSubscriptions(ctx, true)
			if err != nil {
				return nil, fmt.Errorf("list tasks: %w", err)
			}
			tasks = ts
			break
		}
		enabled := true
		f := store.TaskFilter{Enabled: &enabled, Page: store.Page{Limit: store.MaxPageLimit}}
		for {
			page, next, err := p.st.ListTasks(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("list tasks: %w", err)
			}
			tasks = append(tasks, page...)
			if next == "" {
				break
			}
			f.Page.Cursor = next
		}
	}
	slices.SortFunc(tasks, func(a, b store.Task) int { return strings.Compare(a.ID, b.ID) })
	var out []match
	for _, t := range tasks {
		subs := p.subscriptions(t)
		if strings.HasPrefix(ev.Topic, errorsPrefix) && !p.receivesError(t, subs, ev) {
			continue
		}
		seen := map[string]bool{}
		for _, s := range subs {
			if s.Topic == ev.Topic && !seen[s.String()] {
				seen[s.String()] = true
				out = append(out, match{task: t, sub: s})
			}
		}
	}
	return out, nil
}

// receivesError applies Mechanic's error delivery rule: a task subscribing
// only to error topics receives every error event; any other task only the
// task and action errors of its own runs.
func (p *Pipeline) receivesError(t store.Task, subs []task.Subscription, ev store.Event) bool {
	onlyErrors := true
	for _, s := range subs {
		if !strings.HasPrefix(s.Topic, errorsPrefix) {
			onlyErrors = false
			break
		}
	}
	if onlyErrors {
		return true
	}
	if ev.Topic == TopicErrorsEvent {
		return false
	}
	return errorOriginTask(ev) == t.ID
}

// errorOriginTask reads data.task.id of an error event.
func errorOriginTask(ev store.Event) string {
	v, err := value.FromJSON(ev.Data)
	if err != nil {
		return ""
	}
	m, ok := v.(*value.Map)
	if !ok {
		return ""
	}
	tv, _ := m.Get("task")
	tm, ok := tv.(*value.Map)
	if !ok {
		return ""
	}
	id, _ := tm.Get("id")
	s, _ := id.(string)
	return s
}

// taskLister is implemented by stores that list tasks without their
// definitions (store/sqlite does), which is all matching needs.
type taskLister interface {
	TaskSubscriptions(ctx context.Context, enabledOnly bool, ids ...string) ([]store.Task, error)
}

// taskHeader reads a task, without its definition when the store can.
func (p *Pipeline) taskHeader(ctx context.Context, id string) (store.Task, error) {
	tl, ok := p.st.(taskLister)
	if !ok {
		return p.st.GetTask(ctx, id)
	}
	ts, err := tl.TaskSubscriptions(ctx, false, id)
	if err != nil {
		return store.Task{}, fmt.Errorf("load task %s: %w", id, err)
	}
	if len(ts) == 0 {
		return store.Task{}, fmt.Errorf("task %s: %w", id, store.ErrNotFound)
	}
	return ts[0], nil
}

// subscriptions parses a task's stored subscriptions, cached per task and
// subscription text; lines that do not parse are skipped.
func (p *Pipeline) subscriptions(t store.Task) []task.Subscription {
	key := strings.Join(t.Subscriptions, "\n")
	if e, ok := p.subs.Load(t.ID); ok && e.(subsEntry).key == key {
		return e.(subsEntry).subs
	}
	subs := make([]task.Subscription, 0, len(t.Subscriptions))
	for _, line := range t.Subscriptions {
		s, err := task.ParseSubscription(line)
		if err != nil {
			p.log.Warn("pipeline: skipping invalid subscription", "task", t.ID, "subscription", line, "err", err)
			continue
		}
		subs = append(subs, s)
	}
	p.subs.Store(t.ID, subsEntry{key: key, subs: subs})
	return subs
}

func (p *Pipeline) subscribesTo(t store.Task, topic string) bool {
	for _, s := range p.subscriptions(t) {
		if s.Topic == topic {
			return true
		}
	}
	return false
}

func (p *Pipeline) exhaustedMsg(job store.Job) string {
	return fmt.Sprintf("gave up after %d attempts: the run's lease expired before it finished", job.Attempt-1)
}

// formatTime writes t as Mechanic's JSON times: ISO 8601 with milliseconds
// in the shop's zone; zero times are null.
func formatTime(t time.Time, loc *time.Location) any {
	if t.IsZero() {
		return nil
	}
	return t.In(loc).Format("2006-01-02T15:04:05.000Z07:00")
}
