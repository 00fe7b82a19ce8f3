package metrics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// taskLister is the subscription read the pipeline uses when the store has it.
type taskLister interface {
	TaskSubscriptions(ctx context.Context, enabledOnly bool, ids ...string) ([]store.Task, error)
}

// Store wraps st so that its traffic is measured; the wrapper also offers
// TaskSubscriptions when st does.
func (m *Metrics) Store(st store.Store) store.Store {
	return &instrumented{Store: st, m: m}
}

type instrumented struct {
	store.Store
	m *Metrics
}

// TaskSubscriptions forwards to the wrapped store.
func (s *instrumented) TaskSubscriptions(ctx context.Context, enabledOnly bool, ids ...string) ([]store.Task, error) {
	tl, ok := s.Store.(taskLister)
	if !ok {
		return nil, errors.New("metrics: the wrapped store has no TaskSubscriptions")
	}
	ts, err := tl.TaskSubscriptions(ctx, enabledOnly, ids...)
	s.m.storeError("task_subscriptions", err)
	return ts, err
}

// Ping forwards a readiness check to the wrapped store when it has one.
func (s *instrumented) Ping(ctx context.Context) error {
	p, ok := s.Store.(interface{ Ping(context.Context) error })
	if !ok {
		return nil
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
	s.m.storeError("claim", err)
	return jobs, err
}

// ClaimFiltered times the claim.
func (s *instrumented) ClaimFiltered(ctx context.Context, o store.ClaimOptions) ([]store.Job, error) {
	t := time.Now()
	jobs, err := s.Store.ClaimFiltered(ctx, o)
	s.m.claimSeconds.Observe(time.Since(t).Seconds())
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
