package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/pipeline"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// eventJSON is the API form of an event.
type eventJSON struct {
	ID               string          `json:"id"`
	Topic            string          `json:"topic"`
	Data             json.RawMessage `json:"data"`
	ParentID         *string         `json:"parent_id"`
	Source           string          `json:"source"`
	WebhookID        string          `json:"webhook_id,omitempty"`
	WebhookRequestID string          `json:"webhook_request_id,omitempty"`
	TaskIDs          []string        `json:"task_ids,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
	RunAt            time.Time       `json:"run_at"`
}

func eventOut(e store.Event) eventJSON {
	out := eventJSON{
		ID: e.ID, Topic: e.Topic, Data: e.Data, Source: e.Source, WebhookID: e.WebhookID,
		WebhookRequestID: e.RequestID, TaskIDs: e.TaskIDs, CreatedAt: e.CreatedAt, RunAt: e.RunAt,
	}
	if len(out.Data) == 0 {
		out.Data = json.RawMessage("null")
	}
	if e.ParentID != "" {
		p := e.ParentID
		out.ParentID = &p
	}
	return out
}

// Manual-trigger topics that deliver to one chosen task.
const (
	topicUserTrigger = "mechanic/user/trigger"
	topicUserText    = "mechanic/user/text"
	topicUserForm    = "mechanic/user/form"
)

// createEvent creates an event from the API: any valid topic with data;
// task_id (or task_ids) restricts delivery, and is required for the manual
// trigger topics mechanic/user/trigger, mechanic/user/text (data: a string)
// and mechanic/user/form (data: an object).
func (s *Service) createEvent(r *http.Request) (int, any, error) {
	if err := s.checkIngest(r); err != nil {
		return 0, nil, err
	}
	var in struct {
		Topic   string          `json:"topic"`
		Data    json.RawMessage `json:"data"`
		TaskID  string          `json:"task_id"`
		TaskIDs []string        `json:"task_ids"`
		RunAt   *time.Time      `json:"run_at"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if !task.ValidTopic(in.Topic) {
		return 0, nil, errorf(http.StatusBadRequest, "topic", "topic must look like domain/subject/verb, got %q", in.Topic)
	}
	ids := append([]string{}, in.TaskIDs...)
	if in.TaskID != "" {
		ids = append(ids, in.TaskID)
	}
	data := in.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	switch in.Topic {
	case topicUserTrigger, topicUserText, topicUserForm:
		if len(ids) == 0 {
			return 0, nil, errorf(http.StatusBadRequest, "task_id", "%s needs the task_id of the task to run", in.Topic)
		}
	}
	var probe any
	_ = json.Unmarshal(data, &probe)
	switch in.Topic {
	case topicUserText:
		if _, ok := probe.(string); !ok {
			return 0, nil, errorf(http.StatusBadRequest, "data", "%s data must be a string", in.Topic)
		}
	case topicUserForm:
		if _, ok := probe.(map[string]any); !ok {
			return 0, nil, errorf(http.StatusBadRequest, "data", "%s data must be an object of form fields", in.Topic)
		}
	}
	// The engine renders data nested up to value.MaxJSONNesting levels;
	// deeper data would fail every task run, so it is refused here.
	if _, err := value.FromJSON(data); err != nil {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "data", "event data cannot be rendered by tasks (at most %d levels of nested arrays and objects): %v", value.MaxJSONNesting, err)
	}
	trigger := strings.HasPrefix(in.Topic, "mechanic/user/")
	for i, id := range ids {
		field := "task_id"
		if i < len(in.TaskIDs) {
			field = fmt.Sprintf("task_ids[%d]", i)
		}
		t, err := s.st.GetTask(r.Context(), id)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return 0, nil, errorf(http.StatusBadRequest, field, "task %q not found", id)
			}
			return 0, nil, fmt.Errorf("get task: %w", err)
		}
		if !trigger {
			continue
		}
		if !t.Enabled {
			return 0, nil, errorf(http.StatusConflict, field, "task %q is disabled; enable it before triggering it with %s", id, in.Topic)
		}
		if !subscribed(t, in.Topic) {
			return 0, nil, errorf(http.StatusUnprocessableEntity, field, "task %q does not subscribe to %s (its subscriptions: %s), so the event would not run it", id, in.Topic, strings.Join(t.Subscriptions, ", "))
		}
	}
	ne := store.NewEvent{Topic: in.Topic, Data: data, Source: sourceUser, TaskIDs: ids}
	if in.RunAt != nil {
		ne.RunAt = *in.RunAt
	}
	evs, err := s.st.InsertEvents(r.Context(), []store.NewEvent{ne})
	if err != nil {
		return 0, nil, fmt.Errorf("insert event: %w", err)
	}
	if len(evs) != 1 {
		return 0, nil, fmt.Errorf("insert event: got %d events back", len(evs))
	}
	s.wake()
	return http.StatusCreated, eventOut(evs[0]), nil
}

func (s *Service) listEvents(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	f := store.EventFilter{Topic: q.Get("topic"), ParentID: q.Get("parent_id"), TaskID: q.Get("task_id")}
	body, err := listPaged(s.cfg.MaxListBytes, "events", p,
		func(p store.Page) ([]store.Event, string, error) { f.Page = p; return s.st.ListEvents(r.Context(), f) },
		func(e store.Event) string { return store.EncodeCursor(e.CreatedAt, e.ID) },
		func(e store.Event) (any, error) { return eventOut(e), nil })
	if err != nil {
		return 0, nil, pageError("list events", err)
	}
	return http.StatusOK, body, nil
}

func (s *Service) getEvent(r *http.Request) (int, any, error) {
	e, err := s.st.GetEvent(r.Context(), pathID(r))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("event", pathID(r))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("get event: %w", err)
	}
	return http.StatusOK, eventOut(e), nil
}

// runJSON is the API form of a run.
type runJSON struct {
	ID            string          `json:"id"`
	Kind          store.RunKind   `json:"kind"`
	Status        store.RunStatus `json:"status"`
	OK            bool            `json:"ok"`
	EventID       string          `json:"event_id"`
	TaskID        string          `json:"task_id,omitempty"`
	ParentRunID   string          `json:"parent_run_id,omitempty"`
	Seq           *int            `json:"seq,omitempty"`
	Paused        bool            `json:"paused,omitempty"`
	Attempts      int             `json:"attempts"`
	RunAt         time.Time       `json:"run_at"`
	EnqueuedAt    time.Time       `json:"enqueued_at"`
	NextAttemptAt any             `json:"next_attempt_at"`
	StartedAt     any             `json:"started_at"`
	StoppedAt     any             `json:"stopped_at"`
	ElapsedTimeMS *int64          `json:"elapsed_time_ms"`
	Error         *string         `json:"error"`
	Output        *string         `json:"output,omitempty"`
	Logs          json.RawMessage `json:"logs"`
	Errors        json.RawMessage `json:"errors"`
	Result        json.RawMessage `json:"result"`
	ResultMeta    json.RawMessage `json:"result_meta"`
	Action        *actionJSON     `json:"action,omitempty"`
	// AttemptsHistory and ReperformedAfterInterruption are given when one
	// run is read (GET /v1/runs/{id} and the per-kind paths), not in lists.
	AttemptsHistory              *[]attemptJSON `json:"attempts_history,omitempty"`
	ReperformedAfterInterruption *bool          `json:"reperformed_after_interruption,omitempty"`
}

// attemptJSON is one attempt of a run.
type attemptJSON struct {
	Attempt    int64   `json:"attempt"`
	Node       *string `json:"node_id"`
	StartedAt  string  `json:"started_at"`
	FinishedAt *string `json:"finished_at"`
	Outcome    string  `json:"outcome"`
	Error      *string `json:"error"`
}

// attemptsOut renders a run's attempt history and tells whether the run
// was performed again after an interrupted attempt.
func attemptsOut(as []store.Attempt) ([]attemptJSON, bool) {
	out := make([]attemptJSON, 0, len(as))
	for _, a := range as {
		j := attemptJSON{Attempt: a.Number, StartedAt: a.StartedAt.UTC().Format(time.RFC3339Nano), Outcome: string(a.Outcome)}
		if a.Outcome == "" {
			j.Outcome = "running"
		}
		if a.Node != "" {
			n := a.Node
			j.Node = &n
		}
		if !a.FinishedAt.IsZero() {
			f := a.FinishedAt.UTC().Format(time.RFC3339Nano)
			j.FinishedAt = &f
		}
		if a.Error != "" {
			e := a.Error
			j.Error = &e
		}
		out = append(out, j)
	}
	return out, store.Reperformed(as)
}

// actionJSON is the action of an action run.
type actionJSON struct {
	Type    string          `json:"type"`
	Options json.RawMessage `json:"options"`
	Meta    json.RawMessage `json:"meta"`
}

func rawOr(b json.RawMessage, def string) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage(def)
	}
	return b
}

func runOut(r store.Run) runJSON {
	out := runJSON{
		ID: r.ID, Kind: r.Kind, Status: r.Status, OK: r.Status == store.StatusSuccess,
		EventID: r.EventID, TaskID: r.TaskID, ParentRunID: r.ParentRunID, Paused: r.Paused,
		Attempts: r.Attempts, RunAt: r.RunAt, EnqueuedAt: r.CreatedAt,
		NextAttemptAt: timeOrNil(r.NextAttemptAt), StartedAt: timeOrNil(r.StartedAt), StoppedAt: timeOrNil(r.StoppedAt),
		Logs: rawOr(r.Logs, "[]"), Errors: rawOr(r.Errors, "[]"),
		Result: rawOr(r.Result, "null"), ResultMeta: rawOr(r.ResultMeta, "null"),
	}
	if !r.StartedAt.IsZero() && !r.StoppedAt.IsZero() {
		ms := r.StoppedAt.Sub(r.StartedAt).Milliseconds()
		out.ElapsedTimeMS = &ms
	}
	if r.Error != "" {
		e := r.Error
		out.Error = &e
	}
	switch r.Kind {
	case store.KindTask:
		o := r.Output
		out.Output = &o
	case store.KindAction:
		seq := r.Seq
		out.Seq = &seq
		out.Action = &actionJSON{Type: r.ActionType, Options: rawOr(r.ActionOptions, "null"), Meta: rawOr(r.ActionMeta, "null")}
	}
	return out
}

// listRuns lists runs of a kind ("" for all), filtered by task_id,
// event_id, parent_run_id and status.
func (s *Service) listRuns(kind store.RunKind) apiHandler {
	return func(r *http.Request) (int, any, error) {
		p, err := page(r)
		if err != nil {
			return 0, nil, err
		}
		q := r.URL.Query()
		f := store.RunFilter{
			Kind: kind, TaskID: q.Get("task_id"), EventID: q.Get("event_id"),
			ParentRunID: q.Get("parent_run_id"), Status: store.RunStatus(q.Get("status")), Page: p,
		}
		switch f.Status {
		case "", store.StatusPending, store.StatusRunning, store.StatusSuccess, store.StatusFailed:
		default:
			return 0, nil, errorf(http.StatusBadRequest, "status", "status must be pending, running, success or failed")
		}
		name := "runs"
		if kind != "" {
			name = string(kind) + "s"
		} else if k := store.RunKind(q.Get("kind")); k != "" {
			if !k.Valid() {
				return 0, nil, errorf(http.StatusBadRequest, "kind", "kind must be event_run, task_run or action_run")
			}
			f.Kind = k
		}
		body, err := listPaged(s.cfg.MaxListBytes, name, p,
			func(p store.Page) ([]store.Run, string, error) { f.Page = p; return s.st.ListRuns(r.Context(), f) },
			func(run store.Run) string { return store.EncodeCursor(run.CreatedAt, run.ID) },
			func(run store.Run) (any, error) { return runOut(run), nil })
		if err != nil {
			return 0, nil, pageError("list runs", err)
		}
		return http.StatusOK, body, nil
	}
}

// getRun answers a run; under /v1/task_runs/ (and the other kinds) the
// run must be of that kind.
func (s *Service) getRun(kind store.RunKind) apiHandler {
	return func(r *http.Request) (int, any, error) {
		run, err := s.st.GetRun(r.Context(), pathID(r))
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, notFound("run", pathID(r))
		}
		if err != nil {
			return 0, nil, fmt.Errorf("get run: %w", err)
		}
		if kind != "" && run.Kind != kind {
			return 0, nil, wrongKind(pathID(r), run.Kind, kind)
		}
		as, err := s.st.RunAttempts(r.Context(), run.ID)
		if err != nil {
			return 0, nil, fmt.Errorf("get run: %w", err)
		}
		out := runOut(run)
		hist, reperformed := attemptsOut(as)
		out.AttemptsHistory, out.ReperformedAfterInterruption = &hist, &reperformed
		return http.StatusOK, out, nil
	}
}

// wrongKind answers a run addressed under another kind's path.
func wrongKind(id string, got, want store.RunKind) *apiError {
	return errorf(http.StatusNotFound, "id", "%s %q not found (it is a %s: use /v1/%ss/%s)", strings.ReplaceAll(string(want), "_", " "), id,
		strings.ReplaceAll(string(got), "_", " "), got, id)
}

// retryRun performs a manual retry under Mechanic's rules (one decision:
// pipeline.CanRetry): only failed action runs, task runs that failed or
// produced no actions, event runs that failed or started no task runs;
// 409 with the reason otherwise. The run must be of the URL's kind.
func (s *Service) retryRun(kind store.RunKind) apiHandler {
	return func(r *http.Request) (int, any, error) {
		id := pathID(r)
		run, err := pipeline.RetryRun(r.Context(), s.st, id, kind)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return 0, nil, notFound("run", id)
		case errors.Is(err, pipeline.ErrWrongKind):
			cur, gerr := s.st.GetRun(r.Context(), id)
			if gerr != nil {
				return 0, nil, fmt.Errorf("get run: %w", gerr)
			}
			return 0, nil, wrongKind(id, cur.Kind, kind)
		case errors.Is(err, pipeline.ErrNotRetryable):
			return 0, nil, errorf(http.StatusConflict, "id", "run %q cannot be retried: %s", id, retryReason(err))
		case errors.Is(err, store.ErrConflict):
			return 0, nil, errorf(http.StatusConflict, "id", "run %q is not finished; only finished runs can be retried", id)
		case err != nil:
			return 0, nil, fmt.Errorf("retry run: %w", err)
		}
		s.log.InfoContext(r.Context(), "run retried", "run", id, "kind", run.Kind)
		s.wake()
		return http.StatusOK, runOut(run), nil
	}
}

// retryReason is the reason part of a CanRetry error.
func retryReason(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, pipeline.ErrNotRetryable.Error()+": "); ok {
		return after
	}
	return msg
}

// cancelEvent cancels a queued event (as Mechanic's event page does): its
// event run, still pending, fails with "cancelled" and creates no task
// runs. An event whose run already started or finished answers 409.
func (s *Service) cancelEvent(r *http.Request) (int, any, error) {
	id := pathID(r)
	if _, err := s.st.GetEvent(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("event", id)
	} else if err != nil {
		return 0, nil, fmt.Errorf("get event: %w", err)
	}
	// An event's run has the event's id.
	run, err := s.st.CancelRun(r.Context(), id, "cancelled by a user before it was performed")
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil, notFound("event run", id)
	case errors.Is(err, store.ErrConflict):
		cur, gerr := s.st.GetRun(r.Context(), id)
		if gerr != nil {
			return 0, nil, fmt.Errorf("get run: %w", gerr)
		}
		return 0, nil, errorf(http.StatusConflict, "id", "event %q cannot be cancelled: its event run is %s; only queued events can be cancelled", id, cur.Status)
	case err != nil:
		return 0, nil, fmt.Errorf("cancel event: %w", err)
	}
	return http.StatusOK, runOut(run), nil
}

// subscribed reports whether a task subscribes to topic (with or without
// a delay).
func subscribed(t store.Task, topic string) bool {
	for _, line := range t.Subscriptions {
		if sub, err := task.ParseSubscription(line); err == nil && sub.Topic == topic {
			return true
		}
	}
	return false
}
