package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// TaskRenderer renders one task run. Errors mean the engine failed (a
// Liquid syntax or runtime error, a limit, output that is not action/log/
// error objects); they fail the run for good unless marked with Transient.
// A task that renders error objects is not an error: the output says so.
type TaskRenderer interface {
	// RenderTask renders one task run.
	RenderTask(ctx context.Context, in TaskRunInput) (TaskRunOutput, error)
}

// TaskRendererFunc adapts a function to TaskRenderer.
type TaskRendererFunc func(ctx context.Context, in TaskRunInput) (TaskRunOutput, error)

// RenderTask calls f.
func (f TaskRendererFunc) RenderTask(ctx context.Context, in TaskRunInput) (TaskRunOutput, error) {
	return f(ctx, in)
}

// TaskRunInput is one task run to render.
type TaskRunInput struct {
	// Task is the task's current definition.
	Task *task.Task
	// TaskID is the task's id.
	TaskID string
	// TaskCreatedAt is when the task was created.
	TaskCreatedAt time.Time
	// Event is the event the task responds to.
	Event store.Event
	// Parents are the event's ancestors, parent first, at most
	// MaxParentGenerations.
	Parents []store.Event
	// RunID is the task run's id.
	RunID string
	// Attempt counts attempts at this run, from 1.
	Attempt int
}

// TaskRunOutput is a rendered task run.
type TaskRunOutput struct {
	// Text is the rendered output as text.
	Text string
	// Actions are the action objects the task rendered, in order.
	Actions []run.Action
	// Logs are the log objects' values, in order.
	Logs []any
	// Errors are the error objects' values, in order; any makes the run fail.
	Errors []any
}

// RenderGate bounds the task runs rendering at once (run.MemoryGate).
type RenderGate interface {
	// Enter waits until a run for an event of topic may render, or ctx
	// ends; release must be called when the render is done.
	Enter(ctx context.Context, topic string) (release func(), err error)
	// Concurrency returns how many runs for an event of topic may render
	// at once ("" for an ordinary topic). The pipeline claims no more task
	// runs than that, so workers do not wait at the gate while other runs
	// are due.
	Concurrency(topic string) int64
}

// taskRun renders the task for the event and creates its action runs.
func (p *Pipeline) taskRun(ctx context.Context, job store.Job) error {
	if p.exhausted(job) {
		return p.failTask(ctx, job, store.Failure{Error: p.exhaustedMsg(job), Permanent: true}, nil)
	}
	rec, err := p.st.GetTask(ctx, job.Run.TaskID)
	if errors.Is(err, store.ErrNotFound) {
		return p.fail(ctx, job, store.Failure{Error: "task not found (it was deleted)", Permanent: true})
	}
	if err != nil {
		return p.fail(ctx, job, store.Failure{Error: "load task: " + err.Error()})
	}
	p.noteTask(ctx, rec.Name)
	if !rec.Enabled {
		return p.fail(ctx, job, store.Failure{Error: "task is disabled", Permanent: true})
	}
	def, err := task.Parse(rec.Definition)
	if err != nil {
		return p.failTask(ctx, job, store.Failure{Error: "task definition: " + err.Error(), Permanent: true}, &rec)
	}
	ev, err := p.event(ctx, job.Run.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return p.fail(ctx, job, store.Failure{Error: "event not found: " + job.Run.EventID, Permanent: true})
	}
	if err != nil {
		return p.fail(ctx, job, store.Failure{Error: err.Error()})
	}
	p.noteEvent(ctx, ev, false)
	parents, err := p.parents(ctx, ev)
	if err != nil {
		return p.fail(ctx, job, store.Failure{Error: "load parent events: " + err.Error()})
	}
	release := func() {}
	if p.cfg.RenderGate != nil {
		// Wait for render memory before the wall time starts: a run
		// waiting behind others is late, not failed. Only the end of ctx
		// (shutdown, a lost lease) stops the wait; the run is retaken.
		if release, err = p.cfg.RenderGate.Enter(ctx, ev.Topic); err != nil {
			return fmt.Errorf("task run %s: %w", job.Run.ID, err)
		}
	}
	start := time.Now()
	rctx, cancel := context.WithTimeoutCause(ctx, p.cfg.TaskRunTimeout, errWallTime)
	out, rerr := p.cfg.Renderer.RenderTask(rctx, TaskRunInput{
		Task: def, TaskID: rec.ID, TaskCreatedAt: rec.CreatedAt, Event: ev, Parents: parents,
		RunID: job.Run.ID, Attempt: job.Attempt,
	})
	elapsed := time.Since(start)
	cancel()
	release()
	if ctx.Err() != nil {
		return fmt.Errorf("task run %s: %w", job.Run.ID, context.Cause(ctx))
	}
	if elapsed > p.cfg.TaskRunTimeout {
		// The limit holds for the run as a whole, even when a step did
		// not notice the deadline: what it rendered does not count.
		msg := fmt.Sprintf("task run exceeded its wall-time limit of %v (it took %v)", p.cfg.TaskRunTimeout, elapsed.Round(time.Millisecond))
		p.log.Warn("pipeline: limit hit", "task", rec.ID, "run", job.Run.ID, "limit", "wall_time", "err", msg)
		rerr = errors.New(msg)
	}
	logs, err := jsonArray(out.Logs)
	if err != nil {
		return p.failTask(ctx, job, store.Failure{Error: "encode logs: " + err.Error(), Permanent: true}, &rec)
	}
	errs, err := jsonArray(out.Errors)
	if err != nil {
		return p.failTask(ctx, job, store.Failure{Error: "encode errors: " + err.Error(), Permanent: true}, &rec)
	}
	metaMap := value.MapOf(
		"elapsed_time_ms", elapsed.Milliseconds(),
		"perform_action_runs_in_sequence", def.PerformActionRunsInSequence,
		"halt_action_run_sequence_on_error", def.HaltActionRunSequenceOnError,
	)
	var noPerform []any
	for i, a := range out.Actions {
		if a.NoPerformEvent {
			noPerform = append(noPerform, int64(i))
		}
	}
	if len(noPerform) > 0 {
		// The action runs read this to skip their perform events.
		metaMap.Set(metaNoPerformEvent, noPerform)
	}
	info := taskRunInfo{inSeq: def.PerformActionRunsInSequence, halt: def.HaltActionRunSequenceOnError}
	for _, i := range noPerform {
		if info.noPerform == nil {
			info.noPerform = map[int]bool{}
		}
		info.noPerform[int(i.(int64))] = true
	}
	meta, _ := value.ToJSON(metaMap)
	base := store.Failure{Output: out.Text, Logs: logs, Errors: errs, ResultMeta: meta}
	if re := (*run.Error)(nil); errors.As(rerr, &re) && (re.Kind == run.KindLimit || re.Kind == run.KindActions) {
		p.log.Warn("pipeline: limit hit", "task", rec.ID, "run", job.Run.ID, "limit", string(re.Kind), "err", rerr)
	}
	if rerr != nil {
		f := base
		f.Error = rerr.Error()
		f.Permanent = !IsTransient(rerr)
		return p.failTask(ctx, job, f, &rec)
	}
	if len(out.Errors) > 0 {
		f := base
		f.Error = errorObjectsMessage(out.Errors)
		f.Permanent = true
		return p.failTask(ctx, job, f, &rec)
	}
	if len(out.Actions) > p.cfg.MaxActions {
		f := base
		f.Error = fmt.Sprintf("task run rendered %d actions, more than the limit of %d", len(out.Actions), p.cfg.MaxActions)
		p.log.Warn("pipeline: limit hit", "task", rec.ID, "run", job.Run.ID, "limit", "actions", "err", f.Error)
		f.Permanent = true
		return p.failTask(ctx, job, f, &rec)
	}
	key := runKey(job.Run)
	runs := make([]store.NewRun, 0, len(out.Actions))
	objs := make([]any, 0, len(out.Actions))
	for i, a := range out.Actions {
		if err := p.cfg.Actions.Validate(a.Type, a.Options); err != nil {
			f := base
			f.Error = fmt.Sprintf("action %d (%s): %v", i+1, a.Type, err)
			f.Permanent = true
			return p.failTask(ctx, job, f, &rec)
		}
		actMeta := a.Meta
		if _, c := action.SplitControl(a.Options); c.HasMeta && actMeta == nil {
			actMeta = c.Meta
		}
		opts, err := value.ToJSON(a.Options)
		if err != nil {
			f := base
			f.Error = fmt.Sprintf("action %d (%s): options: %v", i+1, a.Type, err)
			f.Permanent = true
			return p.failTask(ctx, job, f, &rec)
		}
		var metaJSON []byte
		if actMeta != nil {
			if metaJSON, err = value.ToJSON(actMeta); err != nil {
				f := base
				f.Error = fmt.Sprintf("action %d (%s): meta: %v", i+1, a.Type, err)
				f.Permanent = true
				return p.failTask(ctx, job, f, &rec)
			}
		}
		runs = append(runs, store.NewRun{
			ID: store.DerivedID(key, "action", fmt.Sprint(i)), Kind: store.KindAction, EventID: ev.ID, TaskID: rec.ID,
			ParentRunID: job.Run.ID, Seq: i, Paused: def.PerformActionRunsInSequence && i > 0,
			ActionType: a.Type, ActionOptions: opts, ActionMeta: metaJSON,
		})
		obj := value.MapOf("type", a.Type, "options", a.Options, "meta", actMeta)
		if a.NoPerformEvent {
			obj.Set(action.ControlPerformEvent, false)
		}
		objs = append(objs, obj)
	}
	result, err := value.ToJSON(objs)
	if err != nil {
		return p.failTask(ctx, job, store.Failure{Error: "encode result: " + err.Error(), Permanent: true}, &rec)
	}
	if len(objs) > 0 && ev.Topic == TopicActionsPerform {
		loop, err := p.repeatsPredecessor(ctx, ev, rec.ID, result)
		if err != nil {
			return p.failTask(ctx, job, store.Failure{Error: "loop check: " + err.Error()}, &rec)
		}
		if loop {
			f := base
			f.Error = "loop protection: this task run rendered the same actions as the task run whose action led to it"
			f.Permanent = true
			return p.failTask(ctx, job, f, &rec)
		}
	}
	children := p.childEvents(out.Actions, p.subscribesTo(rec, TopicActionsPerform))
	depth := len(parents)
	if children > 0 {
		if depth, err = p.depth(ctx, parents, p.cfg.MaxEventGenerations); err != nil {
			return p.failTask(ctx, job, store.Failure{Error: "loop check: " + err.Error()}, &rec)
		}
	}
	if msg := generationError(depth, children, p.cfg.MaxEventGenerations); msg != "" {
		f := base
		f.Error = msg
		f.Permanent = true
		p.log.Warn("pipeline: loop protection", "task", rec.ID, "run", job.Run.ID, "event", ev.ID, "err", msg)
		return p.failTask(ctx, job, f, &rec)
	}
	// The guard counts children made inside a chain (the run's event is
	// itself a child): a runaway loop always is one, while a run answering
	// an outside event may legitimately fan out up to MaxActions.
	if ev.ParentID != "" && !p.guard.take(rec.ID, children, p.clock.Now()) {
		reason := fmt.Sprintf("event-rate guard: the task's runs created child events faster than %d per minute, so the task was paused (disabled) to stop a runaway loop; fix it, then enable it again", p.cfg.MaxChildEventsPerMinute)
		if err := p.pauseTask(ctx, rec.ID, reason); err != nil {
			p.log.Error("pipeline: pause runaway task", "task", rec.ID, "err", err)
		}
		f := base
		f.Error = reason
		f.Permanent = true
		return p.failTask(ctx, job, f, &rec)
	}
	eff := store.Effects{Runs: runs}
	if len(runs) > 0 {
		flagged, err := p.repeatsUpdateRun(ctx, job, ev, result)
		if err != nil {
			return p.failTask(ctx, job, store.Failure{Error: "loop check: " + err.Error()}, &rec)
		}
		if flagged {
			msg := fmt.Sprintf("loop protection: the task run for this %s event rendered the same actions as the previous run of the task for the same resource, so its actions were not performed", ev.Topic)
			p.log.Warn("pipeline: loop protection", "task", rec.ID, "run", job.Run.ID, "event", ev.ID, "err", msg)
			for _, r := range runs {
				eff.Fail = append(eff.Fail, store.RunFailure{RunID: r.ID, Error: msg})
			}
		}
	}
	if err := p.complete(ctx, job, store.Result{
		Output: out.Text, Logs: logs, Errors: errs, Result: result, ResultMeta: meta,
		Effects: eff,
	}); err != nil {
		return err
	}
	if len(runs) > 0 {
		p.taskRuns.put(job.Run.ID, info)
	}
	return nil
}

// errWallTime is the cause of a task run's context ending at its
// wall-time limit.
var errWallTime = errors.New("task run wall-time limit reached")

// failTask records a failed task run attempt, with a mechanic/errors/task
// event when it is final and error events are enabled.
func (p *Pipeline) failTask(ctx context.Context, job store.Job, f store.Failure, rec *store.Task) error {
	if p.cfg.ErrorEvents && rec != nil && p.final(job, f.Permanent) {
		if ev, ok := p.errorEvent(ctx, job, TopicErrorsTask, f.Error, rec, nil); ok {
			f.Effects.Events = append(f.Effects.Events, ev)
		}
	}
	return p.fail(ctx, job, f)
}

// repeatsPredecessor reports whether a task run responding to a
// mechanic/actions/perform event rendered exactly the actions of the task
// run that produced the performed action: Mechanic fails such runs to stop
// endless loops.
func (p *Pipeline) repeatsPredecessor(ctx context.Context, ev store.Event, taskID string, result []byte) (bool, error) {
	v, err := value.FromJSON(ev.Data)
	if err != nil {
		return false, nil
	}
	m, ok := v.(*value.Map)
	if !ok {
		return false, nil
	}
	id, _ := dig(m, "run", "id").(string)
	if id == "" {
		return false, nil
	}
	ar, err := p.st.GetRun(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load action run %s: %w", id, err)
	}
	if ar.TaskID != taskID || ar.ParentRunID == "" {
		return false, nil
	}
	tr, err := p.st.GetRun(ctx, ar.ParentRunID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load task run %s: %w", ar.ParentRunID, err)
	}
	return bytes.Equal(tr.Result, result), nil
}

// dig follows keys through nested hashes.
func dig(m *value.Map, path ...string) any {
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(*value.Map)
		if !ok {
			return nil
		}
		cur, _ = mm.Get(k)
	}
	return cur
}

// parents loads up to MaxParentGenerations ancestors of ev, parent first;
// a pruned ancestor ends the chain.
func (p *Pipeline) parents(ctx context.Context, ev store.Event) ([]store.Event, error) {
	var out []store.Event
	id := ev.ParentID
	for id != "" && len(out) < MaxParentGenerations {
		pe, err := p.event(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("load event %s: %w", id, err)
		}
		out = append(out, pe)
		id = pe.ParentID
	}
	return out, nil
}

func jsonArray(vs []any) ([]byte, error) {
	if vs == nil {
		vs = []any{}
	}
	b, err := value.ToJSON(vs)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}

// errorObjectsMessage summarises the error objects a task rendered.
func errorObjectsMessage(errs []any) string {
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		if s, ok := e.(string); ok {
			parts = append(parts, s)
			continue
		}
		b, err := value.ToJSON(e)
		if err != nil {
			parts = append(parts, value.ToS(e))
			continue
		}
		parts = append(parts, string(b))
	}
	return "task rendered error objects: " + strings.Join(parts, "; ")
}
