package pipeline

import (
	"context"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
)

// errorEvent builds the mechanic/errors/{event,task,action} event of a run
// that failed for good (docs: platform/error-handling.md): data holds
// message, event (with the event run for event errors), task (with the
// task run for task errors) and, for action errors, action. Runs responding to error events raise none, which keeps
// an error reporter from feeding on its own failures.
func (p *Pipeline) errorEvent(ctx context.Context, job store.Job, topic, msg string, rec *store.Task, actionObj *value.Map) (store.NewEvent, bool) {
	r := job.Run
	ev, err := p.event(ctx, r.EventID)
	if err != nil {
		p.log.Warn("pipeline: error event: load event", "run", r.ID, "err", err)
		return store.NewEvent{}, false
	}
	if strings.HasPrefix(ev.Topic, errorsPrefix) {
		return store.NewEvent{}, false
	}
	evObj := value.MapOf("id", ev.ID, "topic", ev.Topic, "source", ev.Source,
		"created_at", formatTime(ev.CreatedAt, p.cfg.Location))
	if ev.RequestID != "" {
		evObj.Set("webhook_request_id", ev.RequestID)
	} else {
		evObj.Set("webhook_request_id", nil)
	}
	data := value.MapOf("message", msg, "event", evObj)
	run := p.runObject(job, p.clock.Now(), false, msg)
	run.Set("result", nil)
	run.Set("result_meta", nil)
	if rec != nil {
		subs := make([]any, len(rec.Subscriptions))
		for i, s := range rec.Subscriptions {
			subs[i] = s
		}
		taskObj := value.MapOf("id", rec.ID, "name", rec.Name, "enabled", rec.Enabled, "subscriptions", subs,
			"created_at", formatTime(rec.CreatedAt, p.cfg.Location), "updated_at", formatTime(rec.UpdatedAt, p.cfg.Location))
		data.Set("task", taskObj)
		if actionObj == nil {
			taskObj.Set("run", run)
		}
	} else if actionObj == nil {
		evObj.Set("run", run) // an event run's error
	}
	if actionObj != nil {
		data.Set("action", actionObj)
	}
	b, err := value.ToJSON(data)
	if err != nil {
		p.log.Warn("pipeline: error event: encode", "run", r.ID, "err", err)
		return store.NewEvent{}, false
	}
	return store.NewEvent{
		ID: store.DerivedID(runKey(r), "error"), Topic: topic, Data: b, ParentID: r.EventID, Source: "mechanic",
	}, true
}
