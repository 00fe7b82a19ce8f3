package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// envelopeFields are the task sync fields that are not part of the task
// document; they are accepted (and set aside) in request bodies so that a
// task read from the API can be sent back as is.
var envelopeFields = []string{"id", "enabled", "created_at", "updated_at", "content_hash", "previous_content_hash", "force", "event_topics", "paused", "warnings"}

// taskBody is a parsed task request body.
type taskBody struct {
	task         *task.Task
	definition   json.RawMessage
	previousHash string
	force        bool
}

// parseTaskBody reads a task document, bare or wrapped as {"task": {...}},
// with optional envelope fields. With checkSyntax, Liquid syntax errors
// in any of the task's templates refuse it (422, each with its line).
func parseTaskBody(ctx context.Context, raw []byte, checkSyntax bool) (*taskBody, error) {
	v, err := value.FromJSON(raw)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "", "request body is not valid JSON: %v", err)
	}
	doc, ok := v.(*value.Map)
	if !ok {
		return nil, errorf(http.StatusBadRequest, "", "request body must be a task JSON object")
	}
	out := &taskBody{}
	changed := false
	if inner, ok := doc.Get("task"); ok && !doc.Has("script") {
		m, ok := inner.(*value.Map)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "task", "task must be an object")
		}
		if err := out.takeEnvelope(doc); err != nil {
			return nil, err
		}
		doc, changed = m, true
	}
	for _, f := range envelopeFields {
		if doc.Has(f) {
			changed = true
		}
	}
	if err := out.takeEnvelope(doc); err != nil {
		return nil, err
	}
	if changed {
		if raw, err = value.ToJSON(doc); err != nil {
			return nil, errorf(http.StatusBadRequest, "", "task document: %v", err)
		}
	}
	t, err := task.Parse(raw)
	if err != nil {
		var pe *task.ParseError
		if errors.As(err, &pe) {
			return nil, errorf(http.StatusBadRequest, pe.Field, "%v", pe)
		}
		return nil, errorf(http.StatusBadRequest, "", "%v", err)
	}
	if checkSyntax {
		if probs := syntaxProblems(t); len(probs) > 0 {
			return nil, problemsError("the task has Liquid syntax errors and was not saved", probs)
		}
	}
	if err := ResolveSubscriptions(ctx, t); err != nil {
		var fe *task.ParseError
		if errors.As(err, &fe) {
			return nil, errorf(http.StatusBadRequest, fe.Field, "%v", err)
		}
		return nil, errorf(http.StatusBadRequest, "", "%v", err)
	}
	def, err := t.MarshalJSON()
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "", "%v", err)
	}
	out.task, out.definition = t, def
	return out, nil
}

// takeEnvelope removes the envelope fields from doc, keeping the update guards.
func (b *taskBody) takeEnvelope(doc *value.Map) error {
	if v, ok := doc.Get("previous_content_hash"); ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return errorf(http.StatusBadRequest, "previous_content_hash", "previous_content_hash must be a string")
		}
		b.previousHash = s
	}
	if v, ok := doc.Get("force"); ok && v != nil {
		f, ok := v.(bool)
		if !ok {
			return errorf(http.StatusBadRequest, "force", "force must be true or false")
		}
		b.force = f
	}
	for _, f := range envelopeFields {
		doc.Delete(f)
	}
	return nil
}

// contentHash is the hex SHA-256 of a stored task definition.
func contentHash(def json.RawMessage) string {
	sum := sha256.Sum256(def)
	return hex.EncodeToString(sum[:])
}

// taskOut is the API form of a task: its id, the task document's fields,
// then enabled, timestamps and content hash.
func taskOut(t store.Task) (json.RawMessage, error) {
	return taskOutPaused(t, nil)
}

// taskOutPaused is taskOut with the task's pause record (from the
// event-rate guard), shown as "paused" when there is one.
func taskOutPaused(t store.Task, pause json.RawMessage) (json.RawMessage, error) {
	out := value.NewMap(20)
	out.Set("id", t.ID)
	v, err := value.FromJSON(t.Definition)
	if err != nil {
		return nil, fmt.Errorf("task %s: stored definition: %w", t.ID, err)
	}
	if doc, ok := v.(*value.Map); ok {
		doc.Each(func(k string, v any) bool {
			out.Set(k, v)
			return true
		})
	}
	out.Set("subscriptions", stringsAny(t.Subscriptions))
	out.Set("enabled", t.Enabled)
	out.Set("created_at", timeOrNil(t.CreatedAt))
	out.Set("updated_at", timeOrNil(t.UpdatedAt))
	out.Set("content_hash", contentHash(t.Definition))
	if len(pause) > 0 && !t.Enabled {
		pv, err := value.FromJSON(pause)
		if err != nil {
			return nil, fmt.Errorf("task %s: pause record: %w", t.ID, err)
		}
		out.Set("paused", pv)
	}
	raw, err := value.ToJSON(out)
	if err != nil {
		return nil, fmt.Errorf("task %s: encode: %w", t.ID, err)
	}
	return raw, nil
}

func stringsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// ResolveSubscriptions checks a task's subscriptions. A task whose
// document lists no subscriptions but has a subscriptions template gets the
// template rendered with its options (as Mechanic does when a task is
// saved); otherwise the listed subscriptions are kept as they are, which
// is what a task export carries. Problems are *task.ParseError values
// naming the field.
func ResolveSubscriptions(ctx context.Context, t *task.Task) error {
	if len(t.Subscriptions) == 0 && t.SubscriptionsTemplate != nil && strings.TrimSpace(*t.SubscriptionsTemplate) != "" {
		subs, err := run.RenderSubscriptions(ctx, dialect.NewEngine(dialect.Options{}), t, nil)
		if err != nil {
			return &task.ParseError{Field: task.FieldSubscriptionsTemplate, Err: err}
		}
		t.Subscriptions = make([]string, len(subs))
		for i, sub := range subs {
			t.Subscriptions[i] = sub.String()
		}
		return nil
	}
	if _, err := t.ParsedSubscriptions(); err != nil {
		return &task.ParseError{Field: task.FieldSubscriptions, Err: err}
	}
	return nil
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// CreateTask stores a parsed task, disabled, as POST /v1/tasks does; with
// an idempotency key already used, it returns the earlier task and
// created=false. A UUID key becomes the task's id, as in Mechanic.
func CreateTask(ctx context.Context, st store.Tasks, t *task.Task, idempotencyKey string) (store.Task, bool, error) {
	def, err := t.MarshalJSON()
	if err != nil {
		return store.Task{}, false, fmt.Errorf("create task: %w", err)
	}
	nt := store.NewTask{
		Name:           t.Name,
		Subscriptions:  append([]string{}, t.Subscriptions...),
		Definition:     def,
		IdempotencyKey: idempotencyKey,
	}
	if uuidPattern.MatchString(idempotencyKey) {
		nt.ID = strings.ToLower(idempotencyKey)
	}
	st2, created, err := st.CreateTask(ctx, nt)
	if err != nil {
		return store.Task{}, false, fmt.Errorf("create task %q: %w", t.Name, err)
	}
	return st2, created, nil
}

func (s *Service) createTask(r *http.Request) (int, any, error) {
	raw, err := readBody(r)
	if err != nil {
		return 0, nil, err
	}
	b, err := parseTaskBody(r.Context(), raw, true)
	if err != nil {
		return 0, nil, err
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	t, created, err := CreateTask(r.Context(), s.st, b.task, key)
	if err != nil {
		return 0, nil, err
	}
	out, err := withWarnings(t, append(taskWarnings(b.task, s.actionTypes()), s.graphqlWarnings(r.Context(), b.task)...))
	if err != nil {
		return 0, nil, err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return status, out, nil
}

// taskResponse answers 200 with the task in its API shape.
func taskResponse(t store.Task) (int, any, error) {
	out, err := taskOut(t)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

func (s *Service) loadTask(ctx context.Context, id string) (store.Task, error) {
	t, err := s.st.GetTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return t, notFound("task", id)
	}
	if err != nil {
		return t, fmt.Errorf("get task: %w", err)
	}
	return t, nil
}

func (s *Service) getTask(r *http.Request) (int, any, error) {
	t, err := s.loadTask(r.Context(), pathID(r))
	if err != nil {
		return 0, nil, err
	}
	pauses, err := s.pauses(r.Context())
	if err != nil {
		return 0, nil, err
	}
	out, err := taskOutPaused(t, pauses[t.ID])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

func (s *Service) listTasks(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	f := store.TaskFilter{Page: p}
	switch e := r.URL.Query().Get("enabled"); e {
	case "":
	case "true", "false":
		on := e == "true"
		f.Enabled = &on
	default:
		return 0, nil, errorf(http.StatusBadRequest, "enabled", "enabled must be true or false")
	}
	pauses, err := s.pauses(r.Context())
	if err != nil {
		return 0, nil, err
	}
	body, err := listPaged(s.cfg.MaxListBytes, "tasks", p,
		func(p store.Page) ([]store.Task, string, error) { f.Page = p; return s.st.ListTasks(r.Context(), f) },
		func(t store.Task) string { return store.EncodeCursor(t.CreatedAt, t.ID) },
		func(t store.Task) (any, error) { return taskOutPaused(t, pauses[t.ID]) })
	if err != nil {
		return 0, nil, pageError("list tasks", err)
	}
	return http.StatusOK, body, nil
}

func listBody(name string, items any, next string) map[string]any {
	out := map[string]any{name: items}
	if next != "" {
		out["next_cursor"] = next
	}
	return out
}

// updateTask replaces a task's document (never its enabled flag), as
// Mechanic's task sync API: the request needs previous_content_hash or
// force: true (else 400). With previous_content_hash, the update applies
// only if the stored task still has that hash (else 409); with force it
// overwrites. The check and the
// write are one store transaction, so concurrent writers never make an
// update fail spuriously.
func (s *Service) updateTask(r *http.Request) (int, any, error) {
	defer s.tasksChanged()
	raw, err := readBody(r)
	if err != nil {
		return 0, nil, err
	}
	b, err := parseTaskBody(r.Context(), raw, true)
	if err != nil {
		return 0, nil, err
	}
	id := pathID(r)
	if b.previousHash == "" && !b.force {
		return 0, nil, errorf(http.StatusBadRequest, "previous_content_hash",
			"an update needs previous_content_hash (the content_hash of the task as you last read it) or force: true to overwrite whatever is there")
	}
	var check func(store.Task) error
	if !b.force {
		check = func(cur store.Task) error {
			if h := contentHash(cur.Definition); h != b.previousHash {
				return errStaleHash
			}
			return nil
		}
	}
	t, err := s.st.UpdateTaskContent(r.Context(), id, b.task.Name, append([]string{}, b.task.Subscriptions...), b.definition, check)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil, notFound("task", id)
	case errors.Is(err, errStaleHash):
		return 0, nil, errorf(http.StatusConflict, "previous_content_hash", "the task changed since the content hash was read (previous_content_hash %q is not the current content_hash); read it again, or send force: true to overwrite", b.previousHash)
	case err != nil:
		return 0, nil, fmt.Errorf("update task: %w", err)
	}
	out, err := withWarnings(t, append(taskWarnings(b.task, s.actionTypes()), s.graphqlWarnings(r.Context(), b.task)...))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// errStaleHash refuses a conditional update whose hash is not current.
var errStaleHash = errors.New("stale content hash")

// withWarnings answers a saved task with its validation warnings.
func withWarnings(t store.Task, warnings []problem) (json.RawMessage, error) {
	raw, err := taskOut(t)
	if err != nil {
		return nil, err
	}
	v, err := value.FromJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", t.ID, err)
	}
	m := v.(*value.Map)
	ws := make([]any, len(warnings))
	for i, w := range warnings {
		wm := value.MapOf("field", w.Field, "message", w.Message)
		if w.Line > 0 {
			wm.Set("line", int64(w.Line))
		}
		ws[i] = wm
	}
	m.Set("warnings", ws)
	out, err := value.ToJSON(m)
	if err != nil {
		return nil, fmt.Errorf("task %s: encode: %w", t.ID, err)
	}
	return out, nil
}

func (s *Service) deleteTask(r *http.Request) (int, any, error) {
	defer s.tasksChanged()
	err := s.st.DeleteTask(r.Context(), pathID(r))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("task", pathID(r))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("delete task: %w", err)
	}
	return http.StatusNoContent, nil, nil
}

// enableTask enables or disables a task. Only the enabled flag is written,
// in one store write, so it never fails because of concurrent updates.
// Enabling checks the stored task in that write: Liquid syntax errors,
// empty required options and invalid option values refuse it (422,
// naming each); it also forgets a pause by the event-rate guard.
func (s *Service) enableTask(on bool) apiHandler {
	return func(r *http.Request) (int, any, error) {
		id := pathID(r)
		t, probs, err := s.setTaskEnabled(r.Context(), id, on)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return 0, nil, notFound("task", id)
		case errors.Is(err, errCannotEnable):
			return 0, nil, problemsError("the task cannot be enabled", probs)
		case err != nil:
			return 0, nil, err
		}
		return taskResponse(t)
	}
}

// SetTaskEnabled enables or disables a task as the task API does: in one
// checked write that refuses enabling a task with problems (returned,
// with an error wrapping ErrCannotEnable), and clearing the pause of a
// task the event-rate guard stopped.
func (s *Service) SetTaskEnabled(ctx context.Context, id string, on bool) (store.Task, []TaskProblem, error) {
	t, probs, err := s.setTaskEnabled(ctx, id, on)
	return t, taskProblems(probs), err
}

// ErrCannotEnable is wrapped by SetTaskEnabled's error for a task whose
// problems refuse enabling it.
var ErrCannotEnable = errCannotEnable

func (s *Service) setTaskEnabled(ctx context.Context, id string, on bool) (store.Task, []problem, error) {
	var probs []problem
	var check func(store.Task) error
	if on {
		now := time.Now()
		check = func(cur store.Task) error {
			def, err := task.Parse(cur.Definition)
			if err != nil {
				return fmt.Errorf("stored task definition: %w", err)
			}
			if probs = enableProblems(def, now); len(probs) > 0 {
				return errCannotEnable
			}
			return nil
		}
	}
	t, err := s.st.SetTaskEnabledChecked(ctx, id, on, check)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, errCannotEnable) {
			return t, probs, err
		}
		return t, probs, fmt.Errorf("set task enabled: %w", err)
	}
	if on {
		if err := s.clearPause(ctx, id); err != nil {
			return t, nil, err
		}
	}
	s.tasksChanged()
	return t, nil, nil
}

// errCannotEnable refuses enabling a task with problems.
var errCannotEnable = errors.New("task cannot be enabled")

func (s *Service) previewTask(r *http.Request) (int, any, error) {
	raw, err := readBody(r)
	if err != nil {
		return 0, nil, err
	}
	b, err := parseTaskBody(r.Context(), raw, false)
	if err != nil {
		return 0, nil, err
	}
	return s.preview(r, b.task)
}

func (s *Service) previewSavedTask(r *http.Request) (int, any, error) {
	raw, err := readBody(r)
	if err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(string(raw)) != "" {
		b, err := parseTaskBody(r.Context(), raw, false)
		if err != nil {
			return 0, nil, err
		}
		if _, err := s.loadTask(r.Context(), pathID(r)); err != nil {
			return 0, nil, err
		}
		return s.preview(r, b.task)
	}
	cur, err := s.loadTask(r.Context(), pathID(r))
	if err != nil {
		return 0, nil, err
	}
	t, err := task.Parse(cur.Definition)
	if err != nil {
		return 0, nil, fmt.Errorf("stored task %s: %w", cur.ID, err)
	}
	return s.preview(r, t)
}

func (s *Service) preview(r *http.Request, t *task.Task) (int, any, error) {
	if s.cfg.Previewer == nil {
		return 0, nil, errorf(http.StatusNotImplemented, "", "task preview is not available in this build")
	}
	res, err := s.cfg.Previewer.Preview(r.Context(), t)
	if err != nil {
		return 0, nil, errorf(http.StatusBadRequest, "", "preview: %v", err)
	}
	return http.StatusOK, res, nil
}

type taskVersionJSON struct {
	Version       int             `json:"version"`
	Name          string          `json:"name"`
	Subscriptions []string        `json:"subscriptions"`
	ContentHash   string          `json:"content_hash"`
	SavedAt       time.Time       `json:"saved_at"`
	Task          json.RawMessage `json:"task"`
}

// listTaskVersions answers a task's saved versions, newest first (the
// first is the current content), each with its full task document.
func (s *Service) listTaskVersions(r *http.Request) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	body, err := listPaged(s.cfg.MaxListBytes, "versions", p,
		func(p store.Page) ([]store.TaskVersion, string, error) {
			return s.st.ListTaskVersionsPage(r.Context(), pathID(r), p)
		},
		func(v store.TaskVersion) string { return store.EncodeKeyCursor(strconv.Itoa(v.Version)) },
		func(v store.TaskVersion) (any, error) {
			subs := v.Subscriptions
			if subs == nil {
				subs = []string{}
			}
			return taskVersionJSON{Version: v.Version, Name: v.Name, Subscriptions: subs, ContentHash: contentHash(v.Definition), SavedAt: v.SavedAt, Task: v.Definition}, nil
		})
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("task", pathID(r))
	}
	if err != nil {
		return 0, nil, pageError("list task versions", err)
	}
	return http.StatusOK, body, nil
}

// restoreTaskVersion makes a saved version the task's current content
// (recorded as a new version); the enabled flag is kept.
func (s *Service) restoreTaskVersion(r *http.Request) (int, any, error) {
	defer s.tasksChanged()
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		return 0, nil, errorf(http.StatusBadRequest, "version", "version must be a positive integer")
	}
	vs, err := s.st.ListTaskVersions(r.Context(), pathID(r))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("task", pathID(r))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("list task versions: %w", err)
	}
	for _, v := range vs {
		if v.Version != n {
			continue
		}
		t, err := s.st.UpdateTaskContent(r.Context(), pathID(r), v.Name, v.Subscriptions, v.Definition, nil)
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, notFound("task", pathID(r))
		}
		if err != nil {
			return 0, nil, fmt.Errorf("restore task version: %w", err)
		}
		return taskResponse(t)
	}
	return 0, nil, errorf(http.StatusNotFound, "version", "task %q has no version %d", pathID(r), n)
}

// tasksChanged tells the parts that follow the enabled tasks (the shop's
// webhook subscriptions, the storefront scripts) to look again.
func (s *Service) tasksChanged() {
	s.hookSync.Kick()
	s.scripts.invalidate()
}
