package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sprocketrun/sprocket/store"
)

const runCols = `id, kind, event_id, task_id, parent_run_id, seq, status, attempts, claims, run_at, available_at, created_at, started_at, stopped_at,
	output, logs, errors, result, result_meta, error, action_type, action_options, action_meta`

// claimSQL leases up to $3 due runs in one statement: for each priority
// of $1 in turn (highest first), the earliest due runs, skipping rows
// another claimer has locked (FOR UPDATE SKIP LOCKED) and, for action runs
// (priority 3), the action types in $5, and the runs of the tasks in $8
// (tasks at their concurrency limit). It returns, per claimed run, its
// priority, the time it was due and its previous status, then the run as
// claimed. In the same statement it closes as interrupted the open attempt
// of a run retaken after its lease ran out ($7 is the error text) and
// opens the claim's attempt on node $6.
const claimSQL = `WITH due AS (
	SELECT d.id, d.available_at, d.priority, d.status FROM unnest($1::smallint[]) WITH ORDINALITY AS k(p, ord)
	CROSS JOIN LATERAL (
		SELECT id, available_at, priority, seq, status FROM runs
		WHERE priority = k.p AND available_at IS NOT NULL AND available_at <= $2
		  AND (k.p <> 3 OR cardinality($5::text[]) = 0 OR action_type IS NULL OR NOT (action_type = ANY($5::text[])))
		  AND (cardinality($8::text[]) = 0 OR task_id IS NULL OR NOT (task_id = ANY($8::text[])))
		ORDER BY available_at, seq, id LIMIT $3
		FOR UPDATE SKIP LOCKED) d
	ORDER BY k.ord, d.available_at, d.seq, d.id
	LIMIT $3)
, claimed AS (
UPDATE runs r SET status = 'running', attempts = r.attempts + 1, claims = r.claims + 1, available_at = $4, started_at = $2
FROM due WHERE r.id = due.id
RETURNING due.priority, due.available_at AS due_at, due.status AS prev, r.id, r.kind, r.event_id, r.task_id, r.parent_run_id, r.seq, r.status, r.attempts, r.claims,
	r.run_at, r.available_at, r.created_at, r.started_at, r.stopped_at, r.output, r.logs, r.errors, r.result, r.result_meta, r.error,
	r.action_type, r.action_options, r.action_meta),
interrupted AS (
UPDATE run_attempts a SET finished_at = $2, outcome = 'interrupted', error = $7
FROM claimed c WHERE a.run_id = c.id AND c.prev = 'running' AND a.finished_at IS NULL),
opened AS (
INSERT INTO run_attempts (run_id, claim, attempt, node_id, started_at)
SELECT id, claims, attempts, NULLIF($6, ''), $2 FROM claimed
ON CONFLICT (run_id, claim) DO NOTHING)
SELECT priority, due_at, prev, id, kind, event_id, task_id, parent_run_id, seq, status, attempts, claims,
	run_at, available_at, created_at, started_at, stopped_at, output, logs, errors, result, result_meta, error,
	action_type, action_options, action_meta FROM claimed`

func scanRun(sc pgx.Row) (store.Run, error) { return scanRunWith(sc) }

func scanRunWith(sc pgx.Row, extra ...any) (store.Run, error) {
	var (
		r                                                         store.Run
		kind, status                                              string
		taskID, parentRun, output, errText, actionType            *string
		logs, errs, result, resultMeta, actionOptions, actionMeta *string
		runAt, created                                            int64
		available, started, stopped                               *int64
	)
	dest := append(extra, &r.ID, &kind, &r.EventID, &taskID, &parentRun, &r.Seq, &status, &r.Attempts, &r.Claims, &runAt, &available, &created,
		&started, &stopped, &output, &logs, &errs, &result, &resultMeta, &errText, &actionType, &actionOptions, &actionMeta)
	if err := sc.Scan(dest...); err != nil {
		return store.Run{}, err
	}
	r.Kind, r.Status = store.RunKind(kind), store.RunStatus(status)
	r.TaskID, r.ParentRunID, r.Output, r.Error, r.ActionType = deref(taskID), deref(parentRun), deref(output), deref(errText), deref(actionType)
	r.Logs, r.Errors, r.Result, r.ResultMeta = rawJSON(logs), rawJSON(errs), rawJSON(result), rawJSON(resultMeta)
	r.ActionOptions, r.ActionMeta = rawJSON(actionOptions), rawJSON(actionMeta)
	r.RunAt, r.CreatedAt = fromMicro(runAt), fromMicro(created)
	r.NextAttemptAt, r.StartedAt, r.StoppedAt = fromNullMicro(available), fromNullMicro(started), fromNullMicro(stopped)
	r.Paused = r.Status == store.StatusPending && available == nil
	return r, nil
}

// GetRun reads a run.
func (s *Store) GetRun(ctx context.Context, id string) (store.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runCols+` FROM runs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Run{}, notFound("run", id)
	}
	if err != nil {
		return store.Run{}, ctxErr(ctx, err, fmt.Sprintf("get run %q", id))
	}
	return r, nil
}

// ListRuns lists runs newest first.
func (s *Store) ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, string, error) {
	var c conds
	if f.Kind != "" {
		c.add("kind = ?", string(f.Kind))
	}
	if f.EventID != "" {
		c.add("event_id = ?", f.EventID)
	}
	if f.TaskID != "" {
		c.add("task_id = ?", f.TaskID)
	}
	if f.ParentRunID != "" {
		c.add("parent_run_id = ?", f.ParentRunID)
	}
	if f.Status != "" {
		c.add("status = ?", string(f.Status))
	}
	if !f.Since.IsZero() {
		c.add("created_at >= ?", micro(f.Since))
	}
	if !f.Until.IsZero() {
		c.add("created_at < ?", micro(f.Until))
	}
	return listPage(ctx, s.pool, "list runs", `SELECT `+runCols+` FROM runs`, c, f.Page, scanRun,
		func(x store.Run) (time.Time, string) { return x.CreatedAt, x.ID })
}

// runState reads a run's status inside tx, for error reporting.
func runState(ctx context.Context, tx pgx.Tx, id string) (store.RunStatus, error) {
	var st string
	err := tx.QueryRow(ctx, `SELECT status FROM runs WHERE id = $1`, id).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", notFound("run", id)
	}
	if err != nil {
		return "", fmt.Errorf("read run %q: %w", id, err)
	}
	return store.RunStatus(st), nil
}

// RetryRun makes a finished run due again, discarding its result.
func (s *Store) RetryRun(ctx context.Context, id string) (store.Run, error) {
	var out store.Run
	err := s.inTx(ctx, "retry run", func(tx pgx.Tx) error {
		r, err := s.retryRun(ctx, tx, id)
		out = r
		return err
	})
	return out, err
}

// retryRun makes a finished run due again inside tx.
func (s *Store) retryRun(ctx context.Context, tx pgx.Tx, id string) (store.Run, error) {
	now := s.nowMicro()
	r, err := scanRun(tx.QueryRow(ctx, `UPDATE runs SET status = 'pending', attempts = 0, run_at = $1, available_at = $1,
	started_at = NULL, stopped_at = NULL, output = NULL, logs = NULL, errors = NULL, result = NULL, result_meta = NULL, error = NULL
WHERE id = $2 AND status IN ('success', 'failed') RETURNING `+runCols, now, id))
	if errors.Is(err, pgx.ErrNoRows) {
		st, err := runState(ctx, tx, id)
		if err != nil {
			return store.Run{}, err
		}
		return store.Run{}, fmt.Errorf("retry run %q: run is %s: %w", id, st, store.ErrConflict)
	}
	if err != nil {
		return store.Run{}, fmt.Errorf("retry run %q: %w", id, err)
	}
	return r, nil
}

// CancelRun fails a pending run.
func (s *Store) CancelRun(ctx context.Context, id, reason string) (store.Run, error) {
	var out store.Run
	err := s.inTx(ctx, "cancel run", func(tx pgx.Tx) error {
		r, err := scanRun(tx.QueryRow(ctx, `UPDATE runs SET status = 'failed', available_at = NULL, stopped_at = $1, error = $2
WHERE id = $3 AND status = 'pending' RETURNING `+runCols, s.nowMicro(), reason, id))
		if errors.Is(err, pgx.ErrNoRows) {
			st, err := runState(ctx, tx, id)
			if err != nil {
				return err
			}
			return fmt.Errorf("cancel run %q: run is %s: %w", id, st, store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("cancel run %q: %w", id, err)
		}
		out = r
		return nil
	})
	return out, err
}

// Claim leases up to limit due runs, highest priority first.
func (s *Store) Claim(ctx context.Context, limit int, leaseFor time.Duration) ([]store.Job, error) {
	return s.ClaimFiltered(ctx, store.ClaimOptions{Limit: limit, Lease: leaseFor})
}

// ClaimFiltered is Claim restricted to some kinds, action types and tasks. One
// statement (SELECT … FOR UPDATE SKIP LOCKED per priority feeding an
// UPDATE) leases the runs, so claimers on any node never lease the same
// run and never wait for each other's rows.
func (s *Store) ClaimFiltered(ctx context.Context, o store.ClaimOptions) ([]store.Job, error) {
	limit, leaseFor := o.Limit, o.Lease
	if limit <= 0 {
		return nil, nil
	}
	if leaseFor <= 0 {
		return nil, fmt.Errorf("claim: %w: lease must be positive", store.ErrInvalid)
	}
	var prios []int16
	for _, k := range []store.RunKind{store.KindAction, store.KindTask, store.KindEvent} {
		if len(o.Kinds) == 0 || slices.Contains(o.Kinds, k) {
			prios = append(prios, int16(k.Priority()))
		}
	}
	if len(prios) == 0 {
		return nil, nil
	}
	skip := o.SkipActionTypes
	if skip == nil {
		skip = []string{}
	}
	skipTasks := o.SkipTaskIDs
	if skipTasks == nil {
		skipTasks = []string{}
	}
	now := s.now()
	until := now.Add(leaseFor)
	// Planned afresh on every call (an unnamed statement), not from a
	// cached generic plan: a generic plan made while the queue was small
	// (a new database, a quiet hour) scans the whole due range on every
	// claim until the next ANALYZE replaces it, which cut one node's
	// drain of a 50k-run backlog from ~3k to ~150 runs/s in bench/cluster.
	rows, err := s.pool.Query(ctx, claimSQL, pgx.QueryExecModeExec, prios, micro(now), limit, micro(until), skip, o.Node, store.InterruptedAttemptError, skipTasks)
	if err != nil {
		return nil, ctxErr(ctx, err, "claim")
	}
	type claimed struct {
		prio int16
		due  int64
		prev string
		run  store.Run
	}
	got, err := collect(ctx, rows, "claim", func(r pgx.Row) (claimed, error) {
		var c claimed
		run, err := scanRunWith(r, &c.prio, &c.due, &c.prev)
		c.run = run
		return c, err
	})
	if err != nil {
		// Runs leased by a statement whose answer was lost come back when
		// their lease ends.
		return nil, err
	}
	sort.Slice(got, func(i, j int) bool {
		a, b := got[i], got[j]
		if a.prio != b.prio {
			return a.prio > b.prio
		}
		if a.due != b.due {
			return a.due < b.due
		}
		if a.run.Seq != b.run.Seq {
			return a.run.Seq < b.run.Seq
		}
		return a.run.ID < b.run.ID
	})
	jobs := make([]store.Job, 0, len(got))
	for _, c := range got {
		jobs = append(jobs, store.Job{Run: c.run, Attempt: c.run.Attempts, Token: c.run.Claims, LeaseUntil: until, Interrupted: c.prev == string(store.StatusRunning)})
	}
	return jobs, nil
}

// Extend renews a job's lease.
func (s *Store) Extend(ctx context.Context, job store.Job, leaseFor time.Duration) (store.Job, error) {
	if leaseFor <= 0 {
		return store.Job{}, fmt.Errorf("extend: %w: lease must be positive", store.ErrInvalid)
	}
	until := s.now().Add(leaseFor)
	tag, err := s.pool.Exec(ctx, `UPDATE runs SET available_at = $1 WHERE id = $2 AND status = 'running' AND claims = $3`,
		micro(until), job.Run.ID, job.Token)
	if err != nil {
		return store.Job{}, ctxErr(ctx, err, "extend lease of "+job.Run.ID)
	}
	if tag.RowsAffected() == 0 {
		return store.Job{}, fmt.Errorf("extend lease of %s: %w", job.Run.ID, store.ErrLeaseLost)
	}
	job.LeaseUntil = until
	job.Run.NextAttemptAt = until
	return job, nil
}

// Complete marks a job's run successful and records its effects atomically.
func (s *Store) Complete(ctx context.Context, job store.Job, res store.Result) (store.Run, error) {
	for what, b := range map[string][]byte{"logs": res.Logs, "errors": res.Errors, "result": res.Result, "result meta": res.ResultMeta} {
		if err := validJSON(what, b); err != nil {
			return store.Run{}, fmt.Errorf("complete run %s: %w", job.Run.ID, err)
		}
	}
	if err := checkEffects(res.Effects); err != nil {
		return store.Run{}, fmt.Errorf("complete run %s: %w", job.Run.ID, err)
	}
	now := s.now()
	return s.finish(ctx, job, "complete run", now, store.OutcomeSuccess, "", `UPDATE runs SET status = 'success', available_at = NULL, stopped_at = $1,
	output = $2, logs = $3, errors = $4, result = $5, result_meta = $6, error = NULL
WHERE id = $7 AND status = 'running' AND claims = $8 RETURNING `+runCols,
		[]any{micro(now), nullStr(res.Output), nullJSON(res.Logs), nullJSON(res.Errors), nullJSON(res.Result), nullJSON(res.ResultMeta),
			job.Run.ID, job.Token}, res.Effects)
}

// Fail records a failed attempt and either reschedules or fails the run.
func (s *Store) Fail(ctx context.Context, job store.Job, f store.Failure) (store.Run, error) {
	for what, b := range map[string][]byte{"logs": f.Logs, "errors": f.Errors, "result": f.Result, "result meta": f.ResultMeta} {
		if err := validJSON(what, b); err != nil {
			return store.Run{}, fmt.Errorf("fail run %s: %w", job.Run.ID, err)
		}
	}
	sched := f.Schedule
	if sched == nil {
		sched = store.DefaultRetrySchedule()
	}
	delay, retry := sched.Next(job.Attempt)
	if f.Permanent {
		retry = false
	}
	if !retry {
		if err := checkEffects(f.Effects); err != nil {
			return store.Run{}, fmt.Errorf("fail run %s: %w", job.Run.ID, err)
		}
	}
	now := s.now()
	var (
		status    = store.StatusFailed
		available any
		stopped   any = micro(now)
		eff           = f.Effects
	)
	if retry {
		status, available, stopped, eff = store.StatusPending, micro(now.Add(delay)), nil, store.Effects{}
	}
	return s.finish(ctx, job, "fail run", now, store.OutcomeError, f.Error, `UPDATE runs SET status = $1, available_at = $2, stopped_at = $3,
	output = $4, logs = $5, errors = $6, result = $7, result_meta = $8, error = $9
WHERE id = $10 AND status = 'running' AND claims = $11 RETURNING `+runCols,
		[]any{string(status), available, stopped, nullStr(f.Output), nullJSON(f.Logs), nullJSON(f.Errors), nullJSON(f.Result),
			nullJSON(f.ResultMeta), f.Error, job.Run.ID, job.Token}, eff)
}

// closeAttemptSQL records the outcome of a job's attempt; it runs after
// the run's guarded UPDATE, in the same transaction.
const closeAttemptSQL = `UPDATE run_attempts SET finished_at = $1, outcome = $2, error = $3
WHERE run_id = $4 AND claim = $5 AND finished_at IS NULL`

// leaseLostCode is the SQLSTATE raised by sprocket_lease_held.
const leaseLostCode = "SPLOS"

// finish records a run's outcome (update, an UPDATE … RETURNING runCols
// that matches only while job holds the lease) and its effects atomically.
// Without cache commands, the outcome and the effects go to the server as
// one pipelined batch, which PostgreSQL runs as one implicit transaction:
// a guard fails the batch when the lease was lost, rolling it all back.
// Cache commands read before they write, so they take an explicit
// transaction.
func (s *Store) finish(ctx context.Context, job store.Job, what string, now time.Time, outcome store.AttemptOutcome, errText string,
	update string, args []any, eff store.Effects) (store.Run, error) {
	closeArgs := []any{micro(now), string(outcome), nullStr(errText), job.Run.ID, job.Token}
	label := fmt.Sprintf("%s %s", what, job.Run.ID)
	lost := func() error { return fmt.Errorf("%s attempt %d: %w", label, job.Attempt, store.ErrLeaseLost) }
	if len(eff.Cache) > 0 {
		var out store.Run
		err := s.inTx(ctx, label, func(tx pgx.Tx) error {
			r, err := scanRun(tx.QueryRow(ctx, update, args...))
			if errors.Is(err, pgx.ErrNoRows) {
				return lost()
			}
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, closeAttemptSQL, closeArgs...); err != nil {
				return fmt.Errorf("close attempt: %w", err)
			}
			if err := s.applyEffects(ctx, tx, now, eff); err != nil {
				return err
			}
			out = r
			return nil
		})
		return out, err
	}
	b := &pgx.Batch{}
	b.Queue(`WITH u AS (`+update+`) SELECT u.* FROM (SELECT 1) AS one LEFT JOIN u ON true WHERE sprocket_lease_held(u.id IS NOT NULL)`, args...)
	b.Queue(closeAttemptSQL, closeArgs...)
	labels, err := queueEffects(b, now, eff)
	if err != nil {
		return store.Run{}, fmt.Errorf("%s: %w", label, err)
	}
	labels = append([]string{"close attempt"}, labels...)
	br := s.pool.SendBatch(ctx, b)
	r, err := scanRun(br.QueryRow())
	if err != nil {
		_ = br.Close()
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == leaseLostCode {
			return store.Run{}, lost()
		}
		return store.Run{}, ctxErr(ctx, err, label)
	}
	for _, l := range labels {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return store.Run{}, ctxErr(ctx, fmt.Errorf("effects: %s: %w", l, err), label)
		}
	}
	if err := br.Close(); err != nil {
		return store.Run{}, ctxErr(ctx, err, label)
	}
	return r, nil
}

// checkEffects validates effects before a transaction starts.
func checkEffects(eff store.Effects) error {
	for _, nr := range eff.Runs {
		if nr.Kind != store.KindTask && nr.Kind != store.KindAction {
			return fmt.Errorf("effects: %w: run kind %q", store.ErrInvalid, nr.Kind)
		}
		if nr.EventID == "" {
			return fmt.Errorf("effects: %w: run without event id", store.ErrInvalid)
		}
		if err := validJSON("action options", nr.ActionOptions); err != nil {
			return fmt.Errorf("effects: %w", err)
		}
		if err := validJSON("action meta", nr.ActionMeta); err != nil {
			return fmt.Errorf("effects: %w", err)
		}
	}
	return nil
}

// queueEffects queues the inserts and updates of eff on b and returns a
// label per queued statement (for errors). Cache commands are not queued.
func queueEffects(b *pgx.Batch, now time.Time, eff store.Effects) ([]string, error) {
	if err := checkEffects(eff); err != nil {
		return nil, err
	}
	var labels []string
	if len(eff.Events) > 0 {
		_, args, err := eventArgs(now, eff.Events)
		if err != nil {
			return nil, fmt.Errorf("effects: %w", err)
		}
		b.Queue(insertEventsSQL, args...)
		labels = append(labels, "insert events")
	}
	for _, nr := range eff.Runs {
		id := nr.ID
		if id == "" {
			id = store.NewTimeID(now)
		}
		runAt := nr.RunAt.UTC().Truncate(time.Microsecond)
		if runAt.IsZero() || runAt.Before(now) {
			runAt = now
		}
		var available any = micro(runAt)
		if nr.Paused {
			available = nil
		}
		b.Queue(insertRunSQL, id, string(nr.Kind), nr.Kind.Priority(), nr.EventID, nullStr(nr.TaskID), nullStr(nr.ParentRunID),
			nr.Seq, micro(runAt), available, micro(now), nullStr(nr.ActionType), nullJSON(nr.ActionOptions), nullJSON(nr.ActionMeta))
		labels = append(labels, "insert run "+id)
	}
	for _, id := range eff.Release {
		b.Queue(`UPDATE runs SET available_at = $1 WHERE id = $2 AND status = 'pending' AND available_at IS NULL`, micro(now), id)
		labels = append(labels, "release run "+id)
	}
	for _, rf := range eff.Fail {
		b.Queue(`UPDATE runs SET status = 'failed', available_at = NULL, stopped_at = $1, error = $2
WHERE id = $3 AND status = 'pending'`, micro(now), rf.Error, rf.RunID)
		labels = append(labels, "fail run "+rf.RunID)
	}
	return labels, nil
}

// applyEffects records a finished run's follow-ups inside tx: the inserts
// and updates as one pipelined batch, then the cache commands.
func (s *Store) applyEffects(ctx context.Context, tx pgx.Tx, now time.Time, eff store.Effects) error {
	b := &pgx.Batch{}
	labels, err := queueEffects(b, now, eff)
	if err != nil {
		return err
	}
	if b.Len() > 0 {
		br := tx.SendBatch(ctx, b)
		for _, l := range labels {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return fmt.Errorf("effects: %s: %w", l, err)
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("effects: %w", err)
		}
	}
	for _, op := range eff.Cache {
		if _, err := s.cacheApply(ctx, tx, now, op); err != nil {
			return fmt.Errorf("effects: %w", err)
		}
	}
	return nil
}

// Stats summarises the queue.
func (s *Store) Stats(ctx context.Context) (store.QueueStats, error) {
	st := store.QueueStats{Due: map[store.RunKind]int{}, Scheduled: map[store.RunKind]int{}, Running: map[store.RunKind]int{}}
	now := s.nowMicro()
	rows, err := s.pool.Query(ctx, `SELECT kind, status, available_at <= $1, COUNT(*), MIN(available_at) FROM runs
WHERE available_at IS NOT NULL GROUP BY kind, status, available_at <= $1`, now)
	if err != nil {
		return st, ctxErr(ctx, err, "queue stats")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			kind, status string
			due          bool
			n            int
			oldest       int64
		)
		if err := rows.Scan(&kind, &status, &due, &n, &oldest); err != nil {
			return st, ctxErr(ctx, err, "queue stats")
		}
		k := store.RunKind(kind)
		switch {
		case status == string(store.StatusRunning):
			st.Running[k] += n
		case due:
			st.Due[k] += n
			if t := fromMicro(oldest); st.OldestDue.IsZero() || t.Before(st.OldestDue) {
				st.OldestDue = t
			}
		default:
			st.Scheduled[k] += n
		}
	}
	if err := rows.Err(); err != nil {
		return st, ctxErr(ctx, err, "queue stats")
	}
	return st, nil
}

// RunAttempts lists a run's attempts, oldest first.
func (s *Store) RunAttempts(ctx context.Context, runID string) ([]store.Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT claim, attempt, node_id, started_at, finished_at, outcome, error FROM
	(SELECT * FROM run_attempts WHERE run_id = $1 ORDER BY claim DESC LIMIT $2) a ORDER BY claim`, runID, store.MaxAttemptsListed)
	if err != nil {
		return nil, ctxErr(ctx, err, fmt.Sprintf("run attempts of %q", runID))
	}
	return collect(ctx, rows, fmt.Sprintf("run attempts of %q", runID), func(r pgx.Row) (store.Attempt, error) {
		var (
			a                     = store.Attempt{RunID: runID}
			node, outcome, errTxt *string
			started               int64
			finished              *int64
		)
		if err := r.Scan(&a.Number, &a.RetryAttempt, &node, &started, &finished, &outcome, &errTxt); err != nil {
			return a, err
		}
		a.Node, a.Outcome, a.Error = deref(node), store.AttemptOutcome(deref(outcome)), deref(errTxt)
		a.StartedAt, a.FinishedAt = fromMicro(started), fromNullMicro(finished)
		return a, nil
	})
}
