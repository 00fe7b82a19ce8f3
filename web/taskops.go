package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

type versionRow struct {
	Version int
	Name    string
	SavedAt time.Time
	Current bool
	Diff    []diffLine
}

func (u *UI) versionsPage(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	st, err := u.st.GetTask(r.Context(), id)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	vs, err := u.st.ListTaskVersions(r.Context(), id)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	cur := exportText(st.Definition)
	rows := make([]versionRow, len(vs))
	for i, v := range vs {
		rows[i] = versionRow{Version: v.Version, Name: v.Name, SavedAt: v.SavedAt, Current: i == 0}
		if i > 0 {
			rows[i].Diff = diffLines(exportText(v.Definition), cur)
		}
	}
	u.render(w, r, s, http.StatusOK, "versions", "Versions of "+st.Name, map[string]any{"Task": st, "Versions": rows})
}

// exportText is a task definition as indented JSON text.
func exportText(def json.RawMessage) string {
	t, err := task.Parse(def)
	if err != nil {
		return string(def)
	}
	b, err := t.Export()
	if err != nil {
		return string(def)
	}
	return string(b)
}

func (u *UI) restoreVersion(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		u.fail(w, r, s, http.StatusBadRequest, "The version must be a positive number.")
		return
	}
	vs, err := u.st.ListTaskVersions(r.Context(), id)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	if err := u.folderManaged(id); err != nil {
		u.sess.addFlash(s, "error", err.Error())
		u.redirect(w, r, "/tasks/"+id)
		return
	}
	for _, v := range vs {
		if v.Version != n {
			continue
		}
		cur, err := u.st.GetTask(r.Context(), id)
		if err != nil {
			u.internal(w, r, s, err)
			return
		}
		cur.Name, cur.Subscriptions, cur.Definition = v.Name, v.Subscriptions, v.Definition
		if _, err := u.st.UpdateTask(r.Context(), cur); err != nil {
			u.internal(w, r, s, err)
			return
		}
		u.sess.addFlash(s, "ok", fmt.Sprintf("Restored version %d (saved as a new version).", n))
		u.redirect(w, r, "/tasks/"+id)
		return
	}
	u.fail(w, r, s, http.StatusNotFound, fmt.Sprintf("This task has no version %d.", n))
}

func (u *UI) duplicateTask(w http.ResponseWriter, r *http.Request, s *session) {
	_, t, err := u.loadTask(r.Context(), r.PathValue("id"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	t.Name = "Copy of " + t.Name
	st, _, err := server.CreateTask(r.Context(), u.st, t, "")
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.sess.addFlash(s, "ok", fmt.Sprintf("Created %q (disabled).", st.Name))
	u.redirect(w, r, "/tasks/"+st.ID)
}

func (u *UI) deleteTask(w http.ResponseWriter, r *http.Request, s *session) {
	if err := u.folderManaged(r.PathValue("id")); err != nil {
		u.sess.addFlash(s, "error", err.Error())
		u.redirect(w, r, "/tasks/"+r.PathValue("id"))
		return
	}
	st, err := u.st.GetTask(r.Context(), r.PathValue("id"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	if err := u.st.DeleteTask(r.Context(), st.ID); err != nil {
		u.internal(w, r, s, err)
		return
	}
	u.sess.addFlash(s, "ok", fmt.Sprintf("Deleted %q.", st.Name))
	u.redirect(w, r, "/")
}

func (u *UI) exportTask(w http.ResponseWriter, r *http.Request, s *session) {
	_, t, err := u.loadTask(r.Context(), r.PathValue("id"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	b, err := t.Export()
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return '-'
	}, t.Name)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.Trim(name, "-")+".json"))
	_, _ = w.Write(b)
}

// maxImportTasks bounds one import.
const maxImportTasks = 1000

func (u *UI) importPage(w http.ResponseWriter, r *http.Request, s *session) {
	u.render(w, r, s, http.StatusOK, "import", "Import a task", map[string]any{})
}

// importTask creates a task from pasted or uploaded Mechanic task JSON.
func (u *UI) importTask(w http.ResponseWriter, r *http.Request, s *session) {
	raw := []byte(r.PostFormValue("json"))
	if f, _, err := r.FormFile("file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxFormBytes))
		if err != nil {
			u.internal(w, r, s, err)
			return
		}
		if len(b) > 0 {
			raw = b
		}
	}
	fail := func(msg string) {
		u.render(w, r, s, http.StatusUnprocessableEntity, "import", "Import a task", map[string]any{"Error": msg, "JSON": string(raw)})
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		fail("Paste a task's JSON or choose a file.")
		return
	}
	ts, err := task.ParseAll(raw)
	if err != nil {
		fail(err.Error())
		return
	}
	if len(ts) > maxImportTasks {
		fail(fmt.Sprintf("At most %d tasks can be imported at once; this file has %d.", maxImportTasks, len(ts)))
		return
	}
	for i, t := range ts {
		if err := server.ResolveSubscriptions(r.Context(), t); err != nil {
			fail(fmt.Sprintf("task %d (%q): %v", i+1, t.Name, err))
			return
		}
		if probs := server.TaskSaveProblems(t); len(probs) > 0 {
			fail(fmt.Sprintf("task %d (%q): %s", i+1, t.Name, probs[0].Message))
			return
		}
	}
	var last store.Task
	for _, t := range ts {
		if last, _, err = server.CreateTask(r.Context(), u.st, t, ""); err != nil {
			u.internal(w, r, s, err)
			return
		}
	}
	if len(ts) > 1 {
		u.sess.addFlash(s, "ok", fmt.Sprintf("Imported %d tasks (disabled until you enable them).", len(ts)))
		u.redirect(w, r, "/")
		return
	}
	st := last
	u.sess.addFlash(s, "ok", fmt.Sprintf("Imported %q (disabled until you enable it).", st.Name))
	u.redirect(w, r, "/tasks/"+st.ID)
}

// runTask creates a manual event for the task: mechanic/user/trigger,
// /text (with the text) or /form (with the user form's fields).
func (u *UI) runTask(w http.ResponseWriter, r *http.Request, s *session) {
	st, t, err := u.loadTask(r.Context(), r.PathValue("id"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	topic := r.PostFormValue("topic")
	subscribed := false
	for _, sub := range st.Subscriptions {
		if topicOf(sub) == topic {
			subscribed = true
		}
	}
	if !subscribed || (topic != topicTrigger && topic != topicText && topic != topicForm) {
		u.sess.addFlash(s, "error", fmt.Sprintf("This task is not subscribed to %q, so it cannot be run that way.", topic))
		u.redirect(w, r, "/tasks/"+st.ID)
		return
	}
	if !st.Enabled {
		u.sess.addFlash(s, "error", "Enable the task before running it.")
		u.redirect(w, r, "/tasks/"+st.ID)
		return
	}
	var data any
	switch topic {
	case topicText:
		data = r.PostFormValue("text")
	case topicForm:
		m := value.NewMap(4)
		for _, key := range t.OptionKeys() {
			k, err := task.ParseOptionKey(key)
			if err != nil || !k.UserForm {
				continue
			}
			v := r.PostFormValue("input:" + k.Name)
			if k.Required && strings.TrimSpace(v) == "" {
				u.sess.addFlash(s, "error", fmt.Sprintf("%s is required.", k.Label()))
				u.redirect(w, r, "/tasks/"+st.ID)
				return
			}
			m.Set(k.Name, v)
		}
		data = m
	}
	raw, err := value.ToJSON(data)
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	evs, err := u.st.InsertEvents(r.Context(), []store.NewEvent{{Topic: topic, Data: raw, Source: "user", TaskIDs: []string{st.ID}}})
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	if len(evs) != 1 {
		u.internal(w, r, s, errors.New("insert event: no event returned"))
		return
	}
	u.svc.Wake()
	u.sess.addFlash(s, "ok", fmt.Sprintf("Created a %s event for %q.", topic, st.Name))
	u.redirect(w, r, "/events/"+evs[0].ID)
}

// diffLine is one line of a line diff: Op is ' ', '-' or '+'.
type diffLine struct {
	Op   string
	Text string
}

// maxDiffLines bounds the inputs of diffLines (the LCS table is quadratic).
const maxDiffLines = 3000

// diffLines is a line diff of a to b (longest common subsequence).
func diffLines(a, b string) []diffLine {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(al) > maxDiffLines || len(bl) > maxDiffLines {
		return []diffLine{{Op: " ", Text: "(too long to compare line by line)"}}
	}
	n, m := len(al), len(bl)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case al[i] == bl[j]:
			out = append(out, diffLine{" ", al[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"-", al[i]})
			i++
		default:
			out = append(out, diffLine{"+", bl[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, diffLine{"-", al[i]})
	}
	for ; j < m; j++ {
		out = append(out, diffLine{"+", bl[j]})
	}
	// Keep changed lines with two lines of context.
	keep := make([]bool, len(out))
	for k, l := range out {
		if l.Op != " " {
			for c := max(0, k-2); c <= min(len(out)-1, k+2); c++ {
				keep[c] = true
			}
		}
	}
	var short []diffLine
	gap := false
	for k, l := range out {
		if keep[k] {
			short = append(short, l)
			gap = false
		} else if !gap {
			short = append(short, diffLine{" ", "…"})
			gap = true
		}
	}
	return short
}
