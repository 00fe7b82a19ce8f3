package sqlite_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/migrate"
	"github.com/sprocketrun/sprocket/store/sqlite"
	"github.com/sprocketrun/sprocket/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock store.Clock) store.Store {
		s, err := sqlite.Open(t.Context(), t.TempDir(), sqlite.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.InsertEvents(ctx, []store.NewEvent{{Topic: "user/a/b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FireTick(ctx, "hourly", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.InsertEvents(ctx, []store.NewEvent{{Topic: "user/a/b"}}); err == nil {
		t.Fatal("write after Close succeeded")
	}
	for range 2 {
		s, err = sqlite.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetEvent(ctx, evs[0].ID); err != nil {
			t.Fatalf("event lost across reopen: %v", err)
		}
		fired, err := s.FireTick(ctx, "hourly", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil)
		if err != nil || fired {
			t.Fatalf("tick fired again after restart: %v %v", fired, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	all, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if n != len(all) || mode != "wal" {
		t.Fatalf("schema_migrations rows = %d, journal_mode = %s; want %d rows, wal", n, mode, len(all))
	}
	for _, name := range []string{sqlite.FileName, sqlite.FileName + "-wal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v, want owner-only", name, perm)
		}
	}
}

func TestOpenRejectsBadSynchronous(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), t.TempDir(), sqlite.WithSynchronous("OFF")); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Open(synchronous=OFF) = %v, want ErrInvalid", err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	all, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, len(all)+1); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(ctx, dir); !errors.Is(err, migrate.ErrSchemaTooNew) {
		t.Fatalf("Open on a newer schema = %v, want migrate.ErrSchemaTooNew", err)
	}
}
