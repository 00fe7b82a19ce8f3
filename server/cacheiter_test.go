package server

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/pipeline"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
	"github.com/sprocketrun/sprocket/task"
)

type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

// TestCacheIterationSQLite iterates the cache variable over a real SQLite
// store: live keys in key order, expired keys left out.
func TestCacheIterationSQLite(t *testing.T) {
	ctx := context.Background()
	clock := &stepClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(ctx, t.TempDir(), sqlite.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, op := range []store.CacheOp{
		{Kind: store.CacheSet, Key: "b", Value: json.RawMessage(`{"n":2}`)},
		{Kind: store.CacheSet, Key: "a", Value: json.RawMessage(`"one"`)},
		{Kind: store.CacheSet, Key: "short", Value: json.RawMessage(`true`), TTL: time.Minute},
		{Kind: store.CacheIncr, Key: "c", Delta: 5},
	} {
		if _, err := st.CacheApply(ctx, op); err != nil {
			t.Fatal(err)
		}
	}
	clock.now = clock.now.Add(2 * time.Minute)
	tk := task.New("iterate")
	tk.Script = `{% capture out %}{% for keyval in cache %}{{ keyval[0] }}={{ keyval[1] | json }};{% endfor %}{% endcapture %}{% log out %}`
	r := &run.Renderer{Engine: dialect.NewEngine(dialect.Options{}), Cache: pipeline.StoreCache(st)}
	res, err := r.Run(ctx, run.Input{Task: tk, Event: &run.Event{Topic: "mechanic/user/trigger"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Output.Logs[0], `a="one";b={"n":2};c=5;`; got != want {
		t.Errorf("iteration = %q, want %q", got, want)
	}
	if _, err := st.CacheList(ctx, 0); err == nil {
		t.Error("CacheList with limit 0: no error")
	}
}
