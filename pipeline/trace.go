package pipeline

import (
	"context"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// Tracer records one trace span per attempt of a run (package
// internal/tracing exports them over OTLP). With Config.Tracer nil the
// pipeline records nothing and does no tracing work at all.
type Tracer interface {
	// RunAttempt is called once an attempt of a run has ended, with its
	// outcome. It must not block for long (exporters batch in the
	// background).
	RunAttempt(ctx context.Context, a RunAttempt)
}

// AttemptStatus is the outcome of one attempt of a run.
type AttemptStatus string

// Attempt outcomes.
const (
	// AttemptSucceeded: the run completed.
	AttemptSucceeded AttemptStatus = "success"
	// AttemptFailed: the run failed for good.
	AttemptFailed AttemptStatus = "failed"
	// AttemptRetrying: the attempt failed and the run will be retried.
	AttemptRetrying AttemptStatus = "retrying"
	// AttemptAbandoned: no outcome was recorded (the lease was lost or the
	// shutdown grace period ended); another attempt will take the run.
	AttemptAbandoned AttemptStatus = "abandoned"
)

// Final reports whether the attempt ended its run (success or failure for
// good).
func (s AttemptStatus) Final() bool { return s == AttemptSucceeded || s == AttemptFailed }

// RunAttempt describes one ended attempt of a run.
type RunAttempt struct {
	// Run is the run as claimed for this attempt.
	Run store.Run
	// Attempt is the attempt number (1-based).
	Attempt int
	// Token is the claim's token, unique among all attempts of the run.
	Token int64
	// Key identifies the run's generation: the run id until a manual
	// retry, then the id with the generation (the key follow-up ids are
	// derived from).
	Key string
	// Start and End bound the attempt (wall time of this process).
	Start, End time.Time
	// Status is the attempt's outcome; Error the failure message, if any.
	Status AttemptStatus
	Error  string
	// Created counts the runs the attempt created (task runs of an event
	// run, action runs of a task run) and Events the child events.
	Created, Events int
	// Topic is the event's topic and TaskName the task's name, when the
	// attempt read them (empty otherwise).
	Topic, TaskName string
	// Event is the run's event for event runs (nil when it could not be
	// read); its creation time and parent place the event in its trace.
	Event *store.Event
}

// traceNote collects what an attempt learns for its span; the pipeline
// keeps one in the job's context only when a Tracer is set.
type traceNote struct {
	status          AttemptStatus
	err             string
	created, events int
	topic, taskName string
	event           *store.Event
}

type traceNoteKey struct{}

// note returns the attempt's trace note, or nil when not tracing.
func (p *Pipeline) note(ctx context.Context) *traceNote {
	if p.cfg.Tracer == nil {
		return nil
	}
	n, _ := ctx.Value(traceNoteKey{}).(*traceNote)
	return n
}

// noteEvent records the attempt's event (its topic; the whole event for
// event runs).
func (p *Pipeline) noteEvent(ctx context.Context, ev store.Event, whole bool) {
	if n := p.note(ctx); n != nil {
		n.topic = ev.Topic
		if whole {
			e := ev // copied here so that ev stays on the stack when not tracing
			n.event = &e
		}
	}
}

// noteTask records the attempt's task name.
func (p *Pipeline) noteTask(ctx context.Context, name string) {
	if n := p.note(ctx); n != nil {
		n.taskName = name
	}
}

// traceAttempt hands an ended attempt to the tracer.
func (p *Pipeline) traceAttempt(ctx context.Context, job store.Job, n *traceNote, start time.Time, err error) {
	a := RunAttempt{
		Run: job.Run, Attempt: job.Attempt, Token: job.Token, Key: runKey(job.Run),
		Start: start, End: time.Now(), Status: n.status, Error: n.err,
		Created: n.created, Events: n.events, Topic: n.topic, TaskName: n.taskName, Event: n.event,
	}
	if a.Status == "" {
		a.Status = AttemptAbandoned
		if err != nil {
			a.Error = err.Error()
		}
	}
	if a.Topic == "" {
		if ev, ok := p.events.get(job.Run.EventID); ok { // memo only: no store read for a span
			a.Topic = ev.Topic
		}
	}
	p.cfg.Tracer.RunAttempt(ctx, a)
}
