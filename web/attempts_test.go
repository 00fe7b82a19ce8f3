package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// TestEventPageAttemptHistory: a run taken again after its lease ran out
// shows, on its event's page, that it was performed again after an
// interrupted attempt, with each attempt's outcome and node.
func TestEventPageAttemptHistory(t *testing.T) {
	env := startEnv(t, envOptions{})
	b := env.browser()
	b.mustSignIn()
	ctx := context.Background()
	st := env.svc.Store()
	evs, err := st.InsertEvents(ctx, []store.NewEvent{{Topic: "user/a/b", Data: json.RawMessage(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	claim := func(node string, lease time.Duration) store.Job {
		t.Helper()
		jobs, err := st.ClaimFiltered(ctx, store.ClaimOptions{Limit: 1, Lease: lease, Node: node})
		if err != nil || len(jobs) != 1 {
			t.Fatalf("claim: %v %v", jobs, err)
		}
		return jobs[0]
	}
	claim("node-dead", time.Millisecond)
	time.Sleep(20 * time.Millisecond) // the lease runs out: the holder "died"
	j := claim("node-alive", time.Minute)
	if _, err := st.Complete(ctx, j, store.Result{Result: json.RawMessage(`[]`)}); err != nil {
		t.Fatal(err)
	}
	_, body := b.get("/events/" + evs[0].ID)
	for _, want := range []string{"Performed again after an interrupted attempt", "<strong>interrupted</strong>", "<strong>success</strong>",
		"<code>node-dead</code>", "<code>node-alive</code>", "#1 ", "#2 "} {
		if !strings.Contains(body, want) {
			t.Errorf("event page lacks %q", want)
		}
	}

	// A run performed once shows neither.
	evs, err = st.InsertEvents(ctx, []store.NewEvent{{Topic: "user/a/b", Data: json.RawMessage(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	j = claim("node-alive", time.Minute)
	if _, err := st.Complete(ctx, j, store.Result{Result: json.RawMessage(`[]`)}); err != nil {
		t.Fatal(err)
	}
	if _, body := b.get("/events/" + evs[0].ID); strings.Contains(body, "Performed again") || strings.Contains(body, "<summary>Attempts</summary>") {
		t.Error("a run performed once shows an attempt history")
	}
}
