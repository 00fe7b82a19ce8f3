package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	mig "github.com/sprocketrun/sprocket/store/migrate"
)

// migrationFiles holds the schema migrations, NNNN_name.sql, applied in
// order; each runs once, recorded in schema_migrations by its version.
// Never edit a released file: add a new one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the schema migrations this binary knows.
func Migrations() ([]mig.Migration, error) { return mig.Load(migrationFiles, "migrations") }

// migrate applies the migrations not yet recorded; it is idempotent, and it
// refuses a database migrated by a newer binary (migrate.ErrSchemaTooNew).
func migrate(ctx context.Context, db *sql.DB, nowMicro int64) error {
	all, err := Migrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if _, err := mig.Pending(all, current); err != nil {
		return err
	}
	for _, m := range all {
		if err := applyMigration(ctx, db, m.Version, m.SQL, nowMicro); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, version int, m string, nowMicro int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %d: begin: %w", version, err)
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return fmt.Errorf("migration %d: check: %w", version, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m); err != nil {
		return fmt.Errorf("migration %d: apply: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, nowMicro); err != nil {
		return fmt.Errorf("migration %d: record: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %d: commit: %w", version, err)
	}
	return nil
}
