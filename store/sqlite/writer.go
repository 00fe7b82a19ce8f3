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
	fn   func(tx *sql.Tx) error
	err  error
	done chan struct{}
}

// inTx runs fn as one logical write transaction and returns once it is
// committed (or failed). Concurrent writes are group-committed: the single
// committer goroutine runs every queued fn in its own SAVEPOINT inside one
// SQLite transaction and commits once, so a failing fn is rolled back alone
// while the others share one WAL write. A lone write is not delayed.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
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
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		failAll(fmt.Errorf("begin: %w", err))
		return
	}
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
