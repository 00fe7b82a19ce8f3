-- Schema version 3: one row per attempt of a run (per claim). Opened in the
-- claim's statement; closed with the outcome in the transaction that
-- completes or fails the run, or as 'interrupted' by the claim that retakes
-- the run after its lease ran out.
CREATE TABLE run_attempts (
	run_id      text NOT NULL,
	claim       bigint NOT NULL,
	attempt     integer NOT NULL,
	node_id     text,
	started_at  bigint NOT NULL,
	finished_at bigint,
	outcome     text,
	error       text,
	PRIMARY KEY (run_id, claim)
);
