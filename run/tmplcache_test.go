package run

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/task"
)

func TestTemplateCache(t *testing.T) {
	c := NewTemplateCache(2)
	r := &Renderer{Engine: dialect.NewEngine(dialect.Options{}), Templates: c}
	ctx := context.Background()
	ev := &Event{Topic: "mechanic/user/trigger"}
	runScript := func(script string) string {
		t.Helper()
		res, err := r.Run(ctx, Input{Task: &task.Task{Name: "t", Script: script}, Event: ev})
		if err != nil {
			t.Fatalf("run %q: %v", script, err)
		}
		return fmt.Sprint(res.Output.Logs)
	}
	for i := range 3 {
		if got := runScript(`{% log "a" %}`); got != "[a]" {
			t.Fatalf("run %d logs %s", i, got)
		}
	}
	if c.Len() != 1 {
		t.Fatalf("cache holds %d templates, want 1", c.Len())
	}
	runScript(`{% log "b" %}`)
	runScript(`{% log "c" %}`)
	if c.Len() != 2 {
		t.Fatalf("cache holds %d templates, want its bound 2", c.Len())
	}
	if _, ok := c.lookup(`{% log "a" %}`); ok {
		t.Fatal("oldest template was not evicted")
	}
	// A syntax error is reported every time and never cached.
	for range 2 {
		if _, err := r.Run(ctx, Input{Task: &task.Task{Script: "{% if %}"}, Event: ev}); err == nil {
			t.Fatal("syntax error not reported")
		}
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			s := fmt.Sprintf(`{%% log "%d" %%}`, i%3)
			if got := runScript(s); got != fmt.Sprintf("[%d]", i%3) {
				t.Errorf("concurrent run logs %s", got)
			}
		})
	}
	wg.Wait()
}
