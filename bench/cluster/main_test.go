package main

import (
	"os"
	"testing"
	"time"
)

// TestShortCluster runs each benchmark phase at a small size, on SQLite and
// on two PostgreSQL nodes, so the program keeps working as the service
// changes: every request is answered and every webhook becomes an http
// action.
func TestShortCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodes and pushes webhooks through them")
	}
	c := config{clients: 8, ackFor: 500 * time.Millisecond, rate: 200, rateFor: time.Second, runs: 200, runsTimeout: time.Minute}
	type tc struct {
		name, db string
		nodes    int
	}
	cases := []tc{{"SQLite", "", 1}}
	switch db := os.Getenv("SPROCKET_TEST_DATABASE_URL"); {
	case db != "":
		cases = append(cases, tc{"PostgreSQL", db, 2})
	case os.Getenv("CI") == "true":
		t.Fatal("CI=true needs SPROCKET_TEST_DATABASE_URL")
	default:
		t.Log("no SPROCKET_TEST_DATABASE_URL: PostgreSQL case skipped")
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			r, err := runConfig(t.Context(), c, k.name, k.db, k.nodes)
			if err != nil {
				t.Fatal(err)
			}
			if r.errs != 0 || r.acks <= 0 || r.rateAchieved <= 0 {
				t.Errorf("%s: %d errors, %.0f acks/s, %.0f req/s achieved", k.name, r.errs, r.acks, r.rateAchieved)
			}
			if r.runsDone != r.runsWanted || r.runsWanted != int64(c.runs) {
				t.Errorf("%s: %d of %d runs performed, want %d", k.name, r.runsDone, r.runsWanted, c.runs)
			}
		})
	}
}
