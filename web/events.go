package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/pipeline"
	"github.com/sprocketrun/sprocket/store"
)

// maxScannedEvents bounds the events read to filter by status or search
// their data.
const maxScannedEvents = 5000

// eventsPageSize is how many events a page of the event list shows.
const eventsPageSize = 50

type eventRow struct {
	store.Event
	Status store.RunStatus
}

type eventsData struct {
	Q, Topic, TaskID, Status, Since string
	Events                          []eventRow
	Next                            string
	Scanned                         int
	Truncated                       bool
	Tasks                           []store.Task
}

// sinceOptions are the time filters of the event list.
var sinceOptions = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}

func (u *UI) eventsPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := eventsData{Q: strings.TrimSpace(q.Get("q")), Topic: strings.TrimSpace(q.Get("topic")), TaskID: q.Get("task_id"), Status: q.Get("status"), Since: q.Get("since")}
	f := store.EventFilter{Topic: d.Topic, TaskID: d.TaskID, Page: store.Page{Limit: eventsPageSize, Cursor: q.Get("cursor")}}
	if dur, ok := sinceOptions[d.Since]; ok {
		f.Since = u.now().Add(-dur)
	}
	switch store.RunStatus(d.Status) {
	case "", store.StatusPending, store.StatusRunning, store.StatusSuccess, store.StatusFailed:
	default:
		u.fail(w, r, s, http.StatusBadRequest, "status must be pending, running, success or failed")
		return
	}
	var err error
	if d.Status != "" {
		err = u.eventsByStatus(r, &d, f)
	} else {
		err = u.eventsByTime(r, &d, f)
	}
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	if d.Next != "" {
		d.Next = query("/events", "q", d.Q, "topic", d.Topic, "task_id", d.TaskID, "status", d.Status, "since", d.Since, "cursor", d.Next)
	}
	ts, _, err := u.st.ListTasks(r.Context(), store.TaskFilter{Page: store.Page{Limit: store.MaxPageLimit}})
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	slices.SortFunc(ts, func(a, b store.Task) int { return strings.Compare(a.Name, b.Name) })
	d.Tasks = ts
	u.render(w, r, s, http.StatusOK, "events", "Events", d)
}

// eventsByTime lists events newest first, filtered by their data when
// searching (scanning at most maxScannedEvents).
func (u *UI) eventsByTime(r *http.Request, d *eventsData, f store.EventFilter) error {
	ctx := r.Context()
	if d.Q != "" {
		f.Page.Limit = store.MaxPageLimit
	}
	needle := []byte(strings.ToLower(d.Q))
	for {
		evs, next, err := u.st.ListEvents(ctx, f)
		if err != nil {
			return fmt.Errorf("list events: %w", err)
		}
		d.Scanned += len(evs)
		for _, e := range evs {
			if len(needle) > 0 && !containsFold(e.Data, needle) && !strings.Contains(strings.ToLower(e.Topic), string(needle)) && e.ID != d.Q {
				continue
			}
			row := eventRow{Event: e}
			runs, _, err := u.st.ListRuns(ctx, store.RunFilter{EventID: e.ID, Kind: store.KindEvent, Page: store.Page{Limit: 1}})
			if err != nil {
				return fmt.Errorf("list event runs: %w", err)
			}
			if len(runs) > 0 {
				row.Status = overallStatus(runs[0])
			}
			d.Events = append(d.Events, row)
			if len(d.Events) >= eventsPageSize {
				break
			}
		}
		if len(d.Events) >= eventsPageSize || next == "" || d.Q == "" {
			d.Next = next
			return nil
		}
		if d.Scanned >= maxScannedEvents {
			d.Truncated, d.Next = true, next
			return nil
		}
		f.Page.Cursor = next
	}
}

// eventsByStatus lists the events whose event run has the chosen status
// or, for "failed", any of whose runs failed (Mechanic's errors view),
// newest first, through the runs (scanning at most maxScannedEvents).
func (u *UI) eventsByStatus(r *http.Request, d *eventsData, f store.EventFilter) error {
	ctx := r.Context()
	rf := store.RunFilter{Kind: store.KindEvent, Status: store.RunStatus(d.Status), Since: f.Since, Page: f.Page}
	if rf.Status == store.StatusFailed {
		rf.Kind = ""
	}
	seen := map[string]bool{}
	if d.Q != "" || d.Topic != "" || d.TaskID != "" {
		rf.Page.Limit = store.MaxPageLimit
	}
	needle := []byte(strings.ToLower(d.Q))
	for {
		runs, next, err := u.st.ListRuns(ctx, rf)
		if err != nil {
			return fmt.Errorf("list event runs: %w", err)
		}
		d.Scanned += len(runs)
		for _, run := range runs {
			if seen[run.EventID] {
				continue
			}
			seen[run.EventID] = true
			e, err := u.st.GetEvent(ctx, run.EventID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("get event: %w", err)
			}
			if d.Topic != "" && e.Topic != d.Topic {
				continue
			}
			if len(needle) > 0 && !containsFold(e.Data, needle) && !strings.Contains(strings.ToLower(e.Topic), string(needle)) && e.ID != d.Q {
				continue
			}
			if d.TaskID != "" {
				tr, _, err := u.st.ListRuns(ctx, store.RunFilter{EventID: e.ID, TaskID: d.TaskID, Page: store.Page{Limit: 1}})
				if err != nil {
					return fmt.Errorf("list task runs: %w", err)
				}
				if len(tr) == 0 {
					continue
				}
			}
			d.Events = append(d.Events, eventRow{Event: e, Status: run.Status})
			if len(d.Events) >= eventsPageSize {
				break
			}
		}
		if len(d.Events) >= eventsPageSize || next == "" {
			d.Next = next
			return nil
		}
		if d.Scanned >= maxScannedEvents {
			d.Truncated, d.Next = true, next
			return nil
		}
		rf.Page.Cursor = next
	}
}

// overallStatus is an event run's status as the list shows it.
func overallStatus(r store.Run) store.RunStatus { return r.Status }

// containsFold reports whether b contains the lowercase needle, ignoring ASCII case.
func containsFold(b, needle []byte) bool {
	if len(needle) == 0 {
		return true
	}
	n := len(needle)
	for i := 0; i+n <= len(b); i++ {
		match := true
		for j := 0; j < n; j++ {
			c := b[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// runNode is a run in the event tree with its children.
type runNode struct {
	store.Run
	TaskName  string
	Children  []*runNode
	Elapsed   time.Duration
	CanRetry  bool
	NoRetry   string
	ShowRetry bool
	// History is the run's attempts when it was taken more than once;
	// Reperformed tells that one of them was interrupted.
	History     []store.Attempt
	Reperformed bool
}

// maxHistoryReads bounds the attempt histories one event page reads.
const maxHistoryReads = 200

type eventData struct {
	Event    store.Event
	Parents  []store.Event
	Children []store.Event
	Roots    []*runNode
	Pending  bool
	EventRun *runNode
}

// maxTreeRuns bounds the runs read for an event's tree.
const maxTreeRuns = 5 * store.MaxPageLimit

func (u *UI) eventPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	e, err := u.st.GetEvent(ctx, r.PathValue("id"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	d := eventData{Event: e}
	for p, i := e.ParentID, 0; p != "" && i < 20; i++ {
		pe, err := u.st.GetEvent(ctx, p)
		if err != nil {
			break // pruned parents end the chain
		}
		d.Parents = append([]store.Event{pe}, d.Parents...)
		p = pe.ParentID
	}
	if d.Children, _, err = u.st.ListEvents(ctx, store.EventFilter{ParentID: e.ID, Page: store.Page{Limit: 100}}); err != nil {
		u.internal(w, r, s, err)
		return
	}
	var runs []store.Run
	p := store.Page{Limit: store.MaxPageLimit}
	for len(runs) < maxTreeRuns {
		batch, next, err := u.st.ListRuns(ctx, store.RunFilter{EventID: e.ID, Page: p})
		if err != nil {
			u.internal(w, r, s, err)
			return
		}
		runs = append(runs, batch...)
		if next == "" {
			break
		}
		p.Cursor = next
	}
	names := map[string]string{}
	nodes := map[string]*runNode{}
	histories := 0
	for _, run := range runs {
		n := &runNode{Run: run}
		if run.Claims > 1 && histories < maxHistoryReads {
			histories++
			if n.History, err = u.st.RunAttempts(ctx, run.ID); err != nil {
				u.internal(w, r, s, err)
				return
			}
			n.Reperformed = store.Reperformed(n.History)
		}
		if !run.StartedAt.IsZero() && !run.StoppedAt.IsZero() {
			n.Elapsed = run.StoppedAt.Sub(run.StartedAt)
		}
		if run.TaskID != "" {
			if _, ok := names[run.TaskID]; !ok {
				names[run.TaskID] = "(deleted task)"
				if t, err := u.st.GetTask(ctx, run.TaskID); err == nil {
					names[run.TaskID] = t.Name
				}
			}
			n.TaskName = names[run.TaskID]
		}
		if run.Status.Finished() {
			n.ShowRetry = true
			if err := pipeline.CanRetry(run); err != nil {
				n.NoRetry = strings.TrimPrefix(err.Error(), pipeline.ErrNotRetryable.Error()+": ")
			} else {
				n.CanRetry = true
			}
		}
		if run.Kind == store.KindEvent && run.Status == store.StatusPending {
			d.Pending = true
		}
		nodes[run.ID] = n
	}
	// Oldest first within each level; ListRuns is newest first.
	for i := len(runs) - 1; i >= 0; i-- {
		n := nodes[runs[i].ID]
		if parent := nodes[n.ParentRunID]; parent != nil && n.ParentRunID != "" {
			parent.Children = append(parent.Children, n)
		} else {
			d.Roots = append(d.Roots, n)
		}
	}
	for _, n := range nodes {
		slices.SortStableFunc(n.Children, func(a, b *runNode) int {
			if a.Kind == store.KindAction && b.Kind == store.KindAction {
				return a.Seq - b.Seq
			}
			return a.CreatedAt.Compare(b.CreatedAt)
		})
	}
	u.render(w, r, s, http.StatusOK, "event", "Event "+shortID(e.ID), d)
}

// retryRun retries a run when Mechanic's retry rules allow it
// (pipeline.CanRetry), and only then.
func (u *UI) retryRun(w http.ResponseWriter, r *http.Request, s *session) {
	run, err := u.st.GetRun(r.Context(), r.PathValue("id"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	back := "/events/" + run.EventID
	if err := pipeline.CanRetry(run); err != nil {
		u.sess.addFlash(s, "error", fmt.Sprintf("Retry refused: %v.", err))
		u.redirect(w, r, back)
		return
	}
	if _, err := u.st.RetryRun(r.Context(), run.ID); err != nil {
		if errors.Is(err, store.ErrConflict) {
			u.sess.addFlash(s, "error", "Retry refused: the run is not finished.")
			u.redirect(w, r, back)
			return
		}
		u.internal(w, r, s, err)
		return
	}
	u.svc.Wake()
	u.sess.addFlash(s, "ok", fmt.Sprintf("Retrying %s %s.", strings.ReplaceAll(string(run.Kind), "_", " "), shortID(run.ID)))
	u.redirect(w, r, back)
}

// cancelEvent cancels an event whose event run is still queued.
func (u *UI) cancelEvent(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	runs, _, err := u.st.ListRuns(r.Context(), store.RunFilter{EventID: id, Kind: store.KindEvent, Status: store.StatusPending, Page: store.Page{Limit: 10}})
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	if len(runs) == 0 {
		u.sess.addFlash(s, "error", "This event is not queued any more; it cannot be cancelled.")
		u.redirect(w, r, "/events/"+id)
		return
	}
	for _, run := range runs {
		if _, err := u.st.CancelRun(r.Context(), run.ID, "cancelled in the web interface"); err != nil && !errors.Is(err, store.ErrConflict) {
			u.internal(w, r, s, err)
			return
		}
	}
	u.sess.addFlash(s, "ok", "Event cancelled.")
	u.redirect(w, r, "/events/"+id)
}

// exportEvent answers the event with its runs as JSON.
func (u *UI) exportEvent(w http.ResponseWriter, r *http.Request, s *session) {
	e, err := u.st.GetEvent(r.Context(), r.PathValue("id"))
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	runs, _, err := u.st.ListRuns(r.Context(), store.RunFilter{EventID: e.ID, Page: store.Page{Limit: store.MaxPageLimit}})
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	type runOut struct {
		ID, Kind, Status, TaskID, ParentRunID, Error, ActionType string
		Attempts                                                 int
		CreatedAt, StartedAt, StoppedAt                          time.Time
		Logs, Errors, Result, ActionOptions                      json.RawMessage `json:",omitempty"`
		Output                                                   string          `json:",omitempty"`
	}
	out := struct {
		ID, Topic, ParentID, Source string
		Data                        json.RawMessage
		CreatedAt                   time.Time
		Runs                        []runOut
	}{ID: e.ID, Topic: e.Topic, ParentID: e.ParentID, Source: e.Source, Data: e.Data, CreatedAt: e.CreatedAt}
	if len(out.Data) == 0 {
		out.Data = json.RawMessage("null")
	}
	for _, x := range runs {
		out.Runs = append(out.Runs, runOut{ID: x.ID, Kind: string(x.Kind), Status: string(x.Status), TaskID: x.TaskID, ParentRunID: x.ParentRunID,
			Error: x.Error, ActionType: x.ActionType, Attempts: x.Attempts, CreatedAt: x.CreatedAt, StartedAt: x.StartedAt, StoppedAt: x.StoppedAt,
			Logs: x.Logs, Errors: x.Errors, Result: x.Result, ActionOptions: x.ActionOptions, Output: x.Output})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		u.internal(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"event-%s.json\"", e.ID))
	_, _ = w.Write(b)
}
