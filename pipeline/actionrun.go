package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
)

// EffectPerformer is implemented by action types whose whole effect is a
// write to the store (the cache and event actions): instead of writing, they
// return the write as effects, which the pipeline commits in the same
// transaction as the action run's completion, so that it happens exactly
// once. key is a stable idempotency key for the run, to derive ids from.
type EffectPerformer interface {
	// PerformEffects performs the action as effects to commit.
	PerformEffects(ctx context.Context, req action.Request, key string) (action.Result, store.Effects, error)
}

// actionRun performs one action run and records its outcome.
func (p *Pipeline) actionRun(ctx context.Context, job store.Job) error {
	r := job.Run
	if job.Interrupted {
		p.log.Warn("pipeline: performing an action run again after an interrupted attempt (its side effects may have happened already)",
			"run", r.ID, "task", r.TaskID, "action", r.ActionType, "attempt", job.Attempt)
	}
	rec, err := p.taskHeader(ctx, r.TaskID)
	if err == nil {
		p.noteTask(ctx, rec.Name)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return p.finishAction(ctx, job, nil, outcome{err: "task not found (it was deleted)", halt: true})
	case err != nil:
		return p.fail(ctx, job, store.Failure{Error: "load task: " + err.Error()})
	case !rec.Enabled:
		return p.finishAction(ctx, job, &rec, outcome{err: "task is disabled", halt: true})
	}
	if p.exhausted(job) {
		return p.finishAction(ctx, job, &rec, outcome{err: p.exhaustedMsg(job)})
	}
	opts, err := value.FromJSON(r.ActionOptions)
	if err != nil {
		return p.finishAction(ctx, job, &rec, outcome{err: "action options: " + err.Error()})
	}
	var meta any
	if len(r.ActionMeta) > 0 {
		if meta, err = value.FromJSON(r.ActionMeta); err != nil {
			return p.finishAction(ctx, job, &rec, outcome{err: "action meta: " + err.Error()})
		}
	}
	req := action.Request{
		Type: r.ActionType, Options: opts, Meta: meta, TaskID: r.TaskID, TaskRunID: r.ParentRunID,
		EventID: r.EventID, RunID: r.ID, Attempt: job.Attempt, Secrets: p.cfg.Secrets,
	}
	if r.ActionType == "shopify" {
		req.APIVersion = p.taskAPIVersion(ctx, r.TaskID)
	}
	res, eff, perr := p.perform(ctx, req, runKey(r))
	if ctx.Err() != nil {
		return fmt.Errorf("action run %s: %w", r.ID, context.Cause(ctx))
	}
	if perr != nil {
		permanent := action.Classify(perr) != action.KindTransient
		if !p.final(job, permanent) {
			f := store.Failure{Error: perr.Error()}
			if pr, ok := action.ResultOf(perr); ok {
				f.Result, f.ResultMeta = resultJSON(pr)
			}
			return p.fail(ctx, job, f)
		}
		o := outcome{err: perr.Error()}
		if pr, ok := action.ResultOf(perr); ok {
			o.res, o.hasRes = pr, true
		}
		return p.finishAction(ctx, job, &rec, o)
	}
	err = p.finishAction(ctx, job, &rec, outcome{ok: true, res: res, hasRes: true, eff: eff})
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotInteger):
		// The action's own effects were rejected: the run fails without them.
		return p.finishAction(ctx, job, &rec, outcome{err: r.ActionType + " action: the stored value is not an integer"})
	case errors.Is(err, store.ErrInvalid):
		return p.finishAction(ctx, job, &rec, outcome{err: r.ActionType + " action: rejected by the store: " + err.Error()})
	}
	return err
}

// perform runs the action through the registry, or as effects when the
// performer supports that.
func (p *Pipeline) perform(ctx context.Context, req action.Request, key string) (action.Result, store.Effects, error) {
	perf, ok := p.cfg.Actions.Lookup(req.Type)
	if ep, isEP := perf.(EffectPerformer); ok && isEP {
		if err := p.cfg.Actions.Validate(req.Type, req.Options); err != nil {
			return action.Result{}, store.Effects{}, err
		}
		req.Options, _ = action.SplitControl(req.Options)
		res, eff, err := ep.PerformEffects(ctx, req, key)
		if err == nil {
			if cerr := action.CheckJSON(res.Value); cerr != nil {
				return action.Result{}, store.Effects{}, action.Failed(fmt.Errorf("%s action: result: %w", req.Type, cerr))
			}
		}
		return res, eff, err
	}
	res, err := p.cfg.Actions.Perform(ctx, req)
	return res, store.Effects{}, err
}

// outcome is the final outcome of an action run.
type outcome struct {
	ok     bool
	err    string
	res    action.Result
	hasRes bool
	eff    store.Effects
	// halt fails the rest of a sequence even without
	// halt_action_run_sequence_on_error (the task is gone or disabled).
	halt bool
}

// finishAction records an action run's final outcome with its follow-ups:
// the action's own effects, the mechanic/actions/perform event, the next
// step of a sequence and, on failure, an error event.
func (p *Pipeline) finishAction(ctx context.Context, job store.Job, rec *store.Task, o outcome) error {
	r := job.Run
	eff := o.eff
	var result, resultMeta []byte
	if o.hasRes {
		result, resultMeta = resultJSON(o.res)
	}
	stopped := p.clock.Now()
	opts, _ := value.FromJSON(r.ActionOptions)
	var meta any
	if len(r.ActionMeta) > 0 {
		meta, _ = value.FromJSON(r.ActionMeta)
	}
	rest, _ := action.SplitControl(opts)
	tr, err := p.taskRunInfo(ctx, r)
	if err != nil {
		return p.fail(ctx, job, store.Failure{Error: err.Error()})
	}
	actionObj := func() *value.Map {
		run := p.runObject(job, stopped, o.ok, o.err)
		var rv, rm any
		if o.hasRes {
			rv = o.res.Value
			if o.res.Meta != nil {
				rm = o.res.Meta
			}
		}
		run.Set("result", rv)
		run.Set("result_meta", rm)
		return value.MapOf("type", r.ActionType, "options", rest, "meta", meta, "run", run)
	}
	if rec != nil && rec.Enabled && !tr.noPerform[r.Seq] && p.cfg.Actions.EmitsPerformEvent(r.ActionType, opts) && p.subscribesTo(*rec, TopicActionsPerform) {
		data, err := value.ToJSON(actionObj())
		if err != nil {
			return p.fail(ctx, job, store.Failure{Error: "encode perform event: " + err.Error(), Permanent: true})
		}
		eff.Events = append(eff.Events, store.NewEvent{
			ID: store.DerivedID(runKey(r), "perform"), Topic: TopicActionsPerform, Data: data,
			ParentID: r.EventID, Source: "mechanic", TaskIDs: []string{r.TaskID},
		})
	}
	seq, err := p.sequenceEffects(ctx, r, tr, o.ok, o.halt)
	if err != nil {
		return p.fail(ctx, job, store.Failure{Error: "sequence: " + err.Error()})
	}
	eff.Release = append(eff.Release, seq.Release...)
	eff.Fail = append(eff.Fail, seq.Fail...)
	if o.ok {
		return p.complete(ctx, job, store.Result{Result: result, ResultMeta: resultMeta, Effects: eff})
	}
	if p.cfg.ErrorEvents && rec != nil {
		if ev, ok := p.errorEvent(ctx, job, TopicErrorsAction, o.err, rec, actionObj()); ok {
			eff.Events = append(eff.Events, ev)
		}
	}
	return p.fail(ctx, job, store.Failure{Error: o.err, Permanent: true, Result: result, ResultMeta: resultMeta, Effects: eff})
}

// MetaInterruptedAttempt is the result_meta key set to true on an action
// run performed again after an attempt that was interrupted (its lease
// ended without an outcome, e.g. the process was killed mid-request), so the
// run record shows its side effects may have happened twice.
const MetaInterruptedAttempt = "performed_after_interrupted_attempt"

// markInterrupted adds MetaInterruptedAttempt to an action run's result
// meta when job follows an interrupted attempt; other meta is returned as
// is. Meta that is not a JSON object is kept under "meta".
func markInterrupted(job store.Job, meta []byte) []byte {
	if !job.Interrupted || job.Run.Kind != store.KindAction {
		return meta
	}
	m := map[string]any{}
	if len(meta) > 0 && string(meta) != "null" {
		if err := json.Unmarshal(meta, &m); err != nil {
			var v any
			_ = json.Unmarshal(meta, &v)
			m = map[string]any{"meta": v}
		}
	}
	m[MetaInterruptedAttempt] = true
	out, err := json.Marshal(m)
	if err != nil {
		return meta
	}
	return out
}

func resultJSON(res action.Result) (result, meta []byte) {
	result, err := value.ToJSON(res.Value)
	if err != nil {
		result = nil
	}
	if res.Meta != nil {
		if meta, err = value.ToJSON(res.Meta); err != nil {
			meta = nil
		}
	}
	return result, meta
}

// runObject describes a run as Mechanic's run object (result and
// result_meta are left to the caller).
func (p *Pipeline) runObject(job store.Job, stopped time.Time, ok bool, errMsg string) *value.Map {
	r := job.Run
	loc := p.cfg.Location
	m := value.NewMap(12)
	m.Set("id", r.ID)
	m.Set("ok", ok)
	if ok {
		m.Set("error", nil)
	} else {
		m.Set("error", errMsg)
	}
	m.Set("attempts", int64(job.Attempt))
	m.Set("run_at", formatTime(r.RunAt, loc))
	m.Set("enqueued_at", formatTime(r.CreatedAt, loc))
	m.Set("started_at", formatTime(r.StartedAt, loc))
	m.Set("stopped_at", formatTime(stopped, loc))
	var elapsed int64
	if !r.StartedAt.IsZero() {
		elapsed = max(0, stopped.Sub(r.StartedAt).Milliseconds())
	}
	m.Set("elapsed_time_ms", elapsed)
	return m
}

// metaNoPerformEvent lists, in a task run's result_meta, the indexes of
// its actions rendered with __perform_event: false outside their options.
const metaNoPerformEvent = "actions_without_perform_event"

// taskRunInfo is what an action run needs to know about its task run.
type taskRunInfo struct {
	inSeq, halt bool
	noPerform   map[int]bool
}

// taskRunInfo reads the action run's task run's result_meta.
func (p *Pipeline) taskRunInfo(ctx context.Context, r store.Run) (taskRunInfo, error) {
	var info taskRunInfo
	if r.ParentRunID == "" {
		return info, nil
	}
	if info, ok := p.taskRuns.get(r.ParentRunID); ok {
		return info, nil
	}
	parent, err := p.st.GetRun(ctx, r.ParentRunID)
	if errors.Is(err, store.ErrNotFound) {
		return info, nil
	}
	if err != nil {
		return info, fmt.Errorf("load task run %s: %w", r.ParentRunID, err)
	}
	if len(parent.ResultMeta) == 0 {
		return info, nil
	}
	v, err := value.FromJSON(parent.ResultMeta)
	if err != nil {
		return info, nil
	}
	m, ok := v.(*value.Map)
	if !ok {
		return info, nil
	}
	a, _ := m.Get("perform_action_runs_in_sequence")
	b, _ := m.Get("halt_action_run_sequence_on_error")
	info.inSeq, info.halt = a == true, b == true
	defer func() { p.taskRuns.put(r.ParentRunID, info) }()
	if l, ok := m.Get(metaNoPerformEvent); ok {
		if arr, ok := l.([]any); ok {
			info.noPerform = map[int]bool{}
			for _, e := range arr {
				if n, ok := e.(int64); ok {
					info.noPerform[int(n)] = true
				}
			}
		}
	}
	return info, nil
}

// sequenceEffects releases the next action run of a sequence, or fails the
// rest of it when this run failed and the sequence halts on errors.
func (p *Pipeline) sequenceEffects(ctx context.Context, r store.Run, tr taskRunInfo, ok, forceHalt bool) (store.Effects, error) {
	if !tr.inSeq {
		return store.Effects{}, nil
	}
	halt := tr.halt
	var waiting []store.Run
	f := store.RunFilter{ParentRunID: r.ParentRunID, Kind: store.KindAction, Status: store.StatusPending, Page: store.Page{Limit: store.MaxPageLimit}}
	for {
		page, next, err := p.st.ListRuns(ctx, f)
		if err != nil {
			return store.Effects{}, fmt.Errorf("list sequence of %s: %w", r.ParentRunID, err)
		}
		for _, s := range page {
			if s.Paused && s.Seq > r.Seq {
				waiting = append(waiting, s)
			}
		}
		if next == "" {
			break
		}
		f.Page.Cursor = next
	}
	if len(waiting) == 0 {
		return store.Effects{}, nil
	}
	slices.SortFunc(waiting, func(a, b store.Run) int { return a.Seq - b.Seq })
	if !ok && (halt || forceHalt) {
		var eff store.Effects
		for _, w := range waiting {
			eff.Fail = append(eff.Fail, store.RunFailure{RunID: w.ID,
				Error: fmt.Sprintf("not performed: action run %d of this sequence failed (%s)", r.Seq+1, shorten(r.ID))})
		}
		return eff, nil
	}
	return store.Effects{Release: []string{waiting[0].ID}}, nil
}

func shorten(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// taskAPIVersion returns the Shopify API version the task pins ("" for the
// connection's default, also when the task cannot be read: the action run
// then uses the default rather than failing for a missing task header).
func (p *Pipeline) taskAPIVersion(ctx context.Context, taskID string) string {
	if taskID == "" {
		return ""
	}
	rec, err := p.st.GetTask(ctx, taskID)
	if err != nil {
		return ""
	}
	var head struct {
		Version string `json:"shopify_api_version"`
	}
	if json.Unmarshal(rec.Definition, &head) != nil {
		return ""
	}
	return head.Version
}
