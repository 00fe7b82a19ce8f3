package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// taskCache keeps parsed task definitions keyed by id and update time, so
// that listing and filtering tasks does not parse every definition on
// every request. It holds at most max entries.
type taskCache struct {
	max int
	mu  sync.Mutex
	m   map[string]cachedTask
}

type cachedTask struct {
	updated time.Time
	t       *task.Task
	err     error
}

func newTaskCache(max int) *taskCache { return &taskCache{max: max, m: map[string]cachedTask{}} }

// get parses st's definition, or returns the cached parse. The returned
// task must not be modified.
func (c *taskCache) get(st store.Task) (*task.Task, error) {
	c.mu.Lock()
	x, ok := c.m[st.ID]
	c.mu.Unlock()
	if ok && x.updated.Equal(st.UpdatedAt) {
		return x.t, x.err
	}
	t, err := task.Parse(st.Definition)
	if err != nil {
		err = fmt.Errorf("task %s: stored definition: %w", st.ID, err)
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[st.ID] = cachedTask{updated: st.UpdatedAt, t: t, err: err}
	c.mu.Unlock()
	return t, err
}

// maxListedTasks bounds the tasks read for the task list.
const maxListedTasks = 10 * store.MaxPageLimit

// allTasks reads every task (bounded by maxListedTasks), newest first.
func (u *UI) allTasks(ctx context.Context) ([]store.Task, error) {
	var out []store.Task
	p := store.Page{Limit: store.MaxPageLimit}
	for {
		ts, next, err := u.st.ListTasks(ctx, store.TaskFilter{Page: p})
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		out = append(out, ts...)
		if next == "" || len(out) >= maxListedTasks {
			return out, nil
		}
		p.Cursor = next
	}
}

// taskRow is one line of the task list.
type taskRow struct {
	ID, Name      string
	Enabled       bool
	Tags          []string
	Subscriptions []string
	UpdatedAt     time.Time
	Problem       string
	// Running and Queued count the task's runs in progress and waiting
	// (task and action runs, among the most recent store.MaxPageLimit).
	Running, Queued int
}

type homeData struct {
	Q, Tag, Topic, Enabled, APIVersion string
	Tasks                              []taskRow
	Total                              int
	Tags, Topics, APIVersions          []string
	Events                             []store.Event
	// Running and Queued are runs in progress and due, with task names.
	Running, Queued []activeRun
}

// activeRun is a run shown under current activity.
type activeRun struct {
	store.Run
	TaskName string
}

// maxActiveShown bounds the runs listed under current activity.
const maxActiveShown = 10

func (u *UI) home(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := homeData{Q: strings.TrimSpace(q.Get("q")), Tag: q.Get("tag"), Topic: q.Get("topic"), Enabled: q.Get("enabled"), APIVersion: q.Get("api_version")}
	ts, err := u.allTasks(r.Context())
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	d.Total = len(ts)
	tags, topics, versions := map[string]bool{}, map[string]bool{}, map[string]bool{}
	needle := strings.ToLower(d.Q)
	names := make(map[string]string, len(ts))
	for _, st := range ts {
		names[st.ID] = st.Name
		row := taskRow{ID: st.ID, Name: st.Name, Enabled: st.Enabled, Subscriptions: st.Subscriptions, UpdatedAt: st.UpdatedAt}
		t, err := u.parsed.get(st)
		if err != nil {
			row.Problem = err.Error()
		} else {
			row.Tags = t.Tags
			if t.ShopifyAPIVersion != "" {
				versions[t.ShopifyAPIVersion] = true
			}
		}
		for _, t := range row.Tags {
			tags[t] = true
		}
		for _, sub := range st.Subscriptions {
			topics[topicOf(sub)] = true
		}
		// Search names, tags, code and options (as Mechanic does).
		if needle != "" && !strings.Contains(strings.ToLower(st.Name), needle) &&
			!slices.ContainsFunc(row.Tags, func(t string) bool { return strings.Contains(strings.ToLower(t), needle) }) &&
			(t == nil || !strings.Contains(strings.ToLower(t.Script), needle)) && !containsFold(optionsJSON(t), []byte(needle)) {
			continue
		}
		if d.APIVersion != "" && (t == nil || t.ShopifyAPIVersion != d.APIVersion) {
			continue
		}
		if d.Tag != "" && !slices.Contains(row.Tags, d.Tag) {
			continue
		}
		if d.Topic != "" && !slices.ContainsFunc(st.Subscriptions, func(s string) bool { return topicOf(s) == d.Topic }) {
			continue
		}
		if (d.Enabled == "true" && !st.Enabled) || (d.Enabled == "false" && st.Enabled) {
			continue
		}
		d.Tasks = append(d.Tasks, row)
	}
	d.Tags, d.Topics, d.APIVersions = sortedKeys(tags), sortedKeys(topics), sortedKeys(versions)
	evs, _, err := u.st.ListEvents(r.Context(), store.EventFilter{Page: store.Page{Limit: 8}})
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	d.Events = evs
	rowOf := make(map[string]*taskRow, len(d.Tasks))
	for i := range d.Tasks {
		rowOf[d.Tasks[i].ID] = &d.Tasks[i]
	}
	// The queue's counts skip the run listings (a scan of the runs) when
	// nothing is running or waiting.
	qs, err := u.st.Stats(r.Context())
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	total := func(m map[store.RunKind]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	for _, x := range []struct {
		status store.RunStatus
		into   *[]activeRun
		n      int
	}{{store.StatusRunning, &d.Running, total(qs.Running)}, {store.StatusPending, &d.Queued, total(qs.Due) + total(qs.Scheduled)}} {
		if x.n == 0 {
			continue
		}
		runs, _, err := u.st.ListRuns(r.Context(), store.RunFilter{Status: x.status, Page: store.Page{Limit: store.MaxPageLimit}})
		if err != nil {
			u.internal(w, r, s, err)
			return
		}
		for i, run := range runs {
			if i < maxActiveShown {
				*x.into = append(*x.into, activeRun{Run: run, TaskName: names[run.TaskID]})
			}
			if row := rowOf[run.TaskID]; row != nil {
				if x.status == store.StatusRunning {
					row.Running++
				} else {
					row.Queued++
				}
			}
		}
	}
	u.render(w, r, s, http.StatusOK, "home", "Tasks", d)
}

// optionsJSON is a task's options as JSON, for searching; nil without a task.
func optionsJSON(t *task.Task) []byte {
	if t == nil || t.Options == nil {
		return nil
	}
	b, _ := json.Marshal(t.Options)
	return b
}

// topicOf strips a subscription's delay offset ("shopify/orders/paid+1.day").
func topicOf(sub string) string {
	t, _, _ := strings.Cut(strings.TrimSpace(sub), "+")
	return t
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// problemsError refuses a save or an enable, listing the problems.
type problemsError struct {
	what  string
	probs []server.TaskProblem
}

// Error lists the problems.
func (e *problemsError) Error() string {
	msgs := make([]string, len(e.probs))
	for i, p := range e.probs {
		msgs[i] = p.Message
	}
	return e.what + ": " + strings.Join(msgs, "; ")
}

// setEnabled flips a task's enabled flag, retrying on concurrent updates;
// enabling a task with Liquid syntax errors, empty required options or
// invalid option values is refused with a *problemsError.
// errFolderManaged refuses a change to a task the tasks folder manages.
type errFolderManaged struct{ source string }

func (e errFolderManaged) Error() string {
	return fmt.Sprintf("the task is managed by the tasks folder (%s); edit its file instead", e.source)
}

// folderManaged returns an errFolderManaged for a folder-managed task, else nil.
func (u *UI) folderManaged(id string) error {
	if src, ok := u.svc.FolderManaged(id); ok {
		return errFolderManaged{source: src}
	}
	return nil
}

func (u *UI) setEnabled(ctx context.Context, id string, on bool) (store.Task, error) {
	if err := u.folderManaged(id); err != nil {
		return store.Task{}, err
	}
	cur, err := u.st.GetTask(ctx, id)
	if err != nil {
		return cur, fmt.Errorf("get task: %w", err)
	}
	t, probs, err := u.svc.SetTaskEnabled(ctx, id, on)
	if errors.Is(err, server.ErrCannotEnable) {
		return cur, &problemsError{what: fmt.Sprintf("%q cannot be enabled", cur.Name), probs: probs}
	}
	if err != nil {
		return t, err
	}
	return t, nil
}

func (u *UI) enableTask(on bool) handler {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		t, err := u.setEnabled(r.Context(), r.PathValue("id"), on)
		var pe *problemsError
		var fm errFolderManaged
		if errors.As(err, &pe) || errors.As(err, &fm) {
			u.sess.addFlash(s, "error", err.Error()+".")
			u.redirect(w, r, backTo(r, "/"))
			return
		}
		if err != nil {
			u.internal(w, r, s, err)
			return
		}
		state := "disabled"
		if on {
			state = "enabled"
		}
		u.sess.addFlash(s, "ok", fmt.Sprintf("Task %q %s.", t.Name, state))
		u.redirect(w, r, backTo(r, "/"))
	}
}

// backTo returns the form's "back" path when it is a local path, else def.
func backTo(r *http.Request, def string) string {
	b := r.PostFormValue("back")
	if strings.HasPrefix(b, "/") && !strings.HasPrefix(b, "//") && !strings.HasPrefix(b, "/\\") {
		return b
	}
	return def
}

func (u *UI) bulkTasks(w http.ResponseWriter, r *http.Request, s *session) {
	ids := r.PostForm["ids"]
	action := r.PostFormValue("action")
	if len(ids) == 0 {
		u.sess.addFlash(s, "error", "Select at least one task.")
		u.redirect(w, r, backTo(r, "/"))
		return
	}
	if len(ids) > maxListedTasks {
		ids = ids[:maxListedTasks]
	}
	if action == "export" {
		u.exportTasks(w, r, s, ids)
		return
	}
	tag := strings.TrimSpace(r.PostFormValue("tag"))
	if (action == "add_tag" || action == "remove_tag") && tag == "" {
		u.sess.addFlash(s, "error", "Enter the tag to add or remove.")
		u.redirect(w, r, backTo(r, "/"))
		return
	}
	var done, failed int
	var firstErr error
	for _, id := range ids {
		var err error
		switch action {
		case "enable", "disable":
			_, err = u.setEnabled(r.Context(), id, action == "enable")
		case "delete":
			if err = u.folderManaged(id); err == nil {
				err = u.st.DeleteTask(r.Context(), id)
			}
		case "add_tag", "remove_tag":
			if err = u.folderManaged(id); err == nil {
				err = u.retag(r.Context(), id, tag, action == "add_tag")
			}
		default:
			u.sess.addFlash(s, "error", fmt.Sprintf("Unknown bulk action %q.", action))
			u.redirect(w, r, backTo(r, "/"))
			return
		}
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		done++
	}
	if failed > 0 {
		u.sess.addFlash(s, "error", fmt.Sprintf("%s: %d done, %d failed (first error: %v).", action, done, failed, firstErr))
	} else {
		u.sess.addFlash(s, "ok", fmt.Sprintf("%s: %d task(s).", action, done))
	}
	u.redirect(w, r, backTo(r, "/"))
}

// query builds a URL with query parameters, skipping empty values.
func query(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// retag adds or removes a tag of a task (a new version of the task).
func (u *UI) retag(ctx context.Context, id, tag string, add bool) error {
	cur, t, err := u.loadTask(ctx, id)
	if err != nil {
		return err
	}
	has := slices.Contains(t.Tags, tag)
	switch {
	case add && !has:
		t.Tags = append(t.Tags, tag)
	case !add && has:
		t.Tags = slices.DeleteFunc(t.Tags, func(x string) bool { return x == tag })
	default:
		return nil
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	def, err := t.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode task: %w", err)
	}
	cur.Definition = def
	if _, err := u.st.UpdateTask(ctx, cur); err != nil {
		return fmt.Errorf("update task: %w", err)
	}
	return nil
}

// exportTasks answers the chosen tasks as a JSON array of task exports.
func (u *UI) exportTasks(w http.ResponseWriter, r *http.Request, s *session, ids []string) {
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, id := range ids {
		_, t, err := u.loadTask(r.Context(), id)
		if err != nil {
			u.internal(w, r, s, err)
			return
		}
		b, err := t.Export()
		if err != nil {
			u.internal(w, r, s, err)
			return
		}
		if i > 0 {
			buf.WriteString(",\n")
		}
		buf.Write(bytes.TrimSpace(b))
	}
	buf.WriteString("\n]\n")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="sprocket-tasks.json"`)
	_, _ = w.Write(buf.Bytes())
}
