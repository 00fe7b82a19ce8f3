package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// claimSQL selects the due runs of one priority, oldest first. The
// conditions skipping action types and tasks are added with fixed text
// (their lists are JSON parameters), so each of the four statements is
// prepared once.
const claimSQL = `SELECT id FROM runs WHERE priority = ? AND available_at IS NOT NULL AND available_at <= ?`

const (
	claimSkipTypesSQL = `
	AND action_type NOT IN (SELECT value FROM json_each(?))`
	claimSkipTasksSQL = `
	AND (task_id IS NULL OR task_id NOT IN (SELECT value FROM json_each(?)))`
	claimOrderSQL = `
ORDER BY available_at LIMIT ?`
)

const claimRunSQL = `UPDATE runs SET status = 'running', attempts = attempts + 1, claims = claims + 1, available_at = ?, started_at = ?
WHERE id = ? RETURNING ` + runCols

const runCols = `id, kind, event_id, task_id, parent_run_id, seq, status, attempts, claims, run_at, available_at, created_at, started_at, stopped_at,
	output, logs, errors, result, result_meta, error, action_type, action_options, action_meta`

func scanRun(sc interface{ Scan(...any) error }) (store.Run, error) {
	var (
		r                                                         store.Run
		kind, status                                              string
		taskID, parentRun, output, errText, actionType            sql.NullString
		logs, errs, result, resultMeta, actionOptions, actionMeta sql.NullString
		runAt, created                                            int64
		available, started, stopped                               sql.NullInt64
	)
	if err := sc.Scan(&r.ID, &kind, &r.EventID, &taskID, &parentRun, &r.Seq, &status, &r.Attempts, &r.Claims, &runAt, &available, &created,
		&started, &stopped, &output, &logs, &errs, &result, &resultMeta, &errText, &actionType, &actionOptions, &actionMeta); err != nil {
		return store.Run{}, err
	}
	r.Kind, r.Status = store.RunKind(kind), store.RunStatus(status)
	r.TaskID, r.ParentRunID, r.Output, r.Error, r.ActionType = taskID.String, parentRun.String, output.String, errText.String, actionType.String
	r.Logs, r.Errors, r.Result, r.ResultMeta = rawJSON(logs), rawJSON(errs), rawJSON(result), rawJSON(resultMeta)
	r.ActionOptions, r.ActionMeta = rawJSON(actionOptions), rawJSON(actionMeta)
	r.RunAt, r.CreatedAt = fromMicro(runAt), fromMicro(created)
	r.NextAttemptAt, r.StartedAt, r.StoppedAt = fromNullMicro(available), fromNullMicro(started), fromNullMicro(stopped)
	r.Paused = r.Status == store.StatusPending && !available.Valid
	return r, nil
}

// GetRun reads a run.
func (s *Store) GetRun(ctx context.Context, id string) (store.Run, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Run{}, notFound("run", id)
	}
	if err != nil {
		return store.Run{}, fmt.Errorf("get run %q: %w", id, err)
	}
	return r, nil
}

// ListRuns lists runs newest first.
func (s *Store) ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, string, error) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, v any) {
		conds = append(conds, cond)
		args = append(args, v)
	}
	if f.Kind != "" {
		add("kind = ?", string(f.Kind))
	}
	if f.EventID != "" {
		add("event_id = ?", f.EventID)
	}
	if f.TaskID != "" {
		add("task_id = ?", f.TaskID)
	}
	if f.ParentRunID != "" {
		add("parent_run_id = ?", f.ParentRunID)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", micro(f.Since))
	}
	if !f.Until.IsZero() {
		add("created_at < ?", micro(f.Until))
	}
	return listPage(ctx, s.r, "list runs", `SELECT `+runCols+` FROM runs`, conds, args, f.Page, scanRun,
		func(x store.Run) (time.Time, string) { return x.CreatedAt, x.ID })
}

// runState reads a run's status inside tx, for error reporting.
func runState(ctx context.Context, tx *txn, id string) (store.RunStatus, error) {
	var st string
	err := tx.QueryRowContext(ctx, `SELECT status FROM runs WHERE id = ?`, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("run", id)
	}
	if err != nil {
		return "", fmt.Errorf("read run %q: %w", id, err)
	}
	return store.RunStatus(st), nil
}

// RetryRun makes a finished run due again, discarding its result.
func (s *Store) RetryRun(ctx context.Context, id string) (store.Run, error) {
	return s.RetryRunChecked(ctx, id, nil)
}

// RetryRunChecked is RetryRun with a check of the run as stored, made in
// the same write transaction: when check returns an error nothing changes
// and the error is returned (wrapped). A retry decided by the run's state
// (say, "only failed action runs") cannot race another retry this way.
func (s *Store) RetryRunChecked(ctx context.Context, id string, check func(store.Run) error) (store.Run, error) {
	var out store.Run
	err := s.inTx(ctx, "retry run", func(tx *txn) error {
		if check != nil {
			cur, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?`, id))
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("run", id)
			}
			if err != nil {
				return fmt.Errorf("read run %q: %w", id, err)
			}
			if err := check(cur); err != nil {
				return fmt.Errorf("retry run %q: %w", id, err)
			}
		}
		now := s.nowMicro()
		r, err := scanRun(tx.QueryRowContext(ctx, `UPDATE runs SET status = 'pending', attempts = 0, run_at = ?, available_at = ?,
	started_at = NULL, stopped_at = NULL, output = NULL, logs = NULL, errors = NULL, result = NULL, result_meta = NULL, error = NULL
WHERE id = ? AND status IN ('success', 'failed') RETURNING `+runCols, now, now, id))
		if errors.Is(err, sql.ErrNoRows) {
			st, err := runState(ctx, tx, id)
			if err != nil {
				return err
			}
			return fmt.Errorf("retry run %q: run is %s: %w", id, st, store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("retry run %q: %w", id, err)
		}
		out = r
		return nil
	})
	return out, err
}

// CancelRun fails a pending run.
func (s *Store) CancelRun(ctx context.Context, id, reason string) (store.Run, error) {
	var out store.Run
	err := s.inTx(ctx, "cancel run", func(tx *txn) error {
		r, err := scanRun(tx.QueryRowContext(ctx, `UPDATE runs SET status = 'failed', available_at = NULL, stopped_at = ?, error = ?
WHERE id = ? AND status = 'pending' RETURNING `+runCols, s.nowMicro(), reason, id))
		if errors.Is(err, sql.ErrNoRows) {
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

// ClaimFiltered is Claim restricted to some kinds, action types and tasks.
func (s *Store) ClaimFiltered(ctx context.Context, o store.ClaimOptions) ([]store.Job, error) {
	limit, leaseFor := o.Limit, o.Lease
	if limit <= 0 {
		return nil, nil
	}
	if leaseFor <= 0 {
		return nil, fmt.Errorf("claim: %w: lease must be positive", store.ErrInvalid)
	}
	kinds := []store.RunKind{store.KindAction, store.KindTask, store.KindEvent}
	if len(o.Kinds) > 0 {
		kinds = slices.DeleteFunc(kinds, func(k store.RunKind) bool { return !slices.Contains(o.Kinds, k) })
	}
	// Skipped action types and tasks become fixed-shape conditions so the
	// statement text (and its prepared statement) does not depend on the
	// lists.
	skipTypes, skipTasks := "", ""
	if len(o.SkipActionTypes) > 0 {
		enc, err := encodeStrings(o.SkipActionTypes)
		if err != nil {
			return nil, fmt.Errorf("claim: skipped action types: %w", err)
		}
		skipTypes = enc
	}
	if len(o.SkipTaskIDs) > 0 {
		enc, err := encodeStrings(o.SkipTaskIDs)
		if err != nil {
			return nil, fmt.Errorf("claim: skipped tasks: %w", err)
		}
		skipTasks = enc
	}
	var jobs []store.Job
	err := s.inTx(ctx, "claim", func(tx *txn) error {
		now := s.now()
		until := now.Add(leaseFor)
		var ids []string
		for _, k := range kinds {
			if len(ids) >= limit {
				break
			}
			var (
				rows *sql.Rows
				err  error
			)
			q, args := claimSQL, []any{k.Priority(), micro(now)}
			if skipTypes != "" && k == store.KindAction {
				q, args = q+claimSkipTypesSQL, append(args, skipTypes)
			}
			if skipTasks != "" && k != store.KindEvent {
				q, args = q+claimSkipTasksSQL, append(args, skipTasks)
			}
			rows, err = tx.QueryContext(ctx, q+claimOrderSQL, append(args, limit-len(ids))...)
			if err != nil {
				return fmt.Errorf("claim: select: %w", err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return fmt.Errorf("claim: scan: %w", err)
				}
				ids = append(ids, id)
			}
			if err := rows.Close(); err != nil {
				return fmt.Errorf("claim: select: %w", err)
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("claim: select: %w", err)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		jobs = make([]store.Job, 0, len(ids))
		for _, id := range ids {
			var prev string
			if err := tx.QueryRowContext(ctx, `SELECT status FROM runs WHERE id = ?`, id).Scan(&prev); err != nil {
				return fmt.Errorf("claim run %s: status: %w", id, err)
			}
			r, err := scanRun(tx.QueryRowContext(ctx, claimRunSQL, micro(until), micro(now), id))
			if err != nil {
				return fmt.Errorf("claim run %s: %w", id, err)
			}
			if err := openAttempt(ctx, tx, r, prev == string(store.StatusRunning), micro(now), o.Node); err != nil {
				return fmt.Errorf("claim run %s: %w", id, err)
			}
			jobs = append(jobs, store.Job{Run: r, Attempt: r.Attempts, Token: r.Claims, LeaseUntil: until, Interrupted: prev == string(store.StatusRunning)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return jobs, nil
}

// Extend renews a job's lease.
func (s *Store) Extend(ctx context.Context, job store.Job, leaseFor time.Duration) (store.Job, error) {
	if leaseFor <= 0 {
		return store.Job{}, fmt.Errorf("extend: %w: lease must be positive", store.ErrInvalid)
	}
	err := s.inTx(ctx, "extend lease", func(tx *txn) error {
		until := s.now().Add(leaseFor)
		res, err := tx.ExecContext(ctx, `UPDATE runs SET available_at = ? WHERE id = ? AND status = 'running' AND claims = ?`,
			micro(until), job.Run.ID, job.Token)
		if err != nil {
			return fmt.Errorf("extend lease of %s: %w", job.Run.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("extend lease of %s: %w", job.Run.ID, store.ErrLeaseLost)
		}
		job.LeaseUntil = until
		job.Run.NextAttemptAt = until
		return nil
	})
	if err != nil {
		return store.Job{}, err
	}
	return job, nil
}

// Complete marks a job's run successful and records its effects atomically.
func (s *Store) Complete(ctx context.Context, job store.Job, res store.Result) (store.Run, error) {
	for what, b := range map[string][]byte{"logs": res.Logs, "errors": res.Errors, "result": res.Result, "result meta": res.ResultMeta} {
		if err := validJSON(what, b); err != nil {
			return store.Run{}, fmt.Errorf("complete run %s: %w", job.Run.ID, err)
		}
	}
	var out store.Run
	err := s.inTx(ctx, "complete run", func(tx *txn) error {
		now := s.now()
		r, err := scanRun(tx.QueryRowContext(ctx, `UPDATE runs SET status = 'success', available_at = NULL, stopped_at = ?,
	output = ?, logs = ?, errors = ?, result = ?, result_meta = ?, error = NULL
WHERE id = ? AND status = 'running' AND claims = ? RETURNING `+runCols,
			micro(now), nullStr(res.Output), nullJSON(res.Logs), nullJSON(res.Errors), nullJSON(res.Result), nullJSON(res.ResultMeta),
			job.Run.ID, job.Token))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("complete run %s attempt %d: %w", job.Run.ID, job.Attempt, store.ErrLeaseLost)
		}
		if err != nil {
			return fmt.Errorf("complete run %s: %w", job.Run.ID, err)
		}
		if err := closeAttempt(ctx, tx, job, micro(now), store.OutcomeSuccess, ""); err != nil {
			return fmt.Errorf("complete run %s: %w", job.Run.ID, err)
		}
		if err := s.applyEffects(ctx, tx, now, res.Effects); err != nil {
			return fmt.Errorf("complete run %s: %w", job.Run.ID, err)
		}
		out = r
		return nil
	})
	return out, err
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
	var out store.Run
	err := s.inTx(ctx, "fail run", func(tx *txn) error {
		now := s.now()
		var (
			status    = store.StatusFailed
			available any
			stopped   any = micro(now)
		)
		if retry {
			status, available, stopped = store.StatusPending, micro(now.Add(delay)), nil
		}
		r, err := scanRun(tx.QueryRowContext(ctx, `UPDATE runs SET status = ?, available_at = ?, stopped_at = ?,
	output = ?, logs = ?, errors = ?, result = ?, result_meta = ?, error = ?
WHERE id = ? AND status = 'running' AND claims = ? RETURNING `+runCols,
			string(status), available, stopped, nullStr(f.Output), nullJSON(f.Logs), nullJSON(f.Errors), nullJSON(f.Result),
			nullJSON(f.ResultMeta), f.Error, job.Run.ID, job.Token))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("fail run %s attempt %d: %w", job.Run.ID, job.Attempt, store.ErrLeaseLost)
		}
		if err != nil {
			return fmt.Errorf("fail run %s: %w", job.Run.ID, err)
		}
		if err := closeAttempt(ctx, tx, job, micro(now), store.OutcomeError, f.Error); err != nil {
			return fmt.Errorf("fail run %s: %w", job.Run.ID, err)
		}
		if !retry {
			if err := s.applyEffects(ctx, tx, now, f.Effects); err != nil {
				return fmt.Errorf("fail run %s: %w", job.Run.ID, err)
			}
		}
		out = r
		return nil
	})
	return out, err
}

// applyEffects records a finished run's follow-ups inside tx.
func (s *Store) applyEffects(ctx context.Context, tx *txn, now time.Time, eff store.Effects) error {
	if _, err := s.insertEvents(ctx, tx, now, eff.Events); err != nil {
		return fmt.Errorf("effects: %w", err)
	}
	if len(eff.Runs) > 0 {
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
			if _, err := tx.ExecContext(ctx, insertRunSQL, id, string(nr.Kind), nr.Kind.Priority(), nr.EventID, nullStr(nr.TaskID), nullStr(nr.ParentRunID),
				nr.Seq, micro(runAt), available, micro(now), nullStr(nr.ActionType), nullJSON(nr.ActionOptions), nullJSON(nr.ActionMeta)); err != nil {
				return fmt.Errorf("effects: insert run %s: %w", id, err)
			}
		}
	}
	for _, id := range eff.Release {
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET available_at = ? WHERE id = ? AND status = 'pending' AND available_at IS NULL`,
			micro(now), id); err != nil {
			return fmt.Errorf("effects: release run %s: %w", id, err)
		}
	}
	for _, rf := range eff.Fail {
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'failed', available_at = NULL, stopped_at = ?, error = ?
WHERE id = ? AND status = 'pending'`, micro(now), rf.Error, rf.RunID); err != nil {
			return fmt.Errorf("effects: fail run %s: %w", rf.RunID, err)
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
	rows, err := s.r.QueryContext(ctx, `SELECT kind, status, available_at <= ?, COUNT(*), MIN(available_at) FROM runs
WHERE available_at IS NOT NULL GROUP BY kind, status, available_at <= ?`, now, now)
	if err != nil {
		return st, fmt.Errorf("queue stats: %w", err)
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
			return st, fmt.Errorf("queue stats: %w", err)
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
		return st, fmt.Errorf("queue stats: %w", err)
	}
	return st, nil
}

// openAttempt records the attempt a claim starts, first closing as
// interrupted the attempt whose lease ran out when the run was retaken.
func openAttempt(ctx context.Context, tx *txn, r store.Run, retaken bool, now int64, node string) error {
	if retaken {
		if _, err := tx.ExecContext(ctx, `UPDATE run_attempts SET finished_at = ?, outcome = ?, error = ?
WHERE run_id = ? AND finished_at IS NULL`, now, string(store.OutcomeInterrupted), store.InterruptedAttemptError, r.ID); err != nil {
			return fmt.Errorf("close interrupted attempt: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO run_attempts (run_id, claim, attempt, node_id, started_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (run_id, claim) DO NOTHING`, r.ID, r.Claims, r.Attempts, nullStr(node), now); err != nil {
		return fmt.Errorf("open attempt: %w", err)
	}
	return nil
}

// closeAttempt records the outcome of job's attempt.
func closeAttempt(ctx context.Context, tx *txn, job store.Job, now int64, outcome store.AttemptOutcome, errText string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE run_attempts SET finished_at = ?, outcome = ?, error = ?
WHERE run_id = ? AND claim = ? AND finished_at IS NULL`, now, string(outcome), nullStr(errText), job.Run.ID, job.Token); err != nil {
		return fmt.Errorf("close attempt: %w", err)
	}
	return nil
}

// RunAttempts lists a run's attempts, oldest first.
func (s *Store) RunAttempts(ctx context.Context, runID string) ([]store.Attempt, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT claim, attempt, node_id, started_at, finished_at, outcome, error FROM
	(SELECT * FROM run_attempts WHERE run_id = ? ORDER BY claim DESC LIMIT ?) ORDER BY claim`, runID, store.MaxAttemptsListed)
	if err != nil {
		return nil, fmt.Errorf("run attempts of %q: %w", runID, err)
	}
	defer rows.Close()
	var out []store.Attempt
	for rows.Next() {
		var (
			a                     = store.Attempt{RunID: runID}
			node, outcome, errTxt sql.NullString
			started               int64
			finished              sql.NullInt64
		)
		if err := rows.Scan(&a.Number, &a.RetryAttempt, &node, &started, &finished, &outcome, &errTxt); err != nil {
			return nil, fmt.Errorf("run attempts of %q: %w", runID, err)
		}
		a.Node, a.Outcome, a.Error = node.String, store.AttemptOutcome(outcome.String), errTxt.String
		a.StartedAt, a.FinishedAt = fromMicro(started), fromNullMicro(finished)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run attempts of %q: %w", runID, err)
	}
	return out, nil
}
