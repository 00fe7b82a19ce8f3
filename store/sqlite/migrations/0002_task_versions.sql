-- Schema version 2: task version history.
CREATE TABLE task_versions (
	task_id       TEXT NOT NULL,
	version       INTEGER NOT NULL,
	name          TEXT NOT NULL,
	subscriptions TEXT NOT NULL,
	definition    TEXT NOT NULL,
	saved_at      INTEGER NOT NULL,
	PRIMARY KEY (task_id, version)
);
