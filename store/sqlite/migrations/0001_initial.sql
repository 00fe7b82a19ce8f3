-- Sprocket on SQLite, schema version 1: the initial schema. Times are Unix
-- microseconds (UTC). Released: never edit, add a new numbered file.
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
