package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
)

func dataOf(t *testing.T, raw []byte) *value.Map {
	t.Helper()
	v, err := value.FromJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := v.(*value.Map)
	if !ok {
		t.Fatalf("not a hash: %s", raw)
	}
	return m
}

// TestChain: event → task run → action runs → perform event → task again.
func TestChain(t *testing.T) {
	h := newHarness(t)
	a := h.task("responder", []string{"user/orders/new", "mechanic/actions/perform"}, "", taskOpts{})
	other := h.task("bystander", []string{"mechanic/actions/perform"}, `{"log":"should not run"}`, taskOpts{})
	h.setRender("responder", func(in TaskRunInput) (string, error) {
		if in.Event.Topic == TopicActionsPerform {
			d := dataOf(t, in.Event.Data)
			return fmt.Sprintf(`{"log":{"type":%q,"ok":%v,"parent":%q}}`, dig(d, "type"), dig(d, "run", "ok"), in.Parents[0].Topic), nil
		}
		return `{"log":"hello"} {"action":{"type":"cache","options":["incr","hits"],"meta":{"m":1}}} {"action":{"type":"echo","options":{"x":1}}}`, nil
	})
	h.start()
	ev := h.event("user/orders/new", `{"id":1}`)
	h.waitIdle()

	if r := h.run(ev.ID); r.Status != store.StatusSuccess || r.Kind != store.KindEvent {
		t.Fatalf("event run = %s %s %s", r.Kind, r.Status, r.Error)
	}
	taskRuns := h.runs(store.RunFilter{TaskID: a.ID, Kind: store.KindTask})
	if len(taskRuns) != 2 {
		t.Fatalf("task runs = %d, want 2 (the event and the perform event)", len(taskRuns))
	}
	for _, r := range taskRuns {
		if r.Status != store.StatusSuccess {
			t.Errorf("task run %s: %s %s", r.ID, r.Status, r.Error)
		}
	}
	if string(taskRuns[0].Logs) != `["hello"]` {
		t.Errorf("first task run logs = %s", taskRuns[0].Logs)
	}
	if got := string(taskRuns[1].Logs); got != `[{"type":"cache","ok":true,"parent":"user/orders/new"}]` {
		t.Errorf("perform task run logs = %s", got)
	}
	acts := h.runs(store.RunFilter{ParentRunID: taskRuns[0].ID})
	if len(acts) != 2 || acts[0].ActionType != "cache" || acts[1].ActionType != "echo" || acts[0].Seq != 0 || acts[1].Seq != 1 {
		t.Fatalf("action runs = %+v", acts)
	}
	for _, r := range acts {
		if r.Status != store.StatusSuccess {
			t.Errorf("action run %s: %s %s", r.ActionType, r.Status, r.Error)
		}
	}
	if v := h.cacheValue("hits"); v != "1" {
		t.Errorf("cache hits = %s", v)
	}
	perf := h.events(TopicActionsPerform)
	if len(perf) != 1 {
		t.Fatalf("perform events = %d, want 1 (echo emits none)", len(perf))
	}
	pe := perf[0]
	if pe.ParentID != ev.ID || len(pe.TaskIDs) != 1 || pe.TaskIDs[0] != a.ID {
		t.Errorf("perform event parent %s tasks %v", pe.ParentID, pe.TaskIDs)
	}
	d := dataOf(t, pe.Data)
	if got := strings.Join(d.Keys(), ","); got != "type,options,meta,run" {
		t.Errorf("perform data keys = %s", got)
	}
	run := dig(d, "run").(*value.Map)
	if got := strings.Join(run.Keys(), ","); got != "id,ok,error,attempts,run_at,enqueued_at,started_at,stopped_at,elapsed_time_ms,result,result_meta" {
		t.Errorf("run keys = %s", got)
	}
	if dig(d, "run", "id") != acts[0].ID || dig(d, "run", "attempts") != int64(1) || dig(d, "run", "error") != nil || dig(d, "meta", "m") != int64(1) {
		t.Errorf("perform data = %s", pe.Data)
	}
	if dig(d, "run", "result", "value") != nil || dig(d, "run", "result", "command") != "incr" {
		t.Errorf("perform result = %s", pe.Data)
	}
	if n := len(h.runs(store.RunFilter{TaskID: other.ID})); n != 0 {
		t.Errorf("bystander got %d runs; perform events go only to the originating task", n)
	}
	var result []any
	if err := json.Unmarshal(taskRuns[0].Result, &result); err != nil || len(result) != 2 {
		t.Errorf("task run result = %s", taskRuns[0].Result)
	}
}

func TestEventActionChildAndTaskIDs(t *testing.T) {
	h := newHarness(t)
	target := h.task("target", []string{"user/child/event"}, `{"log":"child seen"}`, taskOpts{})
	ignored := h.task("ignored", []string{"user/child/event"}, `{"log":"nope"}`, taskOpts{})
	h.task("emitter", []string{"user/start/now"},
		fmt.Sprintf(`{"action":{"type":"event","options":{"topic":"user/child/event","data":{"n":2},"task_id":%q}}}`, target.ID), taskOpts{})
	h.start()
	root := h.event("user/start/now", `null`)
	h.waitIdle()
	kids := h.events("user/child/event")
	if len(kids) != 1 || kids[0].ParentID != root.ID || string(kids[0].Data) != `{"n":2}` {
		t.Fatalf("child events = %+v", kids)
	}
	if rs := h.runs(store.RunFilter{TaskID: target.ID, Kind: store.KindTask}); len(rs) != 1 || rs[0].Status != store.StatusSuccess || rs[0].EventID != kids[0].ID {
		t.Errorf("target runs = %+v", rs)
	}
	if rs := h.runs(store.RunFilter{TaskID: ignored.ID}); len(rs) != 0 {
		t.Errorf("task_id should restrict delivery; ignored got %d runs", len(rs))
	}
}

func TestTopicMatchingAndDisabled(t *testing.T) {
	h := newHarness(t)
	yes := h.task("yes", []string{"user/a/b", "user/a/b+1.hour", "user/a/c"}, `{"log":1}`, taskOpts{})
	off := h.task("off", []string{"user/a/b"}, `{"log":1}`, taskOpts{disabled: true})
	other := h.task("other", []string{"user/a/bb"}, `{"log":1}`, taskOpts{})
	h.start()
	ev := h.event("user/a/b", `{}`)
	h.waitIdle()
	rs := h.runs(store.RunFilter{EventID: ev.ID, Kind: store.KindTask})
	if len(rs) != 2 {
		t.Fatalf("task runs = %d, want 2 (one per matching subscription)", len(rs))
	}
	for _, r := range rs {
		if r.TaskID != yes.ID {
			t.Errorf("run for task %s", r.TaskID)
		}
	}
	if n := len(h.runs(store.RunFilter{TaskID: off.ID})) + len(h.runs(store.RunFilter{TaskID: other.ID})); n != 0 {
		t.Errorf("disabled or non-matching tasks got %d runs", n)
	}
	// A perform event without a task never reaches subscribers.
	h.task("listener", []string{TopicActionsPerform}, `{"log":1}`, taskOpts{})
	pe := h.event(TopicActionsPerform, `{}`)
	h.waitIdle()
	if rs := h.runs(store.RunFilter{EventID: pe.ID, Kind: store.KindTask}); len(rs) != 0 {
		t.Errorf("perform event without task ids made %d task runs", len(rs))
	}
}

func TestTaskRunFailures(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, script string
		render       func(TaskRunInput) (string, error)
		wantStatus   store.RunStatus
		wantErr      string
		wantAttempts int
	}{
		{name: "error objects", script: `{"log":"a"} {"error":"bad order"} {"action":{"type":"echo","options":{}}}`, wantStatus: store.StatusFailed, wantErr: "task rendered error objects: bad order", wantAttempts: 1},
		{name: "engine error", render: func(TaskRunInput) (string, error) { return "partial", fmt.Errorf("Liquid syntax error: oops") }, wantStatus: store.StatusFailed, wantErr: "Liquid syntax error: oops", wantAttempts: 1},
		{name: "transient", render: func(TaskRunInput) (string, error) { return "", Transient(fmt.Errorf("cache lookup failed")) }, wantStatus: store.StatusPending, wantErr: "cache lookup failed", wantAttempts: 1},
		{name: "unknown action", script: `{"action":{"type":"nope","options":{}}}`, wantStatus: store.StatusFailed, wantErr: `action 1 (nope): option "type": unknown action type "nope"`, wantAttempts: 1},
		{name: "invalid options", script: `{"action":{"type":"cache","options":["incr"]}}`, wantStatus: store.StatusFailed, wantErr: "cache action: option", wantAttempts: 1},
		{name: "bad output", script: `hello`, wantStatus: store.StatusFailed, wantErr: "expected a JSON object", wantAttempts: 1},
	}
	ids := map[string]string{}
	for i, tt := range tests {
		topic := fmt.Sprintf("user/fail/t%d", i)
		tk := h.task(tt.name, []string{topic}, tt.script, taskOpts{})
		ids[tt.name] = tk.ID
		if tt.render != nil {
			h.setRender(tt.name, tt.render)
		}
		h.event(topic, `{}`)
	}
	h.start()
	h.waitIdle()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := h.runs(store.RunFilter{TaskID: ids[tt.name]})
			if len(rs) != 1 {
				t.Fatalf("runs = %d, want only the task run", len(rs))
			}
			r := rs[0]
			if r.Status != tt.wantStatus || !strings.Contains(r.Error, tt.wantErr) || r.Attempts != tt.wantAttempts {
				t.Errorf("run = %s %q attempts %d", r.Status, r.Error, r.Attempts)
			}
		})
	}
	r := h.runs(store.RunFilter{TaskID: ids["error objects"]})[0]
	if string(r.Logs) != `["a"]` || string(r.Errors) != `["bad order"]` || !strings.Contains(r.Output, "bad order") {
		t.Errorf("failed run keeps output: logs %s errors %s output %q", r.Logs, r.Errors, r.Output)
	}
}

func TestDisabledTaskFailsQueuedRuns(t *testing.T) {
	h := newHarness(t)
	tk := h.task("t", []string{"user/a/b"}, `{"log":1}`, taskOpts{})
	ev := h.event("user/a/b", `{}`)
	tk.Enabled = false
	// Disable after the event run found it: create the task run first.
	h.start()
	h.waitIdle()
	if rs := h.runs(store.RunFilter{EventID: ev.ID, Kind: store.KindTask}); len(rs) != 1 || rs[0].Status != store.StatusSuccess {
		t.Fatalf("runs = %+v", rs)
	}
	if _, err := h.st.UpdateTask(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	taskRun := h.runs(store.RunFilter{EventID: ev.ID, Kind: store.KindTask})[0]
	if _, err := h.p.Retry(context.Background(), taskRun.ID); err != nil {
		t.Fatal(err)
	}
	h.waitIdle()
	if r := h.run(taskRun.ID); r.Status != store.StatusFailed || r.Error != "task is disabled" {
		t.Errorf("task run of disabled task = %s %q", r.Status, r.Error)
	}
}

func TestCacheIncrOfText(t *testing.T) {
	h := newHarness(t)
	tk := h.task("t", []string{"user/a/b", "user/a/b"}, `{"action":{"type":"cache","options":["set","word","abc"]}}`, taskOpts{})
	h.setRender("t", func(in TaskRunInput) (string, error) {
		if string(in.Event.Data) == `"incr"` {
			return `{"action":{"type":"cache","options":["incr","word"]}}`, nil
		}
		return in.Task.Script, nil
	})
	h.start()
	h.event("user/a/b", `"set"`)
	h.waitIdle()
	h.event("user/a/b", `"incr"`)
	h.waitIdle()
	acts := h.runs(store.RunFilter{TaskID: tk.ID, Kind: store.KindAction})
	if len(acts) != 2 {
		t.Fatalf("action runs = %d, want 2 (a duplicated subscription runs once)", len(acts))
	}
	if acts[1].Status != store.StatusFailed || acts[1].Error != "cache action: the stored value is not an integer" || acts[1].Attempts != 1 {
		t.Errorf("incr of text: %s %q attempts %d", acts[1].Status, acts[1].Error, acts[1].Attempts)
	}
	if v := h.cacheValue("word"); v != `"abc"` {
		t.Errorf("word = %s", v)
	}
}
