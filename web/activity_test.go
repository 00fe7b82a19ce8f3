package web

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/store"
)

// TestActivity checks the activity page's counts, whole and filtered by
// task and by topic, against the store.
func TestActivity(t *testing.T) {
	env := startEnv(t, envOptions{})
	ids, _ := fillStore(t, env.svc.Store(), 7, 200)
	ctx := context.Background()
	count := func(f store.RunFilter) (all, failed int) {
		f.Kind, f.Page = store.KindTask, store.Page{Limit: store.MaxPageLimit}
		runs, _, err := env.svc.Store().ListRuns(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			all++
			if r.Status == store.StatusFailed {
				failed++
			}
		}
		return all, failed
	}
	taskRuns, taskFailed := count(store.RunFilter{TaskID: ids[2]})
	taskEvents := map[string]bool{}
	runs, _, _ := env.svc.Store().ListRuns(ctx, store.RunFilter{Kind: store.KindTask, TaskID: ids[2], Page: store.Page{Limit: store.MaxPageLimit}})
	for _, r := range runs {
		taskEvents[r.EventID] = true
	}
	// Events of topic user/bench/t3: every 20th event from the 4th.
	topicEvents := 0
	for i := range 40 {
		if i%20 == 3 {
			topicEvents++
		}
	}
	tests := []struct {
		name                   string
		query                  string
		events, runs, failures int
	}{
		{name: "all", query: "", events: 40, runs: 200, failures: 20},
		{name: "one task", query: "task_id=" + ids[2], events: len(taskEvents), runs: taskRuns, failures: taskFailed},
		{name: "one topic", query: "topic=user/bench/t3", events: topicEvents, runs: topicEvents * 5, failures: -1},
		{name: "7 days", query: "range=7d", events: 40, runs: 200, failures: 20},
	}
	b := env.browser()
	b.mustSignIn()
	summary := regexp.MustCompile(`<strong>(\d+)</strong> events · <strong>(\d+)</strong> task runs · <strong[^>]*>(\d+)</strong> failed`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := b.get("/activity?" + tt.query)
			m := summary.FindStringSubmatch(body)
			if m == nil {
				t.Fatal("no summary")
			}
			got := fmt.Sprintf("%s/%s/%s", m[1], m[2], m[3])
			want := fmt.Sprintf("%d/%d/%d", tt.events, tt.runs, tt.failures)
			if tt.failures < 0 {
				got, want = got[:strings.LastIndex(got, "/")], want[:strings.LastIndex(want, "/")]
			}
			if got != want {
				t.Errorf("events/runs/failed = %s, want %s", got, want)
			}
			if strings.Count(body, `class="bar-group"`) < 24 && tt.query != "range=7d" {
				t.Errorf("chart has %d bars, want one per hour", strings.Count(body, `class="bar-group"`))
			}
		})
	}
}
