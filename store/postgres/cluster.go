package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WakeChannel is the LISTEN/NOTIFY channel on which nodes tell each other
// that new runs may be due; a store opened WithSchema uses WakeChannel_<schema>
// (notifications are database-wide, schemas are not).
const WakeChannel = "sprocket_wake"

func (s *Store) wakeChannel() string {
	if s.schema == "" {
		return WakeChannel
	}
	return WakeChannel + "_" + s.schema
}

// TryLease takes or renews the named lease for holder until ttl from now
// (by the database's clock, so node clocks do not matter) and reports
// whether holder has it. A lease held by someone else is taken only after
// it expired; the term counts changes of holder.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, fmt.Errorf("lease: empty name or holder, or ttl %v", ttl)
	}
	const q = `INSERT INTO leases AS l (name, holder, expires_at, term)
VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1e6)::bigint + $3, 1)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
	term = l.term + CASE WHEN l.holder = excluded.holder THEN 0 ELSE 1 END
WHERE l.holder = excluded.holder OR l.expires_at < (extract(epoch FROM clock_timestamp()) * 1e6)::bigint`
	tag, err := s.pool.Exec(ctx, q, name, holder, ttl.Microseconds())
	if err != nil {
		return false, ctxErr(ctx, err, "lease "+name)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseLease gives up the named lease if holder has it, so another node
// can take it at once.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return ctxErr(ctx, err, "release lease "+name)
	}
	return nil
}

// Waker tells the other nodes that work is due (NOTIFY, debounced) and
// calls a function when they tell this one (LISTEN). Notifications are an
// optimisation: workers also poll, so a lost notification only delays work.
type Waker struct {
	s        *Store
	debounce time.Duration
	poke     chan struct{}
}

// NewWaker returns a Waker sending at most one NOTIFY per debounce
// interval (default 20ms when zero or less); start it with Run.
func (s *Store) NewWaker(debounce time.Duration) *Waker {
	if debounce <= 0 {
		debounce = 20 * time.Millisecond
	}
	return &Waker{s: s, debounce: debounce, poke: make(chan struct{}, 1)}
}

// Poke asks for a NOTIFY; it never blocks, and pokes within one debounce
// interval are sent as one.
func (w *Waker) Poke() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// Run sends debounced notifications and listens for others' until ctx
// ends, calling onWake for each notification received (including this
// node's own, which is harmless). Connection failures are logged and
// retried with backoff; Run returns ctx's error.
func (w *Waker) Run(ctx context.Context, onWake func()) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.sendLoop(ctx)
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := w.listen(ctx, onWake)
		if ctx.Err() != nil {
			break
		}
		w.s.log.Warn("listen for wake-ups failed; polling meanwhile", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
	<-done
	return ctx.Err()
}

func (w *Waker) listen(ctx context.Context, onWake func()) error {
	conn, err := w.s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	// The connection carries LISTEN state: never hand it back to the pool.
	pc := conn.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = pc.Close(cctx)
	}()
	if _, err := pc.Exec(ctx, `LISTEN `+pgx.Identifier{w.s.wakeChannel()}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Work may have been queued while we were not listening.
	onWake()
	for {
		if _, err := pc.WaitForNotification(ctx); err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return ctx.Err()
			}
			return fmt.Errorf("wait for notification: %w", err)
		}
		onWake()
	}
}

func (w *Waker) sendLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.poke:
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if _, err := w.s.pool.Exec(sctx, `SELECT pg_notify($1, '')`, w.s.wakeChannel()); err != nil && ctx.Err() == nil {
			w.s.log.Warn("notify other nodes", "error", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.debounce):
		}
	}
}
