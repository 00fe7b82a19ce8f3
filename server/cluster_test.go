package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/scheduler"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/postgres"
	"github.com/sprocketrun/sprocket/task"
)

// TestClusterKill runs three `sprocket serve` nodes on one PostgreSQL
// database, spreads webhooks over them at a steady rate, kills one node
// with SIGKILL mid-load and restarts it, then checks from the database:
// every acknowledged webhook is exactly one event, every event has one
// event run and one task run per subscribed task, all runs finished
// successfully, an http action repeated after the crash is recorded as a
// further attempt on its run, and a scheduler slot due when the nodes
// start fired exactly once although all three nodes raced for it.
func TestClusterKill(t *testing.T) {
	dbURL := testDatabaseURL(t)
	bin := buildBinary(t)
	const (
		total   = 600
		killAt  = 250
		senders = 6
		rate    = 150 // requests per second, all senders together
	)

	// The http action's target counts deliveries per order number.
	var (
		hitsMu sync.Mutex
		hits   = map[int]int{}
	)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ N int }
		_ = json.NewDecoder(r.Body).Decode(&body)
		hitsMu.Lock()
		hits[body.N]++
		hitsMu.Unlock()
		// Slow enough that the killed node has actions in flight: they are
		// performed, never recorded, and retaken after the lease.
		time.Sleep(50 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer target.Close()

	// Seed the schema and the scheduler state so that the current 10-minute
	// slot is due when the nodes start: all three will try to fire it.
	ctx := context.Background()
	loc := time.UTC
	slot := time.Now().UTC().Truncate(10 * time.Minute) // the latest 10-minute slot
	if next := slot.Add(10 * time.Minute); time.Until(next) < 20*time.Second {
		// Too close to the next slot: the nodes might start after it and
		// fire that one instead. Wait for it.
		time.Sleep(time.Until(next) + time.Second)
		slot = next
	}
	seed, err := postgres.Open(ctx, dbURL, postgres.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	// The tasks exist before any node starts, so the slot's event finds its task.
	var docs [][]byte
	for _, doc := range []map[string]any{
		{"name": "Log orders", "script": `{% log n: event.data.n %}`, "subscriptions": []string{"user/orders/new"}},
		{"name": "Post orders", "script": `{% action "http" %}{"method": "post", "url": {{ "` + target.URL + `/orders" | json }}, "body": {"n": {{ event.data.n | json }}}}{% endaction %}`,
			"subscriptions": []string{"user/orders/new"}},
		{"name": "Every 10 minutes", "script": `{% log slot: event.data %}`, "subscriptions": []string{scheduler.Topic10Min}},
	} {
		doc["subscriptions_template"] = strings.Join(doc["subscriptions"].([]string), "\n")
		doc["options"] = map[string]any{}
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, raw)
	}
	for _, raw := range docs {
		tk, err := task.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		created, _, err := CreateTask(ctx, seed, tk, "")
		if err != nil {
			t.Fatal(err)
		}
		created.Enabled = true
		if _, err := seed.UpdateTask(ctx, created); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := seed.FireTick(ctx, scheduler.Topic10Min, slot.Add(-10*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	_ = seed.Close()

	env := []string{"SPROCKET_API_TOKEN=" + testToken, "SPROCKET_DATABASE_URL=" + dbURL,
		"SPROCKET_SECRET_KEY=" + strings.Repeat("ab", 32)} // one key for every node
	args := []string{"--run-lease", "3s", "--database-max-conns", "6"}
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	nodes := make([]*proc, 3)
	for i := range nodes {
		nodes[i] = startServeEnv(t, bin, dirs[i], env, args...)
	}
	defer func() {
		for _, p := range nodes {
			p.kill()
		}
	}()
	c := &client{t: t, base: nodes[0].base, token: testToken}
	wh := c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "Orders", "topic": "user/orders/new"})
	path := wh["url"].(string)

	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	var (
		acked   = make([]bool, total)
		nAcked  atomic.Int64
		nFailed atomic.Int64
		next    atomic.Int64
		nodesMu sync.Mutex
		killed  = make(chan struct{})
		once    sync.Once
		wg      sync.WaitGroup
	)
	base := func(i int) string {
		nodesMu.Lock()
		defer nodesMu.Unlock()
		return nodes[i%3].base
	}
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	for range senders {
		wg.Go(func() {
			for range tick.C {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				resp, err := hc.Post(base(i)+path, "application/json", strings.NewReader(fmt.Sprintf(`{"n": %d}`, i)))
				if err != nil {
					nFailed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					nFailed.Add(1)
					continue
				}
				acked[i] = true
				if nAcked.Add(1) >= killAt {
					once.Do(func() { close(killed) })
				}
			}
		})
	}
	// Kill node 2 mid-load and restart it on the same data directory (its
	// lock died with it) while the load goes on.
	<-killed
	nodes[1].kill()
	time.Sleep(500 * time.Millisecond)
	restarted := startServeEnv(t, bin, dirs[1], env, args...)
	nodesMu.Lock()
	nodes[1] = restarted
	nodesMu.Unlock()
	wg.Wait()
	if nAcked.Load() <= killAt {
		t.Fatalf("acked %d of %d: the load did not go on after the kill", nAcked.Load(), total)
	}

	c2 := &client{t: t, base: nodes[2].base, token: testToken}
	eventually(t, 90*time.Second, "the queue to drain", func() bool {
		st := c2.want(http.StatusOK, "GET", "/v1/shop/status", nil)
		return st["waiting"] == 0.0 && st["running"] == 0.0 && st["scheduled"] == 0.0
	})
	for _, p := range nodes {
		p.stop()
	}

	st, err := postgres.Open(ctx, dbURL, postgres.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	perN := map[int]int{}
	var events, taskRuns, actionRuns, repeated int
	pg := store.Page{Limit: store.MaxPageLimit}
	for {
		evs, nextCur, err := st.ListEvents(ctx, store.EventFilter{Topic: "user/orders/new", Page: pg})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			events++
			var d struct{ N int }
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatalf("event %s data %s: %v", e.ID, e.Data, err)
			}
			perN[d.N]++
			runs, _, err := st.ListRuns(ctx, store.RunFilter{EventID: e.ID, Page: store.Page{Limit: 100}})
			if err != nil {
				t.Fatal(err)
			}
			byTask := map[string]int{}
			nEvent, nAction := 0, 0
			for _, r := range runs {
				if r.Status != store.StatusSuccess {
					t.Errorf("%s %s (n=%d): %s %s", r.Kind, r.ID, d.N, r.Status, r.Error)
				}
				switch r.Kind {
				case store.KindEvent:
					nEvent++
				case store.KindTask:
					byTask[r.TaskID]++
					taskRuns++
				case store.KindAction:
					nAction++
					actionRuns++
					hitsMu.Lock()
					h := hits[d.N]
					hitsMu.Unlock()
					if h == 0 {
						t.Errorf("action run %s (n=%d) succeeded but the target never received it", r.ID, d.N)
					}
					if h > 1 {
						repeated++
						if r.Attempts < 2 {
							t.Errorf("n=%d delivered %d times but its action run records %d attempt(s)", d.N, h, r.Attempts)
						}
					}
				}
			}
			if nEvent != 1 || len(byTask) != 2 || nAction != 1 {
				t.Fatalf("event %s (n=%d): %d event runs, %d action runs, task runs by task %v; want 1, 1 and one per task",
					e.ID, d.N, nEvent, nAction, byTask)
			}
			for tid, n := range byTask {
				if n != 1 {
					t.Fatalf("event %s: task %s ran %d times", e.ID, tid, n)
				}
			}
		}
		if nextCur == "" {
			break
		}
		pg.Cursor = nextCur
	}
	for i, ok := range acked {
		switch {
		case ok && perN[i] != 1:
			t.Errorf("acknowledged request %d has %d events, want 1", i, perN[i])
		case perN[i] > 1:
			t.Errorf("request %d has %d events", i, perN[i])
		}
	}

	// The scheduler slot: fired once, by one of the racing nodes.
	slotEvents, _, err := st.ListEvents(ctx, store.EventFilter{Topic: scheduler.Topic10Min, Page: pg})
	if err != nil {
		t.Fatal(err)
	}
	slots := map[string]int{}
	for _, e := range slotEvents {
		slots[string(e.Data)]++
		runs, _, err := st.ListRuns(ctx, store.RunFilter{EventID: e.ID, Kind: store.KindTask, Page: store.Page{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].Status != store.StatusSuccess {
			t.Errorf("scheduler event %s (%s): %d task runs, want 1 successful", e.ID, e.Data, len(runs))
		}
	}
	want := fmt.Sprintf("%q", slot.In(loc).Format(time.RFC3339))
	if slots[want] != 1 {
		t.Errorf("slot %s fired %d times (events by slot %v), want once", want, slots[want], slots)
	}
	t.Logf("cluster: %d webhooks acked of %d sent (%d refused or failed around the kill), %d events, %d task runs, %d action runs "+
		"(%d delivered again after the crash, each recorded as a further attempt); scheduler slot %s fired once",
		nAcked.Load(), total, nFailed.Load(), events, taskRuns, actionRuns, repeated, want)
}
