// Package sqlite implements store.Store on SQLite (modernc.org/sqlite, pure Go).
//
// Layout: one database file dir/sprocket.db in WAL mode, one writer
// connection (all writes are serialised through it, which is also what makes
// claims exclusive) and a pool of read-only connections for queries.
//
// Durability: the default synchronous=NORMAL in WAL mode writes every
// committed transaction to the WAL file before the commit returns, so an
// acknowledged event survives kill -9 of the process (the data is in the
// OS page cache and reaches the disk later); only a power loss or kernel
// crash may drop the last transactions before a checkpoint. Use
// WithSynchronous("FULL") to fsync the WAL on every commit as well; with
// group commit (store.EventBatcher) the cost is one fsync per batch.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileName is the database file created inside the directory given to Open.
const FileName = "sprocket.db"

// Store is the SQLite implementation of store.Store.
type Store struct {
	w     *sql.DB // single writer connection
	r     *sql.DB // read-only pool
	clock store.Clock
	log   *slog.Logger
	path  string
	// prepared holds write statements prepared on the writer connection;
	// only the committer goroutine touches it (see writer.go).
	prepared map[string]*sql.Stmt
	// toPrepare lists statements to prepare between two group commits.
	toPrepare map[string]bool

	writes  chan *writeReq // queued write transactions, see writer.go
	wmu     sync.RWMutex   // guards wclosed against sends on a closed channel
	wclosed bool
	wdone   chan struct{} // closed when the committer has exited
}

var _ store.Store = (*Store)(nil)

type config struct {
	clock       store.Clock
	synchronous string
	readers     int
	busyTimeout time.Duration
	cacheKiB    int
	logger      *slog.Logger
}

// Option configures Open.
type Option func(*config)

// WithClock sets the clock used for all timestamps (tests move time with it).
func WithClock(c store.Clock) Option { return func(o *config) { o.clock = c } }

// WithSynchronous sets SQLite's synchronous pragma: "NORMAL" (default;
// survives process crashes) or "FULL" (also survives power loss).
func WithSynchronous(mode string) Option { return func(o *config) { o.synchronous = mode } }

// WithReaders sets the size of the read connection pool (default 2×GOMAXPROCS, at least 4).
func WithReaders(n int) Option { return func(o *config) { o.readers = n } }

// WithBusyTimeout sets how long a connection waits for a lock (default 10s).
func WithBusyTimeout(d time.Duration) Option { return func(o *config) { o.busyTimeout = d } }

// WithCacheSize sets the page cache of each connection in KiB (default 64 MiB).
func WithCacheSize(kib int) Option { return func(o *config) { o.cacheKiB = kib } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *config) { o.logger = l } }

// Open opens (creating if needed) dir/sprocket.db and applies migrations.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	cfg := config{
		clock:       store.SystemClock{},
		synchronous: "NORMAL",
		readers:     max(4, 2*runtime.GOMAXPROCS(0)),
		busyTimeout: 10 * time.Second,
		cacheKiB:    64 << 10,
		logger:      slog.Default(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch strings.ToUpper(cfg.synchronous) {
	case "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("sqlite open: %w: synchronous %q", store.ErrInvalid, cfg.synchronous)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite open: create dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// The database holds secrets: create it owner-only (SQLite gives its
	// -wal and -shm files the database file's permissions).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite open: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite open: create %s: %w", path, err)
	}
	dsn := func(readOnly bool) string {
		q := url.Values{}
		q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.busyTimeout.Milliseconds()))
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous("+strings.ToUpper(cfg.synchronous)+")")
		q.Add("_pragma", "foreign_keys(0)")
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cfg.cacheKiB))
		if readOnly {
			q.Add("_pragma", "query_only(1)")
		} else {
			q.Set("_txlock", "immediate")
			// Deleted and overwritten cells are zeroed on the pages a
			// write touches anyway (no extra I/O), so replaced values
			// do not linger in the file's b-tree pages.
			q.Add("_pragma", "secure_delete(FAST)")
		}
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		return nil, fmt.Errorf("sqlite open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, clock: cfg.clock, log: cfg.logger, path: path}
	if err := migrate(ctx, w, s.nowMicro()); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite open readers: %w", err)
	}
	r.SetMaxOpenConns(cfg.readers)
	r.SetMaxIdleConns(cfg.readers)
	s.r = r
	s.prepared, s.toPrepare = map[string]*sql.Stmt{}, map[string]bool{}
	s.writes = make(chan *writeReq, maxGroup)
	s.wdone = make(chan struct{})
	go s.committer()
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.wmu.Lock()
	if s.wclosed {
		s.wmu.Unlock()
		return nil
	}
	s.wclosed = true
	close(s.writes)
	s.wmu.Unlock()
	<-s.wdone
	s.closePrepared()
	err1 := s.r.Close()
	err2 := s.w.Close()
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("sqlite close: %w", err)
	}
	return nil
}

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Store) nowMicro() int64 { return s.clock.Now().UnixMicro() }

// --- value conversions -------------------------------------------------------

func micro(t time.Time) int64 { return t.UnixMicro() }

func fromMicro(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicro(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicro(v.Int64)
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func jsonOrNull(b json.RawMessage) string {
	if len(b) == 0 {
		return "null"
	}
	return string(b)
}

func rawJSON(v sql.NullString) json.RawMessage {
	if !v.Valid {
		return nil
	}
	return json.RawMessage(v.String)
}

func encodeStrings(v []string) (string, error) {
	if v == nil {
		v = []string{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode list: %w", err)
	}
	return string(b), nil
}

func decodeStrings(s sql.NullString) ([]string, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	var v []string
	if err := json.Unmarshal([]byte(s.String), &v); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

func validJSON(what string, b json.RawMessage) error {
	if len(b) > 0 && !json.Valid(b) {
		return fmt.Errorf("%w: %s is not valid JSON", store.ErrInvalid, what)
	}
	return nil
}

// pageClause returns the keyset condition and args for a newest-first page.
func pageClause(p store.Page, timeCol, idCol string) (string, []any, error) {
	if p.Cursor == "" {
		return "", nil, nil
	}
	t, id, err := store.DecodeCursor(p.Cursor)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("(%s, %s) < (?, ?)", timeCol, idCol), []any{micro(t), id}, nil
}

func notFound(what, id string) error {
	return fmt.Errorf("%s %q: %w", what, id, store.ErrNotFound)
}

// listPage runs a newest-first (created_at, id) page query: selectFrom is
// "SELECT … FROM table", conds and args its filters. It returns the rows
// scanned by scan and the cursor of the next page ("" on the last page).
func listPage[T any](ctx context.Context, db *sql.DB, what, selectFrom string, conds []string, args []any,
	page store.Page, scan func(interface{ Scan(...any) error }) (T, error), key func(T) (time.Time, string)) ([]T, string, error) {
	pc, pargs, err := pageClause(page, "created_at", "id")
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	if pc != "" {
		conds = append(conds, pc)
		args = append(args, pargs...)
	}
	limit := page.EffectiveLimit()
	rows, err := db.QueryContext(ctx, selectFrom+where(conds)+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		t, id := key(out[limit-1])
		next = store.EncodeCursor(t, id)
	}
	return out, next, nil
}
