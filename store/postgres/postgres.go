// Package postgres implements store.Store on PostgreSQL with pgx, so that
// several `sprocket serve` processes can share one queue.
//
// The schema mirrors the SQLite store (times as Unix microseconds taken from
// the store's clock, JSON kept as text) and is created by the numbered .sql
// files in migrations/, embedded in the binary and applied by Open under an
// advisory lock (see migrate.go). Claims lock due rows with FOR UPDATE SKIP
// LOCKED, so concurrent workers on any number of nodes never lease the same
// run; a lease that runs out makes the run due again, which is how a dead
// node's runs are taken over. Every query runs under the caller's context
// and the server-side statement_timeout set on each pooled connection.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sprocketrun/sprocket/store"
)

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool   *pgxpool.Pool
	clock  store.Clock
	log    *slog.Logger
	schema string
}

var _ store.Store = (*Store)(nil)

type config struct {
	clock            store.Clock
	logger           *slog.Logger
	maxConns         int32
	statementTimeout time.Duration
	schema           string
}

// Option configures Open.
type Option func(*config)

// WithClock sets the clock used for all stored timestamps (tests move time
// with it). Every node of a cluster should run with a synchronised clock.
func WithClock(c store.Clock) Option { return func(o *config) { o.clock = c } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *config) { o.logger = l } }

// WithMaxConns sets the connection pool size (default 4×GOMAXPROCS, at least 8).
func WithMaxConns(n int) Option { return func(o *config) { o.maxConns = int32(n) } }

// WithStatementTimeout sets the server-side statement_timeout of every
// connection (default 30s); zero or less keeps the default.
func WithStatementTimeout(d time.Duration) Option {
	return func(o *config) { o.statementTimeout = d }
}

// WithSchema keeps Sprocket's tables in the named schema (created if
// missing) instead of the connection's default search_path; tests use a
// fresh schema per store, and several installations may share a database.
func WithSchema(name string) Option { return func(o *config) { o.schema = name } }

// DefaultStatementTimeout bounds every statement on the server side.
const DefaultStatementTimeout = 30 * time.Second

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to the database at url (a postgres:// URL or key=value
// connection string), applies pending migrations and returns the store. It
// refuses a database migrated by a newer Sprocket (migrate.ErrSchemaTooNew).
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg := config{
		clock:            store.SystemClock{},
		logger:           slog.Default(),
		maxConns:         int32(max(8, 4*runtime.GOMAXPROCS(0))),
		statementTimeout: DefaultStatementTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxConns < 1 {
		return nil, fmt.Errorf("postgres open: %w: pool size %d", store.ErrInvalid, cfg.maxConns)
	}
	if cfg.statementTimeout <= 0 {
		cfg.statementTimeout = DefaultStatementTimeout
	}
	if cfg.schema != "" && !schemaName.MatchString(cfg.schema) {
		return nil, fmt.Errorf("postgres open: %w: schema name %q (want lower-case letters, digits, _)", store.ErrInvalid, cfg.schema)
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL with its password: do not wrap it.
		return nil, fmt.Errorf("postgres open: %w: bad database URL (want postgres://user:password@host:port/database?param=value)", store.ErrInvalid)
	}
	pc.MaxConns = cfg.maxConns
	pc.MinConns = 0
	pc.MaxConnIdleTime = 5 * time.Minute
	pc.HealthCheckPeriod = 30 * time.Second
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	rp := pc.ConnConfig.RuntimeParams
	rp["statement_timeout"] = strconv.FormatInt(cfg.statementTimeout.Milliseconds(), 10)
	rp["idle_in_transaction_session_timeout"] = strconv.FormatInt((2 * cfg.statementTimeout).Milliseconds(), 10)
	rp["lock_timeout"] = strconv.FormatInt(cfg.statementTimeout.Milliseconds(), 10)
	if rp["application_name"] == "" {
		rp["application_name"] = "sprocket"
	}
	if cfg.schema != "" {
		rp["search_path"] = cfg.schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres open: %w", err)
	}
	s := &Store{pool: pool, clock: cfg.clock, log: cfg.logger, schema: cfg.schema}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres open: %w", err)
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers (for readiness probes).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres ping: %w", err)
	}
	return nil
}

// Pool returns the connection pool, for the few PostgreSQL-only helpers
// (leader leases, LISTEN/NOTIFY) built beside the store.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Store) nowMicro() int64 { return s.clock.Now().UnixMicro() }

// querier is what pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a READ COMMITTED transaction, committing when it returns
// nil. Errors are labelled with what and keep the context's error visible.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if err != nil {
		return ctxErr(ctx, err, what)
	}
	return nil
}

// ctxErr makes sure a failure caused by the caller's context reports
// context.Canceled or DeadlineExceeded (pgx does not always wrap them), and
// labels errors other than the store's own with what.
func ctxErr(ctx context.Context, err error, what string) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%s: %w (%w)", what, cerr, err)
	}
	for _, known := range []error{store.ErrNotFound, store.ErrConflict, store.ErrLeaseLost, store.ErrInvalid, store.ErrNotInteger} {
		if errors.Is(err, known) {
			return err
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}
