package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// maxActivityRecords bounds the events and runs read for the activity page.
const maxActivityRecords = 20000

// bucket is one bar group of the activity chart.
type bucket struct {
	Label                  string
	Events, Runs, Failures int
	// Heights in percent of the tallest bar.
	EH, RH, FH int
}

type countRow struct {
	Name, Link    string
	Count, Failed int
}

type activityData struct {
	Range     string
	Buckets   []bucket
	Tasks     []countRow
	Topics    []countRow
	Events    int
	Runs      int
	Failures  int
	Truncated bool
	// At is when the summary was computed.
	At time.Time
	// Filter is what was counted.
	Filter activityFilter
	// AllTasks lists the tasks to filter by.
	AllTasks []store.Task
}

// activityTTL is how long a computed activity summary is reused: the
// page aggregates up to maxActivityRecords records, which takes longer
// than a page should when the store is busy.
const activityTTL = 30 * time.Second

// maxActivityCache bounds the cached summaries.
const maxActivityCache = 64

// activityFilter selects what the activity page counts.
type activityFilter struct {
	// Range is "24h" or "7d".
	Range string
	// TaskID, when set, counts only this task's runs and the events it ran for.
	TaskID string
	// Topic, when set, counts only events of this topic and their runs.
	Topic string
}

// activityCache keeps the latest summary of each filter.
type activityCache struct {
	mu sync.Mutex
	m  map[activityFilter]activityData
}

func (u *UI) activityPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	f := activityFilter{Range: q.Get("range"), TaskID: q.Get("task_id"), Topic: strings.TrimSpace(q.Get("topic"))}
	if f.Range != "7d" {
		f.Range = "24h"
	}
	u.act.mu.Lock()
	d, ok := u.act.m[f]
	u.act.mu.Unlock()
	if !ok || u.now().Sub(d.At) >= u.activityTTL || q.Get("fresh") == "1" {
		var err error
		if d, err = u.activity(r.Context(), f); err != nil {
			u.internal(w, r, s, err)
			return
		}
		u.act.mu.Lock()
		if u.act.m == nil || len(u.act.m) >= maxActivityCache {
			u.act.m = map[activityFilter]activityData{}
		}
		u.act.m[f] = d
		u.act.mu.Unlock()
	}
	u.render(w, r, s, http.StatusOK, "activity", "Activity", d)
}

// activity counts the events and task runs of a range ("24h" or "7d"),
// optionally of one task or topic.
func (u *UI) activity(ctx context.Context, f activityFilter) (activityData, error) {
	d := activityData{Range: f.Range, Filter: f, At: u.now()}
	span, step, layout := 24*time.Hour, time.Hour, "15:00"
	if d.Range == "7d" {
		span, step, layout = 7*24*time.Hour, 24*time.Hour, "Jan 2"
	}
	loc := u.svc.Location()
	now := u.now().In(loc)
	start := now.Add(-span).Truncate(step)
	if step == 24*time.Hour {
		y, m, dd := now.Add(-span).Date()
		start = time.Date(y, m, dd+1, 0, 0, 0, 0, loc)
	}
	n := int(now.Sub(start)/step) + 1
	d.Buckets = make([]bucket, n)
	for i := range d.Buckets {
		d.Buckets[i].Label = start.Add(time.Duration(i) * step).Format(layout)
	}
	idx := func(t time.Time) int {
		i := int(t.In(loc).Sub(start) / step)
		if i < 0 || i >= n {
			return -1
		}
		return i
	}
	topics := map[string]*countRow{}
	topicOfEvent := map[string]string{}
	taskEvents := map[string]bool{}
	countEvents := func() error {
		return u.scanEvents(ctx, start, func(e store.Event) {
			topicOfEvent[e.ID] = e.Topic
			if f.Topic != "" && e.Topic != f.Topic {
				return
			}
			if f.TaskID != "" && !taskEvents[e.ID] {
				return
			}
			d.Events++
			if i := idx(e.CreatedAt); i >= 0 {
				d.Buckets[i].Events++
			}
			c := topics[e.Topic]
			if c == nil {
				c = &countRow{Name: e.Topic, Link: query("/activity", "range", f.Range, "topic", e.Topic)}
				topics[e.Topic] = c
			}
			c.Count++
		}, &d.Truncated)
	}
	tasks := map[string]*countRow{}
	countRuns := func() error {
		return u.scanRuns(ctx, start, f.TaskID, func(run store.Run) {
			taskEvents[run.EventID] = true
			if f.Topic != "" {
				tp, ok := topicOfEvent[run.EventID]
				if !ok {
					if e, err := u.st.GetEvent(ctx, run.EventID); err == nil {
						tp = e.Topic
					}
					topicOfEvent[run.EventID] = tp
				}
				if tp != f.Topic {
					return
				}
			}
			d.Runs++
			i := idx(run.CreatedAt)
			if i >= 0 {
				d.Buckets[i].Runs++
			}
			c := tasks[run.TaskID]
			if c == nil {
				c = &countRow{Name: run.TaskID, Link: query("/activity", "range", f.Range, "task_id", run.TaskID)}
				tasks[run.TaskID] = c
			}
			c.Count++
			if run.Status == store.StatusFailed {
				d.Failures++
				c.Failed++
				if i >= 0 {
					d.Buckets[i].Failures++
				}
			}
		}, &d.Truncated)
	}
	// With a task, its runs (read through the store's task filter) pick
	// the events; otherwise the events give the runs' topics.
	steps := []func() error{countEvents, countRuns}
	if f.TaskID != "" {
		steps = []func() error{countRuns, countEvents}
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return d, err
		}
	}
	top := 1
	for _, b := range d.Buckets {
		top = max(top, b.Events, b.Runs)
	}
	for i := range d.Buckets {
		b := &d.Buckets[i]
		b.EH, b.RH, b.FH = b.Events*100/top, b.Runs*100/top, b.Failures*100/top
	}
	all, err := u.allTasks(ctx)
	if err != nil {
		return d, err
	}
	d.AllTasks = all
	names := make(map[string]string, len(all))
	for _, t := range all {
		names[t.ID] = t.Name
	}
	for id, c := range tasks {
		c.Name = names[id]
		if c.Name == "" {
			c.Name = "(deleted task)"
		}
		d.Tasks = append(d.Tasks, *c)
	}
	for _, c := range topics {
		d.Topics = append(d.Topics, *c)
	}
	byCount := func(a, b countRow) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return cmpString(a.Name, b.Name)
	}
	slices.SortFunc(d.Tasks, byCount)
	slices.SortFunc(d.Topics, byCount)
	d.Tasks, d.Topics = d.Tasks[:min(len(d.Tasks), 20)], d.Topics[:min(len(d.Topics), 20)]
	return d, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// scanEvents calls fn for events created since, newest first, up to maxActivityRecords.
func (u *UI) scanEvents(ctx context.Context, since time.Time, fn func(store.Event), truncated *bool) error {
	p := store.Page{Limit: store.MaxPageLimit}
	for seen := 0; ; {
		evs, next, err := u.st.ListEvents(ctx, store.EventFilter{Since: since, Page: p})
		if err != nil {
			return fmt.Errorf("list events: %w", err)
		}
		for _, e := range evs {
			fn(e)
		}
		seen += len(evs)
		if next == "" {
			return nil
		}
		if seen >= maxActivityRecords {
			*truncated = true
			return nil
		}
		p.Cursor = next
	}
}

// scanRuns calls fn for task runs (of one task, when taskID is set)
// created since, up to maxActivityRecords.
func (u *UI) scanRuns(ctx context.Context, since time.Time, taskID string, fn func(store.Run), truncated *bool) error {
	p := store.Page{Limit: store.MaxPageLimit}
	for seen := 0; ; {
		runs, next, err := u.st.ListRuns(ctx, store.RunFilter{Kind: store.KindTask, TaskID: taskID, Since: since, Page: p})
		if err != nil {
			return fmt.Errorf("list runs: %w", err)
		}
		for _, r := range runs {
			fn(r)
		}
		seen += len(runs)
		if next == "" {
			return nil
		}
		if seen >= maxActivityRecords {
			*truncated = true
			return nil
		}
		p.Cursor = next
	}
}
