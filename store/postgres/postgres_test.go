package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/leader"
	"github.com/sprocketrun/sprocket/store/migrate"
	"github.com/sprocketrun/sprocket/store/postgres"
	"github.com/sprocketrun/sprocket/store/storetest"
)

// databaseURL returns SPROCKET_TEST_DATABASE_URL, skipping the test when it
// is unset (failing instead when CI=true, where .ci/run starts a server).
func databaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SPROCKET_TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SPROCKET_TEST_DATABASE_URL is not set; .ci/run starts a PostgreSQL server and sets it")
		}
		t.Skip("PostgreSQL tests need SPROCKET_TEST_DATABASE_URL (e.g. from .ci/postgres start); skipping")
	}
	return u
}

// freshSchema returns a new schema name, dropped when the test ends.
func freshSchema(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+name+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

func open(t testing.TB, url, schema string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, append([]postgres.Option{postgres.WithSchema(schema), postgres.WithMaxConns(8)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	url := databaseURL(t)
	storetest.Run(t, func(t *testing.T, clock store.Clock) store.Store {
		return open(t, url, freshSchema(t, url), postgres.WithClock(clock))
	})
}

func TestMigrationsIdempotentAndRefuseNewerSchema(t *testing.T) {
	url := databaseURL(t)
	schema := freshSchema(t, url)
	ctx := t.Context()
	s := open(t, url, schema)
	all, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // reopening applies nothing
		s2 := open(t, url, schema)
		v, err := s2.SchemaVersion(ctx)
		if err != nil || v != len(all) {
			t.Fatalf("schema version = %d, %v; want %d", v, err, len(all))
		}
	}
	var rows int
	if err := s.Pool().QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(all) {
		t.Fatalf("schema_migrations rows = %d, %v; want %d", rows, err, len(all))
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from_the_future.sql', 0)`, len(all)+1); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(ctx, url, postgres.WithSchema(schema))
	if !errors.Is(err, migrate.ErrSchemaTooNew) {
		t.Fatalf("Open on a newer schema = %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		url  string
		opts []postgres.Option
	}{
		{"bad url", "postgres://%zz", nil},
		{"bad schema", "postgres://127.0.0.1:1/x", []postgres.Option{postgres.WithSchema("Robert'); DROP")}},
		{"bad pool size", "postgres://127.0.0.1:1/x", []postgres.Option{postgres.WithMaxConns(-1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := postgres.Open(t.Context(), tc.url, tc.opts...); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("Open = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestNodesShareOneQueue opens several stores on one schema, as several
// nodes would, and checks the cluster-wide guarantees: each run is claimed
// once, each scheduler tick fires once, concurrent increments all count.
func TestNodesShareOneQueue(t *testing.T) {
	url := databaseURL(t)
	schema := freshSchema(t, url)
	ctx := t.Context()
	const nodes = 3
	var stores []*postgres.Store
	for range nodes {
		stores = append(stores, open(t, url, schema))
	}
	const events = 300
	var evs []store.NewEvent
	for i := range events {
		evs = append(evs, store.NewEvent{Topic: "user/load/x", Data: json.RawMessage(fmt.Sprint(i))})
	}
	if _, err := stores[0].InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		seen  = map[string]int{}
		fired int
		wg    sync.WaitGroup
		errc  = make(chan error, 64)
	)
	tick := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for n, s := range stores {
		for w := range 4 {
			wg.Go(func() {
				for {
					jobs, err := s.Claim(ctx, 5, time.Minute)
					if err != nil {
						errc <- err
						return
					}
					if len(jobs) == 0 {
						return
					}
					mu.Lock()
					for _, j := range jobs {
						seen[j.Run.ID]++
					}
					mu.Unlock()
					for _, j := range jobs {
						if _, err := s.Complete(ctx, j, store.Result{}); err != nil {
							errc <- err
							return
						}
					}
				}
			})
			wg.Go(func() {
				ok, err := s.FireTick(ctx, "mechanic/scheduler/hour", tick, []store.NewEvent{
					{ID: store.DerivedID("tick", tick.String()), Topic: "mechanic/scheduler/hour"}})
				if err != nil {
					errc <- err
					return
				}
				if _, err := s.CacheApply(ctx, store.CacheOp{Kind: store.CacheIncr, Key: "counter", Delta: int64(n*10 + w + 1)}); err != nil {
					errc <- err
					return
				}
				if ok {
					mu.Lock()
					fired++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	// The tick's event run may or may not have been claimed before the
	// claimers found the queue empty.
	delete(seen, store.DerivedID("tick", tick.String()))
	if len(seen) != events {
		t.Fatalf("claimed %d distinct runs, want %d", len(seen), events)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("run %s claimed %d times", id, c)
		}
	}
	if fired != 1 {
		t.Fatalf("tick fired %d times across nodes, want 1", fired)
	}
	want := 0
	for n := range nodes {
		for w := range 4 {
			want += n*10 + w + 1
		}
	}
	v, ok, err := stores[1].CacheGet(ctx, "counter")
	if err != nil || !ok || string(v) != fmt.Sprint(want) {
		t.Fatalf("counter = %s, %v, %v; want %d", v, ok, err, want)
	}
	n, _, err := stores[2].ListRuns(ctx, store.RunFilter{Status: store.StatusSuccess, Page: store.Page{Limit: store.MaxPageLimit}})
	if err != nil || len(n) < events {
		t.Fatalf("successful runs = %d, %v; want at least %d", len(n), err, events)
	}
}

func TestQueriesHonourContextAndStatementTimeout(t *testing.T) {
	url := databaseURL(t)
	schema := freshSchema(t, url)
	s := open(t, url, schema, postgres.WithStatementTimeout(200*time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.InsertEvents(ctx, []store.NewEvent{{Topic: "user/a/b"}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("InsertEvents with a cancelled context = %v, want context.Canceled", err)
	}
	// A statement running past statement_timeout is cancelled by the server.
	_, err := s.Pool().Exec(t.Context(), `SELECT pg_sleep(2)`)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("long statement = %v, want query_canceled (57014)", err)
	}
}

func TestLeaderLease(t *testing.T) {
	url := databaseURL(t)
	schema := freshSchema(t, url)
	a, b := open(t, url, schema), open(t, url, schema)
	ctx := t.Context()
	ea := leader.New(a, "prune", "node-a", 300*time.Millisecond, nil)
	eb := leader.New(b, "prune", "node-b", 300*time.Millisecond, nil)
	steps := []struct {
		who  *leader.Elector
		want bool
	}{{ea, true}, {eb, false}, {ea, true}, {eb, false}}
	for i, st := range steps {
		if got := st.who.Leading(ctx); got != st.want {
			t.Fatalf("step %d: Leading = %v, want %v", i, got, st.want)
		}
	}
	time.Sleep(400 * time.Millisecond) // a stops renewing: its lease expires
	if !eb.Leading(ctx) || ea.Leading(ctx) {
		t.Fatal("after a's lease expired, b should lead and a not")
	}
	if err := eb.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if !ea.Leading(ctx) {
		t.Fatal("after b resigned, a should lead at once")
	}
}

func TestWakerCrossesNodes(t *testing.T) {
	url := databaseURL(t)
	schema := freshSchema(t, url)
	a, b := open(t, url, schema), open(t, url, schema)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	woken := make(chan struct{}, 16)
	wa, wb := a.NewWaker(5*time.Millisecond), b.NewWaker(5*time.Millisecond)
	done := make(chan struct{}, 2)
	go func() { _ = wa.Run(ctx, func() {}); done <- struct{}{} }()
	go func() {
		_ = wb.Run(ctx, func() {
			select {
			case woken <- struct{}{}:
			default:
			}
		})
		done <- struct{}{}
	}()
	<-woken // b's first wake-up comes when it starts listening
	for range 10 {
		wa.Poke()
	}
	select {
	case <-woken:
	case <-time.After(10 * time.Second):
		t.Fatal("b was not woken by a's notification")
	}
	cancel()
	<-done
	<-done
}
