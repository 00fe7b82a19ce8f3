package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// taskLister is the subscription read the pipeline uses when the store has it.
type taskLister interface {
	TaskSubscriptions(ctx context.Context, enabledOnly bool, ids ...string) ([]store.Task, error)
}

// Store wraps st so that its traffic is measured. The wrapper also
// forwards the optional methods both stores offer (TaskSubscriptions,
// SetTaskEnabled, SetTaskEnabledChecked, UpdateTaskContent,
// RetryRunChecked, Ping); when st lacks one, that method returns an error.
func (m *Metrics) Store(st store.Store) *Instrumented {
	return &Instrumented{Store: st, m: m}
}

// Instrumented is a store measured by Metrics (see Metrics.Store).
type Instrumented struct {
	store.Store
	m *Metrics
}

// instrumented is the receiver name used below.
type instrumented = Instrumented

func unsupported(method string, st store.Store) error {
	return fmt.Errorf("metrics: the wrapped store (%T) has no %s", st, method)
}

// SetTaskEnabled forwards to the wrapped store.
func (s *instrumented) SetTaskEnabled(ctx context.Context, id string, enabled bool) (store.Task, error) {
	x, ok := s.Store.(interface {
		SetTaskEnabled(ctx context.Context, id string, enabled bool) (store.Task, error)
	})
	if !ok {
		return store.Task{}, unsupported("SetTaskEnabled", s.Store)
	}
	t, err := x.SetTaskEnabled(ctx, id, enabled)
	s.m.storeError("set_task_enabled", err)
	return t, err
}

// SetTaskEnabledChecked forwards to the wrapped store.
func (s *instrumented) SetTaskEnabledChecked(ctx context.Context, id string, enabled bool, check func(store.Task) error) (store.Task, error) {
	x, ok := s.Store.(interface {
		SetTaskEnabledChecked(ctx context.Context, id string, enabled bool, check func(store.Task) error) (store.Task, error)
	})
	if !ok {
		return store.Task{}, unsupported("SetTaskEnabledChecked", s.Store)
	}
	t, err := x.SetTaskEnabledChecked(ctx, id, enabled, check)
	s.m.storeError("set_task_enabled", err)
	return t, err
}

// UpdateTaskContent forwards to the wrapped store.
func (s *instrumented) UpdateTaskContent(ctx context.Context, id, name string, subscriptions []string, definition json.RawMessage,
	check func(store.Task) error) (store.Task, error) {
	x, ok := s.Store.(interface {
		UpdateTaskContent(ctx context.Context, id, name string, subscriptions []string, definition json.RawMessage,
			check func(store.Task) error) (store.Task, error)
	})
	if !ok {
		return store.Task{}, unsupported("UpdateTaskContent", s.Store)
	}
	t, err := x.UpdateTaskContent(ctx, id, name, subscriptions, definition, check)
	s.m.storeError("update_task_content", err)
	return t, err
}

// RetryRunChecked forwards to the wrapped store.
func (s *instrumented) RetryRunChecked(ctx context.Context, id string, check func(store.Run) error) (store.Run, error) {
	x, ok := s.Store.(interface {
		RetryRunChecked(ctx context.Context, id string, check func(store.Run) error) (store.Run, error)
	})
	if !ok {
		return store.Run{}, unsupported("RetryRunChecked", s.Store)
	}
	r, err := x.RetryRunChecked(ctx, id, check)
	s.m.storeError("retry_run", err)
	return r, err
}

// TaskSubscriptions forwards to the wrapped store.
func (s *instrumented) TaskSubscriptions(ctx context.Context, enabledOnly bool, ids ...string) ([]store.Task, error) {
	tl, ok := s.Store.(taskLister)
	if !ok {
		return nil, unsupported("TaskSubscriptions", s.Store)
	}
	ts, err := tl.TaskSubscriptions(ctx, enabledOnly, ids...)
	s.m.storeError("task_subscriptions", err)
	return ts, err
}

// Ping forwards a readiness check to the wrapped store; a store without
// Ping is checked with a cheap read.
func (s *instrumented) Ping(ctx context.Context) error {
	p, ok := s.Store.(interface{ Ping(context.Context) error })
	if !ok {
		_, _, err := s.Store.LastTick(ctx, "ping")
		return err
	}
	return p.Ping(ctx)
}

// Unwrap returns the wrapped store.
func (s *instrumented) Unwrap() store.Store { return s.Store }

func (s *instrumented) received(evs []store.Event) {
	for _, e := range evs {
		src := e.Source
		if src == "" {
			src = "unknown"
		}
		s.m.eventsReceived.WithLabelValues(src, s.m.topic(e.Topic)).Inc()
	}
}

// InsertEvents counts the events inserted.
func (s *instrumented) InsertEvents(ctx context.Context, events []store.NewEvent) ([]store.Event, error) {
	out, err := s.Store.InsertEvents(ctx, events)
	s.m.storeError("insert_events", err)
	if err == nil {
		s.received(out)
	}
	return out, err
}

// FireTick counts the scheduler events of a fired tick.
func (s *instrumented) FireTick(ctx context.Context, name string, tick time.Time, events []store.NewEvent) (bool, error) {
	fired, err := s.Store.FireTick(ctx, name, tick, events)
	s.m.storeError("fire_tick", err)
	if fired {
		for _, e := range events {
			src := e.Source
			if src == "" {
				src = "scheduler"
			}
			s.m.eventsReceived.WithLabelValues(src, s.m.topic(e.Topic)).Inc()
		}
	}
	return fired, err
}

// Claim times the claim.
func (s *instrumented) Claim(ctx context.Context, limit int, leaseFor time.Duration) ([]store.Job, error) {
	t := time.Now()
	jobs, err := s.Store.Claim(ctx, limit, leaseFor)
	s.m.claimSeconds.Observe(time.Since(t).Seconds())
	s.m.tasksAtLimit.Set(0)
	s.m.storeError("claim", err)
	return jobs, err
}

// ClaimFiltered times the claim and counts the tasks it skipped for
// their concurrency limit.
func (s *instrumented) ClaimFiltered(ctx context.Context, o store.ClaimOptions) ([]store.Job, error) {
	t := time.Now()
	jobs, err := s.Store.ClaimFiltered(ctx, o)
	s.m.claimSeconds.Observe(time.Since(t).Seconds())
	s.m.tasksAtLimit.Set(float64(len(o.SkipTaskIDs)))
	s.m.taskDeferrals.Add(float64(len(o.SkipTaskIDs)))
	s.m.storeError("claim", err)
	return jobs, err
}

// Extend counts failed heartbeats.
func (s *instrumented) Extend(ctx context.Context, job store.Job, leaseFor time.Duration) (store.Job, error) {
	j, err := s.Store.Extend(ctx, job, leaseFor)
	s.m.storeError("extend", err)
	s.leaseLost(job, err)
	return j, err
}

func (s *instrumented) leaseLost(job store.Job, err error) {
	if errors.Is(err, store.ErrLeaseLost) {
		s.m.leasesLost.WithLabelValues(string(job.Run.Kind)).Inc()
	}
}

// observe records a job's duration from its claim by kind.
func (s *instrumented) observe(job store.Job) {
	if job.Run.StartedAt.IsZero() {
		return
	}
	d := max(0, time.Since(job.Run.StartedAt).Seconds())
	switch job.Run.Kind {
	case store.KindTask:
		s.m.renderSeconds.Observe(d)
	case store.KindAction:
		s.m.performSeconds.WithLabelValues(job.Run.ActionType).Observe(d)
	case store.KindEvent:
		s.m.eventRunSecs.Observe(d)
	}
}

// Complete counts a successful run.
func (s *instrumented) Complete(ctx context.Context, job store.Job, r store.Result) (store.Run, error) {
	run, err := s.Store.Complete(ctx, job, r)
	s.m.storeError("complete", err)
	s.leaseLost(job, err)
	if err == nil {
		s.observe(job)
		s.m.runsFinished.WithLabelValues(string(run.Kind), string(run.Status)).Inc()
	}
	return run, err
}

// Fail counts a failed attempt: a retry or a final failure.
func (s *instrumented) Fail(ctx context.Context, job store.Job, f store.Failure) (store.Run, error) {
	run, err := s.Store.Fail(ctx, job, f)
	s.m.storeError("fail", err)
	s.leaseLost(job, err)
	if err == nil {
		s.observe(job)
		if run.Status.Finished() {
			s.m.runsFinished.WithLabelValues(string(run.Kind), string(run.Status)).Inc()
		} else {
			s.m.retries.WithLabelValues(string(run.Kind)).Inc()
		}
	}
	return run, err
}

// CancelRun counts a cancelled run as failed.
func (s *instrumented) CancelRun(ctx context.Context, id, reason string) (store.Run, error) {
	run, err := s.Store.CancelRun(ctx, id, reason)
	s.m.storeError("cancel_run", err)
	if err == nil {
		s.m.runsFinished.WithLabelValues(string(run.Kind), string(run.Status)).Inc()
	}
	return run, err
}

// Stats forwards, counting errors.
func (s *instrumented) Stats(ctx context.Context) (store.QueueStats, error) {
	st, err := s.Store.Stats(ctx)
	s.m.storeError("stats", err)
	return st, err
}

// Prune forwards, counting errors.
func (s *instrumented) Prune(ctx context.Context, olderThan time.Time) (store.PruneStats, error) {
	st, err := s.Store.Prune(ctx, olderThan)
	s.m.storeError("prune", err)
	return st, err
}

// String names the wrapper in logs.
func (s *instrumented) String() string { return fmt.Sprintf("metrics(%T)", s.Store) }
