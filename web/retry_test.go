package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// runTriggerTask creates an enabled task whose run renders an echo
// action (which succeeds) and a cache incr on a non-integer (which fails
// for good), runs it from its page and waits for its action runs.
func runTriggerTask(t *testing.T, env *testEnv, b *browser) (eventID string, ok, failed store.Run) {
	t.Helper()
	ctx := context.Background()
	st := env.svc.Store()
	if _, err := st.CacheApply(ctx, store.CacheOp{Kind: store.CacheSet, Key: "word", Value: json.RawMessage(`"abc"`)}); err != nil {
		t.Fatal(err)
	}
	tk := task.New("Echo and fail")
	tk.Script = "{% log \"started\" %}\n{% action \"echo\", greeting: \"hi\" %}\n{% action \"cache\", \"incr\", \"word\" %}"
	tk.Subscriptions = []string{"mechanic/user/trigger"}
	stored, _, err := server.CreateTask(ctx, st, tk, "")
	if err != nil {
		t.Fatal(err)
	}
	b.get("/tasks/" + stored.ID)
	if code, _, body := b.post("/tasks/"+stored.ID+"/enable", url.Values{"back": {"/tasks/" + stored.ID}}); code != http.StatusSeeOther {
		t.Fatalf("enable: %d %s", code, body)
	}
	b.get("/tasks/" + stored.ID)
	code, loc, body := b.post("/tasks/"+stored.ID+"/run", url.Values{"topic": {"mechanic/user/trigger"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/events/") {
		t.Fatalf("run: %d %q %s", code, loc, body)
	}
	eventID = strings.TrimPrefix(loc, "/events/")
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs, _, err := st.ListRuns(ctx, store.RunFilter{EventID: eventID, Kind: store.KindAction})
		if err != nil {
			t.Fatal(err)
		}
		done := len(runs) == 2
		for _, r := range runs {
			done = done && r.Status.Finished()
			switch r.Status {
			case store.StatusSuccess:
				ok = r
			case store.StatusFailed:
				failed = r
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("action runs did not finish: %+v", runs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ok.ID == "" || failed.ID == "" || ok.ActionType != "echo" || failed.ActionType != "cache" {
		t.Fatalf("want a succeeded echo and a failed cache action run, got %+v / %+v", ok, failed)
	}
	return eventID, ok, failed
}

// TestEventTreeAndRetryRules opens the tree of a run and checks that
// retry is offered, and accepted, only where pipeline.CanRetry allows it.
func TestEventTreeAndRetryRules(t *testing.T) {
	env := startEnv(t, envOptions{pipeline: true})
	b := env.browser()
	b.mustSignIn()
	eventID, ok, failed := runTriggerTask(t, env, b)
	_, body := b.get("/events/" + eventID)
	for _, want := range []string{
		`data-kind="event_run" data-status="success"`, `data-kind="task_run" data-status="success"`,
		`id="run-` + ok.ID + `" data-kind="action_run" data-status="success"`,
		`id="run-` + failed.ID + `" data-kind="action_run" data-status="failed"`,
		"&#34;greeting&#34;: &#34;hi&#34;", "not an integer", "started",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("event page lacks %q", want)
		}
	}
	// The errors view lists the event: one of its action runs failed,
	// though its event run succeeded.
	if _, list := b.get("/events?status=failed"); !strings.Contains(list, `href="/events/`+eventID+`"`) {
		t.Errorf("the errors view lacks the event")
	}
	if _, list := b.get("/events?status=running"); strings.Contains(list, `href="/events/`+eventID+`"`) {
		t.Errorf("a finished event is listed as running")
	}
	// retryForm reports whether the run's heading offers a retry.
	retryForm := func(id string) bool {
		head := regexp.MustCompile(`id="run-` + id + `"[^>]*>\s*<div class="run-head">[\s\S]*?</div>`).FindString(body)
		if head == "" {
			t.Fatalf("run %s not in the tree", id)
		}
		return strings.Contains(head, `action="/runs/`+id+`/retry"`)
	}
	if !retryForm(failed.ID) {
		t.Errorf("no retry button on the failed action run")
	}
	if retryForm(ok.ID) {
		t.Errorf("retry offered on a succeeded action run")
	}
	if !strings.Contains(body, "Not retryable: the action run succeeded; only failed action runs can be retried") {
		t.Errorf("no explanation why the succeeded action run cannot be retried")
	}

	tests := []struct {
		name      string
		run       store.Run
		wantFlash string
		wantRetry bool
	}{
		{name: "succeeded action run", run: ok, wantFlash: "Retry refused", wantRetry: false},
		{name: "failed action run", run: failed, wantFlash: "Retrying action run", wantRetry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, loc, _ := b.post("/runs/"+tt.run.ID+"/retry", nil)
			if code != http.StatusSeeOther || loc != "/events/"+eventID {
				t.Fatalf("retry: %d %q", code, loc)
			}
			_, page := b.get(loc)
			if !strings.Contains(page, tt.wantFlash) {
				t.Errorf("page lacks %q", tt.wantFlash)
			}
			after, err := env.svc.Store().GetRun(context.Background(), tt.run.ID)
			if err != nil {
				t.Fatal(err)
			}
			retried := after.Status == store.StatusPending || after.Status == store.StatusRunning || !after.StartedAt.Equal(tt.run.StartedAt)
			if retried != tt.wantRetry {
				t.Errorf("retried = %v (status %s), want %v", retried, after.Status, tt.wantRetry)
			}
		})
	}
}
