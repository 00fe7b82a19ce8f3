package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/store"
)

func TestEventFilters(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.ErrorEvents = true }))
	h.cfg.EventFilter = &SettingsEventFilters{Settings: h.st, Engine: dialect.NewEngine(dialect.Options{}), Cache: StoreCache(h.st)}
	ctx := context.Background()
	put := func(key, js string) {
		t.Helper()
		if _, err := h.st.PutSetting(ctx, store.SettingEventFilter, key, []byte(js)); err != nil {
			t.Fatal(err)
		}
	}
	put("bulk", `{"name":"Skip bulk updates","template":"{% if event.data.bulk %}\n  false\n{% endif %}"}`)
	put("muted", `{"name":"Muted topics","template":"{% if cache.muted == event.topic %}false{% endif %}"}`)
	if _, err := h.st.CacheApply(ctx, store.CacheOp{Kind: store.CacheSet, Key: "muted", Value: []byte(`"user/muted/topic"`)}); err != nil {
		t.Fatal(err)
	}
	tk := h.task("t", []string{"user/a/b", "user/muted/topic"}, `{"log":1}`, taskOpts{})
	h.start()
	pass := h.event("user/a/b", `{"bulk":false}`)
	bulk := h.event("user/a/b", `{"bulk":true}`)
	muted := h.event("user/muted/topic", `{}`)
	h.waitIdle()
	for _, tt := range []struct {
		ev       store.Event
		taskRuns int
		filtered string
	}{{pass, 1, ""}, {bulk, 0, "Skip bulk updates"}, {muted, 0, "Muted topics"}} {
		r := h.run(tt.ev.ID)
		if r.Status != store.StatusSuccess {
			t.Errorf("event run %s: %s %s", tt.ev.Data, r.Status, r.Error)
		}
		if n := len(h.runs(store.RunFilter{EventID: tt.ev.ID, TaskID: tk.ID})); n != tt.taskRuns {
			t.Errorf("event %s: %d task runs, want %d", tt.ev.Data, n, tt.taskRuns)
		}
		if tt.filtered != "" && !strings.Contains(string(r.Result), tt.filtered) {
			t.Errorf("event %s result = %s", tt.ev.Data, r.Result)
		}
	}
	// A broken filter fails event runs, raising mechanic/errors/event.
	put("broken", `{"name":"Broken","template":"{% if %}"}`)
	broken := h.event("user/a/b", `{}`)
	h.waitIdle()
	if r := h.run(broken.ID); r.Status != store.StatusFailed || !strings.Contains(r.Error, `event filter "Broken"`) || r.Attempts != 1 {
		t.Errorf("event run with a broken filter: %s %q attempts %d", r.Status, r.Error, r.Attempts)
	}
	errs := h.events(TopicErrorsEvent)
	if len(errs) != 1 || errs[0].ParentID != broken.ID {
		t.Fatalf("error events = %+v", errs)
	}
	// The error event is filtered too, and fails, but raises nothing more.
	if n := len(h.events(TopicErrorsEvent)); n != 1 {
		t.Errorf("error events = %d", n)
	}
}
