package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// errClosed is returned for writes attempted after Close.
var errClosed = errors.New("sqlite store closed")

// maxGroup caps how many write requests share one transaction.
const maxGroup = 256

// writeReq is one logical write transaction waiting for the committer.
type writeReq struct {
	ctx  context.Context
	what string
	fn   func(tx *txn) error
	err  error
	done chan struct{}
}

// inTx runs fn as one logical write transaction and returns once it is
// committed (or failed). Concurrent writes are group-committed: the single
// committer goroutine runs every queued fn in its own SAVEPOINT inside one
// SQLite transaction and commits once, so a failing fn is rolled back alone
// while the others share one WAL write. A lone write is not delayed.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx *txn) error) error {
	r := &writeReq{ctx: ctx, what: what, fn: fn, done: make(chan struct{})}
	s.wmu.RLock()
	if s.wclosed {
		s.wmu.RUnlock()
		return fmt.Errorf("%s: %w", what, errClosed)
	}
	select {
	case s.writes <- r:
		s.wmu.RUnlock()
	case <-ctx.Done():
		s.wmu.RUnlock()
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		// The write may still commit; the caller gives up waiting.
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
}

// committer runs queued writes until the channel is closed.
func (s *Store) committer() {
	defer close(s.wdone)
	batch := make([]*writeReq, 0, maxGroup)
	for r := range s.writes {
		batch = append(batch[:0], r)
	drain:
		for len(batch) < maxGroup {
			select {
			case r, ok := <-s.writes:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commitGroup(batch)
	}
}

func (s *Store) commitGroup(batch []*writeReq) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	failAll := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err = fmt.Errorf("%s: %w", r.what, err)
			}
		}
	}
	ctx := context.Background()
	s.prepareWanted(ctx)
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		failAll(fmt.Errorf("begin: %w", err))
		return
	}
	tx := &txn{Tx: sqlTx, s: s}
	// A panicking write must not take the committer (and every later
	// write) down: fail the whole group instead.
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			for _, r := range batch {
				r.err = fmt.Errorf("%s: internal error: %v", r.what, p)
			}
			s.log.Error("sqlite: write panicked", "panic", p)
		}
	}()
	single := len(batch) == 1
	applied := 0
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("%s: %w", r.what, err)
			continue
		}
		if single {
			if err := r.fn(tx); err != nil {
				r.err = err
				_ = tx.Rollback()
				return
			}
			applied++
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			_ = tx.Rollback()
			failAll(fmt.Errorf("savepoint: %w", err))
			return
		}
		if err := r.fn(tx); err != nil {
			r.err = err
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				_ = tx.Rollback()
				failAll(fmt.Errorf("rollback to savepoint: %w", err))
				return
			}
		} else {
			applied++
		}
		if _, err := tx.ExecContext(ctx, "RELEASE w"); err != nil {
			_ = tx.Rollback()
			failAll(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if applied == 0 {
		_ = tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		failAll(fmt.Errorf("commit: %w", err))
	}
}

// maxPrepared caps the statement cache; writes use a fixed set of queries.
const maxPrepared = 128

// txn is a write transaction whose Exec/Query calls use statements
// prepared once on the writer connection. Statements seen for the first
// time run unprepared and are prepared before the next group commit (the
// writer connection is only free between transactions). Only the committer
// goroutine uses txn values and the statement cache.
//
// Statements ignore the context they are given: cancelling one caller's
// context must not interrupt SQLite mid-statement, which would roll back
// the whole group's transaction. A caller's context is checked before its
// write starts instead.
type txn struct {
	*sql.Tx
	s     *Store
	bound map[string]*sql.Stmt
}

// stmt returns q bound to this transaction, or nil if q is not prepared yet.
func (t *txn) stmt(_ context.Context, q string) *sql.Stmt {
	ctx := context.Background()
	if st, ok := t.bound[q]; ok {
		return st
	}
	p, ok := t.s.prepared[q]
	if !ok {
		if len(t.s.prepared)+len(t.s.toPrepare) < maxPrepared {
			t.s.toPrepare[q] = true
		}
		return nil
	}
	st := t.Tx.StmtContext(ctx, p)
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	t.bound[q] = st
	return st
}

// ExecContext executes q in the transaction.
func (t *txn) ExecContext(_ context.Context, q string, args ...any) (sql.Result, error) {
	ctx := context.Background()
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

// QueryContext runs q in the transaction.
func (t *txn) QueryContext(_ context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx := context.Background()
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

// QueryRowContext runs q in the transaction and returns its first row.
func (t *txn) QueryRowContext(_ context.Context, q string, args ...any) *sql.Row {
	ctx := context.Background()
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

// prepareWanted prepares the statements noted during earlier transactions.
func (s *Store) prepareWanted(ctx context.Context) {
	for q := range s.toPrepare {
		delete(s.toPrepare, q)
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			s.log.Debug("sqlite: statement left unprepared", "err", err)
			continue
		}
		s.prepared[q] = st
	}
}

// closePrepared closes the statement cache; the committer must have exited.
func (s *Store) closePrepared() {
	for q, st := range s.prepared {
		_ = st.Close()
		delete(s.prepared, q)
	}
}
