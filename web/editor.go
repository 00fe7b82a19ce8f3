package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
	"github.com/sprocketrun/sprocket/task/lint"
)

// Manual-trigger topics a task can be run with from its page.
const (
	topicTrigger = "mechanic/user/trigger"
	topicText    = "mechanic/user/text"
	topicForm    = "mechanic/user/form"
)

// editorData is the task editor page.
type editorData struct {
	ID, Name         string
	New              bool
	Advanced         bool
	Enabled          bool
	UpdatedAt        string
	Script           string
	SubsTemplate     string
	Subscriptions    []string
	Docs             string
	Tags             string
	PreviewEvents    string
	OnlineStoreJS    string
	OrderStatusJS    string
	APIVersion       string
	Sequence, Halt   bool
	Profiling        bool
	Options          []optionField
	Errors           []string
	FieldErrors      map[string]string
	Completions      string
	RunTopics        []string
	UserForm         []optionField
	DocsHTML         any
	Lint             []lint.Problem
	VersionCount     int
	RecentRuns       []store.Run
	Conflict         bool
	PreviewAvailable bool
}

// settingNames lists the keys of a settings kind.
func (u *UI) settingNames(ctx context.Context, kind store.SettingKind) []string {
	list, err := u.st.ListSettings(ctx, kind)
	if err != nil {
		return nil
	}
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = x.Key
	}
	return out
}

// editorFor fills the editor of t.
func (u *UI) editorFor(ctx context.Context, t *task.Task, errs map[string]string) editorData {
	d := editorData{
		Name: t.Name, Script: t.Script, Subscriptions: t.Subscriptions, Tags: strings.Join(t.Tags, ", "),
		APIVersion: t.ShopifyAPIVersion, Sequence: t.PerformActionRunsInSequence, Halt: t.HaltActionRunSequenceOnError,
		Profiling: t.LiquidProfiling, FieldErrors: errs, PreviewAvailable: u.svc.Previewer() != nil,
	}
	if t.SubscriptionsTemplate != nil {
		d.SubsTemplate = *t.SubscriptionsTemplate
	} else {
		d.SubsTemplate = strings.Join(t.Subscriptions, "\n")
	}
	if t.Docs != nil {
		d.Docs = *t.Docs
		d.DocsHTML = renderMarkdown(*t.Docs)
	}
	if t.OnlineStoreJavaScript != nil {
		d.OnlineStoreJS = *t.OnlineStoreJavaScript
	}
	if t.OrderStatusJavaScript != nil {
		d.OrderStatusJS = *t.OrderStatusJavaScript
	}
	if b, err := json.MarshalIndent(previewDefs(t), "", "  "); err == nil {
		d.PreviewEvents = string(b)
	}
	d.Options = optionFields(t, errs, u.settingNames(ctx, store.SettingGlobal), u.settingNames(ctx, store.SettingSecret))
	for _, f := range d.Options {
		if f.UserForm {
			uf := f
			uf.Error = ""
			d.UserForm = append(d.UserForm, uf)
		}
	}
	for _, sub := range t.Subscriptions {
		switch tp := topicOf(sub); tp {
		case topicTrigger, topicText, topicForm:
			if !slices.Contains(d.RunTopics, tp) {
				d.RunTopics = append(d.RunTopics, tp)
			}
		}
	}
	d.Lint = lint.Check(u.eng, t)
	d.Completions = u.completionsFor(t)
	return d
}

// previewDefs returns the task's preview event definitions as JSON values.
func previewDefs(t *task.Task) any {
	b, err := t.MarshalJSON()
	if err != nil {
		return []any{}
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(b, &doc) != nil || doc[task.FieldPreviewEventDefinitions] == nil {
		return []any{}
	}
	return doc[task.FieldPreviewEventDefinitions]
}

func (u *UI) loadTask(ctx context.Context, id string) (store.Task, *task.Task, error) {
	st, err := u.st.GetTask(ctx, id)
	if err != nil {
		return st, nil, fmt.Errorf("get task %s: %w", id, err)
	}
	// Parse afresh: the editor changes the task.
	t, err := task.Parse(st.Definition)
	if err != nil {
		return st, nil, fmt.Errorf("task %s: stored definition: %w", id, err)
	}
	return st, t, nil
}

func (u *UI) editTask(w http.ResponseWriter, r *http.Request, s *session) {
	st, t, err := u.loadTask(r.Context(), r.PathValue("id"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	d := u.editorFor(r.Context(), t, nil)
	u.fillStored(r.Context(), &d, st)
	d.Advanced = r.URL.Query().Get("mode") == "advanced"
	u.render(w, r, s, http.StatusOK, "editor", t.Name, d)
}

// fillStored sets the fields of the editor that come from the stored task.
func (u *UI) fillStored(ctx context.Context, d *editorData, st store.Task) {
	d.ID, d.Enabled = st.ID, st.Enabled
	d.UpdatedAt = strconv.FormatInt(st.UpdatedAt.UnixNano(), 10)
	if vs, err := u.st.ListTaskVersions(ctx, st.ID); err == nil {
		d.VersionCount = len(vs)
	}
	if runs, _, err := u.st.ListRuns(ctx, store.RunFilter{Kind: store.KindTask, TaskID: st.ID, Page: store.Page{Limit: 10}}); err == nil {
		d.RecentRuns = runs
	}
}

func (u *UI) newTask(w http.ResponseWriter, r *http.Request, s *session) {
	t := task.New("")
	t.Script = "{% log message: \"Hello from \" | append: event.topic %}\n"
	tmpl := topicTrigger
	t.SubscriptionsTemplate = &tmpl
	t.Subscriptions = []string{topicTrigger}
	d := u.editorFor(r.Context(), t, nil)
	d.New, d.Advanced = true, true
	u.render(w, r, s, http.StatusOK, "editor", "New task", d)
}

// formTask builds a task from the editor form over base (nil for a new
// task): the task JSON document is assembled and parsed, so problems are
// reported by field, then the options form is read and validated.
func (u *UI) formTask(base *task.Task, form url.Values) (*task.Task, map[string]string, error) {
	doc := value.NewMap(16)
	if base != nil {
		b, err := base.MarshalJSON()
		if err != nil {
			return nil, nil, fmt.Errorf("encode task: %w", err)
		}
		v, err := value.FromJSON(b)
		if err != nil {
			return nil, nil, fmt.Errorf("decode task: %w", err)
		}
		doc = v.(*value.Map)
	} else {
		doc.Set(task.FieldOptions, value.NewMap(0))
		doc.Set(task.FieldSubscriptions, []any{})
	}
	text := func(field string) (string, bool) {
		if _, ok := form[field]; !ok {
			return "", false
		}
		return strings.ReplaceAll(form.Get(field), "\r\n", "\n"), true
	}
	for _, f := range []string{task.FieldName, task.FieldScript} {
		if v, ok := text(f); ok {
			doc.Set(f, v)
		}
	}
	for _, f := range []string{task.FieldDocs, task.FieldOnlineStoreJavaScript, task.FieldOrderStatusJavaScript, task.FieldSubscriptionsTemplate} {
		if v, ok := text(f); ok {
			if strings.TrimSpace(v) == "" && f != task.FieldSubscriptionsTemplate {
				doc.Set(f, nil)
			} else {
				doc.Set(f, v)
			}
		}
	}
	if v, ok := text(task.FieldSubscriptionsTemplate); ok {
		// Subscriptions are rendered from the template on save.
		doc.Set(task.FieldSubscriptions, []any{})
		if strings.TrimSpace(v) == "" {
			doc.Set(task.FieldSubscriptionsTemplate, "")
		}
	}
	if v, ok := text(task.FieldTags); ok {
		tags := []any{}
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
		doc.Set(task.FieldTags, tags)
	}
	if v, ok := text(task.FieldShopifyAPIVersion); ok {
		if strings.TrimSpace(v) == "" {
			doc.Delete(task.FieldShopifyAPIVersion)
		} else {
			doc.Set(task.FieldShopifyAPIVersion, strings.TrimSpace(v))
		}
	}
	if _, ok := form["runtime"]; ok {
		for _, f := range []string{task.FieldPerformActionRunsInSequence, task.FieldHaltActionRunSequenceOnError, task.FieldLiquidProfiling} {
			doc.Set(f, slices.Contains(form[f], "true"))
		}
	}
	if v, ok := text(task.FieldPreviewEventDefinitions); ok {
		if strings.TrimSpace(v) == "" {
			v = "[]"
		}
		pv, err := value.FromJSON([]byte(v))
		if err != nil {
			return nil, map[string]string{task.FieldPreviewEventDefinitions: "not valid JSON: " + err.Error()}, nil
		}
		doc.Set(task.FieldPreviewEventDefinitions, pv)
	}
	raw, err := value.ToJSON(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("encode task: %w", err)
	}
	t, err := task.Parse(raw)
	if err != nil {
		var pe *task.ParseError
		if errors.As(err, &pe) {
			return nil, map[string]string{fieldOf(pe.Field): pe.Error()}, nil
		}
		return nil, map[string]string{"": err.Error()}, nil
	}
	opts, errs := readOptions(t, form, time.Now())
	t.Options = opts
	if t.SubscriptionsTemplate != nil && strings.TrimSpace(*t.SubscriptionsTemplate) == "" && len(t.Subscriptions) == 0 {
		t.SubscriptionsTemplate = nil
	}
	return t, errs, nil
}

// fieldOf maps a parse error's field path ("options.x", "preview_event_definitions[0].…") to the form field.
func fieldOf(f string) string {
	for _, name := range task.Fields() {
		if f == name || strings.HasPrefix(f, name+".") || strings.HasPrefix(f, name+"[") {
			return name
		}
	}
	return f
}

// saveProblems adds the problems that refuse saving t (Liquid syntax
// errors) to errs: option values under their key, others under their field.
func saveProblems(t *task.Task, errs map[string]string) {
	for _, p := range server.TaskSaveProblems(t) {
		key := p.Field
		if k, ok := strings.CutPrefix(key, "options."); ok {
			key = k
		}
		if errs[key] == "" {
			errs[key] = p.Message
		}
	}
}

// resolve renders the subscriptions; problems become field errors.
func resolve(ctx context.Context, t *task.Task, errs map[string]string) {
	if err := server.ResolveSubscriptions(ctx, t); err != nil {
		var pe *task.ParseError
		field := task.FieldSubscriptionsTemplate
		if errors.As(err, &pe) {
			field = pe.Field
		}
		errs[field] = err.Error()
	}
}

func (u *UI) createTask(w http.ResponseWriter, r *http.Request, s *session) {
	t, errs, err := u.formTask(nil, r.PostForm)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	if t != nil && len(errs) == 0 {
		saveProblems(t, errs)
	}
	if t != nil && len(errs) == 0 {
		resolve(r.Context(), t, errs)
	}
	if t != nil && strings.TrimSpace(t.Name) == "" {
		errs[task.FieldName] = "name is required"
	}
	if len(errs) > 0 {
		if t == nil {
			t = task.New(r.PostFormValue(task.FieldName))
			t.Script = r.PostFormValue(task.FieldScript)
		}
		d := u.editorFor(r.Context(), t, errs)
		d.New, d.Advanced = true, true
		d.Errors = errorList(errs)
		u.render(w, r, s, http.StatusUnprocessableEntity, "editor", "New task", d)
		return
	}
	st, _, err := server.CreateTask(r.Context(), u.st, t, "")
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.sess.addFlash(s, "ok", fmt.Sprintf("Task %q created (disabled until you enable it).", st.Name))
	u.redirect(w, r, "/tasks/"+st.ID+"?mode=advanced")
}

func errorList(errs map[string]string) []string {
	var out []string
	for k, v := range errs {
		if k == "" {
			out = append(out, v)
		} else {
			out = append(out, k+": "+v)
		}
	}
	slices.Sort(out)
	return out
}

func (u *UI) saveTask(w http.ResponseWriter, r *http.Request, s *session) {
	cur, base, err := u.loadTask(r.Context(), r.PathValue("id"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	t, errs, err := u.formTask(base, r.PostForm)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	if t != nil && len(errs) == 0 {
		saveProblems(t, errs)
	}
	if t != nil && len(errs) == 0 {
		resolve(r.Context(), t, errs)
	}
	if t != nil && strings.TrimSpace(t.Name) == "" {
		errs[task.FieldName] = "name is required"
	}
	stamp := r.PostFormValue("updated_at")
	conflict := stamp != "" && stamp != strconv.FormatInt(cur.UpdatedAt.UnixNano(), 10)
	if len(errs) > 0 || conflict {
		shown := t
		if shown == nil {
			shown = base
		}
		d := u.editorFor(r.Context(), shown, errs)
		u.fillStored(r.Context(), &d, cur)
		d.Advanced = r.PostFormValue("mode") == "advanced"
		d.Errors = errorList(errs)
		if conflict {
			d.Conflict = true
			d.Errors = append(d.Errors, "The task was changed elsewhere since you opened it. Your edits are shown; saving again overwrites the other change.")
		}
		u.render(w, r, s, http.StatusUnprocessableEntity, "editor", shown.Name, d)
		return
	}
	def, err := t.MarshalJSON()
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	if err := u.folderManaged(cur.ID); err != nil {
		u.sess.addFlash(s, "error", err.Error())
		u.redirect(w, r, "/tasks/"+cur.ID)
		return
	}
	next := cur
	next.Name, next.Subscriptions, next.Definition = t.Name, append([]string{}, t.Subscriptions...), def
	saved, err := u.st.UpdateTask(r.Context(), next)
	if errors.Is(err, store.ErrConflict) {
		u.sess.addFlash(s, "error", "The task changed while saving; reload and try again.")
		u.redirect(w, r, "/tasks/"+cur.ID)
		return
	}
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.sess.addFlash(s, "ok", fmt.Sprintf("Saved %q.", saved.Name))
	if r.PostFormValue("enable") == "true" && !saved.Enabled {
		en, err := u.setEnabled(r.Context(), saved.ID, true)
		var pe *problemsError
		switch {
		case errors.As(err, &pe):
			u.sess.addFlash(s, "error", "Saved, but not enabled: "+pe.Error()+".")
		case err != nil:
			u.internal(w, r, s, err)
			return
		default:
			saved = en
			u.sess.addFlash(s, "ok", "Enabled.")
		}
	}
	to := "/tasks/" + saved.ID
	if r.PostFormValue("mode") == "advanced" {
		to += "?mode=advanced"
	}
	u.redirect(w, r, to)
}

// previewData is the live preview fragment.
type previewData struct {
	Available     bool
	Error         string
	FieldErrors   []string
	Subscriptions []string
	Sampled       []string
	Runs          []previewRun
	Lint          []lint.Problem
	LintJSON      string
}

type previewRun struct {
	Description string
	Topic       string
	Actions     []json.RawMessage
	Logs        []json.RawMessage
	Errors      []json.RawMessage
	Error       string
}

// lintMarker is a lint problem as the editor shows it.
type lintMarker struct {
	Field   string `json:"field"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// previewTask renders the live preview of the editor's form: lint
// problems (with their lines, for the editor's markers) and, per preview
// event, the actions, logs and errors.
func (u *UI) previewTask(w http.ResponseWriter, r *http.Request, s *session) {
	var base *task.Task
	if id := r.PathValue("id"); id != "" {
		var err error
		if _, base, err = u.loadTask(r.Context(), id); err != nil {
			u.internal(w, r, s, err)
			return
		}
	}
	d := previewData{Available: u.svc.Previewer() != nil, LintJSON: "[]"}
	t, errs, err := u.formTask(base, r.PostForm)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	if t != nil {
		resolve(r.Context(), t, errs)
	}
	d.FieldErrors = errorList(errs)
	if t == nil {
		u.fragment(w, http.StatusOK, "editor", "preview", d)
		return
	}
	d.Lint = lint.Check(u.eng, t)
	markers := []lintMarker{}
	for _, p := range d.Lint {
		markers = append(markers, lintMarker{Field: p.Where, Line: p.Line, Message: p.Message})
	}
	if b, err := json.Marshal(markers); err == nil {
		d.LintJSON = string(b)
	}
	if p := u.svc.Previewer(); p != nil && len(errs) == 0 {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		res, err := p.Preview(ctx, t)
		if err != nil {
			d.Error = err.Error()
		} else if err := decodePreview(res, &d); err != nil {
			d.Error = err.Error()
		}
	}
	u.fragment(w, http.StatusOK, "editor", "preview", d)
}

// decodePreview reads the previewer's JSON-shaped result.
func decodePreview(res any, d *previewData) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode preview: %w", err)
	}
	var out struct {
		Subscriptions  []string `json:"subscriptions"`
		SampledOptions []string `json:"sampled_options"`
		Runs           []struct {
			Description string `json:"description"`
			Event       struct {
				Topic string `json:"topic"`
			} `json:"event"`
			Actions []json.RawMessage `json:"actions"`
			Logs    []json.RawMessage `json:"logs"`
			Errors  []json.RawMessage `json:"errors"`
			Error   *string           `json:"error"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("decode preview: %w", err)
	}
	d.Subscriptions, d.Sampled = out.Subscriptions, out.SampledOptions
	for _, r := range out.Runs {
		pr := previewRun{Description: r.Description, Topic: r.Event.Topic, Actions: r.Actions, Logs: r.Logs, Errors: r.Errors}
		if r.Error != nil {
			pr.Error = *r.Error
		}
		d.Runs = append(d.Runs, pr)
	}
	return nil
}

// completionsFor returns the editor completion JSON: Liquid tags and
// filters of the engine, the variables of a task run, and t's options.
func (u *UI) completionsFor(t *task.Task) string {
	var c struct {
		Tags      []string `json:"tags"`
		Filters   []string `json:"filters"`
		Variables []string `json:"variables"`
		Options   []string `json:"options"`
	}
	if err := json.Unmarshal(u.complete, &c); err != nil {
		return "{}"
	}
	if t != nil {
		c.Options = t.OptionKeys()
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// taskVariables are the variables of a task run (docs:
// platform/liquid/objects).
var taskVariables = []string{"event", "event.topic", "event.data", "event.id", "event.created_at", "event.parent", "event.preview", "shop", "options", "task", "task.id", "task.name", "cache", "globals", "secrets", "input", "mechanic"}

// completions builds the static part of the editor's completion data.
func completions(eng *liquid.Engine) []byte {
	b, _ := json.Marshal(map[string]any{
		"tags":      eng.TagNames(),
		"filters":   eng.FilterNames(),
		"variables": taskVariables,
		"options":   []string{},
	})
	return b
}
