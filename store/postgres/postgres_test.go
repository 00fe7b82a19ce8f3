package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/store"
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
