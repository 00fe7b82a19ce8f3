package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; each runs once, recorded in
// schema_migrations by its 1-based index. Never edit a released entry:
// append a new one.
var migrations = []string{
	// 1: initial schema. Times are Unix microseconds (UTC).
	`
CREATE TABLE tasks (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	enabled       INTEGER NOT NULL,
	subscriptions TEXT NOT NULL,
	definition    TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
CREATE INDEX tasks_created ON tasks (created_at, id);

CREATE TABLE task_idempotency_keys (
	key        TEXT PRIMARY KEY,
	task_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX task_idempotency_keys_task ON task_idempotency_keys (task_id);

CREATE TABLE events (
	id            TEXT PRIMARY KEY,
	topic         TEXT NOT NULL,
	data          TEXT NOT NULL,
	parent_id     TEXT,
	source        TEXT NOT NULL,
	shopify_topic TEXT,
	webhook_id    TEXT,
	request_id    TEXT,
	task_ids      TEXT,
	created_at    INTEGER NOT NULL,
	run_at        INTEGER NOT NULL
);
CREATE INDEX events_created ON events (created_at, id);
CREATE INDEX events_topic ON events (topic, created_at, id);
CREATE INDEX events_parent ON events (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE webhooks (
	id               TEXT PRIMARY KEY,
	name             TEXT NOT NULL,
	topic            TEXT NOT NULL,
	data_mode        TEXT NOT NULL,
	secret           TEXT NOT NULL,
	signature_header TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);

CREATE TABLE runs (
	id             TEXT PRIMARY KEY,
	kind           TEXT NOT NULL,
	priority       INTEGER NOT NULL,
	event_id       TEXT NOT NULL,
	task_id        TEXT,
	parent_run_id  TEXT,
	seq            INTEGER NOT NULL,
	status         TEXT NOT NULL,
	attempts       INTEGER NOT NULL,
	claims         INTEGER NOT NULL DEFAULT 0,
	run_at         INTEGER NOT NULL,
	available_at   INTEGER,
	created_at     INTEGER NOT NULL,
	started_at     INTEGER,
	stopped_at     INTEGER,
	output         TEXT,
	logs           TEXT,
	errors         TEXT,
	result         TEXT,
	result_meta    TEXT,
	error          TEXT,
	action_type    TEXT,
	action_options TEXT,
	action_meta    TEXT
);
CREATE INDEX runs_queue ON runs (priority, available_at) WHERE available_at IS NOT NULL;
CREATE INDEX runs_event ON runs (event_id);
CREATE INDEX runs_created ON runs (created_at, id);
CREATE INDEX runs_task ON runs (task_id, created_at, id) WHERE task_id IS NOT NULL;
CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;

CREATE TABLE cache_entries (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX cache_entries_expires ON cache_entries (expires_at);

CREATE TABLE cache_endpoints (
	id           TEXT PRIMARY KEY,
	key          TEXT NOT NULL,
	content_type TEXT NOT NULL,
	created_at   INTEGER NOT NULL
);

CREATE TABLE settings (
	kind       TEXT NOT NULL,
	key        TEXT NOT NULL,
	value      TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
);

CREATE TABLE scheduler_state (
	name       TEXT PRIMARY KEY,
	last_tick  INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
`,
	// 2: task version history.
	`
CREATE TABLE task_versions (
	task_id       TEXT NOT NULL,
	version       INTEGER NOT NULL,
	name          TEXT NOT NULL,
	subscriptions TEXT NOT NULL,
	definition    TEXT NOT NULL,
	saved_at      INTEGER NOT NULL,
	PRIMARY KEY (task_id, version)
);
`,
}

// migrate applies the migrations not yet recorded; it is idempotent.
func migrate(ctx context.Context, db *sql.DB, nowMicro int64) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for i, m := range migrations {
		version := i + 1
		if err := applyMigration(ctx, db, version, m, nowMicro); err != nil {
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
