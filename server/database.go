package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/leader"
	"github.com/sprocketrun/sprocket/store/postgres"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

// IsPostgresURL reports whether a --database value names a PostgreSQL
// server (postgres:// or postgresql://).
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// backend is the opened store with its cluster helpers: a waker and a
// lease store on PostgreSQL, nil on SQLite (one process per data dir).
type backend struct {
	st     store.Store
	waker  *postgres.Waker
	leases leader.Leases
	kind   string
}

// openBackend opens the store cfg selects: PostgreSQL when DatabaseURL is
// set, else SQLite in DataDir.
func openBackend(ctx context.Context, cfg Config, log *slog.Logger) (backend, error) {
	if cfg.DatabaseURL != "" {
		if !IsPostgresURL(cfg.DatabaseURL) {
			return backend{}, fmt.Errorf("open store: --database must be a postgres:// URL (SQLite is the default and needs none)")
		}
		opts := []postgres.Option{postgres.WithLogger(log)}
		if cfg.StoreClock != nil {
			opts = append(opts, postgres.WithClock(cfg.StoreClock))
		}
		if cfg.DatabaseMaxConns > 0 {
			opts = append(opts, postgres.WithMaxConns(cfg.DatabaseMaxConns))
		}
		if cfg.StatementTimeout > 0 {
			opts = append(opts, postgres.WithStatementTimeout(cfg.StatementTimeout))
		}
		st, err := postgres.Open(ctx, cfg.DatabaseURL, opts...)
		if err != nil {
			return backend{}, fmt.Errorf("open store: %w", err)
		}
		return backend{st: st, waker: st.NewWaker(0), leases: st, kind: "postgres"}, nil
	}
	opts := []sqlite.Option{sqlite.WithLogger(log)}
	if cfg.StoreClock != nil {
		opts = append(opts, sqlite.WithClock(cfg.StoreClock))
	}
	if cfg.Synchronous != "" {
		opts = append(opts, sqlite.WithSynchronous(cfg.Synchronous))
	}
	st, err := sqlite.Open(ctx, cfg.DataDir, opts...)
	if err != nil {
		return backend{}, fmt.Errorf("open store: %w", err)
	}
	return backend{st: st, kind: "sqlite"}, nil
}

// serviceStore is the store as the service uses it: the store interface
// plus the methods both drivers offer beyond it. internal/metrics'
// wrapper provides them all (forwarding to the driver).
type serviceStore interface {
	store.Store
	TaskSubscriptions(ctx context.Context, enabledOnly bool, ids ...string) ([]store.Task, error)
	SetTaskEnabled(ctx context.Context, id string, enabled bool) (store.Task, error)
	SetTaskEnabledChecked(ctx context.Context, id string, enabled bool, check func(store.Task) error) (store.Task, error)
	UpdateTaskContent(ctx context.Context, id, name string, subscriptions []string, definition json.RawMessage,
		check func(store.Task) error) (store.Task, error)
	RetryRunChecked(ctx context.Context, id string, check func(store.Run) error) (store.Run, error)
	Ping(ctx context.Context) error
}

// serveReady answers /readyz: 200 when the database answers within two
// seconds (migrations were applied by Open), takes a write, the data
// directory's free space is above the floor (Config.MinFreeDisk) and the
// oldest due run has waited no longer than Config.MaxQueueAge; 503
// otherwise, with the reason in "error". With a
// stored-bytes quota it also reports the store's size, the quota and
// whether ingest is refused for it (stored_bytes_quota_reached).
func (s *Service) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ok": false, "store": s.storeKind, "error": "database unreachable"})
		return
	}
	free, err := s.disk.status()
	if err != nil {
		s.log.Warn("readiness check failed", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ok": false, "store": s.storeKind, "free_disk_bytes": free, "error": err.Error()})
		return
	}
	body := map[string]any{"ok": true, "store": s.storeKind}
	if free >= 0 {
		body["free_disk_bytes"] = free
	}
	// A time budget of its own: a write may wait behind a prune.
	rctx, rcancel := context.WithTimeout(r.Context(), 2*time.Second)
	rd := s.ready.check(rctx)
	rcancel()
	body["store_writable"] = rd.writeErr == nil
	body["queue_oldest_due_age_seconds"] = rd.age.Seconds()
	if s.ready.maxAge > 0 {
		body["max_queue_age_seconds"] = s.ready.maxAge.Seconds()
	}
	if msg := s.ready.problem(rd); msg != "" {
		s.log.Warn("readiness check failed", "error", msg)
		body["ok"], body["error"] = false, msg
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	if s.quota != nil {
		// A reached quota pauses ingest only: the node still serves the
		// API and works its queue, so it stays ready (200).
		size, err := s.quota.status(ctx)
		body["stored_bytes"], body["max_stored_bytes"] = size, s.quota.max
		body["stored_bytes_quota_reached"] = errors.Is(err, errQuotaReached)
		if err != nil {
			body["stored_bytes_error"] = err.Error()
		}
	}
	writeJSON(w, http.StatusOK, body)
}

// withOps adds /metrics and /readyz to h: registered on h itself when it
// is a mux (so the handler keeps its type), else served in front of it.
func (s *Service) withOps(h http.Handler) http.Handler {
	if mux, ok := h.(interface{ Handle(string, http.Handler) }); ok {
		mux.Handle("GET /metrics", s.metrics.Handler())
		mux.Handle("GET /readyz", http.HandlerFunc(s.serveReady))
		return h
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("GET /readyz", s.serveReady)
	mux.Handle("/", h)
	return mux
}
