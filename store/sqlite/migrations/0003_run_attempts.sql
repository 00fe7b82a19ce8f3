-- Schema version 3: one row per attempt of a run (per claim). Opened in the
-- claim's transaction; closed with the outcome in the transaction that
-- completes or fails the run, or as 'interrupted' by the claim that retakes
-- the run after its lease ran out.
CREATE TABLE run_attempts (
	run_id      TEXT NOT NULL,
	claim       INTEGER NOT NULL,
	attempt     INTEGER NOT NULL,
	node_id     TEXT,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER,
	outcome     TEXT,
	error       TEXT,
	PRIMARY KEY (run_id, claim)
);
