-- Sprocket on PostgreSQL, schema version 1.
-- Times are Unix microseconds (UTC) in bigint columns, as in the SQLite
-- store, so both drivers share one clock model (the store's injected clock,
-- never the database's now()). JSON is kept as text, byte for byte.

CREATE TABLE tasks (
	id            text PRIMARY KEY,
	name          text NOT NULL,
	enabled       boolean NOT NULL,
	subscriptions text NOT NULL,
	definition    text NOT NULL,
	created_at    bigint NOT NULL,
	updated_at    bigint NOT NULL
);
CREATE INDEX tasks_created ON tasks (created_at, id);

CREATE TABLE task_idempotency_keys (
	key        text PRIMARY KEY,
	task_id    text NOT NULL,
	created_at bigint NOT NULL
);
CREATE INDEX task_idempotency_keys_task ON task_idempotency_keys (task_id);

CREATE TABLE task_versions (
	task_id       text NOT NULL,
	version       integer NOT NULL,
	name          text NOT NULL,
	subscriptions text NOT NULL,
	definition    text NOT NULL,
	saved_at      bigint NOT NULL,
	PRIMARY KEY (task_id, version)
);

CREATE TABLE events (
	id            text PRIMARY KEY,
	topic         text NOT NULL,
	data          text NOT NULL,
	parent_id     text,
	source        text NOT NULL,
	shopify_topic text,
	webhook_id    text,
	request_id    text,
	task_ids      text,
	created_at    bigint NOT NULL,
	run_at        bigint NOT NULL
);
CREATE INDEX events_created ON events (created_at, id);
CREATE INDEX events_topic ON events (topic, created_at, id);
CREATE INDEX events_parent ON events (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE webhooks (
	id               text PRIMARY KEY,
	name             text NOT NULL,
	topic            text NOT NULL,
	data_mode        text NOT NULL,
	secret           text NOT NULL,
	signature_header text NOT NULL,
	created_at       bigint NOT NULL,
	updated_at       bigint NOT NULL
);

-- runs is also the job queue: available_at is when a pending run is due or
-- when a running run's lease ends; NULL when finished or paused.
CREATE TABLE runs (
	id             text PRIMARY KEY,
	kind           text NOT NULL,
	priority       smallint NOT NULL,
	event_id       text NOT NULL,
	task_id        text,
	parent_run_id  text,
	seq            integer NOT NULL,
	status         text NOT NULL,
	attempts       integer NOT NULL,
	claims         bigint NOT NULL DEFAULT 0,
	run_at         bigint NOT NULL,
	available_at   bigint,
	created_at     bigint NOT NULL,
	started_at     bigint,
	stopped_at     bigint,
	output         text,
	logs           text,
	errors         text,
	result         text,
	result_meta    text,
	error          text,
	action_type    text,
	action_options text,
	action_meta    text
);
CREATE INDEX runs_queue ON runs (priority, available_at) WHERE available_at IS NOT NULL;
CREATE INDEX runs_event ON runs (event_id);
CREATE INDEX runs_created ON runs (created_at, id);
CREATE INDEX runs_task ON runs (task_id, created_at, id) WHERE task_id IS NOT NULL;
CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;

CREATE TABLE cache_entries (
	key        text PRIMARY KEY,
	value      text NOT NULL,
	expires_at bigint NOT NULL
);
CREATE INDEX cache_entries_expires ON cache_entries (expires_at);

CREATE TABLE cache_endpoints (
	id           text PRIMARY KEY,
	key          text NOT NULL,
	content_type text NOT NULL,
	created_at   bigint NOT NULL
);

CREATE TABLE settings (
	kind       text NOT NULL,
	key        text NOT NULL,
	value      text NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (kind, key)
);

-- One row per scheduler topic: a slot fires when its tick is later than
-- last_tick, decided by one conditional upsert (exactly once cluster-wide).
CREATE TABLE scheduler_state (
	name       text PRIMARY KEY,
	last_tick  bigint NOT NULL,
	updated_at bigint NOT NULL
);

-- Leases held by one node at a time (e.g. the maintenance leader).
CREATE TABLE leases (
	name       text PRIMARY KEY,
	holder     text NOT NULL,
	expires_at bigint NOT NULL,
	term       bigint NOT NULL
);
